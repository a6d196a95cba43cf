package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"outpost/internal/authz"
	"outpost/internal/cli"
	"outpost/internal/errcode"
	"outpost/internal/store"
)

// keysUsage is `outpost keys`' help.
const keysUsage = `Usage: outpost keys COMMAND [options] [KEY_ID]

Manage the API keys of a workspace on the configured database
(OUTPOST_DATABASE_URL or --database-url, as serve uses it).

Commands:
  create --name NAME --scopes SCOPES   make a key; its secret is printed once
  list                                 list the keys: id, name, prefix, scopes, created, last used, state
  revoke KEY_ID                        stop a key at once, on every node
  rotate [--grace 24h] KEY_ID          make a replacement; the old key works until the grace period ends

Scopes: read, export, publish, admin (comma-separated). Every command takes
--workspace SLUG (default: $OUTPOST_WORKSPACE, else the default workspace)
and --json. Run outpost keys COMMAND -h for all options.
`

// runKeys is `outpost keys`.
func runKeys(ctx context.Context, env *cli.Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, keysUsage)
		if len(args) == 0 {
			return cli.ExitUsage
		}
		return cli.ExitOK
	}
	cmd, args := args[0], args[1:]
	var run func(*keysCmd, context.Context) error
	positional := false
	switch cmd {
	case "create":
		run = (*keysCmd).create
	case "list":
		run = (*keysCmd).list
	case "revoke":
		run, positional = (*keysCmd).revoke, true
	case "rotate":
		run, positional = (*keysCmd).rotate, true
	default:
		fmt.Fprintf(env.Stderr, "outpost keys: unknown command %q\n\n%s", cmd, keysUsage)
		return cli.ExitUsage
	}
	k := &keysCmd{env: env}
	fs := newFlagSet(env, "keys "+cmd)
	ws := env.Getenv("OUTPOST_WORKSPACE")
	if ws == "" {
		ws = store.DefaultWorkspaceSlug
	}
	fs.StringVar(&k.workspace, "workspace", ws, "workspace slug ($OUTPOST_WORKSPACE)")
	fs.BoolVar(&k.json, "json", false, "print JSON")
	switch cmd {
	case "create":
		fs.StringVar(&k.name, "name", "", "the key's name, e.g. ci or zapier (required)")
		fs.StringVar(&k.scopes, "scopes", "", "comma-separated scopes: read, export, publish, admin (required)")
	case "rotate":
		fs.DurationVar(&k.grace, "grace", store.DefaultRotationGrace, "how long the old key keeps working (0: stops at once)")
	}
	// The key id comes last, after the options.
	if positional {
		if len(args) == 0 || strings.HasPrefix(args[len(args)-1], "-") {
			if !slices.ContainsFunc(args, isHelpFlag) {
				fmt.Fprintf(env.Stderr, "outpost keys %s: give the key's id last (outpost keys list shows them)\n", cmd)
				return cli.ExitUsage
			}
		} else {
			k.id, args = args[len(args)-1], args[:len(args)-1]
		}
	}
	cfg, code, ok := load(env, fs, args)
	if !ok {
		return code
	}
	s, err := store.Open(ctx, cfg.DatabaseURL, cfg.NewLogger(env.Stderr))
	if err != nil {
		return fail(env, err)
	}
	defer s.Close()
	k.store = s
	k.actor = env.Getenv("USER")
	err = s.Migrate(ctx)
	if err == nil {
		k.ws, err = k.findWorkspace(ctx)
	}
	if err == nil {
		err = run(k, ctx)
	}
	if err != nil {
		if c := fail(env, err); errcode.Of(err) != errcode.InvalidOption {
			return c
		}
		return cli.ExitUsage
	}
	return cli.ExitOK
}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

type keysCmd struct {
	env       *cli.Env
	store     *store.Store
	ws        store.Workspace
	actor     string // the OS user, for the audit log
	workspace string
	json      bool
	name      string
	scopes    string
	grace     time.Duration
	id        string
}

func (k *keysCmd) findWorkspace(ctx context.Context) (store.Workspace, error) {
	if k.workspace == store.DefaultWorkspaceSlug {
		return k.store.DefaultWorkspace(ctx)
	}
	ws, err := k.store.GetWorkspaceBySlug(ctx, k.workspace)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, errcode.New(errcode.NotFound, "no workspace %q (--workspace, $OUTPOST_WORKSPACE)", k.workspace)
	}
	return ws, err
}

// audit records a key event by the CLI in tx.
func (k *keysCmd) audit(ctx context.Context, q *store.Queries, action store.AuditAction, key store.APIKey, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	_, err = q.InsertAuditEvent(ctx, store.AuditEvent{WorkspaceID: k.ws.ID, ActorType: store.ActorCLI, ActorName: k.actor,
		Action: action, TargetType: "api_key", TargetID: key.ID, Details: b})
	return err
}

func (k *keysCmd) create(ctx context.Context) error {
	if strings.TrimSpace(k.name) == "" {
		return errcode.New(errcode.InvalidOption, "--name is required: what the key is for, e.g. ci")
	}
	scopes, err := authz.ParseScopes(k.scopes)
	if err != nil {
		return err
	}
	var key store.APIKey
	var secret string
	err = k.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := k.store.Using(tx)
		key, secret, err = q.IssueAPIKey(ctx, store.APIKey{WorkspaceID: k.ws.ID, Name: strings.TrimSpace(k.name), Scopes: scopes})
		if err != nil {
			return err
		}
		return k.audit(ctx, q, store.AuditAPIKeyCreated, key, map[string]any{"name": key.Name, "scopes": key.Scopes})
	})
	if err != nil {
		return err
	}
	return k.printSecret("Created", key, secret, nil)
}

// printSecret shows a new key and its secret, once.
func (k *keysCmd) printSecret(verb string, key store.APIKey, secret string, old *store.APIKey) error {
	out := k.env.Stdout
	if k.json {
		v := map[string]any{"key": key, "secret": secret}
		if old != nil {
			v["replaces"] = old
		}
		return writeJSON(out, v)
	}
	fmt.Fprintf(out, "%s API key %s %q in workspace %s, scopes: %s.\n", verb, key.ID, key.Name, k.ws.Slug, scopeList(key.Scopes))
	if old != nil && old.ExpiresAt != nil {
		fmt.Fprintf(out, "The old key %s works until %s.\n", old.ID, old.ExpiresAt.Format(time.RFC3339))
	}
	fmt.Fprintf(out, "Its secret, shown this once (send it as Authorization: Bearer <secret>):\n\n%s\n\n", secret)
	return nil
}

func (k *keysCmd) list(ctx context.Context) error {
	keys, err := k.store.ListAPIKeys(ctx, k.ws.ID)
	if err != nil {
		return err
	}
	if k.json {
		if keys == nil {
			keys = []store.APIKey{}
		}
		return writeJSON(k.env.Stdout, map[string]any{"keys": keys})
	}
	now := time.Now()
	tw := tabwriter.NewWriter(k.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tLAST USED\tSTATE")
	for _, key := range keys {
		used := "never"
		if key.LastUsedAt != nil {
			used = key.LastUsedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", key.ID, key.Name, key.Prefix, scopeList(key.Scopes),
			key.CreatedAt.Format(time.RFC3339), used, keyState(key, now))
	}
	return tw.Flush()
}

// keyState says whether a key works.
func keyState(k store.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked " + k.RevokedAt.Format(time.RFC3339)
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired " + k.ExpiresAt.Format(time.RFC3339)
	case k.ExpiresAt != nil:
		return "rotated, works until " + k.ExpiresAt.Format(time.RFC3339)
	}
	return "live"
}

// workspaceKey returns the key with k.id if it is the workspace's.
func (k *keysCmd) workspaceKey(ctx context.Context, q *store.Queries) (store.APIKey, error) {
	key, err := q.GetAPIKey(ctx, k.id)
	if errors.Is(err, store.ErrNotFound) || err == nil && key.WorkspaceID != k.ws.ID {
		return store.APIKey{}, errcode.New(errcode.NotFound, "no API key %s in workspace %s (outpost keys list shows them)", k.id, k.ws.Slug)
	}
	return key, err
}

func (k *keysCmd) revoke(ctx context.Context) error {
	var key store.APIKey
	err := k.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := k.store.Using(tx)
		var err error
		if key, err = k.workspaceKey(ctx, q); err != nil || key.RevokedAt != nil {
			return err
		}
		if err := q.RevokeAPIKey(ctx, key.ID, time.Now()); err != nil {
			return err
		}
		if err := k.audit(ctx, q, store.AuditAPIKeyRevoked, key, map[string]any{"name": key.Name}); err != nil {
			return err
		}
		key, err = q.GetAPIKey(ctx, key.ID)
		return err
	})
	if err != nil {
		return err
	}
	if k.json {
		return writeJSON(k.env.Stdout, map[string]any{"key": key})
	}
	fmt.Fprintf(k.env.Stdout, "API key %s %q is revoked (since %s): requests with it get 401 on every node.\n",
		key.ID, key.Name, key.RevokedAt.Format(time.RFC3339))
	return nil
}

func (k *keysCmd) rotate(ctx context.Context) error {
	if k.grace < 0 {
		return errcode.New(errcode.InvalidOption, "--grace %v: want 0 or more", k.grace)
	}
	var old, key store.APIKey
	var secret string
	err := k.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := k.store.Using(tx)
		var err error
		if old, err = k.workspaceKey(ctx, q); err != nil {
			return err
		}
		key, secret, err = q.RotateAPIKey(ctx, old.ID, k.grace, "", time.Now())
		if errors.Is(err, store.ErrConflict) {
			return errcode.New(errcode.Conflict, "API key %s is revoked, expired or already rotated: create a new one instead", old.ID)
		}
		if err != nil {
			return err
		}
		if old, err = q.GetAPIKey(ctx, old.ID); err != nil {
			return err
		}
		return k.audit(ctx, q, store.AuditAPIKeyRotated, old, map[string]any{"name": old.Name, "replaced_by": key.ID,
			"grace_seconds": int64(k.grace / time.Second)})
	})
	if err != nil {
		return err
	}
	return k.printSecret("Rotated: new", key, secret, &old)
}

func scopeList(scopes []store.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ",")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
