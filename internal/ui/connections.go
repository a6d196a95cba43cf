package ui

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// expiringSoon is how far ahead a token's end shows as a warning.
const expiringSoon = 7 * 24 * time.Hour

type connView struct {
	ID        string
	Name      string
	AccountID string
	AvatarURL string
	Status    statusView
	Detail    string // "Expires 3 Jan 2027, 10:00" and the like
	Expired   bool
	Connected string
}

type platformCard struct {
	Platform   string
	Label      string
	Configured bool
	EnvPrefix  string // OUTPOST_YOUTUBE
	ConnectURL string
	Accounts   []connView
}

type connectionsData struct {
	Cards     []platformCard
	Available bool // publishing is wired on this server
}

func (h *Handler) connectionsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cs, err := h.store.ListConnections(ctx, workspaceOf(r))
	if err != nil {
		return err
	}
	now := h.now()
	d := connectionsData{Available: h.connect != nil && h.publish != nil}
	for _, pd := range platforms.All() {
		p := pd.ID
		card := platformCard{Platform: p, Label: pd.Name, EnvPrefix: "OUTPOST_" + pd.Env,
			Configured: h.connect != nil && h.connect.Configured(p),
			ConnectURL: "/connect/" + p + "?return_to=" + url.QueryEscape("/connections")}
		for _, c := range cs {
			if c.Platform != p || c.Status == store.ConnectionRevoked {
				continue
			}
			v := connectionView(c, now)
			v.AvatarURL = h.avatar(c)
			card.Accounts = append(card.Accounts, v)
		}
		d.Cards = append(d.Cards, card)
	}
	pg := page{Title: "Connections", Nav: "connections", Data: d}
	q := r.URL.Query()
	switch {
	case q.Get("connected") != "":
		pg.Flash = &flash{Kind: "success", Title: "Connected to " + platformLabel(q.Get("connected")),
			Message: "The account is ready to share to from the export modal. Posts that waited for it go out now."}
	case q.Get("disconnected") != "":
		pg.Flash = &flash{Kind: "success", Title: "Disconnected " + q.Get("disconnected"),
			Message: "Outpost no longer holds this account's tokens; its posts that had not gone out were canceled."}
	}
	h.render(w, r, http.StatusOK, "connections", pg)
	return nil
}

// connectionView is an account's health: active, expiring soon (with the
// date) or expired.
func connectionView(c store.Connection, now time.Time) connView {
	v := connView{ID: c.ID, Name: accountName(c), AccountID: c.AccountID, Connected: when(c.CreatedAt)}
	// The grant's end matters; an access token alone is refreshed.
	end := c.RefreshExpiresAt
	if end == nil && len(c.RefreshToken) == 0 {
		end = c.TokenExpiresAt
	}
	switch {
	case c.Status == store.ConnectionExpired || end != nil && !end.After(now):
		v.Status, v.Expired = statusView{"x", "Expired", "bad"}, true
		v.Detail = "Reconnect to post to this account again."
	case end != nil && end.Sub(now) < expiringSoon:
		v.Status = statusView{"warn", "Expiring soon", "warn"}
		v.Detail = "Access ends " + when(end) + ": reconnect before then."
	default:
		v.Status = statusView{"check", "Active", "ok"}
		if end != nil {
			v.Detail = "Access good until " + when(end) + "."
		} else {
			v.Detail = "Access renews by itself."
		}
	}
	return v
}

func (h *Handler) disconnect(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.publishing()
	if err != nil {
		return err
	}
	c, err := h.store.GetConnection(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && c.WorkspaceID != workspaceOf(r) {
		return errcode.New(errcode.NotFound, "this account is not connected in this workspace")
	}
	if err != nil {
		return err
	}
	if err := svc.DeleteConnection(r.Context(), c.WorkspaceID, c.ID); err != nil {
		return err
	}
	name := platformLabel(c.Platform) + " " + accountName(c)
	http.Redirect(w, r, "/connections?disconnected="+url.QueryEscape(name), http.StatusSeeOther)
	return nil
}

func isNotFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errcode.Of(err) == errcode.NotFound
}
