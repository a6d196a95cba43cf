package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/youtube"
	"outpost/internal/store"
)

// Limits of destinations.
const (
	maxSchedule = 366 * 24 * time.Hour
	// scheduleSlack is how far in the past schedule_at may be (a client
	// clock a little behind) and still mean "now".
	scheduleSlack = time.Minute
	// validateTimeout bounds the platform calls Validate may make at
	// acceptance (TikTok's creator_info).
	validateTimeout = 10 * time.Second
)

// Publications are the posts of exports to connected accounts.
type Publications struct {
	store   *store.Store
	queue   *jobs.Queue
	connect *connect.Service
	views   *views
	logger  *slog.Logger
	now     func() time.Time
}

var _ outpost.Publications = (*Publications)(nil)

// plannedPub is an accepted destination, ready to be stored.
type plannedPub struct {
	conn        store.Connection
	targetIndex int
	spec        outpost.PostSpec
	scheduleAt  *time.Time
}

func (p plannedPub) publication(workspaceID, exportID string, r store.Rendition) store.Publication {
	meta, _ := json.Marshal(p.spec) // plain strings: cannot fail
	return store.Publication{WorkspaceID: workspaceID, ExportID: exportID, RenditionID: r.ID,
		ConnectionID: p.conn.ID, Platform: p.conn.Platform, Metadata: meta, ScheduleAt: p.scheduleAt, PresetID: r.PresetID}
}

// targetInfo is what acceptance knows of a target before it is rendered.
type targetInfo struct {
	Preset string // as requested
	Base   string // built-in preset
}

// errNotConfigured refuses destinations on a server without publishing.
var errNotConfigured = &errcode.Error{Code: errcode.PlatformNotConfigured, Message: "publishing is not available on this server",
	Remedy: "Start Outpost with a secret key and the platforms' OAuth apps (OUTPOST_<PLATFORM>_CLIENT_ID/_SECRET), or run `outpost serve --sandbox` to try it; export without destinations to download the files."}

// plan validates destinations against the workspace's connections, the
// export's targets and each platform's rules for the text (with the
// file's facts estimated from the preset and the source), before anything
// is stored.
func (s *Publications) plan(ctx context.Context, workspaceID string, dests []outpost.Destination, targets []targetInfo,
	src *media.Info, projectName, campaign string,
) ([]plannedPub, error) {
	if len(dests) == 0 {
		return nil, nil
	}
	if s.connect == nil {
		return nil, errNotConfigured
	}
	if len(dests) > outpost.MaxDestinations {
		return nil, errcode.New(errcode.InvalidOption, "destinations: at most %d per export, got %d", outpost.MaxDestinations, len(dests))
	}
	var out []plannedPub
	seen := map[string]bool{}
	for i, d := range dests {
		p, preset, err := s.check(ctx, workspaceID, d, targets, src, projectName, campaign)
		if err != nil {
			return nil, prefixError(err, fmt.Sprintf("destinations[%d]", i))
		}
		key := p.conn.ID + "\x00" + preset
		if seen[key] {
			return nil, errcode.New(errcode.InvalidOption, "destinations[%d]: connection %s already gets preset %s in this export", i, p.conn.ID, preset)
		}
		seen[key] = true
		out = append(out, p)
	}
	return out, nil
}

func (s *Publications) check(ctx context.Context, workspaceID string, d outpost.Destination, targets []targetInfo,
	src *media.Info, projectName, campaign string,
) (plannedPub, string, error) {
	d.ConnectionID, d.Preset = strings.TrimSpace(d.ConnectionID), strings.TrimSpace(d.Preset)
	p := plannedPub{targetIndex: -1}
	if d.ConnectionID == "" {
		return p, "", errcode.New(errcode.InvalidOption, "connection_id is required (GET /api/v1/connections lists them)")
	}
	conn, err := connectionIn(ctx, s.store, workspaceID, d.ConnectionID)
	if err != nil {
		return p, "", err
	}
	p.conn = conn
	if conn.Status != store.ConnectionActive {
		return p, "", errcode.New(errcode.ConnectionExpired, "connection %s (%s %s) is %s: reconnect it first", conn.ID, conn.Platform, conn.AccountName, conn.Status)
	}
	if !s.connect.Configured(conn.Platform) {
		return p, "", errcode.New(errcode.PlatformNotConfigured, "%s is not configured on this server", conn.Platform)
	}
	var presets []string
	for i, t := range targets {
		presets = append(presets, t.Preset)
		if t.Preset == d.Preset && p.targetIndex < 0 {
			p.targetIndex = i
		}
	}
	if d.Preset == "" && len(targets) == 1 {
		d.Preset, p.targetIndex = targets[0].Preset, 0
	}
	if p.targetIndex < 0 {
		return p, "", errcode.New(errcode.InvalidOption, "preset %q is not one of the export's targets (%s)", d.Preset, strings.Join(presets, ", "))
	}
	now := s.now()
	if d.ScheduleAt != nil && !d.ScheduleAt.IsZero() {
		switch at := d.ScheduleAt.UTC(); {
		case at.Before(now.Add(-scheduleSlack)):
			return p, "", errcode.New(errcode.PostInvalid, "schedule_at %s is in the past", at.Format(time.RFC3339))
		case at.After(now.Add(maxSchedule)):
			return p, "", errcode.New(errcode.PostInvalid, "schedule_at %s: schedule at most a year ahead", at.Format(time.RFC3339))
		case at.After(now):
			p.scheduleAt = &at
		}
	}
	tags := make([]string, 0, len(d.Tags))
	for _, t := range d.Tags {
		if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "#")); t != "" {
			tags = append(tags, t)
		}
	}
	p.spec = outpost.PostSpec{PostFields: outpost.PostFields{Title: strings.TrimSpace(d.Title), Description: d.Description,
		Caption: d.Caption, Tags: tags, Privacy: strings.TrimSpace(d.Privacy), Format: strings.TrimSpace(d.Format)},
		UTM: d.UTM, Campaign: campaign}
	if p.spec.Title == "" && conn.Platform == youtube.ID {
		p.spec.Title = projectName // YouTube requires one
	}
	if p.spec.Format == "" && conn.Platform == facebook.ID && strings.Contains(targets[p.targetIndex].Base, "reel") {
		p.spec.Format = "reel"
	}

	// The platform's own rules, on the text and on the file as it will be.
	pub, err := s.connect.Publisher(conn.Platform)
	if err != nil {
		return p, "", err
	}
	acct, err := s.connect.Account(conn)
	if err != nil {
		return p, "", err
	}
	r := estimateRendition(targets[p.targetIndex].Base, src)
	post := p.spec.Post(conn.Platform, targets[p.targetIndex].Preset)
	if s.queue.NativeSchedule(conn.Platform, p.scheduleAt, now) {
		post.ScheduleAt = *p.scheduleAt
	}
	vctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	if err := pub.Validate(vctx, r, post, acct); err != nil {
		// Only the rules count here: a platform that cannot be asked now
		// (network, token) is asked again when the post goes out.
		if pe, ok := publish.AsError(err); ok && pe.Class == publish.Permanent {
			return p, "", err
		}
		s.logger.InfoContext(ctx, "destination not fully checked: the platform did not answer", "platform", conn.Platform, "error", err)
	}
	return p, d.Preset, nil
}

// estimateRendition describes the file a preset will make of src, for the
// checks before rendering: the size is unknown (1 byte).
func estimateRendition(base string, src *media.Info) publish.Rendition {
	r := publish.Rendition{Size: 1, Duration: time.Duration(src.Duration * float64(time.Second))}
	if p, err := preset.Lookup(base); err == nil && !p.Video.KeepAspect {
		r.Width, r.Height, r.VideoCodec = p.Video.Width, p.Video.Height, p.Video.Codec
		if p.Extension == "webm" {
			r.ContentType = "video/webm"
		}
	}
	return r
}

// Share posts a finished export to more destinations: each must name a
// preset whose rendition succeeded and still has its file. The
// publications go out at once, or at their schedule time.
func (s *Publications) Share(ctx context.Context, workspaceID, exportID string, dests []outpost.Destination) ([]outpost.Publication, error) {
	e, err := exportIn(ctx, s.store, workspaceID, exportID)
	if err != nil {
		return nil, err
	}
	if s.connect == nil {
		return nil, errNotConfigured
	}
	if len(dests) == 0 {
		return nil, &errcode.Error{Code: errcode.InvalidOption, Message: "destinations: give at least one",
			Remedy: "Tick at least one connected account to share to."}
	}
	var spec outpost.ExportSpec
	if err := json.Unmarshal(e.Request, &spec); err != nil {
		return nil, fmt.Errorf("read export request: %w", err)
	}
	rends, err := s.store.ListRenditions(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	// Only targets with a file to post count.
	var targets []targetInfo
	var ready []store.Rendition
	for _, r := range rends {
		if r.Status != store.RenditionSucceeded || r.DeletedAt != nil || r.TargetIndex >= len(spec.Targets) {
			continue
		}
		t := spec.Targets[r.TargetIndex]
		targets = append(targets, targetInfo{Preset: t.Preset, Base: t.Base})
		ready = append(ready, r)
	}
	if len(targets) == 0 {
		return nil, errcode.New(errcode.Conflict, "export %s has no rendered file to publish (status %s)", e.ID, e.Status)
	}
	prj, err := s.store.GetProject(ctx, e.ProjectID)
	if err != nil {
		return nil, err
	}
	src := &media.Info{}
	if err := json.Unmarshal(prj.Probe, src); err != nil {
		return nil, fmt.Errorf("read project probe: %w", err)
	}
	plan, err := s.plan(ctx, workspaceID, dests, targets, src, prj.Name, e.Campaign)
	if err != nil {
		return nil, err
	}
	var out []outpost.Publication
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		out = out[:0]
		if err := q.LockExport(ctx, e.ID); err != nil {
			return err
		}
		pin := map[string]bool{}
		for _, p := range plan {
			r := ready[p.targetIndex]
			pub, err := q.CreatePublication(ctx, p.publication(workspaceID, e.ID, r))
			if err != nil {
				return err
			}
			if pub, err = s.queue.EnqueuePublication(ctx, tx, pub, pub.State); err != nil {
				return err
			}
			pin[r.ID] = true
			out = append(out, publicationView(pub, "")) // new: no node has worked on it
		}
		for id := range pin {
			if err := q.SyncRenditionPin(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add publications: %w", err)
	}
	s.queue.Notify(e.ID)
	return out, nil
}

// Get returns one of the workspace's publications.
func (s *Publications) Get(ctx context.Context, workspaceID, id string) (outpost.Publication, error) {
	p, err := publicationIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.Publication{}, err
	}
	return s.views.publication(ctx, p), nil
}

// errScheduledOnPlatform refuses to move or cancel a post the platform
// holds: the clients have no call to change it there.
func errScheduledOnPlatform(p store.Publication, what string) error {
	return errcode.New(errcode.ScheduledOnPlatform, "publication %s is uploaded and scheduled on %s (%s): it can no longer be %s from Outpost",
		p.ID, p.Platform, p.PostURL, what)
}

// Cancel cancels a publication that has not started going out (pending or
// scheduled). Others give errcode.Conflict.
func (s *Publications) Cancel(ctx context.Context, workspaceID, id string) (outpost.Publication, error) {
	p, err := s.waiting(ctx, workspaceID, id, "canceled")
	if err != nil {
		return outpost.Publication{}, err
	}
	return s.commit(ctx, &p, "publication "+id+" has started going out: it can no longer be canceled", func(tx *sql.Tx) error {
		if err := s.queue.CancelJob(ctx, tx, p.JobID); err != nil {
			return err
		}
		p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, "canceled by request"
		p, err = s.queue.FinishPublication(ctx, tx, p, store.PublicationPending, store.PublicationScheduled)
		return err
	})
}

// waiting returns a publication of the workspace that has not started
// going out and that Outpost still holds, to be verb ("canceled",
// "rescheduled"); others give errcode.Conflict or
// errcode.ScheduledOnPlatform.
func (s *Publications) waiting(ctx context.Context, workspaceID, id, verb string) (store.Publication, error) {
	p, err := publicationIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return p, err
	}
	if p.State != store.PublicationPending && p.State != store.PublicationScheduled {
		return p, errcode.New(errcode.Conflict, "publication %s is %s: only pending or scheduled publications can be %s", id, p.State, verb)
	}
	if jobs.OnPlatform(p) {
		return p, errScheduledOnPlatform(p, verb)
	}
	return p, nil
}

// commit makes a change to publication p in one transaction, then tells
// its export's watchers and returns its view. store.ErrConflict (it
// changed meanwhile) gives errcode.Conflict with the message conflict.
func (s *Publications) commit(ctx context.Context, p *store.Publication, conflict string, change func(tx *sql.Tx) error) (outpost.Publication, error) {
	err := s.store.WithTx(ctx, change)
	if errors.Is(err, store.ErrConflict) {
		return outpost.Publication{}, errcode.New(errcode.Conflict, "%s", conflict)
	}
	if err != nil {
		return outpost.Publication{}, err
	}
	s.queue.Notify(p.ExportID)
	return s.views.publication(ctx, *p), nil
}

// Reschedule moves a pending or scheduled publication to at (a zero time:
// now). Others give errcode.Conflict.
func (s *Publications) Reschedule(ctx context.Context, workspaceID, id string, at time.Time) (outpost.Publication, error) {
	p, err := s.waiting(ctx, workspaceID, id, "rescheduled")
	if err != nil {
		return outpost.Publication{}, err
	}
	now := s.now()
	switch {
	case !at.IsZero() && at.Before(now.Add(-scheduleSlack)):
		return outpost.Publication{}, errcode.New(errcode.PostInvalid, "schedule_at %s is in the past", at.UTC().Format(time.RFC3339))
	case at.After(now.Add(maxSchedule)):
		return outpost.Publication{}, errcode.New(errcode.PostInvalid, "schedule_at: schedule at most a year ahead")
	}
	state := store.PublicationPending
	p.ScheduleAt = nil
	if at.After(now) {
		at = at.UTC()
		p.ScheduleAt, state = &at, store.PublicationScheduled
	}
	return s.commit(ctx, &p, "publication "+id+" has started going out: it can no longer be rescheduled", func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		if err := q.LockExport(ctx, p.ExportID); err != nil {
			return err
		}
		var err error
		if p.JobID == 0 {
			// Its rendition is not stored yet: the render queues it.
			from := p.State
			p.State = state
			p, err = q.TransitionPublication(ctx, p, from)
			return err
		}
		if err := s.queue.CancelJob(ctx, tx, p.JobID); err != nil {
			return err
		}
		if p, err = s.queue.EnqueuePublication(ctx, tx, p, state); err != nil {
			return err
		}
		return q.SyncRenditionPin(ctx, p.RenditionID)
	})
}

// Retry queues a failed publication again, as it was: same file, account
// and text. Its remote state is kept, so the upload resumes where it
// stopped and a post the platform already made is found, never made twice;
// after a platform rejection the upload starts afresh. It gives
// errcode.Conflict unless the publication failed and its file is still
// stored, and errcode.ConnectionExpired while the account needs
// reconnecting.
func (s *Publications) Retry(ctx context.Context, workspaceID, id string) (outpost.Publication, error) {
	p, err := publicationIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.Publication{}, err
	}
	if p.State != store.PublicationFailed {
		return outpost.Publication{}, errcode.New(errcode.Conflict, "publication %s is %s: only a failed publication can be retried", id, p.State)
	}
	c, err := s.store.GetConnection(ctx, p.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return outpost.Publication{}, errcode.New(errcode.Conflict, "the account of publication %s was disconnected: share the export again", id)
	case err != nil:
		return outpost.Publication{}, err
	case c.Status != store.ConnectionActive:
		return outpost.Publication{}, &errcode.Error{Code: errcode.ConnectionExpired,
			Message: fmt.Sprintf("the %s account %s is %s", c.Platform, c.AccountName, c.Status),
			Remedy:  "Reconnect the account: publications that failed because it expired are queued again by themselves."}
	}
	if p.ErrorCode == errcode.PlatformRejected {
		// The platform turned that upload down: nothing of it is live,
		// and resuming would only find the rejection again.
		p.RemoteIDs, p.PostURL = nil, ""
	}
	return s.commit(ctx, &p, "publication "+id+" changed meanwhile: reload it and try again", func(tx *sql.Tx) error {
		requeued, stored, err := s.queue.Requeue(ctx, tx, p)
		switch {
		case err != nil:
			return err
		case !stored:
			return errcode.New(errcode.Conflict, "the file of publication %s is no longer stored: render the export again, then share it", id)
		}
		p = requeued
		return nil
	})
}

// resume queues again the publications that failed because the connection
// had expired, once it is connected again. It returns how many.
func (s *Publications) resume(ctx context.Context, connectionID string) (int, error) {
	pubs, err := s.store.ListPublicationsByConnection(ctx, connectionID, store.PublicationFailed)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pubs {
		if p.ErrorCode != errcode.ConnectionExpired {
			continue
		}
		err := s.store.WithTx(ctx, func(tx *sql.Tx) error {
			// A file that is gone is skipped: share the export again
			// after a new render.
			_, stored, err := s.queue.Requeue(ctx, tx, p)
			if err == nil && stored {
				n++
			}
			return err
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return n, fmt.Errorf("resume publication %s: %w", p.ID, err)
		}
		s.queue.Notify(p.ExportID)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "publications queued again after a reconnect", "connection_id", connectionID, "publications", n)
	}
	return n, nil
}

// disconnect cancels the connection's publications that have not gone out
// (or wait for a reconnect), with their jobs, and releases the files they
// kept pinned. A connection with publications is kept, revoked and without
// tokens, so that the exports' history still names it; one without is
// deleted.
func (s *Publications) disconnect(ctx context.Context, by outpost.Caller, c store.Connection) error {
	pubs, err := s.store.ListPublicationsByConnection(ctx, c.ID, "")
	if err != nil {
		return err
	}
	exports := map[string]bool{}
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		for _, p := range pubs {
			waiting := p.State == store.PublicationFailed && p.ErrorCode == errcode.ConnectionExpired
			if p.State.Final() && !waiting {
				continue
			}
			if !waiting {
				if err := s.queue.CancelJob(ctx, tx, p.JobID); err != nil {
					return err
				}
			}
			msg := "the account was disconnected"
			if jobs.OnPlatform(p) {
				msg += "; the post stays scheduled on " + p.Platform + " (" + p.PostURL + "): delete it there if it should not go out"
			}
			p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, msg
			if _, err := s.queue.FinishPublication(ctx, tx, p, slices.Concat(jobs.LiveStates, []store.PublicationState{store.PublicationFailed})...); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			exports[p.ExportID] = true
		}
		if err := audit(ctx, q, by, store.AuditConnectionRevoked, "connection", c.ID,
			map[string]string{"platform": c.Platform, "account": c.AccountName}); err != nil {
			return err
		}
		if len(pubs) == 0 {
			return q.DeleteConnection(ctx, c.ID)
		}
		return q.RevokeConnection(ctx, c.ID)
	})
	if err != nil {
		return fmt.Errorf("disconnect %s: %w", c.ID, err)
	}
	for x := range exports {
		s.queue.Notify(x)
	}
	s.logger.InfoContext(ctx, "account disconnected", "connection_id", c.ID, "platform", c.Platform, "kept_for_history", len(pubs) > 0)
	return nil
}
