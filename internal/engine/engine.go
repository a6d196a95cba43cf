// Package engine runs one export end to end on local files: probe the
// source, refuse targets it can never satisfy, plan one ffmpeg run, run it
// with progress, check every output against its platform's rules, and move
// the files that pass to their final names. The CLI calls it directly; the
// service's jobs call it per stage.
package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// Stage names, as shown to people.
const (
	StageProbe  = "probe"
	StageRender = "render"
	StageCheck  = "check"
)

// Event is a progress report.
type Event struct {
	Stage   string        `json:"stage"`
	Percent float64       `json:"percent"`
	FPS     float64       `json:"fps,omitempty"`
	Speed   float64       `json:"speed,omitempty"`
	ETA     time.Duration `json:"eta,omitempty"`
	Done    bool          `json:"done,omitempty"`
}

// Request is one export of one source.
type Request struct {
	Source  string
	Targets []render.Target
	OutDir  string
}

// Result is what became of one target.
type Result struct {
	Preset      string       `json:"preset"`
	Path        string       `json:"path,omitempty"`
	SizeBytes   int64        `json:"size_bytes,omitempty"`
	Duration    float64      `json:"duration_seconds,omitempty"`
	VideoCodec  string       `json:"video_codec,omitempty"`
	AudioCodec  string       `json:"audio_codec,omitempty"`
	Width       int          `json:"width,omitempty"`
	Height      int          `json:"height,omitempty"`
	FPS         float64      `json:"fps,omitempty"`
	Passthrough bool         `json:"passthrough"`
	SilentAudio bool         `json:"silent_audio,omitempty"`
	Fit         string       `json:"fit,omitempty"`
	Check       *CheckReport `json:"check,omitempty"`
	Error       *ErrorInfo   `json:"error,omitempty"`
	// Output is the plan's output for this target; nil when the target
	// was refused before rendering.
	Output *render.Output `json:"-"`
	preset preset.Preset
}

// CheckReport is the outcome of checking a file against its preset's rules.
type CheckReport struct {
	OK         bool               `json:"ok"`
	Violations []preset.Violation `json:"violations,omitempty"`
}

// ErrorInfo is a failure in a form fit for JSON.
type ErrorInfo struct {
	Code    errcode.Code `json:"code"`
	Message string       `json:"message"`
	Remedy  string       `json:"remedy,omitempty"`
}

// Info converts err for JSON output.
func Info(err error) *ErrorInfo {
	if err == nil {
		return nil
	}
	e := errcode.As(err)
	msg := e.Message
	if msg == "" {
		msg = e.Error()
	}
	return &ErrorInfo{Code: e.Code, Message: msg, Remedy: e.RemedyText()}
}

// Engine holds the process boundary.
type Engine struct {
	Prober *media.Prober
	Runner *media.Runner
	Logger *slog.Logger
}

// Prepare probes the source and plans the render. Targets the source can
// never satisfy get an error result and are left out of the plan, which is
// nil when no target is left.
func (e *Engine) Prepare(ctx context.Context, req Request) (*media.Info, *render.Plan, []Result, error) {
	src, err := e.Prober.Probe(ctx, req.Source)
	if err != nil {
		return nil, nil, nil, err
	}
	if src.Video == nil {
		return src, nil, nil, errcode.New(errcode.SourceNoVideo, "%s has no video stream (audio only?)", filepath.Base(req.Source))
	}
	results := make([]Result, len(req.Targets))
	var keep []render.Target
	var keepIdx []int
	for i, t := range req.Targets {
		results[i].Preset = t.Preset.ID
		results[i].preset = t.Preset
		if vs := t.Preset.CheckSource(src); len(vs) > 0 {
			results[i].Check = &CheckReport{Violations: vs}
			results[i].Error = &ErrorInfo{Code: errcode.PlatformRule, Message: vs[0].Message, Remedy: vs[0].Remedy}
			continue
		}
		keep = append(keep, t)
		keepIdx = append(keepIdx, i)
	}
	if len(keep) == 0 {
		return src, nil, results, nil
	}
	plan, err := render.Build(src, keep, render.Options{OutDir: req.OutDir})
	if err != nil {
		return src, nil, nil, err
	}
	for k, i := range keepIdx {
		o := plan.Outputs[k]
		results[i].Output = &plan.Outputs[k]
		results[i].Passthrough = o.Passthrough
		results[i].SilentAudio = o.SilentAudio
		results[i].Fit = o.Fit
	}
	return src, plan, results, nil
}

// Export runs a whole export. It returns the per-target results; err is set
// when nothing could be produced (unreadable source, ffmpeg failure,
// cancellation). Files that fail their check are removed, never left under
// their final names.
func (e *Engine) Export(ctx context.Context, req Request, progress func(Event)) ([]Result, error) {
	if progress == nil {
		progress = func(Event) {}
	}
	progress(Event{Stage: StageProbe})
	src, plan, results, err := e.Prepare(ctx, req)
	if err != nil {
		return results, err
	}
	progress(Event{Stage: StageProbe, Percent: 100, Done: true})
	if plan == nil {
		return results, nil
	}
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return results, errcode.Wrap(errcode.OutputWriteFailed, err, "create the output folder")
	}
	start := time.Now()
	err = e.Runner.Run(ctx, plan.Args(), src.Duration, func(p media.Progress) {
		progress(Event{Stage: StageRender, Percent: p.Percent, FPS: p.FPS, Speed: p.Speed, ETA: p.ETA})
	})
	if err != nil {
		removeTemps(plan)
		for i := range results {
			if results[i].Output != nil {
				results[i].Error = Info(err)
			}
		}
		return results, err
	}
	progress(Event{Stage: StageRender, Percent: 100, Done: true})
	e.Logger.Debug("rendered", "source", req.Source, "outputs", len(plan.Outputs), "elapsed", time.Since(start))

	n := len(plan.Outputs)
	done := 0
	for i := range results {
		r := &results[i]
		if r.Output == nil {
			continue
		}
		e.check(ctx, r)
		done++
		progress(Event{Stage: StageCheck, Percent: 100 * float64(done) / float64(n)})
	}
	progress(Event{Stage: StageCheck, Percent: 100, Done: true})
	return results, nil
}

// check probes one rendered file and, when it passes its preset's rules,
// renames it to its final path. A file that fails is removed.
func (e *Engine) check(ctx context.Context, r *Result) {
	o := r.Output
	info, err := e.Prober.Probe(ctx, o.TempPath)
	if err != nil {
		_ = os.Remove(o.TempPath)
		r.Error = Info(errcode.Wrap(errcode.CheckFailed, err, "probe the rendered "+o.PresetID))
		return
	}
	r.SizeBytes, r.Duration = info.SizeBytes, info.Duration
	if v := info.Video; v != nil {
		r.VideoCodec, r.Width, r.Height, r.FPS = v.Codec, v.Width, v.Height, v.FrameRate
	}
	if a := info.Audio; a != nil {
		r.AudioCodec = a.Codec
	}
	vs := r.preset.Check(info)
	r.Check = &CheckReport{OK: len(vs) == 0, Violations: vs}
	if len(vs) > 0 {
		_ = os.Remove(o.TempPath)
		r.Error = &ErrorInfo{Code: errcode.PlatformRule, Message: vs[0].String(), Remedy: vs[0].Remedy}
		return
	}
	if err := os.Rename(o.TempPath, o.Path); err != nil {
		_ = os.Remove(o.TempPath)
		r.Error = Info(errcode.Wrap(errcode.OutputWriteFailed, err, "move the rendered file into place"))
		return
	}
	r.Path = o.Path
}

// removeTemps deletes every temp file of a failed or canceled plan.
func removeTemps(plan *render.Plan) {
	for _, o := range plan.Outputs {
		_ = os.Remove(o.TempPath)
	}
}
