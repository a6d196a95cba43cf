package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// webhookJSON is a webhook endpoint. Its signing secret is shown once, in
// the response that creates it.
type webhookJSON struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Secret verifies the Standard Webhooks signature (webhook-signature,
	// v1 HMAC-SHA256 over "id.timestamp.body"); only in the create response.
	Secret    string    `json:"secret,omitempty"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func webhookView(w store.WebhookEndpoint) webhookJSON {
	v := webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if v.Events == nil {
		v.Events = []string{}
	}
	return v
}

// webhookCreateRequest adds an endpoint.
type webhookCreateRequest struct {
	URL string `json:"url"`
	// Events are the event types to send; empty sends all.
	Events []string `json:"events,omitempty"`
}

// deliveryJSON is one event sent (or to be sent) to an endpoint.
type deliveryJSON struct {
	ID            string               `json:"id"`
	EndpointID    string               `json:"endpoint_id"`
	EventID       string               `json:"event_id"`
	EventType     string               `json:"event_type"`
	Status        store.DeliveryStatus `json:"status"`
	Attempts      int                  `json:"attempts"`
	ResponseCode  int                  `json:"response_code,omitempty"`
	LastError     string               `json:"last_error,omitempty"`
	NextAttemptAt *time.Time           `json:"next_attempt_at"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
}

func (s *Server) deliveryView(ctx context.Context, d store.WebhookDelivery) deliveryJSON {
	v := deliveryJSON{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, Status: d.Status, Attempts: d.Attempts,
		ResponseCode: d.ResponseCode, LastError: d.LastError, NextAttemptAt: d.NextAttemptAt,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if ev, err := s.store.GetEvent(ctx, d.EventID); err == nil {
		v.EventType = ev.Type
	}
	return v
}

// webhookService is what the webhook routes need of jobs.Service.
type webhookService interface {
	Redeliver(ctx context.Context, workspaceID, deliveryID string) (store.WebhookDelivery, error)
}

const maxWebhookURL = 2000

func newWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhookCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	req.URL = strings.TrimSpace(req.URL)
	if req.URL == "" || len(req.URL) > maxWebhookURL {
		return errcode.New(errcode.InvalidOption, "url: give the endpoint's http(s) URL (at most %d characters)", maxWebhookURL)
	}
	if _, err := fetch.CheckURL(req.URL, s.webhookLoopback); err != nil {
		return err
	}
	var events []string
	for _, ev := range req.Events {
		ev = strings.TrimSpace(ev)
		if !slices.Contains(jobs.EventTypes, ev) {
			return errcode.New(errcode.InvalidOption, "events: unknown event type %q (use %s)", ev, strings.Join(jobs.EventTypes, ", "))
		}
		if !slices.Contains(events, ev) {
			events = append(events, ev)
		}
	}
	ep, err := s.store.CreateWebhookEndpoint(r.Context(), store.WebhookEndpoint{WorkspaceID: workspaceOf(r), URL: req.URL,
		Secret: newWebhookSecret(), Events: events, Enabled: true})
	if err != nil {
		return err
	}
	v := webhookView(ep)
	v.Secret = ep.Secret
	s.writeJSON(w, r, http.StatusCreated, v)
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	eps, err := s.store.ListWebhookEndpoints(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(eps))
	for i, ep := range eps {
		out[i] = webhookView(ep)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(out, ""))
	return nil
}

func (s *Server) webhookInWorkspace(r *http.Request, id string) (store.WebhookEndpoint, error) {
	ep, err := s.store.GetWebhookEndpoint(r.Context(), id)
	if isNotFound(err) || err == nil && ep.WorkspaceID != workspaceOf(r) {
		return store.WebhookEndpoint{}, notFound("webhook", id)
	}
	return ep, err
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	ep, err := s.webhookInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, webhookView(ep))
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	ep, err := s.webhookInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhookEndpoint(r.Context(), ep.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	ep, err := s.webhookInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	_, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	ds, err := s.store.ListWebhookDeliveries(r.Context(), ep.ID, limit)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = s.deliveryView(r.Context(), d)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(out, ""))
	return nil
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	if s.hooks == nil {
		return errcode.New(errcode.Internal, "webhook deliveries are not available on this server")
	}
	d, err := s.hooks.Redeliver(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, s.deliveryView(r.Context(), d))
	return nil
}
