package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
	"outpost/internal/store"
)

// kitSnapshot is a brand kit as an export accepted it: a kit edited later
// does not change an accepted export (a replaced watermark gets a new blob
// key; the old one stays while exports use it).
type kitSnapshot struct {
	ID              string  `json:"id"`
	Slug            string  `json:"slug"`
	WatermarkKey    string  `json:"watermark_key,omitempty"`
	WatermarkFormat string  `json:"watermark_format,omitempty"`
	Position        string  `json:"position,omitempty"`
	Margin          float64 `json:"margin,omitempty"`
	Width           float64 `json:"width,omitempty"`
	Opacity         float64 `json:"opacity,omitempty"`
	IntroProjectID  string  `json:"intro_project_id,omitempty"`
	OutroProjectID  string  `json:"outro_project_id,omitempty"`
}

// resolveKit finds the workspace's brand kit by id or slug; nil for "".
func (s *Service) resolveKit(ctx context.Context, workspaceID, ref string) (*kitSnapshot, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, nil
	}
	k, err := s.store.FindBrandKit(ctx, workspaceID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errcode.New(errcode.NotFound, "brand kit %q not found", ref)
	}
	if err != nil {
		return nil, err
	}
	return &kitSnapshot{ID: k.ID, Slug: k.Slug, WatermarkKey: k.WatermarkKey, WatermarkFormat: k.WatermarkFormat,
		Position: k.Position, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity,
		IntroProjectID: k.IntroProjectID, OutroProjectID: k.OutroProjectID}, nil
}

// clipProject returns a project usable as a clip (a timeline's, an intro,
// an outro): in the workspace, ready, with a source file.
func (s *Service) clipProject(ctx context.Context, workspaceID, id, what string) (store.Project, *media.Info, error) {
	prj, err := s.store.GetProject(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && prj.WorkspaceID != workspaceID {
		return prj, nil, errcode.New(errcode.NotFound, "%s: project %s not found", what, id)
	}
	if err != nil {
		return prj, nil, err
	}
	if prj.Status != store.ProjectReady || prj.SourceKey == "" || len(prj.Probe) == 0 {
		return prj, nil, errcode.New(errcode.TimelineInvalid, "%s: project %s is not a ready video (status %s, kind %s)", what, id, prj.Status, prj.Kind)
	}
	info := &media.Info{}
	if err := json.Unmarshal(prj.Probe, info); err != nil {
		return prj, nil, fmt.Errorf("read project %s probe: %w", id, err)
	}
	return prj, info, nil
}

// Timeline is a timeline project's clips, as the API takes them and the
// project's Timeline column keeps them.
type Timeline struct {
	Clips []TimelineClip `json:"clips"`
	// Crossfade is the cross-dissolve between clips in seconds; 0 cuts.
	Crossfade float64 `json:"crossfade_seconds,omitempty"`
	// AudioBedProjectID is a project whose sound is mixed under the
	// timeline at AudioBedVolume (0 means 0.3); "" for none.
	AudioBedProjectID string  `json:"audio_bed_project_id,omitempty"`
	AudioBedVolume    float64 `json:"audio_bed_volume,omitempty"`
	// Main is the clip whose size and frame rate the video takes.
	Main int `json:"main,omitempty"`
}

// TimelineClip is a part of a project's source.
type TimelineClip struct {
	ProjectID string  `json:"project_id"`
	In        float64 `json:"in,omitempty"`
	Out       float64 `json:"out,omitempty"` // 0: the end
}

// TimelineProject is a request to make a timeline project.
type TimelineProject struct {
	Name, Client, Campaign string
	Timeline               Timeline
}

// CreateTimelineProject checks a timeline against its clips' projects and
// stores it as a ready project, whose probe describes the joined video
// (render.Timeline.Source), so exports validate it like any source.
func (s *Service) CreateTimelineProject(ctx context.Context, workspaceID string, req TimelineProject) (store.Project, error) {
	tl := req.Timeline
	info, err := s.timelineSource(ctx, workspaceID, tl)
	if err != nil {
		return store.Project{}, err
	}
	raw, err := json.Marshal(tl)
	if err != nil {
		return store.Project{}, fmt.Errorf("encode timeline: %w", err)
	}
	info.Path = ""
	probe, err := json.Marshal(info)
	if err != nil {
		return store.Project{}, fmt.Errorf("encode probe: %w", err)
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = fmt.Sprintf("Timeline of %d clips", len(tl.Clips))
	}
	return s.store.CreateProject(ctx, store.Project{WorkspaceID: workspaceID, Name: name, Kind: store.ProjectTimeline,
		Timeline: raw, Probe: probe, Status: store.ProjectReady, Client: strings.TrimSpace(req.Client),
		Campaign: strings.TrimSpace(req.Campaign), Duration: info.Duration})
}

// timelineSource validates tl with its projects' probes and returns the
// source it amounts to.
func (s *Service) timelineSource(ctx context.Context, workspaceID string, tl Timeline) (*media.Info, error) {
	if len(tl.Clips) == 0 {
		return nil, errcode.New(errcode.TimelineInvalid, "timeline.clips: give at least one clip")
	}
	if len(tl.Clips) > render.MaxClips {
		return nil, errcode.New(errcode.TimelineInvalid, "timeline.clips: at most %d", render.MaxClips)
	}
	rt := render.Timeline{Crossfade: tl.Crossfade, Main: tl.Main}
	for i, c := range tl.Clips {
		_, info, err := s.clipProject(ctx, workspaceID, c.ProjectID, fmt.Sprintf("timeline.clips[%d]", i))
		if err != nil {
			return nil, err
		}
		info.Path = c.ProjectID
		rt.Clips = append(rt.Clips, render.Clip{Info: info, In: c.In, Out: c.Out})
	}
	if tl.AudioBedProjectID != "" {
		_, info, err := s.clipProject(ctx, workspaceID, tl.AudioBedProjectID, "timeline.audio_bed_project_id")
		if err != nil {
			return nil, err
		}
		if info.Audio == nil {
			return nil, errcode.New(errcode.TimelineInvalid, "timeline.audio_bed_project_id: project %s has no sound", tl.AudioBedProjectID)
		}
		rt.Bed = &render.AudioBed{Path: tl.AudioBedProjectID, Volume: tl.AudioBedVolume}
	}
	return rt.Source()
}

// localTimeline turns a timeline project into an engine timeline of local
// files in dir.
func (s *Service) localTimeline(ctx context.Context, workspaceID string, raw json.RawMessage, dir string) (*engine.Timeline, error) {
	var tl Timeline
	if err := json.Unmarshal(raw, &tl); err != nil {
		return nil, errcode.Wrap(errcode.TimelineInvalid, err, "read the project's timeline")
	}
	out := &engine.Timeline{Crossfade: tl.Crossfade, Main: tl.Main}
	for i, c := range tl.Clips {
		p, err := s.clipPath(ctx, workspaceID, c.ProjectID, dir, fmt.Sprintf("timeline clip %d", i+1))
		if err != nil {
			return nil, err
		}
		out.Clips = append(out.Clips, engine.TimelineClip{Source: p, In: c.In, Out: c.Out})
	}
	if tl.AudioBedProjectID != "" {
		p, err := s.clipPath(ctx, workspaceID, tl.AudioBedProjectID, dir, "audio bed")
		if err != nil {
			return nil, err
		}
		out.Bed = &engine.Bed{Source: p, Volume: tl.AudioBedVolume}
	}
	return out, nil
}

// clipPath is a local path of a clip project's source.
func (s *Service) clipPath(ctx context.Context, workspaceID, id, dir, what string) (string, error) {
	prj, _, err := s.clipProject(ctx, workspaceID, id, what)
	if err != nil {
		if errcode.Of(err) == errcode.NotFound {
			err = errcode.Wrap(errcode.SourceNotFound, err, what+" is gone")
		}
		return "", err
	}
	return s.sourcePath(ctx, prj, dir)
}

// kitWatermark is the render watermark of a kit whose image is at p.
func kitWatermark(k *kitSnapshot, p string) (*render.Watermark, error) {
	pos, err := render.ParsePosition(k.Position)
	if err != nil {
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "brand kit "+k.Slug)
	}
	return &render.Watermark{Path: p, Position: pos, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity}, nil
}

// BrandKitKey is where a kit's watermark image is stored: a new key per
// upload, so exports that snapshotted the old one keep it.
func BrandKitKey(kitID, format string) (string, error) {
	return blob.Key("brand-kits", kitID, store.NewID("img")+"."+path.Clean(format))
}

// clipRef is an intro or outro project as accepted.
type clipRef struct {
	id       string
	duration float64
}

// introOutro picks the export's intro and outro: the request's (the word
// "none" for none), else the targets' brand kits', which must agree, since
// one render joins one pair to every target.
func (s *Service) introOutro(ctx context.Context, workspaceID string, req ExportRequest, ts []resolvedTarget) (clipRef, clipRef, error) {
	pick := func(explicit, what string, fromKit func(*kitSnapshot) string) (clipRef, error) {
		id := strings.TrimSpace(explicit)
		if id == "" {
			seen := false
			for i, t := range ts {
				var k string
				if t.Kit != nil {
					k = fromKit(t.Kit)
				}
				if seen && k != id {
					return clipRef{}, errcode.New(errcode.InvalidOption,
						"targets[%d]: its brand kit has another %s than the other targets': one export has one %s (use variants, or %s_project_id)", i, what, what, what)
				}
				id, seen = k, true
			}
		}
		if id == "" || strings.EqualFold(id, "none") {
			return clipRef{}, nil
		}
		_, info, err := s.clipProject(ctx, workspaceID, id, what)
		if err != nil {
			return clipRef{}, err
		}
		return clipRef{id: id, duration: info.Duration}, nil
	}
	intro, err := pick(req.IntroProjectID, "intro", func(k *kitSnapshot) string { return k.IntroProjectID })
	if err != nil {
		return intro, clipRef{}, err
	}
	outro, err := pick(req.OutroProjectID, "outro", func(k *kitSnapshot) string { return k.OutroProjectID })
	return intro, outro, err
}
