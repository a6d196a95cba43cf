package ui

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

const (
	maxWebhookURL      = 2000
	deliveriesPerPage  = 20
	webhookSecretBytes = 32
)

type deliveryView struct {
	ID        string
	EventType string
	Status    statusView
	Code      int
	Error     string
	Attempts  int
	When      string
}

type endpointView struct {
	ID         string
	URL        string
	Events     []string
	Created    string
	Deliveries []deliveryView
}

type webhooksData struct {
	Endpoints  []endpointView
	EventTypes []string
	// Secret is the new endpoint's signing secret, shown once.
	Secret    string
	SecretFor string
}

func deliveryStatus(s store.DeliveryStatus) statusView {
	switch s {
	case store.DeliverySucceeded:
		return statusView{"check", "Delivered", "ok"}
	case store.DeliveryFailed:
		return statusView{"x", "Gave up", "bad"}
	}
	return statusView{"clock", "Retrying", "queued"}
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request) error {
	h.renderWebhooks(w, r, http.StatusOK, "", "", nil)
	return nil
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, secret, secretFor string, fl *flash) {
	ctx := r.Context()
	eps, err := h.store.ListWebhookEndpoints(ctx, workspaceOf(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := webhooksData{EventTypes: jobs.EventTypes, Secret: secret, SecretFor: secretFor}
	types := map[string]string{}
	for _, ep := range eps {
		v := endpointView{ID: ep.ID, URL: ep.URL, Events: ep.Events, Created: when(ep.CreatedAt)}
		ds, err := h.store.ListWebhookDeliveries(ctx, ep.ID, deliveriesPerPage)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, dl := range ds {
			t, ok := types[dl.EventID]
			if !ok {
				if ev, err := h.store.GetEvent(ctx, dl.EventID); err == nil {
					t = ev.Type
				}
				types[dl.EventID] = t
			}
			v.Deliveries = append(v.Deliveries, deliveryView{ID: dl.ID, EventType: t, Status: deliveryStatus(dl.Status),
				Code: dl.ResponseCode, Error: dl.LastError, Attempts: dl.Attempts, When: when(dl.UpdatedAt)})
		}
		d.Endpoints = append(d.Endpoints, v)
	}
	pg := page{Title: "Webhooks", Nav: "webhooks", Data: d, Flash: fl}
	if fl == nil {
		switch q := r.URL.Query(); {
		case q.Get("deleted") != "":
			pg.Flash = &flash{Kind: "success", Title: "Endpoint deleted", Message: "It receives no more events."}
		case q.Get("redelivered") != "":
			pg.Flash = &flash{Kind: "success", Title: "Redelivery queued", Message: "The event is sent again; its row updates when it is answered (reload)."}
		}
	}
	h.render(w, r, status, "webhooks", pg)
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) error {
	raw := strings.TrimSpace(r.FormValue("url"))
	if raw == "" || len(raw) > maxWebhookURL {
		return &errcode.Error{Code: errcode.InvalidOption, Message: "the endpoint URL is missing or too long",
			Remedy: "Give the http(s) URL that receives the events, at most 2000 characters."}
	}
	if _, err := fetch.CheckURL(raw, h.webhookLoopback); err != nil {
		return err
	}
	var evs []string
	for _, ev := range r.Form["events"] {
		if !slices.Contains(jobs.EventTypes, ev) {
			return &errcode.Error{Code: errcode.InvalidOption, Message: fmt.Sprintf("unknown event type %q", ev),
				Remedy: "Tick event types from the list on the Webhooks page: " + strings.Join(jobs.EventTypes, ", ") + "."}
		}
		if !slices.Contains(evs, ev) {
			evs = append(evs, ev)
		}
	}
	ep, err := h.store.CreateWebhookEndpoint(r.Context(), store.WebhookEndpoint{WorkspaceID: workspaceOf(r), URL: raw,
		Secret: newWebhookSecret(), Events: evs, Enabled: true})
	if err != nil {
		return err
	}
	// The secret is shown on this response only, never again: no redirect.
	h.renderWebhooks(w, r, http.StatusCreated, ep.Secret, ep.URL, &flash{Kind: "success", Title: "Endpoint added",
		Message: "Copy the signing secret below now: it is not shown again."})
	return nil
}

// newWebhookSecret makes a signing secret in the API's format.
func newWebhookSecret() string {
	b := make([]byte, webhookSecretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func (h *Handler) webhookInWorkspace(r *http.Request, id string) (store.WebhookEndpoint, error) {
	ep, err := h.store.GetWebhookEndpoint(r.Context(), id)
	if isNotFound(err) || err == nil && ep.WorkspaceID != workspaceOf(r) {
		return ep, errcode.New(errcode.NotFound, "this webhook endpoint does not exist in this workspace")
	}
	return ep, err
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	ep, err := h.webhookInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhookEndpoint(r.Context(), ep.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?deleted="+url.QueryEscape(ep.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) error {
	if h.publish == nil {
		return errcode.New(errcode.Internal, "webhook deliveries are not available on this server")
	}
	if _, err := h.publish.Redeliver(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?redelivered=1", http.StatusSeeOther)
	return nil
}
