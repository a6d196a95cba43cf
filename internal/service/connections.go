package service

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/outpost"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// Connections are the workspaces' connected accounts.
type Connections struct {
	store     *store.Store
	queue     *jobs.Queue
	connect   *connect.Service
	pubs      *Publications
	publicURL string
	logger    *slog.Logger
}

var _ outpost.Connections = (*Connections)(nil)

// errNoConnect refuses to connect accounts on a server without publishing.
var errNoConnect = errcode.New(errcode.PlatformNotConfigured, "connecting accounts is not available on this server")

// Available reports whether accounts can be connected and posted to.
func (s *Connections) Available() bool { return s.connect != nil }

// List returns the workspace's connected accounts (revoked ones included:
// the history names them) and which platforms can be connected.
func (s *Connections) List(ctx context.Context, workspaceID string) (outpost.ConnectionList, error) {
	cs, err := s.store.ListConnections(ctx, workspaceID)
	if err != nil {
		return outpost.ConnectionList{}, err
	}
	out := outpost.ConnectionList{Data: make([]outpost.Connection, len(cs))}
	for i, c := range cs {
		out.Data[i] = connectionView(c)
	}
	for _, p := range platforms.IDs() {
		ps := outpost.PlatformStatus{Platform: p, Status: "not_configured"}
		if s.connect != nil && s.connect.Configured(p) {
			ps.Status, ps.ConnectURL = "configured", s.publicURL+"/connect/"+p
		}
		out.Platforms = append(out.Platforms, ps)
	}
	return out, nil
}

// Get returns one of the workspace's connected accounts.
func (s *Connections) Get(ctx context.Context, workspaceID, id string) (outpost.Connection, error) {
	c, err := connectionIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.Connection{}, err
	}
	return connectionView(c), nil
}

// Delete disconnects an account: its publications that have not gone out
// are canceled (see Publications.disconnect).
func (s *Connections) Delete(ctx context.Context, by outpost.Caller, id string) error {
	c, err := connectionIn(ctx, s.store, by.WorkspaceID, id)
	if err != nil {
		return err
	}
	return s.pubs.disconnect(ctx, by, c)
}

// Authorize starts connecting an account: the URL to open in a browser.
func (s *Connections) Authorize(ctx context.Context, workspaceID, platform string, opts outpost.AuthorizeOptions) (outpost.Authorization, error) {
	if s.connect == nil {
		return outpost.Authorization{}, errNoConnect
	}
	o := connect.AuthorizeOptions{ReturnTo: opts.ReturnTo}
	if opts.Browser {
		o.BrowserNonce = connect.NewNonce()
	}
	u, exp, err := s.connect.Authorize(ctx, workspaceID, platform, o)
	if err != nil {
		return outpost.Authorization{}, err
	}
	return outpost.Authorization{Platform: platform, AuthorizeURL: u, RedirectURI: s.connect.RedirectURL(platform),
		ExpiresAt: exp, BrowserNonce: o.BrowserNonce}, nil
}

// Callback finishes connecting an account, and queues again the
// publications that failed while it was expired.
func (s *Connections) Callback(ctx context.Context, by outpost.Caller, platform string, query url.Values, browserNonce string) (outpost.Connected, error) {
	if s.connect == nil {
		return outpost.Connected{}, errNoConnect
	}
	res, err := s.connect.Callback(ctx, platform, query, browserNonce)
	if err != nil {
		return outpost.Connected{}, err
	}
	out := outpost.Connected{WorkspaceID: res.WorkspaceID, ReturnTo: res.ReturnTo}
	if by.WorkspaceID != res.WorkspaceID {
		// The browser is signed in elsewhere (or not at all): the flow's
		// workspace is the record's.
		by = outpost.Caller{WorkspaceID: res.WorkspaceID, IP: by.IP}
	}
	for _, c := range res.Connections {
		auditAfter(ctx, s.store, s.logger, by, store.AuditConnectionAdded, "connection", c.ID,
			map[string]string{"platform": c.Platform, "account": c.AccountName})
		out.Connections = append(out.Connections, connectionView(c))
		if _, err := s.pubs.resume(ctx, c.ID); err != nil {
			s.logger.WarnContext(ctx, "queue publications after reconnect", slog.String("connection_id", c.ID), slog.Any("error", err))
		}
	}
	return out, nil
}

// Origins are the configured platforms' base URLs, without a trailing
// slash.
func (s *Connections) Origins() []string {
	if s.connect == nil {
		return nil
	}
	var out []string
	for _, p := range platforms.IDs() {
		if b := strings.TrimRight(s.connect.BaseURL(p), "/"); b != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// ShareDefaults returns the caller's saved "share to" default: the saved
// accounts that are still connected and active, in the order saved.
func (s *Connections) ShareDefaults(ctx context.Context, c outpost.Caller) (outpost.ShareDefaults, error) {
	if err := c.User(); err != nil {
		return outpost.ShareDefaults{}, err
	}
	ids, err := s.store.ShareDefaults(ctx, c.WorkspaceID, c.UserID)
	if err != nil {
		return outpost.ShareDefaults{}, err
	}
	// One read of the workspace's accounts, not one per saved id.
	cs, err := s.store.ListConnections(ctx, c.WorkspaceID)
	if err != nil {
		return outpost.ShareDefaults{}, err
	}
	out := outpost.ShareDefaults{ConnectionIDs: []string{}}
	for _, id := range ids {
		if slices.ContainsFunc(cs, func(cn store.Connection) bool { return cn.ID == id && cn.Status == store.ConnectionActive }) {
			out.ConnectionIDs = append(out.ConnectionIDs, id)
		}
	}
	return out, nil
}

// SetShareDefaults saves the caller's "share to" default in their
// workspace; each account must be one of its active connections.
func (s *Connections) SetShareDefaults(ctx context.Context, c outpost.Caller, connectionIDs []string) (outpost.ShareDefaults, error) {
	if err := c.User(); err != nil {
		return outpost.ShareDefaults{}, err
	}
	var ids []string
	for _, id := range connectionIDs {
		if slices.Contains(ids, id) {
			continue
		}
		cn, err := connectionIn(ctx, s.store, c.WorkspaceID, id)
		if err != nil {
			return outpost.ShareDefaults{}, err
		}
		if cn.Status != store.ConnectionActive {
			return outpost.ShareDefaults{}, errcode.New(errcode.ConnectionExpired, "the %s account %s is %s: reconnect it before making it a default",
				platforms.Name(cn.Platform), connectionView(cn).Name(), cn.Status)
		}
		ids = append(ids, id)
	}
	err := inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		return q.SetShareDefaults(ctx, c.WorkspaceID, c.UserID, ids)
	})
	if err != nil {
		return outpost.ShareDefaults{}, err
	}
	return s.ShareDefaults(ctx, c)
}
