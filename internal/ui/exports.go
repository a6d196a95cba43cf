package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/store"
)

// exportOptionsJSON is what the export modal loads for a project.
type exportOptionsJSON struct {
	Project struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		Duration float64 `json:"duration_seconds"`
		Width    int     `json:"width"`
		Height   int     `json:"height"`
		FPS      float64 `json:"fps"`
		Shape    string  `json:"shape"`
		Poster   string  `json:"poster"`
		Client   string  `json:"client"`
		Campaign string  `json:"campaign"`
	} `json:"project"`
	Formats        []formatOption `json:"formats"`
	EstimateMethod string         `json:"estimate_method"`
	// Connections are the active accounts a share can go to, and
	// Platforms their post fields with each platform's limits.
	Connections []accountJSON  `json:"connections"`
	Platforms   []platformJSON `json:"platforms"`
	// ConnectURL is where to connect an account when there is none.
	ConnectURL string `json:"connect_url"`
}

func (h *Handler) exportOptions(w http.ResponseWriter, r *http.Request) error {
	p, err := h.projectInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.Status != store.ProjectReady || len(p.Probe) == 0 {
		return errcode.New(errcode.InvalidOption, "this project is not ready to export (it is %s)", p.Status)
	}
	var info media.Info
	if err := json.Unmarshal(p.Probe, &info); err != nil {
		return fmt.Errorf("read project %s probe: %w", p.ID, err)
	}
	ctx := r.Context()
	user, err := h.store.ListPresets(ctx, workspaceOf(r))
	if err != nil {
		return err
	}
	used, err := h.mostUsedPresets(ctx, workspaceOf(r))
	if err != nil {
		return err
	}
	var out exportOptionsJSON
	pr := &out.Project
	pr.ID, pr.Name, pr.Duration, pr.Shape = p.ID, p.Name, info.Duration, shapeOf(&info)
	pr.Poster, pr.Client, pr.Campaign = "/projects/"+p.ID+"/poster", p.Client, p.Campaign
	if info.Video != nil {
		pr.Width, pr.Height, pr.FPS = info.Video.Width, info.Video.Height, info.Video.FrameRate
	}
	out.Formats = formatOptions(&info, user, used)
	out.EstimateMethod = EstimateMethod
	if out.Connections, out.Platforms, err = h.shareOptions(ctx, workspaceOf(r)); err != nil {
		return err
	}
	out.ConnectURL = "/connections"
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// exportForm is the export modal's request.
type exportForm struct {
	ProjectID      string               `json:"project_id"`
	Targets        []jobs.TargetRequest `json:"targets"`
	Client         string               `json:"client"`
	Campaign       string               `json:"campaign"`
	IdempotencyKey string               `json:"idempotency_key"`
	// Distribution is "download" (or empty) or "share", which posts to
	// Destinations as the API's destinations do.
	Distribution string             `json:"distribution"`
	Destinations []jobs.Destination `json:"destinations"`
	// Captions (the picked file's text, read by the page), Loudness and
	// ThumbnailAt are the Advanced section's finishing settings.
	Captions    *jobs.Captions `json:"captions"`
	Loudness    jobs.Loudness  `json:"loudness"`
	ThumbnailAt *float64       `json:"thumbnail_at"`
}

func (h *Handler) exportService() (exportService, error) {
	if h.exports == nil {
		return nil, errcode.New(errcode.Internal, "exports are not available on this server")
	}
	return h.exports, nil
}

func (h *Handler) createExport(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.exportService()
	if err != nil {
		return err
	}
	var f exportForm
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err := dec.Decode(&f); err != nil {
		return errcode.New(errcode.InvalidJSON, "the export request could not be read: reload the page and try again")
	}
	var dests []jobs.Destination
	if f.Distribution == "share" {
		if _, err := h.publishing(); err != nil {
			return err
		}
		if len(f.Destinations) == 0 {
			return &errcode.Error{Code: errcode.InvalidOption, Message: "Share to platforms is chosen but no account is ticked",
				Remedy: "Tick at least one connected account, or choose Download only."}
		}
		dests = f.Destinations
	}
	if len(f.Targets) == 0 {
		return &errcode.Error{Code: errcode.InvalidOption, Message: "no format is selected",
			Remedy: "Pick at least one format in the Format section."}
	}
	for _, l := range []struct{ name, v string }{{"client", f.Client}, {"campaign", f.Campaign}} {
		if err := checkLabel(l.name, strings.TrimSpace(l.v)); err != nil {
			return err
		}
	}
	e, err := svc.CreateExport(r.Context(), workspaceOf(r), jobs.ExportRequest{
		ProjectID: f.ProjectID, Targets: f.Targets,
		Client: strings.TrimSpace(f.Client), Campaign: strings.TrimSpace(f.Campaign),
		IdempotencyKey: f.IdempotencyKey, Destinations: dests,
		Captions: f.Captions, Loudness: f.Loudness, ThumbnailAt: f.ThumbnailAt,
	})
	if err != nil {
		return h.destinationError(r.Context(), err, workspaceOf(r), dests)
	}
	h.writeJSON(w, http.StatusCreated, map[string]string{"id": e.ID, "url": "/exports/" + e.ID})
	return nil
}

// storedRequest is the part of an export's Request column the UI reads.
type storedRequest struct {
	Targets []struct {
		jobs.TargetRequest
		Base string `json:"base_preset"`
	} `json:"targets"`
	Priority int `json:"priority"`
	Captions *struct {
		Format   string `json:"format"`
		Language string `json:"language"`
		Cues     int    `json:"cues"`
	} `json:"captions"`
	TruePeak    float64  `json:"true_peak"`
	ThumbnailAt *float64 `json:"thumbnail_at"`
}

// Stages of the progress view, in order, and the event stages each covers.
var stages = []struct {
	Key, Label string
	Events     []string
}{
	{"audio", "Processing Audio", []string{"probe", "audio"}},
	{"render", "Rendering Video", []string{"render"}},
	{"check", "Checking", []string{"check"}},
	{"store", "Storing", []string{"store"}},
	{"publish", "Uploading to Platforms", []string{"publish"}},
}

// stageIndex is the position of an event stage in stages; -1 for queued
// or unknown.
func stageIndex(stage string) int {
	for i, s := range stages {
		for _, ev := range s.Events {
			if ev == stage {
				return i
			}
		}
	}
	return -1
}

type stageView struct {
	Key, Label string
	State      string // done, active, pending, skipped, stopped
	Icon, Text string
}

type targetView struct {
	RenditionID string
	PresetID    string
	Name        string
	Icon        string
	Status      statusView
	StatusCode  store.RenditionStatus
	SizeBytes   int64
	Dims        string
	Codecs      string
	Passthrough bool
	DownloadURL string
	Expired     bool
	ExpiresAt   *time.Time
	Saved       bool
	Error       *flash
	Settings    string
}

type exportView struct {
	store.Export
	Status      statusView
	Live        bool
	Final       bool
	HasFiles    bool
	Percent     float64
	StageLabel  string
	ETA         string
	Stages      []stageView
	Targets     []targetView
	Error       *flash
	Poster      string
	Took        string
	CanRetry    bool
	AnyExpired  bool
	FilesTotal  int64
	FilesReady  int
	EventsURL   string
	ProjectLink string
	// Publications are the export's posts; Publishing is true while one
	// that is due has not finished.
	Publications []pubView
	Publishing   bool
	Published    int
	// CanShare: the export has files and accounts to share them to
	// (ShareAccounts, with the fields of SharePlatforms).
	CanShare       bool
	ShareAccounts  []accountJSON
	SharePlatforms []platformJSON
	// PublishingOff: this server cannot publish (no connect service).
	PublishingOff bool
	// Captions and Thumbnail describe the export's finishing settings for
	// its details ("" when not set).
	Captions  string
	Thumbnail string
}

func (h *Handler) loadExport(r *http.Request, id string) (store.Export, error) {
	e, err := h.store.GetExport(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && e.WorkspaceID != workspaceOf(r) {
		return store.Export{}, errcode.New(errcode.NotFound, "export %s does not exist in this workspace", id)
	}
	return e, err
}

func (h *Handler) userPresets(ctx context.Context, workspaceID string) (map[string]store.Preset, []store.Preset, error) {
	list, err := h.store.ListPresets(ctx, workspaceID)
	if err != nil {
		return nil, nil, err
	}
	m := make(map[string]store.Preset, len(list))
	for _, p := range list {
		m[p.ID] = p
	}
	return m, list, nil
}

// buildExportView reads an export's renditions and signs their links.
func (h *Handler) buildExportView(ctx context.Context, e store.Export, user map[string]store.Preset) (exportView, error) {
	rs, err := h.store.ListRenditions(ctx, e.ID)
	if err != nil {
		return exportView{}, err
	}
	v := exportView{Export: e, Status: exportStatus(e.Status), Final: e.Status.Final(),
		Percent: e.Progress.Percent, Poster: "/projects/" + e.ProjectID + "/poster",
		EventsURL: "/exports/" + e.ID + "/events", ProjectLink: "/projects?export=" + e.ProjectID}
	v.Live = !v.Final
	if e.Status == store.ExportSucceeded {
		v.Percent = 100
	}
	v.CanRetry = e.Status == store.ExportFailed || e.Status == store.ExportPartiallyFailed || e.Status == store.ExportCanceled
	if e.Progress.ETA > 0 && v.Live {
		v.ETA = etaText(e.Progress.ETA.Seconds())
	}
	if e.StartedAt != nil && e.FinishedAt != nil {
		v.Took = clock(e.FinishedAt.Sub(*e.StartedAt).Seconds())
	}
	if e.ErrorCode != "" && e.Status != store.ExportCanceled {
		v.Error = &flash{Kind: "error", Title: errorTitle(e.ErrorCode), Message: plainMessage(e.ErrorMessage),
			Remedy: errcode.Remedies[e.ErrorCode]}
	}
	if v.Publications, err = h.publicationViews(ctx, e.ID, user); err != nil {
		return exportView{}, err
	}
	for _, p := range v.Publications {
		switch p.State {
		case store.PublicationPending, store.PublicationUploading, store.PublicationProcessing:
			v.Publishing = true
		case store.PublicationPublished:
			v.Published++
		}
	}
	if v.Final && v.Publishing {
		// The render is done; posts are still going out.
		v.Live, v.StageLabel = true, stages[len(stages)-1].Label
	}
	v.Stages = stageViews(e, v.Publications)
	if i := stageIndex(e.Progress.Stage); i >= 0 && v.Live && !v.Final {
		v.StageLabel = stages[i].Label
	} else if v.Live && !v.Final {
		v.StageLabel = "Waiting for a worker"
	}

	var req storedRequest
	if len(e.Request) > 0 {
		_ = json.Unmarshal(e.Request, &req)
	}
	if c := req.Captions; c != nil {
		v.Captions = fmt.Sprintf("%s file, %d cues", strings.ToUpper(c.Format), c.Cues)
		if c.Language != "" {
			v.Captions += ", language " + c.Language
		}
	}
	v.Thumbnail = "Chosen by Outpost (a sharp, non-black frame)"
	if req.ThumbnailAt != nil {
		v.Thumbnail = "At " + strconv.FormatFloat(*req.ThumbnailAt, 'f', -1, 64) + " s"
	}
	now := h.now()
	for _, rd := range rs {
		st := rd.Status
		if st == store.RenditionPending && e.Status == store.ExportRunning && stageIndex(e.Progress.Stage) >= 1 {
			st = store.RenditionRunning // one ffmpeg run renders every target at once
		}
		t := targetView{RenditionID: rd.ID, PresetID: rd.PresetID, Name: presetName(rd.PresetID, user),
			Icon: presetIconFor(rd.PresetID, user), Status: renditionStatus(st), StatusCode: st,
			SizeBytes: rd.SizeBytes, Passthrough: rd.Passthrough, ExpiresAt: rd.ExpiresAt, Saved: rd.Saved}
		if rd.Width > 0 {
			t.Dims = fmt.Sprintf("%d×%d", rd.Width, rd.Height)
		}
		t.Codecs = strings.Trim(rd.VideoCodec+" + "+rd.AudioCodec, " +")
		if rd.TargetIndex < len(req.Targets) {
			t.Settings = targetSettings(req.Targets[rd.TargetIndex].TargetRequest)
		}
		if rd.ErrorCode != "" && rd.Status == store.RenditionFailed {
			t.Error = &flash{Kind: "error", Title: errorTitle(rd.ErrorCode), Message: plainMessage(rd.ErrorMessage),
				Remedy: errcode.Remedies[rd.ErrorCode]}
		}
		if rd.Status == store.RenditionSucceeded {
			v.HasFiles = true
			v.FilesReady++
			v.FilesTotal += rd.SizeBytes
			if renditionExpired(rd, now) {
				t.Expired, v.AnyExpired = true, true
			} else if rd.BlobKey != "" {
				t.DownloadURL = h.signedLink(ctx, rd, e.ProjectName, now)
			}
		}
		v.Targets = append(v.Targets, t)
	}
	return v, nil
}

func stageViews(e store.Export, pubs []pubView) []stageView {
	cur := stageIndex(e.Progress.Stage)
	out := make([]stageView, len(stages))
	for i, s := range stages {
		sv := stageView{Key: s.Key, Label: s.Label}
		switch {
		case s.Key == "publish":
			sv.State, sv.Icon, sv.Text = publishStage(e, pubs)
		case e.Status == store.ExportSucceeded || e.Status == store.ExportPartiallyFailed:
			sv.State, sv.Icon, sv.Text = "done", "check", "Done"
		case i < cur:
			sv.State, sv.Icon, sv.Text = "done", "check", "Done"
		case i == cur && e.Status == store.ExportRunning:
			sv.State, sv.Icon, sv.Text = "active", "spinner", "In progress"
		case i == cur && e.Status == store.ExportFailed:
			sv.State, sv.Icon, sv.Text = "stopped", "x", "Failed here"
		case i == cur && e.Status == store.ExportCanceled:
			sv.State, sv.Icon, sv.Text = "stopped", "slash", "Canceled"
		default:
			sv.State, sv.Icon, sv.Text = "pending", "dot", "Waiting"
		}
		out[i] = sv
	}
	return out
}

func targetSettings(t jobs.TargetRequest) string {
	parts := []string{qualityLabel(t.Quality) + " quality"}
	if t.Fit != "" {
		parts = append(parts, t.Fit+" fit")
	}
	if t.FPS > 0 {
		parts = append(parts, strconv.FormatFloat(t.FPS, 'f', -1, 64)+" fps")
	}
	if t.VideoKbps > 0 {
		parts = append(parts, strconv.Itoa(t.VideoKbps)+" kb/s")
	}
	switch t.CaptionsMode {
	case jobs.CaptionsBurn:
		parts = append(parts, "captions burned in")
	case jobs.CaptionsSoft:
		parts = append(parts, "captions as a track")
	case jobs.CaptionsSidecar:
		parts = append(parts, "captions as a file")
	case jobs.CaptionsAuto:
		parts = append(parts, "captions as a track (and a file where the platform takes one)")
	}
	switch t.Loudness {
	case "", jobs.LoudnessOff:
	case jobs.LoudnessPlatform:
		parts = append(parts, "platform loudness")
	default:
		parts = append(parts, string(t.Loudness)+" LUFS")
	}
	return strings.Join(parts, " · ")
}

func etaText(sec float64) string {
	if sec <= 0 {
		return ""
	}
	if sec < 60 {
		return fmt.Sprintf("about %d s left", int(math.Ceil(sec)))
	}
	return fmt.Sprintf("about %d min left", int(math.Ceil(sec/60)))
}

// renditionExpired reports whether a rendition's file is gone or past its
// retention.
func renditionExpired(rd store.Rendition, now time.Time) bool {
	if rd.DeletedAt != nil {
		return true
	}
	return rd.ExpiresAt != nil && !rd.Saved && !rd.Pinned && !rd.ExpiresAt.After(now.Add(time.Second))
}

// signedLink signs a download link valid for an hour, never past the
// file's retention.
func (h *Handler) signedLink(ctx context.Context, rd store.Rendition, projectName string, now time.Time) string {
	ttl := downloadLinkTTL
	if rd.ExpiresAt != nil && !rd.Saved && !rd.Pinned {
		ttl = min(ttl, rd.ExpiresAt.Sub(now))
	}
	if ttl < time.Second {
		return ""
	}
	link, _, err := h.blob.SignedURL(ctx, rd.BlobKey, ttl, downloadName(projectName, rd))
	if err != nil {
		h.logger.WarnContext(ctx, "sign download link", slog.String("rendition_id", rd.ID), slog.Any("error", err))
		return ""
	}
	return link
}

// downloadName is "<project>-<preset>.<ext>", as the API names downloads.
func downloadName(projectName string, r store.Rendition) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(projectName) {
		if b.Len() >= 60 {
			break
		}
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = r.ExportID
	}
	return base + "-" + r.PresetID + path.Ext(r.BlobKey)
}

func (h *Handler) exportPage(w http.ResponseWriter, r *http.Request) error {
	e, err := h.loadExport(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	user, _, err := h.userPresets(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	v, err := h.buildExportView(r.Context(), e, user)
	if err != nil {
		return err
	}
	if v.ShareAccounts, v.SharePlatforms, err = h.shareOptions(r.Context(), workspaceOf(r)); err != nil {
		return err
	}
	v.PublishingOff = h.connect == nil || h.publish == nil
	v.CanShare = v.HasFiles && v.Final && len(v.ShareAccounts) > 0
	title := "Exporting " + e.ProjectName
	if v.HasFiles && v.Final {
		title = "Ready: " + e.ProjectName
	}
	pg := page{Title: title, Nav: "history", Data: v}
	if p := r.URL.Query().Get("connected"); p != "" {
		// Back from reconnecting an account: its waiting posts go out.
		pg.Flash = &flash{Kind: "success", Title: "Reconnected " + platformLabel(p),
			Message: "Posts that waited for the account are on their way again."}
	}
	h.render(w, r, http.StatusOK, "export", pg)
	return nil
}

// exportEvents relays the export's live events as server-sent events, as
// the API's stream does: "id: seq", "event: type", "data: json". A
// reconnect's Last-Event-ID resumes after that event.
func (h *Handler) exportEvents(w http.ResponseWriter, r *http.Request) error {
	e, err := h.loadExport(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if h.events == nil {
		return errcode.New(errcode.Internal, "live progress is not available on this server")
	}
	var after int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || after < 0 {
			after = 0
		}
	}
	ctx := r.Context()
	ch, err := h.events.Subscribe(ctx, e.ID, after)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(h.heartbeat)
	defer heartbeat.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		case ev, ok := <-ch:
			if !ok {
				return nil
			}
			buf.Reset()
			writeEvent(&buf, ev)
			if _, err := w.Write(buf.Bytes()); err != nil {
				return nil
			}
			if ev.Type == events.TypeDone {
				_ = rc.Flush()
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func writeEvent(buf *bytes.Buffer, ev events.Event) {
	fmt.Fprintf(buf, "id: %d\n", ev.Seq)
	if t := strings.NewReplacer("\r", "", "\n", "").Replace(ev.Type); t != "" {
		fmt.Fprintf(buf, "event: %s\n", t)
	}
	buf.WriteString("data: ")
	data := ev.Data
	if len(data) == 0 || !json.Valid(data) {
		data = json.RawMessage("{}")
	}
	_ = json.Compact(buf, data)
	buf.WriteString("\n\n")
}

func (h *Handler) cancelExport(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.exportService()
	if err != nil {
		return err
	}
	e, err := svc.CancelExport(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.afterAction(w, r, e.ID)
}

func (h *Handler) retryExport(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.exportService()
	if err != nil {
		return err
	}
	e, err := svc.RetryExport(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.afterAction(w, r, e.ID)
}

// rerenderExport makes a new export with the settings of an old one, for
// files past their retention.
func (h *Handler) rerenderExport(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.exportService()
	if err != nil {
		return err
	}
	old, err := h.loadExport(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req storedRequest
	if err := json.Unmarshal(old.Request, &req); err != nil || len(req.Targets) == 0 {
		return errcode.New(errcode.Conflict, "the settings of export %s cannot be read: start a new export from the project", old.ID)
	}
	targets := make([]jobs.TargetRequest, len(req.Targets))
	for i, t := range req.Targets {
		targets[i] = t.TargetRequest
	}
	e, err := svc.CreateExport(r.Context(), workspaceOf(r), jobs.ExportRequest{
		ProjectID: old.ProjectID, Targets: targets, Priority: req.Priority,
		Client: old.Client, Campaign: old.Campaign,
	})
	if err != nil {
		return err
	}
	return h.afterAction(w, r, e.ID)
}

func (h *Handler) afterAction(w http.ResponseWriter, r *http.Request, exportID string) error {
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusOK, map[string]string{"id": exportID, "url": "/exports/" + exportID})
		return nil
	}
	http.Redirect(w, r, "/exports/"+exportID, http.StatusSeeOther)
	return nil
}

// download sends the browser to a fresh signed link of a rendition (for
// history, where links would go stale), or says plainly that it expired.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.store.GetRendition(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errcode.New(errcode.NotFound, "this file does not exist in this workspace")
	}
	if err != nil {
		return err
	}
	e, err := h.loadExport(r, rd.ExportID)
	if err != nil {
		return errcode.New(errcode.NotFound, "this file does not exist in this workspace")
	}
	now := h.now()
	if rd.Status != store.RenditionSucceeded || rd.BlobKey == "" {
		return &errcode.Error{Code: errcode.Conflict, Message: "this file was not produced (" + string(rd.Status) + ")",
			Remedy: "Open the export to see why, then retry it."}
	}
	if renditionExpired(rd, now) {
		return &errcode.Error{Code: errcode.FileNotFound,
			Message: "this file was deleted after its retention period",
			Remedy:  "Use Re-render on the export to make it again with the same settings."}
	}
	link := h.signedLink(r.Context(), rd, e.ProjectName, now)
	if link == "" {
		return errcode.New(errcode.Internal, "a download link could not be made")
	}
	http.Redirect(w, r, link, http.StatusFound)
	return nil
}

// validText reports whether s is one line of at most n characters.
func validText(s string, n int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= n && !strings.ContainsAny(s, "\x00\r\n")
}

// levelOf parses a quality level, defaulting to HD.
func levelOf(s string) preset.Level {
	l, err := preset.ParseLevel(s)
	if err != nil {
		return preset.HD
	}
	return l
}

// publishStage is the "Uploading to Platforms" stage: skipped without
// posts, waiting until the files are stored, then the posts' progress.
func publishStage(e store.Export, pubs []pubView) (state, icon, text string) {
	if len(pubs) == 0 {
		return "skipped", "skip", "Not needed: download only"
	}
	var open, failed, scheduled int
	for _, p := range pubs {
		switch p.State {
		case store.PublicationPending, store.PublicationUploading, store.PublicationProcessing:
			open++
		case store.PublicationFailed:
			failed++
		case store.PublicationScheduled:
			scheduled++
		}
	}
	switch {
	case e.Status == store.ExportFailed || e.Status == store.ExportCanceled:
		return "stopped", "slash", "Not posted"
	case !e.Status.Final():
		return "pending", "dot", "Waiting for the files"
	case open > 0:
		return "active", "spinner", "In progress"
	case failed > 0:
		return "stopped", "warn", "Some posts failed"
	case scheduled > 0:
		return "done", "clock", "Scheduled"
	}
	return "done", "check", "Done"
}
