package jobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"outpost/internal/errcode"
	"outpost/internal/store"
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

// KindDeliver is the webhook delivery job's kind.
const KindDeliver = "webhook.deliver"

// deliverMaxAttempts bounds a delivery's retries; River's backoff (attempt⁴
// seconds) spreads 8 attempts over about an hour and a half.
const deliverMaxAttempts = 8

// DeliverArgs are the webhook delivery job's arguments.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return KindDeliver }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: deliverMaxAttempts}
}

// eventID returns a stable event id made of parts, so that a step a retried
// job reaches twice records (and delivers) its event once.
func eventID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return store.PrefixEvent + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// emitTx stores a tracking event in tx and queues a delivery to each of the
// workspace's endpoints that wants it. An event whose id (when set) was
// stored before is skipped.
func (s *Service) emitTx(ctx context.Context, tx *sql.Tx, ev store.Event, data any) error {
	q := s.store.Using(tx)
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Type, err)
	}
	ev.Payload = raw
	if ev.ID == "" {
		if ev, err = q.InsertEvent(ctx, ev); err != nil {
			return err
		}
	} else {
		var fresh bool
		if ev, fresh, err = q.InsertEventOnce(ctx, ev); err != nil || !fresh {
			return err
		}
	}
	eps, err := q.ListWebhookEndpoints(ctx, ev.WorkspaceID)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if !ep.Wants(ev.Type) {
			continue
		}
		d, err := q.CreateWebhookDelivery(ctx, store.WebhookDelivery{EndpointID: ep.ID, EventID: ev.ID})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.client.InsertTx(ctx, tx, DeliverArgs{DeliveryID: d.ID}, nil); err != nil {
			return fmt.Errorf("insert delivery job: %w", err)
		}
	}
	return nil
}

// emit is emitTx in a transaction of its own.
func (s *Service) emit(ctx context.Context, ev store.Event, data any) error {
	return s.store.WithTx(ctx, func(tx *sql.Tx) error { return s.emitTx(ctx, tx, ev, data) })
}

// Redeliver sends a delivery again, whatever became of it: its status
// goes back to pending and a new job sends it. Errors: errcode.NotFound
// when the delivery is not in the workspace.
func (s *Service) Redeliver(ctx context.Context, workspaceID, deliveryID string) (store.WebhookDelivery, error) {
	d, err := s.store.GetWebhookDelivery(ctx, deliveryID)
	if err == nil {
		var ep store.WebhookEndpoint
		if ep, err = s.store.GetWebhookEndpoint(ctx, d.EndpointID); err == nil && ep.WorkspaceID != workspaceID {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.WebhookDelivery{}, errcode.New(errcode.NotFound, "webhook delivery %s not found", deliveryID)
	}
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	var out store.WebhookDelivery
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		d.Status, d.NextAttemptAt = store.DeliveryPending, nil
		var err error
		if out, err = q.UpdateWebhookDelivery(ctx, d); err != nil {
			return err
		}
		_, err = s.client.InsertTx(ctx, tx, DeliverArgs{DeliveryID: d.ID}, nil)
		return err
	})
	if err != nil {
		return store.WebhookDelivery{}, fmt.Errorf("redeliver %s: %w", deliveryID, err)
	}
	return out, nil
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.deliver(ctx, job)
}

// webhookBody is the JSON a webhook receives (the Standard Webhooks
// payload shape).
type webhookBody struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// maxResponseNote is how much of a failed response's body is kept.
const maxResponseNote = 512

// deliver sends one delivery, signed per Standard Webhooks: webhook-id is
// the event id (the same on every attempt, so receivers deduplicate),
// webhook-timestamp the attempt's time, webhook-signature v1 HMAC-SHA256.
func (s *Service) deliver(ctx context.Context, job *river.Job[DeliverArgs]) error {
	d, err := s.store.GetWebhookDelivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	ep, err := s.store.GetWebhookEndpoint(ctx, d.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if d.Status == store.DeliverySucceeded {
		return nil
	}
	if !ep.Enabled {
		return river.JobCancel(errors.New("the endpoint is disabled"))
	}
	ev, err := s.store.GetEvent(ctx, d.EventID)
	if err != nil {
		return err
	}
	data := ev.Payload
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	body, err := json.Marshal(webhookBody{Type: ev.Type, Timestamp: ev.CreatedAt.UTC(), Data: data})
	if err != nil {
		return river.JobCancel(err)
	}
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		return river.JobCancel(fmt.Errorf("endpoint %s secret: %w", ep.ID, err))
	}
	now := time.Now()
	sig, err := wh.Sign(ev.ID, now, body)
	if err != nil {
		return river.JobCancel(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return river.JobCancel(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(standardwebhooks.HeaderWebhookID, ev.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	d.Attempts++
	d.ResponseCode, d.LastError = 0, ""
	resp, err := s.webhooks.Do(req)
	var permanent bool
	if err != nil {
		d.LastError = err.Error()
		permanent = errcode.Of(err) == errcode.URLNotAllowed
	} else {
		d.ResponseCode = resp.StatusCode
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			note, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseNote))
			d.LastError = strings.TrimSpace(resp.Status + " " + string(note))
			// 410 Gone: the receiver says the endpoint is no more.
			permanent = resp.StatusCode == http.StatusGone
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	}
	last := job.Attempt >= job.MaxAttempts
	switch {
	case d.LastError == "":
		d.Status, d.NextAttemptAt = store.DeliverySucceeded, nil
	case permanent || last:
		d.Status, d.NextAttemptAt = store.DeliveryFailed, nil
	default:
		d.Status = store.DeliveryPending
		// River's default backoff: attempt⁴ seconds (an estimate for the
		// delivery log; River adds jitter).
		next := time.Now().Add(time.Duration(job.Attempt*job.Attempt*job.Attempt*job.Attempt) * time.Second)
		d.NextAttemptAt = &next
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, uerr := s.store.UpdateWebhookDelivery(wctx, d); uerr != nil {
		s.logger.WarnContext(ctx, "record webhook delivery", "delivery_id", d.ID, "error", uerr)
	}
	switch d.Status {
	case store.DeliverySucceeded:
		return nil
	case store.DeliveryFailed:
		s.logger.WarnContext(ctx, "webhook delivery failed for good", "delivery_id", d.ID, "endpoint_id", ep.ID,
			"event_type", ev.Type, "attempts", d.Attempts, "error", d.LastError)
		return river.JobCancel(errors.New(d.LastError))
	}
	return fmt.Errorf("deliver %s to %s: %s", ev.Type, ep.ID, d.LastError)
}
