package store

import (
	"outpost/internal/outpost"

	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WebhookEndpoint is a URL that receives the workspace's events.
type WebhookEndpoint struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	URL         string `json:"url"`
	// Secret is the Standard Webhooks signing secret ("whsec_…"), plain:
	// only on endpoints from before 00014 until a node seals it at start,
	// and where the server has no secret key; else "".
	Secret string `json:"-"`
	// SecretSealed is the signing secret sealed (connect.SealWebhookSecret).
	SecretSealed []byte `json:"-"`
	// Events are the event types sent; empty means all.
	Events    []string  `json:"events"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Wants reports whether the endpoint receives events of type eventType.
func (w WebhookEndpoint) Wants(eventType string) bool {
	return w.Enabled && (len(w.Events) == 0 || slices.Contains(w.Events, eventType))
}

const webhookColumns = `id, workspace_id, url, secret, events, enabled, created_at, updated_at, secret_sealed`

func scanWebhook(sc rowScanner) (WebhookEndpoint, error) {
	var w WebhookEndpoint
	var events string
	err := sc.Scan(&w.ID, &w.WorkspaceID, &w.URL, &w.Secret, &events, &w.Enabled,
		scanTime(&w.CreatedAt), scanTime(&w.UpdatedAt), &w.SecretSealed)
	w.Events = strings.Fields(events)
	return w, err
}

// CreateWebhookEndpoint stores an endpoint.
func (q *Queries) CreateWebhookEndpoint(ctx context.Context, w WebhookEndpoint) (WebhookEndpoint, error) {
	if w.ID == "" {
		w.ID = NewID(PrefixWebhook)
	}
	w.CreatedAt = now(w.CreatedAt)
	w.UpdatedAt = w.CreatedAt
	_, err := q.exec(ctx, `INSERT INTO webhook_endpoints (`+webhookColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		w.ID, w.WorkspaceID, w.URL, w.Secret, strings.Join(w.Events, " "), w.Enabled, w.CreatedAt, w.UpdatedAt, w.SecretSealed)
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return q.GetWebhookEndpoint(ctx, w.ID)
}

// GetWebhookEndpoint returns the endpoint with id.
func (q *Queries) GetWebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, error) {
	w, err := scanWebhook(q.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("get webhook endpoint %s: %w", id, notFound(err))
	}
	return w, nil
}

// ListWebhookEndpoints returns the workspace's endpoints, oldest first.
func (q *Queries) ListWebhookEndpoints(ctx context.Context, workspaceID string) ([]WebhookEndpoint, error) {
	rows, err := q.query(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE workspace_id = $1
		ORDER BY created_at, id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	ws, err := collect(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return ws, nil
}

// ListPlainWebhookSecrets returns the endpoints, of every workspace, whose
// secret is still stored plain.
func (q *Queries) ListPlainWebhookSecrets(ctx context.Context) ([]WebhookEndpoint, error) {
	rows, err := q.query(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE secret <> '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list plain webhook secrets: %w", err)
	}
	ws, err := collect(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("list plain webhook secrets: %w", err)
	}
	return ws, nil
}

// SealWebhookSecret replaces endpoint id's plain secret with sealed, if
// the plain one is still plain (another node may have sealed it): it
// reports whether it did.
func (q *Queries) SealWebhookSecret(ctx context.Context, id, plain string, sealed []byte) (bool, error) {
	res, err := q.exec(ctx, `UPDATE webhook_endpoints SET secret = '', secret_sealed = $3
		WHERE id = $1 AND secret = $2`, id, plain, sealed)
	if err != nil {
		return false, fmt.Errorf("seal webhook %s secret: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("seal webhook %s secret: %w", id, err)
	}
	return n == 1, nil
}

// UpdateWebhookEndpoint writes the URL, secret (plain and sealed), events
// and enabled flag.
func (q *Queries) UpdateWebhookEndpoint(ctx context.Context, w WebhookEndpoint) (WebhookEndpoint, error) {
	res, err := q.exec(ctx, `UPDATE webhook_endpoints SET url = $2, secret = $3, events = $4,
		enabled = $5, updated_at = $6, secret_sealed = $7 WHERE id = $1`,
		w.ID, w.URL, w.Secret, strings.Join(w.Events, " "), w.Enabled, now(time.Time{}), w.SecretSealed)
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("update webhook endpoint %s: %w", w.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return WebhookEndpoint{}, fmt.Errorf("update webhook endpoint %s: %w", w.ID, err)
	}
	return q.GetWebhookEndpoint(ctx, w.ID)
}

// DeleteWebhookEndpoint deletes an endpoint and its deliveries.
func (q *Queries) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	res, err := q.exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	if err := rowsAffected(res); err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	return nil
}

// DeliveryStatus is where a webhook delivery is.
type DeliveryStatus = outpost.DeliveryStatus

// Delivery statuses.
const (
	DeliveryPending   = outpost.DeliveryPending
	DeliverySucceeded = outpost.DeliverySucceeded
	DeliveryFailed    = outpost.DeliveryFailed
)

// WebhookDelivery is one event sent (or to be sent) to one endpoint.
type WebhookDelivery struct {
	ID            string         `json:"id"`
	EndpointID    string         `json:"endpoint_id"`
	EventID       string         `json:"event_id"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	ResponseCode  int            `json:"response_code,omitempty"`
	LastError     string         `json:"last_error,omitempty"`
	NextAttemptAt *time.Time     `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

const deliveryColumns = `id, endpoint_id, event_id, status, attempts, response_code, last_error,
	next_attempt_at, created_at, updated_at`

func scanDelivery(sc rowScanner) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := sc.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.Status, &d.Attempts, &d.ResponseCode,
		&d.LastError, scanNullTime(&d.NextAttemptAt), scanTime(&d.CreatedAt), scanTime(&d.UpdatedAt))
	return d, err
}

// CreateWebhookDelivery stores a delivery; Status defaults to pending. The
// same event for the same endpoint twice gives ErrConflict (it is sent
// once).
func (q *Queries) CreateWebhookDelivery(ctx context.Context, d WebhookDelivery) (WebhookDelivery, error) {
	if d.ID == "" {
		d.ID = NewID(PrefixDelivery)
	}
	if d.Status == "" {
		d.Status = DeliveryPending
	}
	d.CreatedAt = now(d.CreatedAt)
	d.UpdatedAt = d.CreatedAt
	res, err := q.exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
		d.ID, d.EndpointID, d.EventID, d.Status, d.Attempts, d.ResponseCode, d.LastError,
		d.NextAttemptAt, d.CreatedAt, d.UpdatedAt)
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("create webhook delivery: %w", err)
	}
	if err := rowsAffected(res); err != nil {
		return WebhookDelivery{}, fmt.Errorf("create webhook delivery: event %s already queued: %w", d.EventID, ErrConflict)
	}
	return q.GetWebhookDelivery(ctx, d.ID)
}

// GetWebhookDelivery returns the delivery with id.
func (q *Queries) GetWebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error) {
	d, err := scanDelivery(q.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, notFound(err))
	}
	return d, nil
}

// UpdateWebhookDelivery records an attempt's outcome: status, attempts,
// response code, error and next attempt time.
func (q *Queries) UpdateWebhookDelivery(ctx context.Context, d WebhookDelivery) (WebhookDelivery, error) {
	res, err := q.exec(ctx, `UPDATE webhook_deliveries SET status = $2, attempts = $3, response_code = $4,
		last_error = $5, next_attempt_at = $6, updated_at = $7 WHERE id = $1`,
		d.ID, d.Status, d.Attempts, d.ResponseCode, d.LastError, d.NextAttemptAt, now(time.Time{}))
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("update webhook delivery %s: %w", d.ID, err)
	}
	if err := rowsAffected(res); err != nil {
		return WebhookDelivery{}, fmt.Errorf("update webhook delivery %s: %w", d.ID, err)
	}
	return q.GetWebhookDelivery(ctx, d.ID)
}

// ListWebhookDeliveries returns an endpoint's latest deliveries, newest
// first.
func (q *Queries) ListWebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]WebhookDelivery, error) {
	rows, err := q.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE endpoint_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, endpointID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	ds, err := collect(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	return ds, nil
}
