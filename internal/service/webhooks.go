package service

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// Webhooks are the workspaces' webhook endpoints and their deliveries.
type Webhooks struct {
	store *store.Store
	queue *jobs.Queue
	// connect seals the signing secrets; nil keeps them plain (a server
	// without a secret key).
	connect *connect.Service
	// guard is where endpoints may be: public addresses, and the private
	// networks an operator allowed.
	guard fetch.Guard
}

var _ outpost.Webhooks = (*Webhooks)(nil)

// newWebhookSecret makes a signing secret in the Standard Webhooks format.
func newWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// Create adds an endpoint; its signing secret is in the answer only.
func (s *Webhooks) Create(ctx context.Context, workspaceID, url string, events []string) (outpost.Webhook, error) {
	url = strings.TrimSpace(url)
	if url == "" || len(url) > outpost.MaxWebhookURL {
		return outpost.Webhook{}, &errcode.Error{Code: errcode.InvalidOption,
			Message: fmt.Sprintf("url: give the endpoint's http(s) URL (at most %d characters)", outpost.MaxWebhookURL),
			Remedy:  "Give the http(s) URL that receives the events."}
	}
	_, err := s.guard.CheckURLResolved(ctx, url)
	if err != nil {
		if e := errcode.As(err); e.Code == errcode.URLNotAllowed {
			c := *e
			c.Remedy = "Give a public http(s) URL; for a receiver on a private network, the server's operator lists its network in OUTPOST_WEBHOOK_ALLOW_NETS."
			return outpost.Webhook{}, &c
		}
		return outpost.Webhook{}, err
	}
	var evs []string
	for _, ev := range events {
		ev = strings.TrimSpace(ev)
		if !slices.Contains(outpost.EventTypes, ev) {
			return outpost.Webhook{}, errcode.New(errcode.InvalidOption, "events: unknown event type %q (use %s)", ev, strings.Join(outpost.EventTypes, ", "))
		}
		if !slices.Contains(evs, ev) {
			evs = append(evs, ev)
		}
	}
	secret := newWebhookSecret()
	ep := store.WebhookEndpoint{ID: store.NewID(store.PrefixWebhook), WorkspaceID: workspaceID, URL: url,
		Secret: secret, Events: evs, Enabled: true}
	if s.connect != nil {
		// Sealed at rest; the answer is the one place it is seen plain.
		if ep.SecretSealed, err = s.connect.SealWebhookSecret(ep.ID, secret); err != nil {
			return outpost.Webhook{}, err
		}
		ep.Secret = ""
	}
	ep, err = s.store.CreateWebhookEndpoint(ctx, ep)
	if err != nil {
		return outpost.Webhook{}, err
	}
	v := webhookView(ep)
	v.Secret = secret
	return v, nil
}

// List returns the workspace's endpoints.
func (s *Webhooks) List(ctx context.Context, workspaceID string) ([]outpost.Webhook, error) {
	eps, err := s.store.ListWebhookEndpoints(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]outpost.Webhook, len(eps))
	for i, ep := range eps {
		out[i] = webhookView(ep)
	}
	return out, nil
}

func (s *Webhooks) endpoint(ctx context.Context, workspaceID, id string) (store.WebhookEndpoint, error) {
	return inWorkspace(ctx, workspaceID, "webhook", id, s.store.GetWebhookEndpoint, func(ep store.WebhookEndpoint) string { return ep.WorkspaceID })
}

// Get returns one of the workspace's endpoints.
func (s *Webhooks) Get(ctx context.Context, workspaceID, id string) (outpost.Webhook, error) {
	ep, err := s.endpoint(ctx, workspaceID, id)
	if err != nil {
		return outpost.Webhook{}, err
	}
	return webhookView(ep), nil
}

// Delete deletes an endpoint and its delivery log.
func (s *Webhooks) Delete(ctx context.Context, workspaceID, id string) error {
	ep, err := s.endpoint(ctx, workspaceID, id)
	if err != nil {
		return err
	}
	return coded(s.store.DeleteWebhookEndpoint(ctx, ep.ID), "webhook", id)
}

// Deliveries returns an endpoint's delivery log, newest first.
func (s *Webhooks) Deliveries(ctx context.Context, workspaceID, endpointID string, limit int) ([]outpost.Delivery, error) {
	ep, err := s.endpoint(ctx, workspaceID, endpointID)
	if err != nil {
		return nil, err
	}
	ds, err := s.store.ListWebhookDeliveries(ctx, ep.ID, limit)
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	out := make([]outpost.Delivery, len(ds))
	for i, d := range ds {
		out[i] = s.delivery(ctx, d, types)
	}
	return out, nil
}

// delivery is d with its event's type, read once per event id.
func (s *Webhooks) delivery(ctx context.Context, d store.WebhookDelivery, types map[string]string) outpost.Delivery {
	t, ok := types[d.EventID]
	if !ok {
		if ev, err := s.store.GetEvent(ctx, d.EventID); err == nil {
			t = ev.Type
		}
		types[d.EventID] = t
	}
	return deliveryView(d, t)
}

// Redeliver sends a delivery again, whatever became of it: its status goes
// back to pending and a new job sends it.
func (s *Webhooks) Redeliver(ctx context.Context, workspaceID, deliveryID string) (outpost.Delivery, error) {
	d, err := s.store.GetWebhookDelivery(ctx, deliveryID)
	if err == nil {
		_, err = s.endpoint(ctx, workspaceID, d.EndpointID)
	}
	if isNotFound(err) {
		return outpost.Delivery{}, errcode.New(errcode.NotFound, "webhook delivery %s not found", deliveryID)
	}
	if err != nil {
		return outpost.Delivery{}, err
	}
	var out store.WebhookDelivery
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		d.Status, d.NextAttemptAt = store.DeliveryPending, nil
		var err error
		if out, err = s.store.Using(tx).UpdateWebhookDelivery(ctx, d); err != nil {
			return err
		}
		return s.queue.InsertDelivery(ctx, tx, d.ID)
	})
	if err != nil {
		return outpost.Delivery{}, fmt.Errorf("redeliver %s: %w", deliveryID, err)
	}
	return s.delivery(ctx, out, map[string]string{}), nil
}
