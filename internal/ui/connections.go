package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
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
	// ShareAccounts are the active accounts to choose the person's "share
	// to" default from, the saved ones Ticked.
	ShareAccounts []accountJSON
}

func (h *Handler) connectionsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.Connections.List(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	now := h.now()
	d := connectionsData{Available: h.svc.Connections.Available()}
	for _, pd := range h.svc.Connections.Platforms() {
		p := pd.ID
		card := platformCard{Platform: p, Label: pd.Name, EnvPrefix: "OUTPOST_" + pd.Env,
			Configured: pd.Configured, ConnectURL: "/connect/" + p + "?return_to=" + url.QueryEscape("/connections")}
		for _, c := range list.Data {
			if c.Platform != p || c.Status == outpost.ConnectionRevoked {
				continue
			}
			v := connectionView(c, now)
			v.AvatarURL = h.avatar(c)
			card.Accounts = append(card.Accounts, v)
		}
		d.Cards = append(d.Cards, card)
	}
	if d.ShareAccounts, _, err = h.shareOptions(r.Context(), workspaceOf(r)); err != nil {
		return err
	}
	saved, err := h.savedShareDefaults(r, d.ShareAccounts)
	if err != nil {
		return err
	}
	for i, a := range d.ShareAccounts {
		d.ShareAccounts[i].Ticked = slices.Contains(saved, a.ID)
	}
	pg := page{Title: "Connections", Nav: "connections", Data: d}
	q := r.URL.Query()
	switch {
	case q.Get("connected") != "":
		pg.Flash = &flash{Kind: "success", Title: "Connected to " + platformLabel(q.Get("connected")),
			Message: "The account is ready to share to from the export modal. Posts that waited for it go out now."}
	case q.Get("share_saved") != "":
		n, _ := strconv.Atoi(q.Get("share_saved"))
		msg := "Shares start with nothing ticked."
		switch {
		case n == 1:
			msg = "Shares start with 1 account ticked."
		case n > 1:
			msg = fmt.Sprintf("Shares start with %d accounts ticked.", n)
		}
		pg.Flash = &flash{Kind: "success", Title: "Saved your share-to default", Message: msg}
	case q.Get("disconnected") != "":
		pg.Flash = &flash{Kind: "success", Title: "Disconnected " + q.Get("disconnected"),
			Message: "Outpost no longer holds this account's tokens; its posts that had not gone out were canceled."}
	}
	h.render(w, r, http.StatusOK, "connections", pg)
	return nil
}

// connectionView is an account's health: active, expiring soon (with the
// date) or expired.
func connectionView(c outpost.Connection, now time.Time) connView {
	v := connView{ID: c.ID, Name: c.Name(), AccountID: c.AccountID, Connected: when(c.CreatedAt)}
	end := c.GrantEndsAt
	switch {
	case c.Status == outpost.ConnectionExpired || end != nil && !end.After(now):
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
	c, err := h.svc.Connections.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if errcode.Of(err) == errcode.NotFound {
		return errcode.New(errcode.NotFound, "this account is not connected in this workspace")
	}
	if err != nil {
		return err
	}
	if err := h.svc.Connections.Delete(r.Context(), h.callerOf(r), c.ID); err != nil {
		return err
	}
	name := platformLabel(c.Platform) + " " + c.Name()
	http.Redirect(w, r, "/connections?disconnected="+url.QueryEscape(name), http.StatusSeeOther)
	return nil
}

// saveShareDefaultForm saves the accounts ticked on the Connections page
// as the person's "share to" default; none ticked clears it.
func (h *Handler) saveShareDefaultForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return errcode.New(errcode.InvalidOption, "the form could not be read: reload the page and try again")
	}
	d, err := h.svc.Connections.SetShareDefaults(r.Context(), h.callerOf(r), r.PostForm["account"])
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/connections?share_saved="+strconv.Itoa(len(d.ConnectionIDs))+"#share-default", http.StatusSeeOther)
	return nil
}
