package outpost

import (
	"context"
	"time"
)

// Webhook event types.
const (
	EventExportCreated        = "export.queued"
	EventExportProgress       = "export.progress" // data.percent: 25, 50, 75, 100
	EventExportCompleted      = "export.succeeded"
	EventExportFailed         = "export.failed"
	EventExportCanceled       = "export.canceled"
	EventRenditionReady       = "rendition.ready"
	EventPublicationPublished = "publication.published"
	EventPublicationFailed    = "publication.failed"
	EventConnectionExpiring   = "connection.expiring"
	EventConnectionExpired    = "connection.expired"
)

// EventTypes lists every webhook event type, for validation and docs.
var EventTypes = []string{
	EventExportCreated, EventExportProgress, EventExportCompleted, EventExportFailed, EventExportCanceled, EventRenditionReady,
	EventPublicationPublished, EventPublicationFailed, EventConnectionExpiring, EventConnectionExpired,
}

// Webhook is a webhook endpoint. Its signing secret is shown once, when it
// is created.
type Webhook struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Secret verifies the Standard Webhooks signature (webhook-signature,
	// v1 HMAC-SHA256 over "id.timestamp.body"); only when just created.
	Secret    string    `json:"secret,omitempty"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Delivery is one event sent (or to be sent) to an endpoint.
type Delivery struct {
	ID            string         `json:"id"`
	EndpointID    string         `json:"endpoint_id"`
	EventID       string         `json:"event_id"`
	EventType     string         `json:"event_type"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	ResponseCode  int            `json:"response_code,omitempty"`
	LastError     string         `json:"last_error,omitempty"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// MaxWebhookURL bounds an endpoint's URL.
const MaxWebhookURL = 2000

// Webhooks are the use cases of webhook endpoints.
type Webhooks interface {
	// Create adds an endpoint for the event types (none: all); its
	// signing secret is in the answer, and only there.
	Create(ctx context.Context, workspaceID, url string, events []string) (Webhook, error)
	List(ctx context.Context, workspaceID string) ([]Webhook, error)
	Get(ctx context.Context, workspaceID, id string) (Webhook, error)
	// Delete deletes an endpoint and its delivery log.
	Delete(ctx context.Context, workspaceID, id string) error
	// Deliveries is an endpoint's delivery log, newest first.
	Deliveries(ctx context.Context, workspaceID, endpointID string, limit int) ([]Delivery, error)
	// Redeliver sends a delivery again, whatever became of it.
	Redeliver(ctx context.Context, workspaceID, deliveryID string) (Delivery, error)
}
