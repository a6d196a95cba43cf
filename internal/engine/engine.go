// Package engine runs one export end to end on local files: probe the
// source, refuse targets it can never satisfy, plan one ffmpeg run, run it
// with progress, check every output against its platform's rules, and move
// the files that pass to their final names. The CLI calls it directly; the
// service's jobs call it per stage.
package engine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"outpost/internal/caption"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// Stage names, as shown to people.
const (
	StageProbe = "probe"
	// StageAudio measures the source's loudness ("Processing audio"),
	// when a target normalises it.
	StageAudio  = "audio"
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
	// OutTime is how many seconds of output the render has written, of
	// Total (render events only): what an eta.Estimator observes.
	OutTime float64 `json:"out_time,omitempty"`
	Total   float64 `json:"total,omitempty"`
}

// Request is one export of one source.
type Request struct {
	Source  string
	Targets []render.Target
	OutDir  string
	// Captions is an SRT or WebVTT file; each target's Captions say how it
	// carries them. Empty: none.
	Captions string
	// CaptionsLanguage is the captions' language as a BCP 47 tag ("en",
	// "pt-BR"), set on soft tracks; empty: undetermined.
	CaptionsLanguage string
	// ThumbnailAt takes thumbnails (of targets with Thumbnail set) at this
	// many seconds; nil lets the engine choose a frame.
	ThumbnailAt *float64
	// Preview renders each target's preview instead (render.PreviewTarget):
	// DIR/<preset>.preview.mp4.
	Preview *Preview
	// Timeline, when set, is rendered instead of Source: its clips joined
	// in the one render.
	Timeline *Timeline
	// Intro and Outro are clips played before and after the source or
	// timeline (a brand kit's); "" for none.
	Intro, Outro string
	// ThumbnailImage, when set, is a JPEG or PNG used as every target's
	// thumbnail instead of a frame (cropped to the target's aspect).
	ThumbnailImage string
	// Segments, above 1, renders the video in that many segments, each
	// its own ffmpeg process, run at once and joined without re-encoding
	// (render.BuildSegmented). The render stays one pass where the source
	// is shorter than two segments of Engine.SegmentMinSeconds, has too
	// few keyframes, or has nothing to encode; previews are one pass.
	Segments int
	// Parts, with Segments, joins the parts of the segmented render that
	// were rendered elsewhere (RenderPart) instead of rendering them: it
	// puts their files in place, then the joins, checks and finishing run
	// as for a local render. An export that does not render in segments
	// fails with ErrNotSegmented.
	Parts PartsFunc
	// Loudness, when set, is the source's loudness as measured already
	// (by the job that planned a segmented render's parts): the render
	// uses it rather than measuring again, a full decode of the audio.
	Loudness *media.Loudness
	// Cuts, with Segments, are the segments as the render that planned
	// them cut the source (PrepareSegmented): the parts and the join
	// render those cuts without reading the source's keyframes again
	// (which reads every packet of it), and every node renders the same.
	Cuts []render.Segment
}

// Preview is a fast, low-resolution render of an export's settings.
type Preview struct {
	// Seconds is how much of the start to render; 0 means all of it.
	Seconds float64
	// MaxSide bounds the frame's long side; 0 means render.PreviewMaxSide.
	MaxSide int
}

// Result is what became of one target.
type Result struct {
	Preset      string  `json:"preset"`
	Path        string  `json:"path,omitempty"`
	SizeBytes   int64   `json:"size_bytes,omitempty"`
	Duration    float64 `json:"duration_seconds,omitempty"`
	VideoCodec  string  `json:"video_codec,omitempty"`
	AudioCodec  string  `json:"audio_codec,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	FPS         float64 `json:"fps,omitempty"`
	Passthrough bool    `json:"passthrough"`
	// SharesFileWith names the other targets (preset ids) delivered as
	// the same file: one encode served them all, and each passed its own
	// check. The CLI writes hard links (a copy where the folder takes
	// none); the service stores the file once.
	SharesFileWith []string `json:"shares_file_with,omitempty"`
	SilentAudio    bool     `json:"silent_audio,omitempty"`
	Fit            string   `json:"fit,omitempty"`
	// Loudness describes the loudness normalisation applied, if any.
	Loudness string `json:"loudness,omitempty"`
	// Captions is the sidecar caption file; Thumbnail the still picture.
	Captions  string       `json:"captions,omitempty"`
	Thumbnail string       `json:"thumbnail,omitempty"`
	Check     *CheckReport `json:"check,omitempty"`
	Error     *ErrorInfo   `json:"error,omitempty"`
	// Warnings are about a file that was made all the same (warning.go).
	Warnings []Warning `json:"warnings,omitempty"`
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
	// Threads caps ffmpeg's threads per render (render.Options.Threads);
	// 0 leaves ffmpeg's choice.
	Threads int
	// SegmentMinSeconds is the shortest segment of a segmented render; 0
	// means DefaultSegmentMinSeconds.
	SegmentMinSeconds float64
	// Hardware encodes the H.264 targets on that family's encoder
	// (render.Options.Hardware); set by UseEncoder, which probes it.
	Hardware render.Hardware
}

// Prepare probes the source, measures its loudness when a target
// normalises it, and plans the render. Targets the source can never satisfy
// get an error result and are left out of the plan, which is nil when no
// target is left. It writes nothing.
func (e *Engine) Prepare(ctx context.Context, req Request) (*media.Info, *render.Plan, []Result, error) {
	p, err := e.prepare(ctx, req, func(Event) {})
	if p == nil {
		return nil, nil, nil, err
	}
	return p.src, p.plan, p.results, err
}

// prepared is an export ready to run.
type prepared struct {
	src     *media.Info
	plan    *render.Plan
	results []Result
	cues    []caption.Cue
	workDir string
	// thumbnailImage replaces the rendered thumbnails.
	thumbnailImage string
	// segmented, when set, renders plan in segments.
	segmented *render.Segmented
	// loudness is the source's, when a target normalises it.
	loudness *media.Loudness
}

func (e *Engine) prepare(ctx context.Context, req Request, progress func(Event)) (*prepared, error) {
	p := &prepared{}
	src, tl, err := e.source(ctx, &req)
	if err != nil {
		return nil, err
	}
	p.src = src
	if src.Video == nil {
		return p, errcode.New(errcode.SourceNoVideo, "%s has no video stream (audio only?)", filepath.Base(req.Source))
	}
	p.results = make([]Result, len(req.Targets))
	var keep []render.Target
	var keepIdx []int
	for i, t := range req.Targets {
		if req.Preview != nil {
			t = render.PreviewTarget(t, src.Video.Width, src.Video.Height, req.Preview.MaxSide)
		}
		p.results[i].Preset = t.Preset.ID
		p.results[i].preset = t.Preset
		if vs := t.Preset.CheckSource(src); len(vs) > 0 {
			p.results[i].Check = &CheckReport{Violations: vs}
			p.results[i].Error = &ErrorInfo{Code: errcode.PlatformRule, Message: vs[0].Message, Remedy: vs[0].Remedy}
			continue
		}
		keep = append(keep, t)
		keepIdx = append(keepIdx, i)
	}
	if len(keep) == 0 {
		return p, nil
	}
	if req.Captions != "" {
		if p.cues, err = readCaptions(req.Captions, src.Duration); err != nil {
			return p, err
		}
	}
	for _, t := range keep {
		if t.Watermark != nil {
			if err := e.checkWatermark(ctx, t.Watermark.Path); err != nil {
				return p, err
			}
		}
	}
	// Absolute: ffmpeg reads a relative "a:b/x.ass" as a URL.
	outDir, err := filepath.Abs(req.OutDir)
	if err != nil {
		return p, errcode.Wrap(errcode.OutputWriteFailed, err, "resolve the output folder")
	}
	p.workDir = filepath.Join(outDir, workDirName())
	opts := render.Options{OutDir: req.OutDir, WorkDir: p.workDir, ThumbnailAt: req.ThumbnailAt, Timeline: tl, Threads: e.Threads, Hardware: e.Hardware}
	if req.ThumbnailImage != "" {
		if err := checkThumbnailImage(req.ThumbnailImage); err != nil {
			return p, err
		}
		// One frame, replaced by the image when the file is checked.
		zero := 0.0
		opts.ThumbnailAt = &zero
		p.thumbnailImage = req.ThumbnailImage
	}
	if req.Captions != "" {
		opts.Captions = filepath.Join(p.workDir, "captions.srt")
		if opts.CaptionsLanguage, err = caption.TrackLanguage(req.CaptionsLanguage); err != nil {
			return p, err
		}
	}
	opts.FastDecode = req.Preview != nil
	if pv := req.Preview; pv != nil && pv.Seconds > 0 && pv.Seconds < src.Duration {
		// From the start: the burned-in captions' times stay right.
		opts.Sample = &render.Span{Start: 0, Duration: pv.Seconds}
	}
	if render.NeedsLoudness(src, keep) && tl != nil {
		return p, errcode.New(errcode.InvalidOption, "loudness normalisation is not available for timelines and intros yet: leave --loudness off")
	}
	if render.NeedsLoudness(src, keep) && req.Loudness != nil {
		opts.Loudness = req.Loudness
	} else if render.NeedsLoudness(src, keep) {
		progress(Event{Stage: StageAudio})
		opts.Loudness, err = e.Runner.MeasureLoudness(ctx, src.Path, src.Duration, func(pr media.Progress) {
			progress(Event{Stage: StageAudio, Percent: pr.Percent, Speed: pr.Speed, ETA: pr.ETA})
		})
		if err != nil {
			return p, err
		}
		e.Logger.Debug("loudness measured", "source", req.Source, "integrated_lufs", opts.Loudness.Integrated, "true_peak_dbtp", opts.Loudness.TruePeak)
		progress(Event{Stage: StageAudio, Percent: 100, Done: true})
	}
	p.loudness = opts.Loudness
	plan, err := render.Build(src, keep, opts)
	if err != nil {
		return p, err
	}
	if req.Segments > 1 && req.Preview == nil {
		if p.segmented, err = e.segmented(ctx, src, keep, opts, req.Segments, req.Cuts, filepath.Join(p.workDir, segmentDirName)); err != nil {
			return p, err
		}
		if p.segmented != nil {
			// The same outputs, planned again as the segmented plan's.
			plan = p.segmented.Whole
		}
	}
	p.plan = plan
	for k, i := range keepIdx {
		o := plan.Outputs[k]
		r := &p.results[i]
		r.Output = &plan.Outputs[k]
		r.Passthrough = o.Passthrough
		r.SilentAudio = o.SilentAudio
		r.Fit = o.Fit
		r.Loudness = o.Loudness
	}
	return p, nil
}

// source probes what req renders: its source, or its timeline (with the
// intro and outro), which also comes back for the plan.
func (e *Engine) source(ctx context.Context, req *Request) (*media.Info, *render.Timeline, error) {
	if tl := req.timeline(); tl != nil {
		return e.probeTimeline(ctx, tl)
	}
	src, err := e.Prober.Probe(ctx, req.Source)
	return src, nil, err
}

// Export runs a whole export. It returns the per-target results; err is set
// when nothing could be produced (unreadable source, invalid captions,
// ffmpeg failure, cancellation). Files that fail their check are removed,
// never left under their final names.
func (e *Engine) Export(ctx context.Context, req Request, progress func(Event)) ([]Result, error) {
	if progress == nil {
		progress = func(Event) {}
	}
	progress(Event{Stage: StageProbe})
	probed := false
	probeDone := func() {
		if !probed {
			probed = true
			progress(Event{Stage: StageProbe, Percent: 100, Done: true})
		}
	}
	p, err := e.prepare(ctx, req, func(ev Event) {
		// The probe is over once the audio is being measured.
		probeDone()
		progress(ev)
	})
	if p == nil {
		return nil, err
	}
	if err != nil {
		return p.results, err
	}
	probeDone()
	plan, results := p.plan, p.results
	if plan == nil {
		return results, nil
	}
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return results, errcode.Wrap(errcode.OutputWriteFailed, err, "create the output folder")
	}
	if err := os.Mkdir(p.workDir, 0o755); err != nil {
		return results, errcode.Wrap(errcode.OutputWriteFailed, err, "create the work folder")
	}
	defer os.RemoveAll(p.workDir)
	if err := writeRenderFiles(p); err != nil {
		return results, err
	}
	start := time.Now()
	var rep media.Report
	switch {
	case p.segmented != nil && req.Parts != nil:
		rep, err = e.joinParts(ctx, p, req.Parts)
	case p.segmented != nil:
		rep, err = e.renderSegmented(ctx, p.segmented, progress)
	case req.Parts != nil:
		err = ErrNotSegmented
	default:
		rep, err = e.Runner.RunReport(ctx, plan.Args(), plan.Duration, func(pr media.Progress) {
			progress(Event{Stage: StageRender, Percent: pr.Percent, FPS: pr.FPS, Speed: pr.Speed, ETA: pr.ETA,
				OutTime: pr.OutTime, Total: plan.Duration})
		})
	}
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
	shareFiles(results)

	// Outputs are checked side by side: a check mostly waits on ffprobe,
	// and the thumbnail pick beside it is Go work. Outputs that are one
	// file share its probe and thumbnail candidates.
	n := len(plan.Outputs)
	var (
		mu     sync.Mutex
		done   int
		wg     sync.WaitGroup
		sem    = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
		probes = map[string]func() (*media.Info, error){}
		picks  = map[string]func() ([]byte, error){}
	)
	for i := range results {
		o := results[i].Output
		if o == nil {
			continue
		}
		if file := o.File(); probes[file] == nil {
			probes[file] = sync.OnceValues(func() (*media.Info, error) { return e.Prober.Probe(ctx, o.TempPath) })
		}
		if th := o.Thumbnail; th != nil && picks[th.Pattern] == nil {
			picks[th.Pattern] = sync.OnceValues(func() ([]byte, error) { return pickThumbnail(th) })
		}
	}
	for i := range results {
		r := &results[i]
		if r.Output == nil {
			continue
		}
		var pick func() ([]byte, error)
		if th := r.Output.Thumbnail; th != nil {
			pick = picks[th.Pattern]
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			e.checkAndFinish(ctx, r, probes[r.Output.File()], pick, p.cues, p.thumbnailImage)
			mu.Lock()
			done++
			progress(Event{Stage: StageCheck, Percent: 100 * float64(done) / float64(n)})
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := range results {
		results[i].SharesFileWith = delivered(results, results[i].Output, i)
	}

	warn(results, renderWarnings(rep))
	progress(Event{Stage: StageCheck, Percent: 100, Done: true})
	return results, nil
}

// shareFiles gives each output that shares another's file (the render
// wrote it once) its own name for it: a hard link, or a copy where the
// folder takes no links. An output whose copy fails gets the error.
func shareFiles(results []Result) {
	for i := range results {
		o := results[i].Output
		if o == nil || o.SharedFile == "" {
			continue
		}
		if err := linkOrCopy(o.SharedFile, o.TempPath); err != nil {
			results[i].Error = Info(errcode.Wrap(errcode.OutputWriteFailed, err, "copy the shared file for "+o.PresetID))
			results[i].Output = nil
		}
	}
}

// linkOrCopy makes dst the same bytes as src: a hard link, or a copy.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		_ = os.Remove(dst)
		return err
	}
	return out.Close()
}

// delivered names the targets other than results[self] that were
// delivered as o's file.
func delivered(results []Result, o *render.Output, self int) []string {
	if o == nil || len(o.SharesEncodeWith) == 0 || results[self].Path == "" {
		return nil
	}
	var ids []string
	for j, r := range results {
		if j != self && r.Path != "" && r.Output != nil && r.Output.File() == o.File() {
			ids = append(ids, r.Preset)
		}
	}
	return ids
}

// checkAndFinish checks one rendered file and, while ffprobe reads it,
// writes its sidecar captions and picks its thumbnail; those are removed
// again when the file fails its check. probe reads the file (once for all
// the outputs that are that file); pick chooses the thumbnail (once per
// set of candidates).
func (e *Engine) checkAndFinish(ctx context.Context, r *Result, probe func() (*media.Info, error), pick func() ([]byte, error),
	cues []caption.Cue, thumbnailImage string,
) {
	fin := &Result{Output: r.Output}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		e.finish(fin, pick, cues, thumbnailImage)
	}()
	e.check(r, probe)
	<-finished
	if r.Error != nil {
		for _, f := range []string{fin.Captions, fin.Thumbnail} {
			if f != "" {
				_ = os.Remove(f)
			}
		}
		return
	}
	r.Captions, r.Thumbnail = fin.Captions, fin.Thumbnail
}

// check takes the probe of one rendered file and, when it passes the
// preset's rules, renames it to its final path. A file that fails is
// removed.
func (e *Engine) check(r *Result, probe func() (*media.Info, error)) {
	o := r.Output
	info, err := probe()
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
