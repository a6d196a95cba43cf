package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/notify"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// Queue is the one way to the job queue for the services and the
// workers: it inserts and cancels jobs in the caller's transaction,
// together with the state changes, live events and webhooks that go with
// them, so that a row and its job commit (or not) together.
type Queue struct {
	store   *store.Store
	client  *river.Client[*sql.Tx]
	events  *events.Broker
	connect *connect.Service
	logger  *slog.Logger
	// mailer sends the members' email notices; publicURL is the base of
	// their links.
	mailer    *notify.Mailer
	publicURL string
}

// InsertRender inserts the export's render job in tx and records its id.
// In a WithBatchedTx transaction the insert is put off to the end of the
// batch, where the batch's render jobs go in with one InsertManyTx.
func (q *Queue) InsertRender(ctx context.Context, tx *sql.Tx, exportID string, priority int) error {
	r := renderInsert{exportID: exportID, priority: priority}
	if store.Defer(q.store, tx, "render_jobs", r, q.insertRenders) {
		return nil
	}
	return q.insertRenders(ctx, tx, []renderInsert{r})
}

// renderInsert is a render job to insert.
type renderInsert struct {
	exportID string
	priority int
}

// insertRenders inserts render jobs with one statement and records each
// export's job id.
func (q *Queue) insertRenders(ctx context.Context, tx *sql.Tx, rs []renderInsert) error {
	params := make([]river.InsertManyParams, len(rs))
	for i, r := range rs {
		params[i] = river.InsertManyParams{Args: RenderArgs{ExportID: r.exportID}, InsertOpts: &river.InsertOpts{Priority: r.priority}}
	}
	res, err := q.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("insert render jobs: %w", err)
	}
	if len(res) != len(rs) {
		return fmt.Errorf("insert render jobs: %d inserted of %d", len(res), len(rs))
	}
	// Matched by their args: a RETURNING's order is not promised.
	db := q.store.Using(tx)
	for _, r := range res {
		var args RenderArgs
		if err := json.Unmarshal(r.Job.EncodedArgs, &args); err != nil {
			return fmt.Errorf("read render job %d: %w", r.Job.ID, err)
		}
		if err := db.SetExportJobID(ctx, args.ExportID, r.Job.ID); err != nil {
			return err
		}
	}
	return nil
}

// CancelJob cancels a job in tx (a running render's ffmpeg gets SIGINT); a
// job that is gone is no error.
func (q *Queue) CancelJob(ctx context.Context, tx *sql.Tx, jobID int64) error {
	if jobID == 0 {
		return nil
	}
	if _, err := q.client.JobCancelTx(ctx, tx, jobID); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("cancel job %d: %w", jobID, err)
	}
	return nil
}

// InsertDelivery queues a webhook delivery in tx.
func (q *Queue) InsertDelivery(ctx context.Context, tx *sql.Tx, deliveryID string) error {
	if _, err := q.client.InsertTx(ctx, tx, DeliverArgs{DeliveryID: deliveryID}, nil); err != nil {
		return fmt.Errorf("insert delivery job: %w", err)
	}
	return nil
}

// DeletePreviewAt schedules the deletion of a preview's file.
func (q *Queue) DeletePreviewAt(ctx context.Context, key string, at time.Time) error {
	if _, err := q.client.Insert(ctx, DeletePreviewArgs{Key: key}, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("schedule the preview's deletion: %w", err)
	}
	return nil
}

// Notify wakes the export's live watchers after a commit.
func (q *Queue) Notify(exportID string) { q.events.Notify(exportID) }

// PublishTx stores a live event of the export in tx.
func (q *Queue) PublishTx(ctx context.Context, tx *sql.Tx, exportID, typ string, data any) error {
	_, err := q.events.PublishTx(ctx, tx, exportID, typ, data)
	return err
}

// eventID returns a stable event id made of parts, so that a step a retried
// job reaches twice records (and delivers) its event once.
func eventID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return store.PrefixEvent + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// EmitTx stores a tracking event in tx and queues a delivery to each of the
// workspace's endpoints that wants it, and an email to each member who
// wants to hear of it (export ready or failed, post failed, connection
// expiring or expired). An event whose id (when set) was stored before is
// skipped, so a retried step notifies once.
func (q *Queue) EmitTx(ctx context.Context, tx *sql.Tx, ev store.Event, data any) error {
	db := q.store.Using(tx)
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Type, err)
	}
	ev.Payload = raw
	if ev.ID == "" {
		if ev, err = db.InsertEvent(ctx, ev); err != nil {
			return err
		}
	} else {
		var fresh bool
		if ev, fresh, err = db.InsertEventOnce(ctx, ev); err != nil || !fresh {
			return err
		}
	}
	if q.EmailConfigured() {
		if n, ok, err := q.notice(ctx, db, ev, data); err != nil {
			return err
		} else if ok {
			if err := q.notifyMembers(ctx, tx, ev.WorkspaceID, n); err != nil {
				return err
			}
		}
	}
	eps, err := db.ListWebhookEndpoints(ctx, ev.WorkspaceID)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if !ep.Wants(ev.Type) {
			continue
		}
		d, err := db.CreateWebhookDelivery(ctx, store.WebhookDelivery{EndpointID: ep.ID, EventID: ev.ID})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if err := q.InsertDelivery(ctx, tx, d.ID); err != nil {
			return err
		}
	}
	return nil
}

// Emit is EmitTx in a transaction of its own.
func (q *Queue) Emit(ctx context.Context, ev store.Event, data any) error {
	return q.store.WithTx(ctx, func(tx *sql.Tx) error { return q.EmitTx(ctx, tx, ev, data) })
}

// ExportPayload is the data of export.* webhooks.
type ExportPayload struct {
	ID           string        `json:"id"`
	ProjectID    string        `json:"project_id"`
	Status       string        `json:"status"`
	Presets      []string      `json:"presets"`
	Client       string        `json:"client,omitempty"`
	Campaign     string        `json:"campaign,omitempty"`
	Percent      float64       `json:"percent,omitempty"`
	Destinations int           `json:"destinations,omitempty"`
	Error        *events.Error `json:"error,omitempty"`
}

// ExportData is the webhook data of export e with its number of
// destinations.
func ExportData(e store.Export, destinations int) ExportPayload {
	d := ExportPayload{ID: e.ID, ProjectID: e.ProjectID, Status: string(e.Status), Presets: e.PresetIDs,
		Client: e.Client, Campaign: e.Campaign, Destinations: destinations}
	if e.ErrorCode != "" {
		d.Error = &events.Error{Code: e.ErrorCode, Message: e.ErrorMessage}
	}
	return d
}

// publicationPayload is the data of publication.* webhooks.
type publicationPayload struct {
	ID           string        `json:"id"`
	ExportID     string        `json:"export_id"`
	Platform     string        `json:"platform"`
	ConnectionID string        `json:"connection_id"`
	Preset       string        `json:"preset"`
	State        string        `json:"state"`
	PostURL      string        `json:"post_url,omitempty"`
	ScheduleAt   *time.Time    `json:"schedule_at,omitempty"`
	Error        *events.Error `json:"error,omitempty"`
}

func publicationData(p store.Publication) publicationPayload {
	d := publicationPayload{ID: p.ID, ExportID: p.ExportID, Platform: p.Platform, ConnectionID: p.ConnectionID,
		Preset: p.PresetID, State: string(p.State), PostURL: p.PostURL, ScheduleAt: p.ScheduleAt}
	if p.ErrorCode != "" {
		d.Error = &events.Error{Code: p.ErrorCode, Message: p.ErrorMessage}
	}
	return d
}

// PublicationEvent is the live event data of p.
func PublicationEvent(p store.Publication, sent, total int64) events.Publication {
	ev := events.Publication{ID: p.ID, Platform: p.Platform, ConnectionID: p.ConnectionID, Preset: p.PresetID,
		Stage: "publish", State: string(p.State), BytesSent: sent, BytesTotal: total, PostURL: p.PostURL}
	if total > 0 {
		ev.Percent = float64(int(1000*float64(sent)/float64(total))) / 10
	}
	if p.State == store.PublicationPublished {
		ev.Percent = 100
	}
	if p.ErrorCode != "" {
		ev.Error = &events.Error{Code: p.ErrorCode, Message: p.ErrorMessage}
	}
	return ev
}

// EnqueuePublication inserts p's job in tx (at its schedule time, when in
// the future and the platform does not schedule it itself) and records it
// with state.
func (q *Queue) EnqueuePublication(ctx context.Context, tx *sql.Tx, p store.Publication, state store.PublicationState) (store.Publication, error) {
	opts := &river.InsertOpts{}
	if now := time.Now(); p.ScheduleAt != nil && p.ScheduleAt.After(now) && !q.NativeSchedule(p.Platform, p.ScheduleAt, now) {
		opts.ScheduledAt = *p.ScheduleAt
	}
	res, err := q.client.InsertTx(ctx, tx, PublishArgs{PublicationID: p.ID}, opts)
	if err != nil {
		return p, fmt.Errorf("insert publish job: %w", err)
	}
	from := p.State
	p.JobID, p.State = res.Job.ID, state
	p.ErrorCode, p.ErrorMessage = "", ""
	p, err = q.store.Using(tx).TransitionPublication(ctx, p, from)
	if err != nil {
		return p, err
	}
	return p, q.PublishTx(ctx, tx, p.ExportID, events.TypePublication, PublicationEvent(p, 0, 0))
}

// RenditionStored queues the publications of a rendition stored (or
// failed) in tx: a job each, at its schedule time, with the rendition
// pinned while a scheduled one waits; a failed rendition fails them.
func (q *Queue) RenditionStored(ctx context.Context, tx *sql.Tx, r store.Rendition) error {
	db := q.store.Using(tx)
	pubs, err := db.ListPublicationsByRendition(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		if p.JobID != 0 || (p.State != store.PublicationPending && p.State != store.PublicationScheduled) {
			continue
		}
		if r.Status != store.RenditionSucceeded {
			msg := "the file to post could not be made: " + r.ErrorMessage
			if _, err := q.FailPublication(ctx, tx, p, r.ErrorCode, msg); err != nil {
				return err
			}
			continue
		}
		if _, err := q.EnqueuePublication(ctx, tx, p, p.State); err != nil {
			return err
		}
	}
	if len(pubs) == 0 {
		return nil
	}
	return db.SyncRenditionPin(ctx, r.ID)
}

// LiveStates are the states a publication can finish from.
var LiveStates = []store.PublicationState{store.PublicationPending, store.PublicationScheduled,
	store.PublicationUploading, store.PublicationProcessing}

// FinishPublication writes p in its final state in tx (from one of the
// states from, or any live one), with its live event, its webhook, the
// rendition's pin and, when it was the last due publication of a finished
// export, the export's "done". It returns store.ErrConflict when p was
// finished (or moved on) meanwhile.
func (q *Queue) FinishPublication(ctx context.Context, tx *sql.Tx, p store.Publication, from ...store.PublicationState) (store.Publication, error) {
	db := q.store.Using(tx)
	if err := db.LockExport(ctx, p.ExportID); err != nil {
		return p, err
	}
	if len(from) == 0 {
		from = LiveStates
	}
	p, err := db.TransitionPublication(ctx, p, from...)
	if err != nil {
		return p, err
	}
	if err := q.PublishTx(ctx, tx, p.ExportID, events.TypePublication, PublicationEvent(p, 0, 0)); err != nil {
		return p, err
	}
	switch p.State {
	case store.PublicationPublished:
		err = q.EmitTx(ctx, tx, store.Event{ID: eventID(p.ID, outpost.EventPublicationPublished), WorkspaceID: p.WorkspaceID,
			Type: outpost.EventPublicationPublished, SubjectID: p.ID}, publicationData(p))
	case store.PublicationFailed:
		err = q.EmitTx(ctx, tx, store.Event{ID: eventID(p.ID, outpost.EventPublicationFailed, fmt.Sprint(p.JobID)), WorkspaceID: p.WorkspaceID,
			Type: outpost.EventPublicationFailed, SubjectID: p.ID}, publicationData(p))
	}
	if err != nil {
		return p, err
	}
	if err := db.SyncRenditionPin(ctx, p.RenditionID); err != nil {
		return p, err
	}
	return p, q.MaybeDone(ctx, tx, p.ExportID)
}

// FailPublication marks p failed with code and message in tx.
func (q *Queue) FailPublication(ctx context.Context, tx *sql.Tx, p store.Publication, code errcode.Code, msg string) (store.Publication, error) {
	if code == "" {
		code = errcode.PlatformRejected
	}
	p.State, p.ErrorCode, p.ErrorMessage = store.PublicationFailed, code, msg
	return q.FinishPublication(ctx, tx, p)
}

// CancelPublications cancels in tx the export's publications that have not
// gone out (the export was canceled).
func (q *Queue) CancelPublications(ctx context.Context, tx *sql.Tx, exportID string) error {
	db := q.store.Using(tx)
	pubs, err := db.ListPublications(ctx, exportID)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		if p.State != store.PublicationPending && p.State != store.PublicationScheduled || OnPlatform(p) {
			continue // gone out, or scheduled on the platform: not ours to cancel
		}
		if err := q.CancelJob(ctx, tx, p.JobID); err != nil {
			return err
		}
		p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, "the export was canceled"
		if _, err := db.TransitionPublication(ctx, p, store.PublicationPending, store.PublicationScheduled); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err := q.PublishTx(ctx, tx, exportID, events.TypePublication, PublicationEvent(p, 0, 0)); err != nil {
			return err
		}
		if err := db.SyncRenditionPin(ctx, p.RenditionID); err != nil {
			return err
		}
	}
	return nil
}

// OnPlatform reports whether a scheduled publication is already uploaded
// and scheduled by the platform itself (it has its post URL).
func OnPlatform(p store.Publication) bool {
	return p.State == store.PublicationScheduled && p.PostURL != ""
}

// Requeue queues failed publication p again in tx (pending, or scheduled
// when its time is ahead) and pins its file, under the export's lock.
// stored is false, and nothing is done, when the file is no longer stored.
func (q *Queue) Requeue(ctx context.Context, tx *sql.Tx, p store.Publication) (_ store.Publication, stored bool, _ error) {
	db := q.store.Using(tx)
	if err := db.LockExport(ctx, p.ExportID); err != nil {
		return p, false, err
	}
	r, err := db.GetRendition(ctx, p.RenditionID)
	if err != nil {
		return p, false, err
	}
	if r.Status != store.RenditionSucceeded || r.DeletedAt != nil {
		return p, false, nil
	}
	state := store.PublicationPending
	if p.ScheduleAt != nil && p.ScheduleAt.After(time.Now()) {
		state = store.PublicationScheduled
	}
	if p, err = q.EnqueuePublication(ctx, tx, p, state); err != nil {
		return p, true, err
	}
	return p, true, db.SyncRenditionPin(ctx, p.RenditionID)
}

// MaybeDone sends the export's "done" in tx when its render is final and
// no publication is due any more. The caller holds the export's row lock.
func (q *Queue) MaybeDone(ctx context.Context, tx *sql.Tx, exportID string) error {
	db := q.store.Using(tx)
	e, err := db.GetExport(ctx, exportID)
	if err != nil || !e.Status.Final() {
		return err
	}
	if n, err := db.CountDuePublications(ctx, exportID); err != nil || n > 0 {
		return err
	}
	done := events.Done{Status: string(e.Status)}
	pubs, err := db.ListPublications(ctx, e.ID)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		done.Publications = append(done.Publications, PublicationEvent(p, 0, 0))
	}
	return q.PublishTx(ctx, tx, exportID, events.TypeDone, done)
}

// NativeSchedule reports whether a publication due at at is left to the
// platform's own scheduling: the platform has it and at is within its
// range (Facebook: 10 minutes to 30 days ahead).
func (q *Queue) NativeSchedule(platform string, at *time.Time, now time.Time) bool {
	if at == nil || q.connect == nil || !at.After(now.Add(time.Second)) {
		return false
	}
	pub, err := q.connect.Publisher(platform)
	if err != nil {
		return false
	}
	f, d := pub.Features(), at.Sub(now)
	return f.NativeSchedule && d >= f.MinScheduleAhead && (f.MaxScheduleAhead <= 0 || d <= f.MaxScheduleAhead)
}

// FailExport fails an export whose job will not run again: its unfinished
// renditions fail with cause, and watchers get "done".
func (q *Queue) FailExport(ctx context.Context, exportID string, cause *errcode.Error) error {
	rends, err := q.store.ListRenditions(ctx, exportID)
	if err != nil {
		return err
	}
	for _, r := range rends {
		if r.Status == store.RenditionPending || r.Status == store.RenditionRunning {
			r.Status, r.ErrorCode, r.ErrorMessage = store.RenditionFailed, cause.Code, cause.Message
			if _, err := q.store.UpdateRendition(ctx, r); err != nil {
				return err
			}
		}
	}
	if rends, err = q.store.ListRenditions(ctx, exportID); err != nil {
		return err
	}
	change := summarize(rends)
	err = q.store.WithTx(ctx, func(tx *sql.Tx) error {
		db := q.store.Using(tx)
		if _, err := db.UpdateExportStatus(ctx, exportID, change); err != nil {
			return err
		}
		// Render steps a stopped node left running end here.
		if err := db.InterruptSteps(ctx, exportID, ""); err != nil {
			return err
		}
		// So do the other parts of a segmented render.
		if err := q.DropSegmentsTx(ctx, tx, exportID, 0); err != nil {
			return err
		}
		return q.PublishTx(ctx, tx, exportID, events.TypeDone, events.Done{Status: string(change.Status)})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // already final
	}
	if err != nil {
		return err
	}
	q.Notify(exportID)
	return nil
}

// summarize turns the renditions' outcomes into the export's final status.
func summarize(rends []store.Rendition) store.StatusChange {
	var ok int
	var failed []store.Rendition
	for _, r := range rends {
		if r.Status == store.RenditionSucceeded {
			ok++
		} else {
			failed = append(failed, r)
		}
	}
	switch {
	case len(failed) == 0:
		return store.StatusChange{Status: store.ExportSucceeded}
	case ok == 0:
		return store.StatusChange{Status: store.ExportFailed, ErrorCode: failed[0].ErrorCode,
			ErrorMessage: failed[0].ErrorMessage}
	default:
		return store.StatusChange{Status: store.ExportPartiallyFailed, ErrorCode: failed[0].ErrorCode,
			ErrorMessage: fmt.Sprintf("%d of %d targets failed; %s: %s", len(failed), len(rends),
				failed[0].PresetID, failed[0].ErrorMessage)}
	}
}

// connectionPayload is the data of connection.* webhooks.
type connectionPayload struct {
	ID          string     `json:"id"`
	Platform    string     `json:"platform"`
	AccountID   string     `json:"account_id"`
	AccountName string     `json:"account_name"`
	Status      string     `json:"status"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// NotifyExpired sends connection.expired for a connection a refresh found
// dead.
func (q *Queue) NotifyExpired(ctx context.Context, c store.Connection, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return q.Emit(ctx, store.Event{ID: eventID(c.ID, outpost.EventConnectionExpired, c.UpdatedAt.UTC().Format(time.RFC3339Nano)),
		WorkspaceID: c.WorkspaceID, Type: outpost.EventConnectionExpired, SubjectID: c.ID},
		connectionPayload{ID: c.ID, Platform: c.Platform, AccountID: c.AccountID, AccountName: c.AccountName,
			Status: string(store.ConnectionExpired), ExpiresAt: c.TokenExpiresAt, Reason: cause.Error()})
}

// ExpireConnection marks a connection expired (its token was refused even
// after a refresh) and sends connection.expired.
func (q *Queue) ExpireConnection(ctx context.Context, c store.Connection, cause error) (store.Connection, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if c.Status != store.ConnectionActive {
		return c, nil
	}
	if err := q.store.SetConnectionStatus(ctx, c.ID, store.ConnectionExpired); err != nil {
		return c, err
	}
	c.Status = store.ConnectionExpired
	return c, q.NotifyExpired(ctx, c, cause)
}
