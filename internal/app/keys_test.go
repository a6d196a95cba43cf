package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"outpost/internal/app"
	"outpost/internal/cli"
	"outpost/internal/store"
	"outpost/internal/storetest"
)

// runKeys runs `outpost keys ARGS --database-url DB` in-process.
func runKeys(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdout: &stdout, Stderr: &stderr, Logger: slog.New(slog.DiscardHandler),
		Getenv: func(k string) string {
			if k == "USER" {
				return "ops-tester"
			}
			return ""
		}}
	// Options first, the key id (when any) last.
	full := append([]string{"keys", args[0], "--database-url", db}, args[1:]...)
	code := cli.Main(t.Context(), env, full, app.Commands()...)
	return code, stdout.String(), stderr.String()
}

var secretRe = regexp.MustCompile(`(?m)^(opk_[a-z2-7]+)$`)

func TestKeys(t *testing.T) {
	t.Parallel()
	for _, engine := range storetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := storetest.URL(t, engine, &pg)

			code, out, errOut := runKeys(t, db, "create", "--name", "ci", "--scopes", "read,export")
			if code != cli.ExitOK {
				t.Fatalf("create: exit %d: %s", code, errOut)
			}
			m := secretRe.FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, `"ci" in workspace default, scopes: read,export`) {
				t.Fatalf("create printed:\n%s", out)
			}
			secret := m[1]

			// The command ran on the configured database: the server sees it.
			s, err := store.Open(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			key, err := s.LookupAPIKey(ctx, secret)
			if err != nil || key.Name != "ci" || len(key.Scopes) != 2 {
				t.Fatalf("LookupAPIKey = %+v, %v", key, err)
			}

			code, out, _ = runKeys(t, db, "list")
			if code != cli.ExitOK || !strings.Contains(out, key.ID) || !strings.Contains(out, key.Prefix+"…") ||
				!strings.Contains(out, "read,export") || !strings.Contains(out, "live") || strings.Contains(out, secret) {
				t.Fatalf("list: exit %d:\n%s", code, out)
			}

			// Rotate: a new secret; the old one works during the grace period.
			code, out, errOut = runKeys(t, db, "rotate", "--grace", "1h", key.ID)
			if code != cli.ExitOK {
				t.Fatalf("rotate: exit %d: %s", code, errOut)
			}
			m = secretRe.FindStringSubmatch(out)
			if m == nil || m[1] == secret || !strings.Contains(out, "The old key "+key.ID+" works until") {
				t.Fatalf("rotate printed:\n%s", out)
			}
			newSecret := m[1]
			for _, sec := range []string{secret, newSecret} {
				if _, err := s.LookupAPIKey(ctx, sec); err != nil {
					t.Errorf("during the grace period: %v", err)
				}
			}
			code, _, errOut = runKeys(t, db, "rotate", key.ID)
			if code != cli.ExitFailed || !strings.Contains(errOut, "outpost: conflict: API key "+key.ID+" is revoked, expired or already rotated") {
				t.Errorf("rotate twice: exit %d: %s", code, errOut)
			}

			// Rotate the new key with no grace, JSON out: its secret stops at once.
			nk, _ := s.LookupAPIKey(ctx, newSecret)
			code, out, errOut = runKeys(t, db, "rotate", "--grace", "0s", "--json", nk.ID)
			var rotated struct {
				Key      store.APIKey `json:"key"`
				Secret   string       `json:"secret"`
				Replaces store.APIKey `json:"replaces"`
			}
			if code != cli.ExitOK || json.Unmarshal([]byte(out), &rotated) != nil || rotated.Replaces.ID != nk.ID ||
				!strings.HasPrefix(rotated.Secret, store.APIKeyPrefix) {
				t.Fatalf("rotate --json: exit %d: %s %s", code, out, errOut)
			}
			if _, err := s.LookupAPIKey(ctx, newSecret); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("key rotated with --grace 0s still works: %v", err)
			}

			// Revoke: 401 at once (the lookup every node makes fails).
			code, out, errOut = runKeys(t, db, "revoke", rotated.Key.ID)
			if code != cli.ExitOK || !strings.Contains(out, "is revoked") {
				t.Fatalf("revoke: exit %d: %s %s", code, out, errOut)
			}
			if _, err := s.LookupAPIKey(ctx, rotated.Secret); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("revoked key still works: %v", err)
			}
			if code, _, _ := runKeys(t, db, "revoke", rotated.Key.ID); code != cli.ExitOK {
				t.Errorf("revoking twice: exit %d", code)
			}

			code, out, _ = runKeys(t, db, "list", "--json")
			var listed struct{ Keys []store.APIKey }
			if code != cli.ExitOK || json.Unmarshal([]byte(out), &listed) != nil || len(listed.Keys) != 3 {
				t.Fatalf("list --json: %s", out)
			}
			if code, out, _ := runKeys(t, db, "list"); !strings.Contains(out, "revoked") || !strings.Contains(out, "expired") ||
				!strings.Contains(out, "rotated, works until") || code != cli.ExitOK {
				t.Errorf("list states:\n%s", out)
			}

			// Every change is in the audit log, by the CLI's user.
			ws, _ := s.DefaultWorkspace(ctx)
			page, err := s.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: ws.ID})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range page.Events {
				if e.ActorType != store.ActorCLI || e.ActorName != "ops-tester" {
					t.Errorf("audit event %+v", e)
				}
				actions = append(actions, string(e.Action))
			}
			if got := strings.Join(actions, " "); got != "api_key.revoked api_key.rotated api_key.rotated api_key.created" {
				t.Errorf("audit log: %s", got)
			}
		})
	}
}

func TestKeys_errors(t *testing.T) {
	t.Parallel()
	db := storetest.URL(t, store.SQLite, &pg)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create", "--scopes", "read"}, cli.ExitUsage, "--name is required"},
		{[]string{"create", "--name", "x"}, cli.ExitUsage, "scopes: want at least one of read, export, publish, admin"},
		{[]string{"create", "--name", "x", "--scopes", "read,write"}, cli.ExitUsage, `scope "write"`},
		{[]string{"create", "--name", "x", "--scopes", "read", "--workspace", "nope"}, cli.ExitFailed, `not_found: no workspace "nope"`},
		{[]string{"revoke", "--json"}, cli.ExitUsage, "give the key's id last"},
		{[]string{"revoke", "key_missing"}, cli.ExitFailed, "no API key key_missing in workspace default"},
		{[]string{"rotate", "--grace", "-1h", "key_missing"}, cli.ExitUsage, "--grace -1h0m0s: want 0 or more"},
		{[]string{"frobnicate"}, cli.ExitUsage, `unknown command "frobnicate"`},
	} {
		code, _, errOut := runKeys(t, db, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("keys %v: exit %d, %q; want %d with %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
