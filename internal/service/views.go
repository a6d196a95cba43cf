package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"outpost/internal/blob"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// downloadLinkTTL is the longest a signed link lives.
const downloadLinkTTL = time.Hour

// views turn stored records into the records people and scripts see,
// signing their links.
type views struct {
	store  *store.Store
	blob   *blob.Store
	logger *slog.Logger
	now    func() time.Time
}

func projectView(p store.Project) outpost.Project {
	v := outpost.Project{
		ID: p.ID, Name: p.Name, Kind: p.Kind, Status: p.Status, SourceURL: p.SourceURL,
		SizeBytes: p.SizeBytes, DurationSeconds: p.Duration,
		Labels:    outpost.Labels{Client: p.Client, Campaign: p.Campaign},
		Error:     outpost.NewCodedError(p.ErrorCode, p.ErrorMessage),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if len(p.Probe) > 0 {
		var info media.Info
		if json.Unmarshal(p.Probe, &info) == nil {
			info.Path = ""
			v.Media = &info
		}
	}
	return v
}

// exportView is e as history shows it; nodes are the nodes that ran its
// steps (store.ListStepNodes).
func exportView(e store.Export, nodes []string) outpost.Export {
	v := outpost.Export{
		ID: e.ID, ProjectID: e.ProjectID, ProjectName: e.ProjectName, Status: e.Status,
		Presets: e.PresetIDs, Priority: e.Priority,
		Progress:  outpost.Progress{Stage: e.Progress.Stage, Percent: e.Progress.Percent},
		Labels:    outpost.Labels{Client: e.Client, Campaign: e.Campaign},
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt,
		Error:   outpost.NewCodedError(e.ErrorCode, e.ErrorMessage),
		GroupID: e.GroupID,
		Nodes:   nodes,
	}
	if v.Presets == nil {
		v.Presets = []string{}
	}
	if v.Nodes == nil {
		v.Nodes = []string{}
	}
	if e.Progress.ETA > 0 && !e.Status.Final() {
		eta := int64((e.Progress.ETA + time.Second - 1) / time.Second) // rounded up
		v.Progress.ETASeconds = &eta
	}
	if e.Status == store.ExportSucceeded {
		v.Progress.Percent = 100
	}
	readJSON(e.Warnings, &v.Warnings)
	readJSON(e.Refused, &v.Refused)
	return v
}

// readJSON reads a stored JSON column into dst; an unreadable one is left
// out (the column is the store's own writing).
func readJSON[T any](raw json.RawMessage, dst *T) {
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, dst)
	}
}

// detail reads the export's renditions and publications and signs the
// files' links.
//
// Publications are read before renditions: a publication's final state and
// its rendition's pin release commit together, so a reader that sees the
// publication final then also sees the pin as it was left (read the other
// way round, a commit in between showed every publication done and the file
// still pinned).
func (v *views) detail(ctx context.Context, st *store.Store, e store.Export) (outpost.ExportDetail, error) {
	ps, err := st.ListPublications(ctx, e.ID)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	rs, err := st.ListRenditions(ctx, e.ID)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	steps, err := st.ListSteps(ctx, e.ID)
	if err != nil {
		return outpost.ExportDetail{}, err
	}
	return v.compose(ctx, e, rs, ps, steps), nil
}

// compose is the detail of e from its renditions, publications and steps.
func (v *views) compose(ctx context.Context, e store.Export, rs []store.Rendition, ps []store.Publication, steps []store.Step) outpost.ExportDetail {
	d := outpost.ExportDetail{Export: exportView(e, stepNodes(steps)), Renditions: make([]outpost.Rendition, len(rs)),
		Publications: make([]outpost.Publication, len(ps)), Steps: make([]outpost.Step, len(steps))}
	first := map[string]string{} // blob key → the first rendition stored there
	for i, r := range rs {
		d.Renditions[i] = v.rendition(ctx, r, e.ProjectName, lastNode(steps, r.ID, ""))
		if r.BlobKey == "" || r.DeletedAt != nil {
			continue
		}
		if id, ok := first[r.BlobKey]; ok {
			d.Renditions[i].SameFileAs = id
		} else {
			first[r.BlobKey] = r.ID
		}
	}
	for i, p := range ps {
		d.Publications[i] = publicationView(p, lastNode(steps, "", p.ID))
	}
	for i, s := range steps {
		d.Steps[i] = stepView(s, rs, ps)
	}
	d.Segments = segmentNodes(steps)
	if len(e.Request) > 0 {
		var spec outpost.ExportSpec
		if json.Unmarshal(e.Request, &spec) == nil {
			d.Spec = &spec
		}
	}
	d.Outcome = outpost.OutcomeOf(d.Export, d.Renditions, d.Publications)
	return d
}

// segmentNodes counts the parts of a segmented render each node rendered
// (its succeeded segment steps); nil for an export rendered in one pass.
func segmentNodes(steps []store.Step) []outpost.SegmentNode {
	var out []outpost.SegmentNode
	for _, s := range steps {
		if s.Kind != outpost.StepSegment || s.Outcome != outpost.StepSucceeded {
			continue
		}
		i := slices.IndexFunc(out, func(n outpost.SegmentNode) bool { return n.Node == s.Node })
		if i < 0 {
			out = append(out, outpost.SegmentNode{Node: s.Node})
			i = len(out) - 1
		}
		out[i].Parts++
	}
	return out
}

// node is the node that last worked on the export's rendition or
// publication, "" when none has (or its steps cannot be read: the view
// goes out without it).
func (v *views) node(ctx context.Context, exportID, renditionID, publicationID string) string {
	steps, err := v.store.ListSteps(ctx, exportID)
	if err != nil {
		v.logger.WarnContext(ctx, "read steps", slog.String("export_id", exportID), slog.Any("error", err))
		return ""
	}
	return lastNode(steps, renditionID, publicationID)
}

// lastNode is the node of the last of steps on the rendition, or on the
// publication.
func lastNode(steps []store.Step, renditionID, publicationID string) string {
	node := ""
	for _, s := range steps {
		if s.RenditionID == renditionID && s.PublicationID == publicationID {
			node = s.Node
		}
	}
	return node
}

// stepNodes are the nodes of steps, in the order each first appears.
func stepNodes(steps []store.Step) []string {
	var nodes []string
	for _, s := range steps {
		if !slices.Contains(nodes, s.Node) {
			nodes = append(nodes, s.Node)
		}
	}
	return nodes
}

// stepView is a step with the preset (and platform) of its rendition or
// publication, from the export's rs and ps.
func stepView(s store.Step, rs []store.Rendition, ps []store.Publication) outpost.Step {
	out := outpost.Step{Step: s.Kind, RenditionID: s.RenditionID, PublicationID: s.PublicationID, Segment: s.Segment,
		Node: s.Node, Hostname: s.Hostname, Attempt: s.Attempt, Outcome: s.Outcome, ErrorCode: s.ErrorCode,
		StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
	for _, r := range rs {
		if r.ID == s.RenditionID {
			out.Preset = r.PresetID
		}
	}
	for _, p := range ps {
		if p.ID == s.PublicationID {
			out.Preset, out.Platform = p.PresetID, p.Platform
		}
	}
	return out
}

// rendition is a rendition with signed links to its file, thumbnail and
// captions while they are stored: an hour at most, never past the file's
// retention; node is the node that last worked on it.
func (v *views) rendition(ctx context.Context, r store.Rendition, projectName, node string) outpost.Rendition {
	out := outpost.Rendition{
		ID: r.ID, ExportID: r.ExportID, Preset: r.PresetID, Status: r.Status, SizeBytes: r.SizeBytes,
		DurationSeconds: r.Duration, Width: r.Width, Height: r.Height,
		VideoCodec: r.VideoCodec, AudioCodec: r.AudioCodec, Passthrough: r.Passthrough,
		ExpiresAt: r.ExpiresAt, Saved: r.Saved, Pinned: r.Pinned, Deleted: r.DeletedAt != nil,
		Check: r.CheckReport, Error: outpost.NewCodedError(r.ErrorCode, r.ErrorMessage), TargetIndex: r.TargetIndex,
		Node: node,
	}
	readJSON(r.Warnings, &out.Warnings)
	if r.Status != store.RenditionSucceeded || r.BlobKey == "" || r.DeletedAt != nil {
		return out
	}
	ttl := downloadLinkTTL
	if r.ExpiresAt != nil && !r.Saved && !r.Pinned {
		left := r.ExpiresAt.Sub(v.now())
		if left < time.Second {
			return out // expired: the cleanup job deletes it soon
		}
		ttl = min(ttl, left)
	}
	name := downloadName(projectName, r)
	link, exp, err := v.blob.SignedURL(ctx, r.BlobKey, ttl, name)
	if err != nil {
		v.logger.WarnContext(ctx, "sign download link", slog.String("rendition_id", r.ID), slog.Any("error", err))
		return out
	}
	out.DownloadURL, out.DownloadURLExpiresAt = &link, &exp
	base := strings.TrimSuffix(name, path.Ext(r.BlobKey))
	if r.ThumbnailKey != "" {
		if link, _, err := v.blob.SignedURL(ctx, r.ThumbnailKey, ttl, base+".jpg"); err == nil {
			out.ThumbnailURL = &link
		}
	}
	if r.CaptionsKey != "" {
		if link, _, err := v.blob.SignedURL(ctx, r.CaptionsKey, ttl, base+path.Ext(r.CaptionsKey)); err == nil {
			out.CaptionsURL = &link
		}
	}
	return out
}

// downloadName is the file name a download is saved under:
// "<project>-<preset>.<ext>".
func downloadName(projectName string, r store.Rendition) string {
	base := outpost.Slug(projectName, 60)
	if base == "" {
		base = r.ExportID
	}
	return base + "-" + r.PresetID + path.Ext(r.BlobKey)
}

// publicationView is p as people see it; node ran its last attempt.
func publicationView(p store.Publication, node string) outpost.Publication {
	v := outpost.Publication{
		ID: p.ID, ExportID: p.ExportID, Platform: p.Platform, ConnectionID: p.ConnectionID, Preset: p.PresetID,
		RenditionID: p.RenditionID, State: p.State, PostURL: p.PostURL, ScheduleAt: p.ScheduleAt,
		PublishedAt: p.PublishedAt, Attempts: p.Attempts, Error: outpost.NewCodedError(p.ErrorCode, p.ErrorMessage),
		Node: node, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	var spec outpost.PostSpec
	if json.Unmarshal(p.Metadata, &spec) == nil {
		v.Post = spec.PostFields
	}
	if p.State == store.PublicationFailed {
		v.Action = outpost.ActionFor(p.ErrorCode)
	}
	return v
}

// publication is publicationView with the node read from its steps.
func (v *views) publication(ctx context.Context, p store.Publication) outpost.Publication {
	return publicationView(p, v.node(ctx, p.ExportID, "", p.ID))
}

func connectionView(c store.Connection) outpost.Connection {
	v := outpost.Connection{ID: c.ID, Platform: c.Platform, AccountID: c.AccountID, AccountName: c.AccountName,
		AvatarURL: c.AvatarURL, Status: c.Status, Scopes: c.Scopes, TokenExpiresAt: c.TokenExpiresAt,
		RefreshExpiresAt: c.RefreshExpiresAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	// The grant's end matters; an access token alone is refreshed.
	v.GrantEndsAt = c.RefreshExpiresAt
	if v.GrantEndsAt == nil && len(c.RefreshToken) == 0 {
		v.GrantEndsAt = c.TokenExpiresAt
	}
	return v
}

func webhookView(w store.WebhookEndpoint) outpost.Webhook {
	v := outpost.Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if v.Events == nil {
		v.Events = []string{}
	}
	return v
}

func deliveryView(d store.WebhookDelivery, eventType string) outpost.Delivery {
	return outpost.Delivery{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: eventType,
		Status: d.Status, Attempts: d.Attempts, ResponseCode: d.ResponseCode, LastError: d.LastError,
		NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (v *views) brandKit(ctx context.Context, k store.BrandKit) outpost.BrandKit {
	out := outpost.BrandKit{ID: k.ID, Slug: k.Slug, Name: k.Name, Client: k.Client,
		IntroProjectID: k.IntroProjectID, OutroProjectID: k.OutroProjectID, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt}
	if k.WatermarkKey != "" {
		w := &outpost.Watermark{Format: k.WatermarkFormat, Position: k.Position, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity}
		if link, _, err := v.blob.SignedURL(ctx, k.WatermarkKey, downloadLinkTTL, k.Slug+"."+k.WatermarkFormat); err == nil {
			w.URL = link
		} else {
			v.logger.WarnContext(ctx, "sign watermark link", slog.String("brand_kit_id", k.ID), slog.Any("error", err))
		}
		out.Watermark = w
	}
	return out
}
