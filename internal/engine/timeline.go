package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
)

// Timeline is an ordered list of clips exported as one video (see
// render.Timeline), as written in a timeline file:
//
//	{"clips": [{"source": "intro.mp4"}, {"source": "master.mp4", "in": 12, "out": 42.5}],
//	 "crossfade_seconds": 0.5,
//	 "audio_bed": {"source": "music.mp3", "volume": 0.3, "duck": true}}
type Timeline struct {
	Clips []TimelineClip `json:"clips"`
	// Crossfade is the cross-dissolve between clips in seconds; 0 cuts.
	Crossfade float64 `json:"crossfade_seconds,omitempty"`
	Bed       *Bed    `json:"audio_bed,omitempty"`
	// Main is the clip whose size and frame rate the video takes (0, the
	// first, by default).
	Main int `json:"main,omitempty"`
	// lead and tail count the brand kit's intro and outro clips
	// Request.timeline puts around the programme.
	lead, tail int
}

// TimelineClip is a part of one source file.
type TimelineClip struct {
	Source string `json:"source"`
	// In and Out are in seconds of the source; Out 0 means its end.
	In  float64 `json:"in,omitempty"`
	Out float64 `json:"out,omitempty"`
}

// Bed is music mixed under a timeline.
type Bed struct {
	Source string  `json:"source"`
	Volume float64 `json:"volume,omitempty"` // 0 means 0.3
	Duck   bool    `json:"duck,omitempty"`
}

// ReadTimeline reads a timeline file; relative sources are relative to the
// file's folder.
func ReadTimeline(path string) (*Timeline, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errcode.New(errcode.TimelineInvalid, "no timeline file at %s", path)
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.TimelineInvalid, err, "read "+path)
	}
	var tl Timeline
	if err := json.Unmarshal(b, &tl); err != nil {
		return nil, errcode.Wrap(errcode.TimelineInvalid, err, filepath.Base(path)+" is not a timeline (JSON with \"clips\")")
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i := range tl.Clips {
		tl.Clips[i].Source = rel(tl.Clips[i].Source)
	}
	if tl.Bed != nil {
		tl.Bed.Source = rel(tl.Bed.Source)
	}
	return &tl, nil
}

// timeline returns what req renders as a render.Timeline: its Timeline, or
// its Source, with the Intro and Outro around it; nil when it is a plain
// source.
func (req *Request) timeline() *Timeline {
	if req.Timeline == nil && req.Intro == "" && req.Outro == "" {
		return nil
	}
	tl := Timeline{Clips: []TimelineClip{{Source: req.Source}}}
	if req.Timeline != nil {
		tl = *req.Timeline
		tl.Clips = append([]TimelineClip(nil), req.Timeline.Clips...)
	}
	if req.Intro != "" {
		tl.Clips = append([]TimelineClip{{Source: req.Intro}}, tl.Clips...)
		tl.Main++
		tl.lead = 1
	}
	if req.Outro != "" {
		tl.Clips = append(tl.Clips, TimelineClip{Source: req.Outro})
		tl.tail = 1
	}
	return &tl
}

// probeTimeline probes every clip once and returns the timeline to render
// and the source it amounts to.
func (e *Engine) probeTimeline(ctx context.Context, tl *Timeline) (*media.Info, *render.Timeline, error) {
	if len(tl.Clips) == 0 {
		return nil, nil, errcode.New(errcode.TimelineInvalid, "a timeline needs at least one clip")
	}
	if len(tl.Clips) > render.MaxClips {
		return nil, nil, errcode.New(errcode.TimelineInvalid, "a timeline has at most %d clips, got %d", render.MaxClips, len(tl.Clips))
	}
	rt := &render.Timeline{Crossfade: tl.Crossfade, Main: tl.Main, Lead: tl.lead, Tail: tl.tail}
	probed := map[string]*media.Info{}
	for i, c := range tl.Clips {
		if c.Source == "" {
			return nil, nil, errcode.New(errcode.TimelineInvalid, "clip %d has no source", i+1)
		}
		info := probed[c.Source]
		if info == nil {
			var err error
			if info, err = e.Prober.Probe(ctx, c.Source); err != nil {
				ce := errcode.As(err)
				return nil, nil, &errcode.Error{Code: ce.Code, Message: fmt.Sprintf("clip %d (%s): %s", i+1, filepath.Base(c.Source), ce.Message), Err: err}
			}
			probed[c.Source] = info
		}
		rt.Clips = append(rt.Clips, render.Clip{Info: info, In: c.In, Out: c.Out})
	}
	if b := tl.Bed; b != nil {
		info, err := e.Prober.Probe(ctx, b.Source)
		if err != nil {
			return nil, nil, &errcode.Error{Code: errcode.TimelineInvalid, Message: "audio bed " + filepath.Base(b.Source) + ": " + errcode.As(err).Message, Err: err}
		}
		if info.Audio == nil {
			return nil, nil, errcode.New(errcode.TimelineInvalid, "audio bed %s has no sound", filepath.Base(b.Source))
		}
		rt.Bed = &render.AudioBed{Path: b.Source, Volume: b.Volume, Duck: b.Duck}
	}
	src, err := rt.Source()
	if err != nil {
		return nil, nil, err
	}
	return src, rt, nil
}
