package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
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
	Connections []accountJSON      `json:"connections"`
	Platforms   []outpost.Platform `json:"platforms"`
	// PlatformFormats are, per platform, the formats that suit it, best
	// first (outpost.Platform.Formats): each account gets the first of
	// them that is selected, and the modal offers to add the first when
	// none is.
	PlatformFormats map[string][]string `json:"platform_formats"`
	// ShareDefaults are the accounts the person saved as their "share to"
	// default (still connected and active): the modal ticks them.
	ShareDefaults []string `json:"share_defaults"`
	// ConnectURL is where to connect an account when there is none.
	ConnectURL string `json:"connect_url"`
	// BrandKits are the workspace's kits, for the modal's choice.
	BrandKits []kitOption `json:"brand_kits"`
}

// kitOption is a brand kit as the modal lists it.
type kitOption struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Client string `json:"client,omitempty"`
	// Intro says the kit adds an intro or outro (one export takes one
	// pair: versions may differ).
	Clips bool `json:"clips"`
}

func (h *Handler) exportOptions(w http.ResponseWriter, r *http.Request) error {
	ctx, ws := r.Context(), workspaceOf(r)
	p, err := h.svc.Projects.Get(ctx, ws, r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.Status != outpost.ProjectReady || p.Media == nil {
		return errcode.New(errcode.InvalidOption, "this project is not ready to export (it is %s)", p.Status)
	}
	info := p.Media
	presets, err := h.svc.Presets.List(ctx, ws)
	if err != nil {
		return err
	}
	used, err := h.svc.Exports.MostUsedPresets(ctx, ws)
	if err != nil {
		return err
	}
	var out exportOptionsJSON
	pr := &out.Project
	pr.ID, pr.Name, pr.Duration, pr.Shape = p.ID, p.Name, info.Duration, shapeOf(info)
	pr.Poster, pr.Client, pr.Campaign = "/projects/"+p.ID+"/poster", p.Labels.Client, p.Labels.Campaign
	if info.Video != nil {
		pr.Width, pr.Height, pr.FPS = info.Video.Width, info.Video.Height, info.Video.FrameRate
	}
	out.Formats = formatOptions(info, presets, used)
	out.EstimateMethod = EstimateMethod
	if out.Connections, out.Platforms, err = h.shareOptions(ctx, ws); err != nil {
		return err
	}
	out.PlatformFormats = map[string][]string{}
	for _, pl := range out.Platforms {
		out.PlatformFormats[pl.ID] = pl.Formats(presets)
	}
	if out.ShareDefaults, err = h.savedShareDefaults(r, out.Connections); err != nil {
		return err
	}
	out.ConnectURL = "/connections"
	kits, err := h.svc.BrandKits.List(ctx, ws)
	if err != nil {
		return err
	}
	out.BrandKits = make([]kitOption, len(kits))
	for i, k := range kits {
		out.BrandKits[i] = kitOption{Slug: k.Slug, Name: k.Name, Client: k.Client, Clips: k.IntroProjectID != "" || k.OutroProjectID != ""}
	}
	h.writeJSON(w, http.StatusOK, out)
	return nil
}

// exportForm is the export modal's request.
type exportForm struct {
	ProjectID      string                  `json:"project_id"`
	Targets        []outpost.TargetRequest `json:"targets"`
	Client         string                  `json:"client"`
	Campaign       string                  `json:"campaign"`
	IdempotencyKey string                  `json:"idempotency_key"`
	// Distribution is "download" (or empty) or "share", which posts to
	// Destinations as the API's destinations do.
	Distribution string                `json:"distribution"`
	Destinations []outpost.Destination `json:"destinations"`
	// Captions (the picked file's text, read by the page), Loudness and
	// ThumbnailAt are the Advanced section's finishing settings.
	Captions    *outpost.Captions `json:"captions"`
	Loudness    outpost.Loudness  `json:"loudness"`
	ThumbnailAt *float64          `json:"thumbnail_at"`
	// BrandKit is the kit of every target ("" none); Variants make one
	// export per version, grouped (A/B).
	BrandKit string            `json:"brand_kit"`
	Variants []outpost.Variant `json:"variants"`
	// ProjectIDs make a batch: the same settings for each project, one
	// export each, grouped.
	ProjectIDs []string `json:"project_ids"`
}

// request is the export request of the form for project projectID.
func (f exportForm) request(projectID string, dests []outpost.Destination) outpost.ExportRequest {
	return outpost.ExportRequest{
		ProjectID: projectID, Targets: f.Targets, Labels: outpost.Labels{Client: f.Client, Campaign: f.Campaign},
		IdempotencyKey: f.IdempotencyKey, Destinations: dests, BrandKit: f.BrandKit,
		Captions: f.Captions, Loudness: f.Loudness, ThumbnailAt: f.ThumbnailAt,
	}
}

// fieldError is a refused form with the field to fix (the page moves
// the focus there).
type fieldError struct {
	error
	field string
}

func (e fieldError) Unwrap() error { return e.error }

func (h *Handler) createExport(w http.ResponseWriter, r *http.Request) error {
	var f exportForm
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err := dec.Decode(&f); err != nil {
		return errcode.New(errcode.InvalidJSON, "the export request could not be read: reload the page and try again")
	}
	if len(f.Targets) == 0 {
		return fieldError{&errcode.Error{Code: errcode.InvalidOption, Message: "no format is selected",
			Remedy: "Pick at least one format in the Format section."}, "formats"}
	}
	ctx, ws := r.Context(), workspaceOf(r)
	switch {
	case len(f.ProjectIDs) > 0:
		return h.createBatch(w, r, f)
	case len(f.Variants) > 0:
		g, err := h.svc.Exports.CreateVariants(ctx, ws, f.request(f.ProjectID, nil), f.Variants)
		if err != nil {
			return fieldError{err, "versions"}
		}
		h.writeJSON(w, http.StatusCreated, map[string]string{"group_id": g.GroupID, "url": "/groups/" + g.GroupID})
		return nil
	}
	var dests []outpost.Destination
	if f.Distribution == "share" {
		if !h.svc.Connections.Available() {
			return errPublishingOff
		}
		if len(f.Destinations) == 0 {
			return fieldError{&errcode.Error{Code: errcode.InvalidOption, Message: "Share to platforms is chosen but no account is ticked",
				Remedy: "Tick at least one connected account, or choose Download only."}, "accounts"}
		}
		dests = f.Destinations
	}
	e, err := h.svc.Exports.Create(ctx, ws, f.request(f.ProjectID, dests))
	if err != nil {
		return h.destinationError(ctx, err, ws, dests)
	}
	h.writeJSON(w, http.StatusCreated, map[string]string{"id": e.ID, "url": "/exports/" + e.ID,
		"live": "/exports/" + e.ID + "/live", "name": e.ProjectName})
	return nil
}

// batchRefusal is a project of a batch that was not exported, and why.
type batchRefusal struct {
	Project string `json:"project"`
	Error   *flash `json:"error"`
}

// createBatch exports each of the form's projects with its settings
// (download only), grouped; the projects refused are listed with why.
func (h *Handler) createBatch(w http.ResponseWriter, r *http.Request, f exportForm) error {
	ctx, ws := r.Context(), workspaceOf(r)
	reqs := make([]outpost.ExportRequest, len(f.ProjectIDs))
	for i, id := range f.ProjectIDs {
		reqs[i] = f.request(id, nil)
		if f.IdempotencyKey != "" {
			reqs[i].IdempotencyKey = f.IdempotencyKey + "/" + id
		}
	}
	group, items := h.svc.Exports.CreateBatch(ctx, ws, reqs)
	out := struct {
		GroupID string         `json:"group_id"`
		URL     string         `json:"url,omitempty"`
		Started int            `json:"started"`
		Refused []batchRefusal `json:"refused"`
	}{GroupID: group, Refused: []batchRefusal{}}
	for i, it := range items {
		if it.Err == nil {
			out.Started++
			continue
		}
		name := f.ProjectIDs[i]
		if p, err := h.svc.Projects.Get(ctx, ws, name); err == nil {
			name = p.Name
		}
		_, fl := h.describe(r, it.Err)
		out.Refused = append(out.Refused, batchRefusal{Project: name, Error: fl})
	}
	if group == "" {
		return fieldError{&errcode.Error{Code: errcode.InvalidOption, Message: "none of the projects could be exported: " + out.Refused[0].Project + ": " + out.Refused[0].Error.Message,
			Remedy: "Pick formats every selected project can be made into, or export the projects one by one."}, "formats"}
	}
	out.URL = "/groups/" + group
	h.writeJSON(w, http.StatusCreated, out)
	return nil
}

// stage is a step of the progress view and the event stages it covers.
type stage struct {
	Key, Label string
	Events     []string
}

// exportStages are the progress view's steps for an export, in order:
// "Processing Audio" only when the render measures loudness (the probe
// goes with the first step either way).
func exportStages(measuresLoudness bool) []stage {
	if measuresLoudness {
		return []stage{
			{"audio", "Processing Audio", []string{"probe", "audio"}},
			{"render", "Rendering Video", []string{"render"}},
			{"check", "Checking", []string{"check"}},
			{"store", "Storing", []string{"store"}},
			{"publish", "Uploading to Platforms", []string{"publish"}},
		}
	}
	return []stage{
		{"render", "Rendering Video", []string{"probe", "render"}},
		{"check", "Checking", []string{"check"}},
		{"store", "Storing", []string{"store"}},
		{"publish", "Uploading to Platforms", []string{"publish"}},
	}
}

// stageIndex is the position of an event stage in stages; -1 for queued
// or unknown.
func stageIndex(stages []stage, ev string) int {
	for i, s := range stages {
		if slices.Contains(s.Events, ev) {
			return i
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
	StatusCode  outpost.RenditionStatus
	SizeBytes   int64
	Dims        string
	Codecs      string
	Passthrough bool
	DownloadURL string
	// ThumbnailURL is the file's thumbnail (chosen by the render, or
	// uploaded); CanThumbnail: a new one can be uploaded.
	ThumbnailURL string
	CanThumbnail bool
	Expired      bool
	ExpiresAt    *time.Time
	// Saved: kept past its retention ("Keep this file"); Pinned: kept while
	// a scheduled post needs it.
	Saved    bool
	Pinned   bool
	CanKeep  bool
	Error    *flash
	Settings string
	// SameFileAs names the target whose file this one is (targets of the
	// same shape are encoded once); "" for a file of its own.
	SameFileAs string
}

type exportView struct {
	outpost.ExportDetail
	Status     statusView
	Live       bool
	Final      bool
	HasFiles   bool
	Percent    float64
	StageLabel string
	ETA        string
	Stages     []stageView
	Targets    []targetView
	Error      *flash
	// Warnings are about files made all the same (source_damaged, with
	// the stretches in its message).
	Warnings    []*flash
	Poster      string
	Took        string
	CanRetry    bool
	AnyExpired  bool
	FilesTotal  int64
	FilesReady  int
	EventsURL   string
	ProjectLink string
	// Publications are the export's posts, failed ones first; Publishing
	// is true while one that is due has not finished.
	Publications []pubView
	Publishing   bool
	Published    int
	// FailedPosts are the posts that need the person: each with its
	// reason and action.
	FailedPosts []pubView
	// CanShare: the export has files and accounts to share them to
	// (ShareAccounts, with the fields of SharePlatforms).
	CanShare       bool
	ShareAccounts  []accountJSON
	SharePlatforms []outpost.Platform
	// PublishingOff: this server cannot publish.
	PublishingOff bool
	// Captions and Thumbnail describe the export's finishing settings for
	// its details ("" when not set).
	Captions  string
	Thumbnail string
	// BrandKit names the export's brand kit(s); Variant its version in an
	// A/B group.
	BrandKit string
	Variant  string
	// Speed is the render's speed as the last progress event said ("1.5×
	// real time · 30 fps"), for the live view.
	Speed string
	// Steps are the nodes' steps, for the "Which node did what" table.
	Steps []stepRow
}

// stepRow is one step a node ran, as the export page lists it.
type stepRow struct {
	outpost.Step
	Label   string // "Render", "Segment 2", "Publish"
	What    string // the file's format, or the post's platform and account
	Outcome string // "Succeeded", "Failed (platform_rule_violated)"
	Took    string
}

// stepRows shapes the export's steps for its page.
func stepRows(d outpost.ExportDetail, pubs []pubView, cat catalog) []stepRow {
	out := make([]stepRow, 0, len(d.Steps))
	for _, s := range d.Steps {
		r := stepRow{Step: s, Label: strings.ToUpper(string(s.Step[:1])) + string(s.Step[1:]),
			What: presetName(s.Preset, cat.presets), Outcome: strings.ToUpper(string(s.Outcome[:1])) + string(s.Outcome[1:])}
		switch {
		case s.Segment > 0:
			r.Label += " " + strconv.Itoa(s.Segment)
		case s.Step == outpost.StepSegment:
			// Part 0 of a segmented render: what is not cut.
			r.Label += " (audio, copies, GIF)"
		}
		for _, p := range pubs {
			if p.ID == s.PublicationID {
				r.What = p.PlatformName + " · " + p.Account
			}
		}
		if s.ErrorCode != "" {
			r.Outcome += " (" + string(s.ErrorCode) + ")"
		}
		if s.FinishedAt != nil {
			r.Took = clock(s.FinishedAt.Sub(s.StartedAt).Seconds())
		}
		out = append(out, r)
	}
	return out
}

// catalog is what export views name presets and accounts by.
type catalog struct {
	presets     map[string]outpost.Preset
	connections map[string]outpost.Connection
}

// catalog reads the workspace's presets and connections.
func (h *Handler) catalog(ctx context.Context, workspaceID string) (catalog, error) {
	c := catalog{presets: map[string]outpost.Preset{}, connections: map[string]outpost.Connection{}}
	ps, err := h.svc.Presets.List(ctx, workspaceID)
	if err != nil {
		return c, err
	}
	for _, p := range ps {
		if !p.Builtin {
			c.presets[p.ID] = p
		}
	}
	list, err := h.svc.Connections.List(ctx, workspaceID)
	if err != nil {
		return c, err
	}
	for _, conn := range list.Data {
		c.connections[conn.ID] = conn
	}
	return c, nil
}

// buildExportView shapes an export for its page and history rows.
func (h *Handler) buildExportView(d outpost.ExportDetail, cat catalog) exportView {
	e := d.Export
	spec := d.Spec
	if spec == nil {
		spec = &outpost.ExportSpec{}
	}
	v := exportView{ExportDetail: d, Status: outcomeStatus(d.Outcome), Final: e.Status.Final(),
		Percent: e.Progress.Percent, Poster: "/projects/" + e.ProjectID + "/poster",
		EventsURL: "/exports/" + e.ID + "/events", ProjectLink: "/projects?export=" + e.ProjectID, Variant: spec.Variant}
	v.Live = !v.Final
	v.CanRetry = e.Status == outpost.ExportFailed || e.Status == outpost.ExportPartiallyFailed || e.Status == outpost.ExportCanceled
	if e.Progress.ETASeconds != nil && v.Live {
		v.ETA = etaText(float64(*e.Progress.ETASeconds))
	}
	if e.StartedAt != nil && e.FinishedAt != nil {
		v.Took = clock(e.FinishedAt.Sub(*e.StartedAt).Seconds())
	}
	if e.Error != nil && e.Status != outpost.ExportCanceled {
		v.Error = errorFlash(e.Error)
	}
	for _, w := range e.Warnings {
		x := outpost.Explain(w.Code, w.Message)
		v.Warnings = append(v.Warnings, &flash{Kind: "info", Title: x.Title, Message: x.Message, Remedy: cmp.Or(w.Remedy, x.Remedy), Code: x.Code})
	}
	v.Publications = h.publicationViews(d.Publications, e.ID, cat)
	for _, p := range v.Publications {
		switch p.State {
		case outpost.PublicationPending, outpost.PublicationUploading, outpost.PublicationProcessing:
			v.Publishing = true
		case outpost.PublicationPublished:
			v.Published++
		case outpost.PublicationFailed:
			v.FailedPosts = append(v.FailedPosts, p)
		}
	}
	stages := exportStages(spec.MeasuresLoudness)
	last := stages[len(stages)-1]
	if v.Final && v.Publishing {
		// The render is done; posts are still going out.
		v.Live, v.StageLabel = true, last.Label
	}
	v.Steps = stepRows(d, v.Publications, cat)
	v.Stages = stageViews(e, stages, v.Publications)
	if i := stageIndex(stages, e.Progress.Stage); i >= 0 && v.Live && !v.Final {
		v.StageLabel = stages[i].Label
	} else if v.Live && !v.Final {
		v.StageLabel = "Waiting for a worker"
	}

	if c := spec.Captions; c != nil {
		v.Captions = fmt.Sprintf("%s file, %d cues", strings.ToUpper(string(c.Format)), c.Cues)
		if c.Language != "" {
			v.Captions += ", language " + c.Language
		}
	}
	v.Thumbnail = "Chosen by Outpost (a sharp, non-black frame)"
	if spec.ThumbnailAt != nil {
		v.Thumbnail = "At " + strconv.FormatFloat(*spec.ThumbnailAt, 'f', -1, 64) + " s"
	}
	var kits []string
	for _, t := range spec.Targets {
		if t.Kit == nil {
			continue
		}
		name := cmp.Or(t.Kit.Name, t.Kit.Slug) // exports accepted before kits' names were kept
		if !slices.Contains(kits, name) {
			kits = append(kits, name)
		}
	}
	v.BrandKit = strings.Join(kits, ", ")
	now := h.now()
	for _, rd := range d.Renditions {
		st := rd.Status
		if st == outpost.RenditionPending && e.Status == outpost.ExportRunning && slices.Contains([]string{"render", "check", "store"}, e.Progress.Stage) {
			st = outpost.RenditionRunning // one ffmpeg run renders every target at once
		}
		t := targetView{RenditionID: rd.ID, PresetID: rd.Preset, Name: presetName(rd.Preset, cat.presets),
			Icon: presetIconFor(rd.Preset, cat.presets), Status: renditionStatus(st), StatusCode: st,
			SizeBytes: rd.SizeBytes, Passthrough: rd.Passthrough, ExpiresAt: rd.ExpiresAt, Saved: rd.Saved, Pinned: rd.Pinned}
		if rd.Width > 0 {
			t.Dims = fmt.Sprintf("%d×%d", rd.Width, rd.Height)
		}
		t.Codecs = strings.Trim(rd.VideoCodec+" + "+rd.AudioCodec, " +")
		if rd.TargetIndex < len(spec.Targets) {
			t.Settings = targetSettings(spec.Targets[rd.TargetIndex].TargetRequest)
		}
		if rd.Error != nil && rd.Status == outpost.RenditionFailed {
			t.Error = errorFlash(rd.Error)
		}
		if rd.SameFileAs != "" {
			if i := slices.IndexFunc(d.Renditions, func(o outpost.Rendition) bool { return o.ID == rd.SameFileAs }); i >= 0 {
				t.SameFileAs = presetName(d.Renditions[i].Preset, cat.presets)
			}
		}
		if rd.Status == outpost.RenditionSucceeded {
			v.HasFiles = true
			v.FilesReady++
			if rd.SameFileAs == "" {
				v.FilesTotal += rd.SizeBytes // a shared file counts once
			}
			if rd.Expired(now) {
				t.Expired, v.AnyExpired = true, true
			} else {
				if rd.DownloadURL != nil {
					t.DownloadURL = *rd.DownloadURL
				}
				if rd.ThumbnailURL != nil {
					t.ThumbnailURL = *rd.ThumbnailURL
				}
				t.CanKeep = true
				t.CanThumbnail = rd.Width > 0 && rd.VideoCodec != "gif"
			}
		}
		v.Targets = append(v.Targets, t)
	}
	return v
}

// errorFlash shows a stored failure for people, in plain words
// (outpost.Explain) with its code.
func errorFlash(e *outpost.CodedError) *flash {
	return explained(outpost.Explain(e.Code, e.Message))
}

func stageViews(e outpost.Export, stages []stage, pubs []pubView) []stageView {
	cur := stageIndex(stages, e.Progress.Stage)
	out := make([]stageView, len(stages))
	for i, s := range stages {
		sv := stageView{Key: s.Key, Label: s.Label}
		switch {
		case s.Key == "publish":
			sv.State, sv.Icon, sv.Text = publishStage(e, pubs)
		case e.Status == outpost.ExportSucceeded || e.Status == outpost.ExportPartiallyFailed:
			sv.State, sv.Icon, sv.Text = "done", "check", "Done"
		case i < cur:
			sv.State, sv.Icon, sv.Text = "done", "check", "Done"
		case i == cur && e.Status == outpost.ExportRunning:
			sv.State, sv.Icon, sv.Text = "active", "spinner", "In progress"
		case i == cur && e.Status == outpost.ExportFailed:
			sv.State, sv.Icon, sv.Text = "stopped", "x", "Failed here"
		case i == cur && e.Status == outpost.ExportCanceled:
			sv.State, sv.Icon, sv.Text = "stopped", "slash", "Canceled"
		default:
			sv.State, sv.Icon, sv.Text = "pending", "dot", "Waiting"
		}
		out[i] = sv
	}
	return out
}

func targetSettings(t outpost.TargetRequest) string {
	parts := []string{qualityLabel(t.Quality) + " quality"}
	if t.Fit != "" {
		parts = append(parts, labelOf(fitChoices, t.Fit)+" fit")
	}
	if t.FPS > 0 {
		parts = append(parts, strconv.FormatFloat(t.FPS, 'f', -1, 64)+" fps")
	}
	if t.VideoKbps > 0 {
		parts = append(parts, strconv.Itoa(t.VideoKbps)+" kb/s")
	}
	switch t.CaptionsMode {
	case outpost.CaptionsBurn:
		parts = append(parts, "captions burned in")
	case outpost.CaptionsSoft:
		parts = append(parts, "captions as a track")
	case outpost.CaptionsSidecar:
		parts = append(parts, "captions as a file")
	case outpost.CaptionsAuto:
		parts = append(parts, "captions as a track (and a file where the platform takes one)")
	}
	switch t.Loudness {
	case "", outpost.LoudnessOff:
	case outpost.LoudnessPlatform:
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

func (h *Handler) exportPage(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.exportData(r)
	if err != nil {
		return err
	}
	if p := r.URL.Query().Get("connected"); p != "" {
		// Back from reconnecting an account: its waiting posts go out.
		pg.Flash = &flash{Kind: "success", Title: "Reconnected " + platformLabel(p),
			Message: "Posts that waited for the account are on their way again."}
	}
	h.render(w, r, http.StatusOK, "export", pg)
	return nil
}

// exportLive renders the export page's live part (the fragment the page
// swaps in when its event stream says something changed), with the
// render's speed from the query (speed, fps: the last progress event's).
func (h *Handler) exportLive(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.exportData(r)
	if err != nil {
		return err
	}
	v := pg.Data.(exportView)
	q := r.URL.Query()
	if speed, err := strconv.ParseFloat(q.Get("speed"), 64); err == nil && speed > 0 && speed < 1000 && v.Live {
		v.Speed = strconv.FormatFloat(speed, 'f', 1, 64) + "× real time"
		if fps, err := strconv.ParseFloat(q.Get("fps"), 64); err == nil && fps > 0 && fps < 10000 {
			v.Speed += " · " + strconv.Itoa(int(math.Round(fps))) + " fps"
		}
	}
	// Each uploading post's share of its file sent ("up": id:percent).
	for _, up := range q["up"] {
		id, pct, _ := strings.Cut(up, ":")
		n, err := strconv.ParseFloat(pct, 64)
		if err != nil || n < 0 || n > 100 {
			continue
		}
		for i, p := range v.Publications {
			if p.ID == id && p.State == outpost.PublicationUploading {
				v.Publications[i].Sent = strconv.Itoa(int(n))
			}
		}
	}
	pg.Data = v
	h.renderTemplate(w, r, http.StatusOK, "export", "exportlive", pg)
	return nil
}

// exportData is the export page's data.
func (h *Handler) exportData(r *http.Request) (page, error) {
	ctx, ws := r.Context(), workspaceOf(r)
	d, err := h.svc.Exports.Get(ctx, ws, r.PathValue("id"))
	if err != nil {
		return page{}, err
	}
	cat, err := h.catalog(ctx, ws)
	if err != nil {
		return page{}, err
	}
	v := h.buildExportView(d, cat)
	if v.ShareAccounts, v.SharePlatforms, err = h.shareOptions(ctx, ws); err != nil {
		return page{}, err
	}
	shareFiles(v.ShareAccounts, v.SharePlatforms, v.Targets, cat)
	saved, err := h.savedShareDefaults(r, v.ShareAccounts)
	if err != nil {
		return page{}, err
	}
	tickShareDefaults(v.ShareAccounts, saved, d.Publications)
	v.PublishingOff = !h.svc.Connections.Available()
	v.CanShare = v.HasFiles && v.Final && len(v.ShareAccounts) > 0
	title := "Exporting " + d.ProjectName
	if v.HasFiles && v.Final {
		title = "Ready: " + d.ProjectName
	}
	return page{Title: title, Nav: "history", Data: v}, nil
}

// tickShareDefaults pre-ticks, on the export page's "share to additional
// platforms", the accounts saved as the person's "share to" default, as
// the export modal does, but not one the export has a post on already
// (another would be a second post of the same video) nor one none of its
// files suits.
func tickShareDefaults(accts []accountJSON, saved []string, posts []outpost.Publication) {
	for i, a := range accts {
		accts[i].Ticked = len(a.Files) > 0 && slices.Contains(saved, a.ID) &&
			!slices.ContainsFunc(posts, func(p outpost.Publication) bool { return p.ConnectionID == a.ID })
	}
}

// exportEvents relays the export's live events as server-sent events, as
// the API's stream does (events.Stream).
func (h *Handler) exportEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := events.LastEventID(r)
	if err != nil {
		return err
	}
	ch, err := h.svc.Exports.Events(r.Context(), workspaceOf(r), r.PathValue("id"), after)
	if err != nil {
		return err
	}
	events.Stream(r.Context(), w, ch, h.heartbeat)
	return nil
}

func (h *Handler) cancelExport(w http.ResponseWriter, r *http.Request) error {
	e, err := h.svc.Exports.Cancel(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.afterAction(w, r, e.ID)
}

func (h *Handler) retryExport(w http.ResponseWriter, r *http.Request) error {
	e, err := h.svc.Exports.Retry(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.afterAction(w, r, e.ID)
}

// rerenderExport makes a new export with the settings of an old one, for
// files past their retention.
func (h *Handler) rerenderExport(w http.ResponseWriter, r *http.Request) error {
	e, err := h.svc.Exports.Rerender(r.Context(), workspaceOf(r), r.PathValue("id"))
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
	rd, err := h.svc.Exports.Rendition(r.Context(), workspaceOf(r), r.PathValue("id"))
	if errcode.Of(err) == errcode.NotFound {
		return errcode.New(errcode.NotFound, "this file does not exist in this workspace")
	}
	if err != nil {
		return err
	}
	switch {
	case rd.Status != outpost.RenditionSucceeded:
		return &errcode.Error{Code: errcode.Conflict, Message: "this file was not produced (" + string(rd.Status) + ")",
			Remedy: "Open the export to see why, then retry it."}
	case rd.Expired(h.now()):
		return &errcode.Error{Code: errcode.FileNotFound,
			Message: "this file was deleted after its retention period",
			Remedy:  "Use Re-render on the export to make it again with the same settings."}
	case rd.DownloadURL == nil:
		return errcode.New(errcode.Internal, "a download link could not be made")
	}
	http.Redirect(w, r, *rd.DownloadURL, http.StatusFound)
	return nil
}

// publishStage is the "Uploading to Platforms" stage: skipped without
// posts, waiting until the files are stored, then the posts' progress.
func publishStage(e outpost.Export, pubs []pubView) (state, icon, text string) {
	if len(pubs) == 0 {
		return "skipped", "skip", "Not needed: download only"
	}
	var open, failed, scheduled int
	for _, p := range pubs {
		switch p.State {
		case outpost.PublicationPending, outpost.PublicationUploading, outpost.PublicationProcessing:
			open++
		case outpost.PublicationFailed:
			failed++
		case outpost.PublicationScheduled:
			scheduled++
		}
	}
	switch {
	case e.Status == outpost.ExportFailed || e.Status == outpost.ExportCanceled:
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

// keepRendition turns "Keep this file" on (keep=1) or off: a kept file
// outlives its retention.
func (h *Handler) keepRendition(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	rd, err := h.svc.Exports.KeepRendition(r.Context(), workspaceOf(r), r.PathValue("id"), r.PostFormValue("keep") == "1")
	if err != nil {
		return err
	}
	return h.afterAction(w, r, rd.ExportID)
}

// maxThumbnailForm bounds the thumbnail form: the service takes images of
// up to 20 MiB.
const maxThumbnailForm = 21 << 20

// setThumbnail replaces a file's thumbnail with an uploaded image (the
// form's "thumbnail" file), sized to the platform's rules by the service.
func (h *Handler) setThumbnail(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxThumbnailForm)
	f, _, err := r.FormFile("thumbnail")
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return &errcode.Error{Code: errcode.InvalidOption, Message: "no image was chosen",
			Remedy: "Choose a JPEG or PNG image, then Use this image."}
	}
	defer f.Close()
	rd, err := h.svc.Exports.SetThumbnail(r.Context(), workspaceOf(r), r.PathValue("id"), f)
	if err != nil {
		return err
	}
	return h.afterAction(w, r, rd.ExportID)
}
