package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/publish"
	"outpost/internal/publish/facebook"
	"outpost/internal/publish/youtube"
	"outpost/internal/store"
)

// Destination is one post of an export: where (a connection), what (one of
// the export's targets, by preset) and the text.
type Destination struct {
	ConnectionID string   `json:"connection_id"`
	Preset       string   `json:"preset"`
	Title        string   `json:"title,omitempty"`
	Description  string   `json:"description,omitempty"`
	Caption      string   `json:"caption,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	// Privacy: public, unlisted, private (YouTube); TikTok also friends,
	// followers or its PRIVACY_LEVEL values; LinkedIn connections.
	Privacy string `json:"privacy,omitempty"`
	// Format "reel" posts a Facebook Reel (the facebook-reel preset does
	// by default).
	Format string `json:"format,omitempty"`
	// ScheduleAt, in the future, holds the post until then.
	ScheduleAt *time.Time `json:"schedule_at,omitempty"`
	// UTM overrides the campaign parameters added to links in the text.
	UTM *UTMOverride `json:"utm,omitempty"`
}

// UTMOverride replaces the default UTM parameters of one destination
// (utm_source = platform, utm_medium = social, utm_campaign = the export's
// campaign label, utm_content = preset); empty fields keep the default.
type UTMOverride struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
	// Disabled leaves links as they are.
	Disabled bool `json:"disabled,omitempty"`
}

// postMeta is a publication's metadata column: the post as asked, with the
// defaults applied at acceptance.
type postMeta struct {
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Caption     string       `json:"caption,omitempty"`
	Tags        []string     `json:"tags,omitempty"`
	Privacy     string       `json:"privacy,omitempty"`
	Format      string       `json:"format,omitempty"`
	UTM         *UTMOverride `json:"utm,omitempty"`
	// Campaign is the export's campaign label, the default utm_campaign.
	Campaign string `json:"campaign,omitempty"`
}

// Limits of destinations.
const (
	MaxDestinations = 25
	maxSchedule     = 366 * 24 * time.Hour
	// scheduleSlack is how far in the past schedule_at may be (a client
	// clock a little behind) and still mean "now".
	scheduleSlack = time.Minute
	// validateTimeout bounds the platform calls Validate may make at
	// acceptance (TikTok's creator_info).
	validateTimeout = 10 * time.Second
)

// plannedPub is an accepted destination, ready to be stored.
type plannedPub struct {
	dest        Destination
	conn        store.Connection
	targetIndex int
	meta        postMeta
	scheduleAt  *time.Time
}

// targetInfo is what acceptance knows of a target before it is rendered.
type targetInfo struct {
	Preset string // as requested
	Base   string // built-in preset
}

// checkDestinations validates destinations against the workspace's
// connections, the export's targets and each platform's rules for the text
// (with the file's facts estimated from the preset and the source), before
// anything is stored.
func (s *Service) checkDestinations(ctx context.Context, workspaceID string, dests []Destination, targets []targetInfo,
	src *media.Info, projectName, campaign string,
) ([]plannedPub, error) {
	if len(dests) == 0 {
		return nil, nil
	}
	if s.connect == nil {
		return nil, &errcode.Error{Code: errcode.PlatformNotConfigured, Message: "publishing is not configured on this server",
			Remedy: "Configure the platforms' OAuth apps (OUTPOST_<PLATFORM>_CLIENT_ID/_SECRET) or run `outpost serve --sandbox`; export without destinations to download the files."}
	}
	if len(dests) > MaxDestinations {
		return nil, errcode.New(errcode.InvalidOption, "destinations: at most %d per export, got %d", MaxDestinations, len(dests))
	}
	var out []plannedPub
	seen := map[string]bool{}
	for i, d := range dests {
		p, err := s.checkDestination(ctx, workspaceID, d, targets, src, projectName, campaign)
		if err != nil {
			return nil, prefixError(err, fmt.Sprintf("destinations[%d]", i))
		}
		key := p.conn.ID + "\x00" + p.dest.Preset
		if seen[key] {
			return nil, errcode.New(errcode.InvalidOption, "destinations[%d]: connection %s already gets preset %s in this export", i, p.conn.ID, p.dest.Preset)
		}
		seen[key] = true
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) checkDestination(ctx context.Context, workspaceID string, d Destination, targets []targetInfo,
	src *media.Info, projectName, campaign string,
) (plannedPub, error) {
	d.ConnectionID, d.Preset = strings.TrimSpace(d.ConnectionID), strings.TrimSpace(d.Preset)
	p := plannedPub{dest: d, targetIndex: -1}
	if d.ConnectionID == "" {
		return p, errcode.New(errcode.InvalidOption, "connection_id is required (GET /api/v1/connections lists them)")
	}
	conn, err := s.store.GetConnection(ctx, d.ConnectionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && conn.WorkspaceID != workspaceID {
		return p, errcode.New(errcode.NotFound, "connection %s not found", d.ConnectionID)
	}
	if err != nil {
		return p, err
	}
	p.conn = conn
	if conn.Status != store.ConnectionActive {
		return p, errcode.New(errcode.ConnectionExpired, "connection %s (%s %s) is %s: reconnect it first", conn.ID, conn.Platform, conn.AccountName, conn.Status)
	}
	if !s.connect.Configured(conn.Platform) {
		return p, errcode.New(errcode.PlatformNotConfigured, "%s is not configured on this server", conn.Platform)
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
		p.dest.Preset = d.Preset
	}
	if p.targetIndex < 0 {
		return p, errcode.New(errcode.InvalidOption, "preset %q is not one of the export's targets (%s)", d.Preset, strings.Join(presets, ", "))
	}
	now := time.Now()
	if d.ScheduleAt != nil && !d.ScheduleAt.IsZero() {
		switch at := d.ScheduleAt.UTC(); {
		case at.Before(now.Add(-scheduleSlack)):
			return p, errcode.New(errcode.PostInvalid, "schedule_at %s is in the past", at.Format(time.RFC3339))
		case at.After(now.Add(maxSchedule)):
			return p, errcode.New(errcode.PostInvalid, "schedule_at %s: schedule at most a year ahead", at.Format(time.RFC3339))
		case at.After(now):
			p.scheduleAt = &at
		}
	}
	for i, t := range d.Tags {
		d.Tags[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "#"))
	}
	p.meta = postMeta{Title: strings.TrimSpace(d.Title), Description: d.Description, Caption: d.Caption,
		Tags: slices.DeleteFunc(d.Tags, func(t string) bool { return t == "" }), Privacy: strings.TrimSpace(d.Privacy),
		Format: strings.TrimSpace(d.Format), UTM: d.UTM, Campaign: campaign}
	if p.meta.Title == "" && conn.Platform == youtube.ID {
		p.meta.Title = projectName // YouTube requires one
	}
	if p.meta.Format == "" && conn.Platform == facebook.ID && strings.Contains(targets[p.targetIndex].Base, "reel") {
		p.meta.Format = "reel"
	}

	// The platform's own rules, on the text and on the file as it will be.
	pub, err := s.connect.Publisher(conn.Platform)
	if err != nil {
		return p, err
	}
	acct, err := s.connect.Account(conn)
	if err != nil {
		return p, err
	}
	r := estimateRendition(targets[p.targetIndex].Base, src)
	post := p.meta.post(conn.Platform, targets[p.targetIndex].Preset)
	if s.nativeSchedule(conn.Platform, p.scheduleAt, now) {
		post.ScheduleAt = *p.scheduleAt
	}
	vctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	if err := pub.Validate(vctx, r, post, acct); err != nil {
		// Only the rules count here: a platform that cannot be asked now
		// (network, token) is asked again when the post goes out.
		if pe, ok := publish.AsError(err); ok && pe.Class == publish.Permanent {
			return p, err
		}
		s.logger.InfoContext(ctx, "destination not fully checked: the platform did not answer", "platform", conn.Platform, "error", err)
	}
	return p, nil
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

// post builds the publish.Post of the metadata, with UTM parameters added
// to the links of the text.
func (m postMeta) post(platform, presetID string) publish.Post {
	p := publish.Post{Title: m.Title, Description: m.Description, Caption: m.Caption, Tags: m.Tags,
		Privacy: m.Privacy, Format: m.Format}
	if m.UTM == nil || !m.UTM.Disabled {
		u := publish.UTMParams{Source: platform, Medium: "social", Campaign: m.Campaign, Content: presetID}
		if o := m.UTM; o != nil {
			u.Source = cmp(o.Source, u.Source)
			u.Medium = cmp(o.Medium, u.Medium)
			u.Campaign = cmp(o.Campaign, u.Campaign)
			u.Content = cmp(o.Content, u.Content)
		}
		p.Description = publish.UTM(p.Description, u)
		p.Caption = publish.UTM(p.Caption, u)
	}
	return p
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// createPublicationsTx stores the accepted destinations of a new export,
// pending (or scheduled) until their rendition is stored.
func (s *Service) createPublicationsTx(ctx context.Context, q *store.Queries, workspaceID, exportID string,
	rends []store.Rendition, plan []plannedPub,
) error {
	for _, p := range plan {
		r := rends[p.targetIndex]
		meta, err := json.Marshal(p.meta)
		if err != nil {
			return fmt.Errorf("encode publication: %w", err)
		}
		if _, err := q.CreatePublication(ctx, store.Publication{WorkspaceID: workspaceID, ExportID: exportID,
			RenditionID: r.ID, ConnectionID: p.conn.ID, Platform: p.conn.Platform, Metadata: meta,
			ScheduleAt: p.scheduleAt, PresetID: r.PresetID}); err != nil {
			return err
		}
	}
	return nil
}

// renditionStoredTx queues the publications of a rendition stored (or
// failed) in tx: a job each, at its schedule time, with the rendition
// pinned while a scheduled one waits; a failed rendition fails them.
func (s *Service) renditionStoredTx(ctx context.Context, tx *sql.Tx, r store.Rendition) error {
	q := s.store.Using(tx)
	pubs, err := q.ListPublicationsByRendition(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		if p.JobID != 0 || (p.State != store.PublicationPending && p.State != store.PublicationScheduled) {
			continue
		}
		if r.Status != store.RenditionSucceeded {
			msg := "the file to post could not be made: " + r.ErrorMessage
			if _, err := s.failPublicationTx(ctx, tx, p, r.ErrorCode, msg); err != nil {
				return err
			}
			continue
		}
		if _, err := s.enqueuePublicationTx(ctx, tx, p, p.State); err != nil {
			return err
		}
	}
	if len(pubs) == 0 {
		return nil
	}
	return q.SyncRenditionPin(ctx, r.ID)
}

// enqueuePublicationTx inserts p's job (at its schedule time, when in the
// future) and records it with state.
func (s *Service) enqueuePublicationTx(ctx context.Context, tx *sql.Tx, p store.Publication, state store.PublicationState) (store.Publication, error) {
	opts := &river.InsertOpts{}
	// A platform that schedules natively gets the post now; elsewhere the
	// job waits for the time.
	if now := time.Now(); p.ScheduleAt != nil && p.ScheduleAt.After(now) && !s.nativeSchedule(p.Platform, p.ScheduleAt, now) {
		opts.ScheduledAt = *p.ScheduleAt
	}
	res, err := s.client.InsertTx(ctx, tx, PublishArgs{PublicationID: p.ID}, opts)
	if err != nil {
		return p, fmt.Errorf("insert publish job: %w", err)
	}
	from := p.State
	p.JobID, p.State = res.Job.ID, state
	p.ErrorCode, p.ErrorMessage = "", ""
	p, err = s.store.Using(tx).TransitionPublication(ctx, p, from)
	if err != nil {
		return p, err
	}
	_, err = s.events.PublishTx(ctx, tx, p.ExportID, events.TypePublication, publicationEvent(p, 0, 0))
	return p, err
}

// publicationEvent is the live event data of p.
func publicationEvent(p store.Publication, sent, total int64) events.Publication {
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

// liveStates are the states a publication can finish from.
var liveStates = []store.PublicationState{store.PublicationPending, store.PublicationScheduled,
	store.PublicationUploading, store.PublicationProcessing}

// finishPublicationTx writes p in its final state (from one of the states
// from, or any live one), with its live event, its webhook, the
// rendition's pin and, when it was the last due publication of a finished
// export, the export's "done". It returns ErrConflict when p was finished
// (or moved on) meanwhile.
func (s *Service) finishPublicationTx(ctx context.Context, tx *sql.Tx, p store.Publication, from ...store.PublicationState) (store.Publication, error) {
	q := s.store.Using(tx)
	if err := q.LockExport(ctx, p.ExportID); err != nil {
		return p, err
	}
	if len(from) == 0 {
		from = liveStates
	}
	p, err := q.TransitionPublication(ctx, p, from...)
	if err != nil {
		return p, err
	}
	if _, err := s.events.PublishTx(ctx, tx, p.ExportID, events.TypePublication, publicationEvent(p, 0, 0)); err != nil {
		return p, err
	}
	switch p.State {
	case store.PublicationPublished:
		err = s.emitTx(ctx, tx, store.Event{ID: eventID(p.ID, EventPublicationPublished), WorkspaceID: p.WorkspaceID,
			Type: EventPublicationPublished, SubjectID: p.ID}, publicationData(p))
	case store.PublicationFailed:
		err = s.emitTx(ctx, tx, store.Event{ID: eventID(p.ID, EventPublicationFailed, fmt.Sprint(p.JobID)), WorkspaceID: p.WorkspaceID,
			Type: EventPublicationFailed, SubjectID: p.ID}, publicationData(p))
	}
	if err != nil {
		return p, err
	}
	if err := q.SyncRenditionPin(ctx, p.RenditionID); err != nil {
		return p, err
	}
	return p, s.maybeDoneTx(ctx, tx, p.ExportID)
}

// maybeDoneTx sends the export's "done" when its render is final and no
// publication is due any more. The caller holds the export's row lock.
func (s *Service) maybeDoneTx(ctx context.Context, tx *sql.Tx, exportID string) error {
	q := s.store.Using(tx)
	e, err := q.GetExport(ctx, exportID)
	if err != nil || !e.Status.Final() {
		return err
	}
	if n, err := q.CountDuePublications(ctx, exportID); err != nil || n > 0 {
		return err
	}
	done, err := s.doneEvent(ctx, q, e)
	if err != nil {
		return err
	}
	_, err = s.events.PublishTx(ctx, tx, exportID, events.TypeDone, done)
	return err
}

// doneEvent is the data of an export's "done": its status and its
// publications.
func (s *Service) doneEvent(ctx context.Context, q *store.Queries, e store.Export) (events.Done, error) {
	d := events.Done{Status: string(e.Status)}
	pubs, err := q.ListPublications(ctx, e.ID)
	if err != nil {
		return d, err
	}
	for _, p := range pubs {
		d.Publications = append(d.Publications, publicationEvent(p, 0, 0))
	}
	return d, nil
}

// failPublicationTx marks p failed with code and message.
func (s *Service) failPublicationTx(ctx context.Context, tx *sql.Tx, p store.Publication, code errcode.Code, msg string) (store.Publication, error) {
	if code == "" {
		code = errcode.PlatformRejected
	}
	p.State, p.ErrorCode, p.ErrorMessage = store.PublicationFailed, code, msg
	return s.finishPublicationTx(ctx, tx, p)
}

// cancelPublicationsTx cancels the export's publications that have not
// gone out (the export was canceled).
func (s *Service) cancelPublicationsTx(ctx context.Context, tx *sql.Tx, exportID string) error {
	q := s.store.Using(tx)
	pubs, err := q.ListPublications(ctx, exportID)
	if err != nil {
		return err
	}
	for _, p := range pubs {
		if p.State != store.PublicationPending && p.State != store.PublicationScheduled || onPlatform(p) {
			continue // gone out, or scheduled on the platform: not ours to cancel
		}
		if p.JobID != 0 {
			if _, err := s.client.JobCancelTx(ctx, tx, p.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancel publish job %d: %w", p.JobID, err)
			}
		}
		p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, "the export was canceled"
		if _, err := q.TransitionPublication(ctx, p, store.PublicationPending, store.PublicationScheduled); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		if _, err := s.events.PublishTx(ctx, tx, exportID, events.TypePublication, publicationEvent(p, 0, 0)); err != nil {
			return err
		}
		if err := q.SyncRenditionPin(ctx, p.RenditionID); err != nil {
			return err
		}
	}
	return nil
}

// AddPublications shares a finished export to more destinations: each
// must name a preset whose rendition succeeded and still has its file.
// The publications go out at once, or at their schedule time.
func (s *Service) AddPublications(ctx context.Context, workspaceID, exportID string, dests []Destination) ([]store.Publication, error) {
	e, err := s.getExport(ctx, workspaceID, exportID)
	if err != nil {
		return nil, err
	}
	if len(dests) == 0 {
		return nil, errcode.New(errcode.InvalidOption, "destinations: give at least one")
	}
	var req storedRequest
	if err := json.Unmarshal(e.Request, &req); err != nil {
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
		if r.Status != store.RenditionSucceeded || r.DeletedAt != nil || r.TargetIndex >= len(req.Targets) {
			continue
		}
		t := req.Targets[r.TargetIndex]
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
	plan, err := s.checkDestinations(ctx, workspaceID, dests, targets, src, prj.Name, e.Campaign)
	if err != nil {
		return nil, err
	}
	var out []store.Publication
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		q := s.store.Using(tx)
		out = out[:0]
		if err := q.LockExport(ctx, e.ID); err != nil {
			return err
		}
		pin := map[string]bool{}
		for _, p := range plan {
			r := ready[p.targetIndex]
			meta, err := json.Marshal(p.meta)
			if err != nil {
				return err
			}
			pub, err := q.CreatePublication(ctx, store.Publication{WorkspaceID: workspaceID, ExportID: e.ID,
				RenditionID: r.ID, ConnectionID: p.conn.ID, Platform: p.conn.Platform, Metadata: meta,
				ScheduleAt: p.scheduleAt, PresetID: r.PresetID})
			if err != nil {
				return err
			}
			if pub, err = s.enqueuePublicationTx(ctx, tx, pub, pub.State); err != nil {
				return err
			}
			pin[r.ID] = true
			out = append(out, pub)
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
	s.events.Notify(e.ID)
	return out, nil
}

// onPlatform reports whether a scheduled publication is already uploaded
// and scheduled by the platform itself (it has its post URL).
func onPlatform(p store.Publication) bool {
	return p.State == store.PublicationScheduled && p.PostURL != ""
}

// errScheduledOnPlatform refuses to move or cancel a post the platform
// holds: the clients have no call to change it there.
func errScheduledOnPlatform(p store.Publication, what string) error {
	return errcode.New(errcode.ScheduledOnPlatform, "publication %s is uploaded and scheduled on %s (%s): it can no longer be %s from Outpost",
		p.ID, p.Platform, p.PostURL, what)
}

// getPublication returns the workspace's publication, or errcode.NotFound.
func (s *Service) getPublication(ctx context.Context, workspaceID, id string) (store.Publication, error) {
	p, err := s.store.GetPublication(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceID {
		return store.Publication{}, errcode.New(errcode.NotFound, "publication %s not found", id)
	}
	return p, err
}

// CancelPublication cancels a publication that has not started going out
// (pending or scheduled). Others give errcode.Conflict.
func (s *Service) CancelPublication(ctx context.Context, workspaceID, id string) (store.Publication, error) {
	p, err := s.getPublication(ctx, workspaceID, id)
	if err != nil {
		return p, err
	}
	if p.State != store.PublicationPending && p.State != store.PublicationScheduled {
		return p, errcode.New(errcode.Conflict, "publication %s is %s: only pending or scheduled publications can be canceled", id, p.State)
	}
	if onPlatform(p) {
		return p, errScheduledOnPlatform(p, "canceled")
	}
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		if p.JobID != 0 {
			if _, err := s.client.JobCancelTx(ctx, tx, p.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancel publish job %d: %w", p.JobID, err)
			}
		}
		p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, "canceled by request"
		p, err = s.finishPublicationTx(ctx, tx, p, store.PublicationPending, store.PublicationScheduled)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return p, errcode.New(errcode.Conflict, "publication %s has started going out: it can no longer be canceled", id)
	}
	if err != nil {
		return p, err
	}
	s.events.Notify(p.ExportID)
	return p, nil
}

// ReschedulePublication moves a pending or scheduled publication to at (a
// zero time: now). Others give errcode.Conflict.
func (s *Service) ReschedulePublication(ctx context.Context, workspaceID, id string, at time.Time) (store.Publication, error) {
	p, err := s.getPublication(ctx, workspaceID, id)
	if err != nil {
		return p, err
	}
	if p.State != store.PublicationPending && p.State != store.PublicationScheduled {
		return p, errcode.New(errcode.Conflict, "publication %s is %s: only pending or scheduled publications can be rescheduled", id, p.State)
	}
	if onPlatform(p) {
		return p, errScheduledOnPlatform(p, "rescheduled")
	}
	now := time.Now()
	switch {
	case !at.IsZero() && at.Before(now.Add(-scheduleSlack)):
		return p, errcode.New(errcode.PostInvalid, "schedule_at %s is in the past", at.UTC().Format(time.RFC3339))
	case at.After(now.Add(maxSchedule)):
		return p, errcode.New(errcode.PostInvalid, "schedule_at: schedule at most a year ahead")
	}
	state := store.PublicationPending
	p.ScheduleAt = nil
	if at.After(now) {
		at = at.UTC()
		p.ScheduleAt, state = &at, store.PublicationScheduled
	}
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
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
		if _, err := s.client.JobCancelTx(ctx, tx, p.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("cancel publish job %d: %w", p.JobID, err)
		}
		if p, err = s.enqueuePublicationTx(ctx, tx, p, state); err != nil {
			return err
		}
		return q.SyncRenditionPin(ctx, p.RenditionID)
	})
	if errors.Is(err, store.ErrConflict) {
		return p, errcode.New(errcode.Conflict, "publication %s has started going out: it can no longer be rescheduled", id)
	}
	if err != nil {
		return p, err
	}
	s.events.Notify(p.ExportID)
	return p, nil
}

// RetryPublication queues a failed publication again, as it was: same
// file, account and text. Its remote state is kept, so the upload resumes
// where it stopped and a post the platform already made is found, never
// made twice; after a platform rejection the upload starts afresh. It gives errcode.Conflict unless the publication failed and
// its file is still stored, and errcode.ConnectionExpired while the
// account needs reconnecting.
func (s *Service) RetryPublication(ctx context.Context, workspaceID, id string) (store.Publication, error) {
	p, err := s.getPublication(ctx, workspaceID, id)
	if err != nil {
		return p, err
	}
	if p.State != store.PublicationFailed {
		return p, errcode.New(errcode.Conflict, "publication %s is %s: only a failed publication can be retried", id, p.State)
	}
	c, err := s.store.GetConnection(ctx, p.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p, errcode.New(errcode.Conflict, "the account of publication %s was disconnected: share the export again", id)
	case err != nil:
		return p, err
	case c.Status != store.ConnectionActive:
		return p, &errcode.Error{Code: errcode.ConnectionExpired,
			Message: fmt.Sprintf("the %s account %s is %s", c.Platform, c.AccountName, c.Status),
			Remedy:  "Reconnect the account: publications that failed because it expired are queued again by themselves."}
	}
	if p.ErrorCode == errcode.PlatformRejected {
		// The platform turned that upload down: nothing of it is live,
		// and resuming would only find the rejection again.
		p.RemoteIDs, p.PostURL = nil, ""
	}
	err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
		requeued, stored, err := s.requeueTx(ctx, tx, p)
		switch {
		case err != nil:
			return err
		case !stored:
			return errcode.New(errcode.Conflict, "the file of publication %s is no longer stored: render the export again, then share it", id)
		}
		p = requeued
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return p, errcode.New(errcode.Conflict, "publication %s changed meanwhile: reload it and try again", id)
	}
	if err != nil {
		return p, err
	}
	s.events.Notify(p.ExportID)
	return p, nil
}

// requeueTx queues failed publication p again (pending, or scheduled when
// its time is ahead) and pins its file, under the export's lock. stored is
// false, and nothing is done, when the file is no longer stored.
func (s *Service) requeueTx(ctx context.Context, tx *sql.Tx, p store.Publication) (_ store.Publication, stored bool, _ error) {
	q := s.store.Using(tx)
	if err := q.LockExport(ctx, p.ExportID); err != nil {
		return p, false, err
	}
	r, err := q.GetRendition(ctx, p.RenditionID)
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
	if p, err = s.enqueuePublicationTx(ctx, tx, p, state); err != nil {
		return p, true, err
	}
	return p, true, q.SyncRenditionPin(ctx, p.RenditionID)
}

// ResumeConnection queues again the publications that failed because the
// connection had expired, once it is connected again. It returns how many.
func (s *Service) ResumeConnection(ctx context.Context, connectionID string) (int, error) {
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
			_, stored, err := s.requeueTx(ctx, tx, p)
			if err == nil && stored {
				n++
			}
			return err
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return n, fmt.Errorf("resume publication %s: %w", p.ID, err)
		}
		s.events.Notify(p.ExportID)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "publications queued again after a reconnect", "connection_id", connectionID, "publications", n)
	}
	return n, nil
}

// DeleteConnection disconnects an account: its publications that have not
// gone out (or wait for a reconnect) are canceled with their jobs, and the
// files they kept pinned are released. A connection with publications is
// kept, revoked and without tokens, so that the exports' history still
// names it; one without is deleted.
func (s *Service) DeleteConnection(ctx context.Context, workspaceID, id string) error {
	c, err := s.store.GetConnection(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.WorkspaceID != workspaceID {
		return errcode.New(errcode.NotFound, "connection %s not found", id)
	}
	if err != nil {
		return err
	}
	pubs, err := s.store.ListPublicationsByConnection(ctx, id, "")
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
			if p.JobID != 0 && !waiting {
				if _, err := s.client.JobCancelTx(ctx, tx, p.JobID); err != nil && !errors.Is(err, river.ErrNotFound) {
					return fmt.Errorf("cancel publish job %d: %w", p.JobID, err)
				}
			}
			msg := "the account was disconnected"
			if onPlatform(p) {
				msg += "; the post stays scheduled on " + p.Platform + " (" + p.PostURL + "): delete it there if it should not go out"
			}
			p.State, p.ErrorCode, p.ErrorMessage = store.PublicationCanceled, errcode.Canceled, msg
			if _, err := s.finishPublicationTx(ctx, tx, p, slices.Concat(liveStates, []store.PublicationState{store.PublicationFailed})...); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			exports[p.ExportID] = true
		}
		if len(pubs) == 0 {
			return q.DeleteConnection(ctx, id)
		}
		return q.RevokeConnection(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	for x := range exports {
		s.events.Notify(x)
	}
	s.logger.InfoContext(ctx, "account disconnected", "connection_id", id, "platform", c.Platform, "kept_for_history", len(pubs) > 0)
	return nil
}

// Sweep of abandoned publications.
const (
	// stuckPublicationAfter: a live publication quiet this long is checked
	// against its job (a snoozed or retrying job is left alone).
	stuckPublicationAfter = 10 * time.Minute
	stuckPublicationBatch = 500
)

// failOrphanedPublications fails live publications, quiet for a while,
// whose publish job is finalized or gone (River discarded it after its
// last attempt ended in a crash or a timeout, or an operator deleted it):
// nothing would ever finish them, and their pin would keep the file
// forever. The publication fails with publication_abandoned.
func (s *Service) failOrphanedPublications(ctx context.Context, now time.Time) (int, error) {
	live, err := s.store.ListLivePublicationJobs(ctx, now.Add(-stuckPublicationAfter), stuckPublicationBatch)
	if err != nil {
		return 0, err
	}
	failed := 0
	for _, p := range live {
		job, err := s.client.JobGet(ctx, p.JobID)
		why := "its publish job no longer exists"
		switch {
		case errors.Is(err, river.ErrNotFound):
		case err != nil:
			return failed, err
		case job.FinalizedAt == nil && job.State != rivertype.JobStateCompleted &&
			job.State != rivertype.JobStateCancelled && job.State != rivertype.JobStateDiscarded:
			continue // queued, snoozed, retrying or running
		default:
			why = fmt.Sprintf("its publish job ended (%s after %d attempts)", job.State, job.Attempt)
			if n := len(job.Errors); n > 0 {
				why += ": " + job.Errors[n-1].Error
			}
		}
		err = s.store.WithTx(ctx, func(tx *sql.Tx) error {
			// Under the export's lock, the publication must be as listed:
			// a reschedule or a reconnect may have given it a new job.
			q := s.store.Using(tx)
			if err := q.LockExport(ctx, p.ExportID); err != nil {
				return err
			}
			cur, err := q.GetPublication(ctx, p.ID)
			if err != nil {
				return err
			}
			if cur.JobID != p.JobID || cur.State != p.State || !cur.UpdatedAt.Equal(p.UpdatedAt) {
				return store.ErrConflict
			}
			_, err = s.failPublicationTx(ctx, tx, cur, errcode.PublicationAbandoned,
				"the publication did not finish: "+why)
			return err
		})
		if errors.Is(err, store.ErrConflict) {
			continue // it moved on meanwhile
		}
		if err != nil {
			return failed, fmt.Errorf("fail abandoned publication %s: %w", p.ID, err)
		}
		s.events.Notify(p.ExportID)
		s.logger.WarnContext(ctx, "abandoned publication failed", "publication_id", p.ID, "job_id", p.JobID, "reason", why)
		failed++
	}
	return failed, nil
}
