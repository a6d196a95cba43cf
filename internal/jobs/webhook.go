package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/fetch"
	"outpost/internal/store"
)

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

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	store    *store.Store
	webhooks *fetch.Client
	logger   *slog.Logger
	// connect opens sealed signing secrets (nil: the server has no key,
	// and secrets are plain).
	connect *connect.Service
}

func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

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
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	d, err := w.store.GetWebhookDelivery(ctx, job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	ep, err := w.store.GetWebhookEndpoint(ctx, d.EndpointID)
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
	ev, err := w.store.GetEvent(ctx, d.EventID)
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
	secret, err := w.connect.WebhookSecret(ep)
	if err != nil {
		return river.JobCancel(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
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
	resp, err := w.webhooks.Do(req)
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
	if _, uerr := w.store.UpdateWebhookDelivery(wctx, d); uerr != nil {
		w.logger.WarnContext(ctx, "record webhook delivery", "delivery_id", d.ID, "error", uerr)
	}
	switch d.Status {
	case store.DeliverySucceeded:
		return nil
	case store.DeliveryFailed:
		w.logger.WarnContext(ctx, "webhook delivery failed for good", "delivery_id", d.ID, "endpoint_id", ep.ID,
			"event_type", ev.Type, "attempts", d.Attempts, "error", d.LastError)
		return river.JobCancel(errors.New(d.LastError))
	}
	return fmt.Errorf("deliver %s to %s: %s", ev.Type, ep.ID, d.LastError)
}
