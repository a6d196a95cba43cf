package ui

import (
	"net/http"
	"net/url"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// deliveriesPerPage is how many deliveries an endpoint shows.
const deliveriesPerPage = 20

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

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request) error {
	h.renderWebhooks(w, r, http.StatusOK, "", "", nil)
	return nil
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, secret, secretFor string, fl *flash) {
	ctx, ws := r.Context(), workspaceOf(r)
	eps, err := h.svc.Webhooks.List(ctx, ws)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := webhooksData{EventTypes: outpost.EventTypes, Secret: secret, SecretFor: secretFor}
	for _, ep := range eps {
		v := endpointView{ID: ep.ID, URL: ep.URL, Events: ep.Events, Created: when(ep.CreatedAt)}
		ds, err := h.svc.Webhooks.Deliveries(ctx, ws, ep.ID, deliveriesPerPage)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, dl := range ds {
			v.Deliveries = append(v.Deliveries, deliveryView{ID: dl.ID, EventType: dl.EventType, Status: deliveryStatus(dl.Status),
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
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return errcode.New(errcode.InvalidOption, "the form could not be read: reload the page and try again")
	}
	ep, err := h.svc.Webhooks.Create(r.Context(), workspaceOf(r), r.PostFormValue("url"), r.PostForm["events"])
	if err != nil {
		return err
	}
	// The secret is shown on this response only, never again: no redirect.
	h.renderWebhooks(w, r, http.StatusCreated, ep.Secret, ep.URL, &flash{Kind: "success", Title: "Endpoint added",
		Message: "Copy the signing secret below now: it is not shown again."})
	return nil
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := h.svc.Webhooks.Delete(r.Context(), workspaceOf(r), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?deleted="+url.QueryEscape(id), http.StatusSeeOther)
	return nil
}

func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.svc.Webhooks.Redeliver(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?redelivered=1", http.StatusSeeOther)
	return nil
}
