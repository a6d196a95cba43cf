package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"outpost/internal/config"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/preset"
	"outpost/internal/render"
)

// exportSummary is the --json output of `outpost export`.
type exportSummary struct {
	OK      bool              `json:"ok"`
	Source  *media.Info       `json:"source,omitempty"`
	Outputs []engine.Result   `json:"outputs"`
	Error   *engine.ErrorInfo `json:"error,omitempty"`
	Stats   exportStats       `json:"stats"`
}

type exportStats struct {
	WallSeconds float64 `json:"wall_seconds"`
	// PeakRSSBytes is the outpost process's own peak memory; ffmpeg, a
	// child process, is not counted.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// planSummary is the --plan output: the exact command, and what each
// target would become.
type planSummary struct {
	Argv []string `json:"argv"`
	// Encodes counts the video encoders the command runs, Copies the
	// stream copies: one per file, however many targets it serves
	// (outputs[].shares_encode_with).
	Encodes int             `json:"encodes"`
	Copies  int             `json:"copies"`
	Outputs []render.Output `json:"outputs"`
	Refused []engine.Result `json:"refused,omitempty"`
	// Segments, with --segments, is how the render is cut: each
	// segment's ffmpeg argv (the pieces), the rest (audio once, copies),
	// and each join. Absent when the render stays one pass.
	Segments *segmentSummary `json:"segments,omitempty"`
}

// segmentSummary is the --plan view of a segmented render.
type segmentSummary struct {
	Segments []render.Segment `json:"segments"`
	Pieces   [][]string       `json:"pieces_argv"`
	Rest     []string         `json:"rest_argv,omitempty"`
	Joins    []render.Join    `json:"joins"`
}

func newEngine(env *Env) *engine.Engine {
	return &engine.Engine{
		Prober: &media.Prober{FFprobe: lookupEnv(env, "OUTPOST_FFPROBE", "ffprobe")},
		Runner: &media.Runner{FFmpeg: lookupEnv(env, "OUTPOST_FFMPEG", "ffmpeg"), Logger: env.Logger},
		Logger: env.Logger,
	}
}

// renderEngine is newEngine with the render settings of the environment
// (OUTPOST_RENDER_THREADS, OUTPOST_RENDER_NICE; the CLI's nice default is
// 0: the user is waiting for this render).
func renderEngine(env *Env) (*engine.Engine, error) {
	e := newEngine(env)
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var err error
	if e.Threads, e.Runner.Nice, err = config.RenderFromEnv(getenv); err != nil {
		return e, err
	}
	e.SegmentMinSeconds, err = config.SegmentMinFromEnv(getenv)
	return e, err
}

func runExport(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "export", "INPUT [INPUT …] --preset ID [--preset ID …] --out DIR [options]\n       outpost export --timeline FILE --preset ID … (several INPUTs are joined in order)")
	var presets listFlag
	fs.Var(&presets, "preset", "preset id, repeatable or comma-separated (see `outpost presets list`)")
	quality := fs.String("quality", "hd", "quality level: web, hd or ultra")
	segments := fs.Int("segments", 1, "render the video in N segments, N ffmpeg processes at once, joined without re-encoding (segments are at least $OUTPOST_SEGMENT_MIN_SECONDS long)")
	fit := fs.String("fit", "blur", "framing when the aspect changes: pad, blur or crop")
	out := fs.String("out", ".", "output folder; files are written as DIR/<preset-id>.<ext>")
	asJSON := fs.Bool("json", false, "print one JSON summary on stdout")
	planOnly := fs.Bool("plan", false, "print the ffmpeg argv as JSON and run nothing")
	estimate := fs.Bool("estimate", false, "print each file's estimated size (from a 3 s sample encode) and render nothing")
	captions := fs.String("captions", "", "caption file (SRT or WebVTT): a soft track in MP4/MOV/WebM, plus a sidecar `<preset>.srt` for platforms that take caption uploads")
	burn := fs.Bool("burn-captions", false, "burn the --captions into the picture instead, inside each platform's safe area")
	loudness := fs.String("loudness", "", "loudness normalisation: a target in LUFS for every target (e.g. -14), \"platform\" for each platform's level (YouTube, Instagram, TikTok -14), or \"off\" (default: the source's loudness is kept)")
	truePeak := fs.Float64("true-peak", -1, "true-peak ceiling in dBTP with --loudness")
	watermark := fs.String("watermark", "", "image (PNG with transparency, or SVG) overlaid on every frame")
	wmPos := fs.String("watermark-position", "br", "watermark corner: tl, tr, bl, br or center")
	wmOpacity := fs.Float64("watermark-opacity", 1, "watermark opacity, 0 to 1")
	wmWidth := fs.Float64("watermark-width", 0.15, "watermark width as a fraction of the frame width")
	wmMargin := fs.Float64("watermark-margin", 0.03, "watermark distance from the edges as a fraction of the frame's shorter side (on top of the platform's safe area)")
	thumbnails := fs.Bool("thumbnails", true, "write a thumbnail `<preset>.jpg` next to each video (not GIF), chosen by the render: a sharp, non-black frame")
	thumbAt := fs.String("thumbnail-at", "", "take the thumbnails at this time in seconds instead of choosing")
	thumbImage := fs.String("thumbnail", "", "use this JPEG or PNG as every target's thumbnail (cropped to its aspect, long side 1280, JPEG ≤ 2 MiB)")
	preview := fs.Bool("preview", false, "render a fast low-resolution preview of each target instead: DIR/<preset>.preview.mp4 (H.264, long side 640, plays in a browser)")
	previewSecs := fs.Float64("preview-seconds", 10, "with --preview, how many seconds from the start to render; 0 for all")
	brandKit := fs.String("brand-kit", "", "brand kit: a folder with kit.json (watermark, placement, intro, outro), the name of one in $OUTPOST_BRAND_KITS (default ~/.config/outpost/brand-kits), or with $OUTPOST_DATA_DIR / $OUTPOST_DATABASE_URL set, a kit's slug in the service's workspace ($OUTPOST_WORKSPACE, default the default one)")
	timelineFile := fs.String("timeline", "", "timeline file (JSON: clips with source, in, out; crossfade_seconds; audio_bed) rendered instead of INPUT")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 && *timelineFile == "" || len(pos) > 0 && *timelineFile != "" {
		fs.Usage()
		return ExitUsage
	}
	if len(presets) == 0 {
		return fail(env, errcode.New(errcode.InvalidOption, "no preset: add --preset ID (for example --preset youtube-1080p)"))
	}
	level, err := preset.ParseLevel(*quality)
	if err != nil {
		return fail(env, errcode.Wrap(errcode.InvalidOption, err, "--quality"))
	}
	fitMode, err := preset.ParseFit(*fit)
	if err != nil {
		return fail(env, errcode.Wrap(errcode.InvalidOption, err, "--fit"))
	}
	var kit *engine.BrandKit
	if *brandKit != "" {
		tmp, err := os.MkdirTemp("", "outpost-kit-")
		if err != nil {
			return fail(env, errcode.Wrap(errcode.OutputWriteFailed, err, "create a temp folder"))
		}
		defer os.RemoveAll(tmp)
		if kit, err = resolveBrandKit(ctx, env, *brandKit, tmp); err != nil {
			return fail(env, err)
		}
		if kit.Watermark != nil && *watermark == "" {
			// The kit's watermark, unless --watermark names another.
			*watermark = kit.Watermark.Path
			setFlags := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
			if !setFlags["watermark-position"] {
				*wmPos = string(kit.Watermark.Position)
			}
			if !setFlags["watermark-opacity"] && kit.Watermark.Opacity > 0 {
				*wmOpacity = kit.Watermark.Opacity
			}
			if !setFlags["watermark-width"] && kit.Watermark.Width > 0 {
				*wmWidth = kit.Watermark.Width
			}
			if !setFlags["watermark-margin"] && kit.Watermark.Margin > 0 {
				*wmMargin = kit.Watermark.Margin
			}
		}
	}
	fin, err := parseFinishing(finishFlags{
		captions: *captions, burn: *burn, loudness: *loudness, truePeak: *truePeak,
		watermark: *watermark, wmPos: *wmPos, wmOpacity: *wmOpacity, wmWidth: *wmWidth, wmMargin: *wmMargin,
		thumbnails: *thumbnails, thumbAt: *thumbAt,
	})
	if err != nil {
		return fail(env, err)
	}
	targets := make([]render.Target, 0, len(presets))
	for _, id := range presets {
		p, err := preset.Lookup(id)
		if err != nil {
			return fail(env, errcode.Wrap(errcode.UnknownPreset, err, "--preset"))
		}
		targets = append(targets, fin.target(render.Target{Preset: p, Quality: level, Fit: fitMode}))
	}
	req := engine.Request{Targets: targets, OutDir: *out, Captions: *captions, ThumbnailAt: fin.thumbAt}
	switch {
	case *timelineFile != "":
		if req.Timeline, err = engine.ReadTimeline(*timelineFile); err != nil {
			return fail(env, err)
		}
	case len(pos) == 1:
		req.Source = pos[0]
	default:
		req.Timeline = &engine.Timeline{}
		for _, p := range pos {
			req.Timeline.Clips = append(req.Timeline.Clips, engine.TimelineClip{Source: p})
		}
	}
	if kit != nil {
		req.Intro, req.Outro = kit.Intro, kit.Outro
	}
	if *thumbImage != "" {
		if *thumbAt != "" || !*thumbnails {
			return fail(env, errcode.New(errcode.InvalidOption, "--thumbnail IMAGE cannot go with --thumbnail-at or --thumbnails=false"))
		}
		req.ThumbnailImage = *thumbImage
	}
	if *preview {
		if *previewSecs < 0 {
			return fail(env, errcode.New(errcode.InvalidOption, "--preview-seconds %g: give 0 (all) or more", *previewSecs))
		}
		req.Preview = &engine.Preview{Seconds: *previewSecs}
		req.ThumbnailAt = nil
	}
	if *segments < 1 || *segments > 256 {
		return fail(env, errcode.New(errcode.InvalidOption, "--segments %d: give 1 to 256", *segments))
	}
	req.Segments = *segments
	eng, err := renderEngine(env)
	if err != nil {
		return fail(env, err)
	}

	if *estimate {
		est, err := eng.EstimateRequest(ctx, engine.Request{Source: req.Source, Targets: targets, Timeline: req.Timeline, Intro: req.Intro, Outro: req.Outro})
		if err != nil {
			return fail(env, err)
		}
		if *asJSON {
			writeJSON(env.Stdout, struct {
				Estimates []engine.SizeEstimate `json:"estimates"`
			}{est})
		} else {
			printEstimates(env.Stdout, est)
		}
		return ExitOK
	}

	if *planOnly {
		_, plan, results, err := eng.Prepare(ctx, req)
		if err != nil {
			return fail(env, err)
		}
		s := planSummary{}
		if plan != nil {
			s.Argv = append([]string{eng.Runner.FFmpeg}, plan.Args()...)
			s.Outputs = plan.Outputs
			s.Encodes, s.Copies = plan.Encodes()
		}
		for _, r := range results {
			if r.Error != nil {
				s.Refused = append(s.Refused, r)
			}
		}
		if req.Segments > 1 {
			seg, _, err := eng.PrepareSegmented(ctx, req)
			if err != nil {
				return fail(env, err)
			}
			if seg != nil {
				ss := &segmentSummary{Segments: seg.Segments, Joins: seg.Joins}
				for _, p := range seg.Pieces {
					ss.Pieces = append(ss.Pieces, append([]string{eng.Runner.FFmpeg}, p.Args()...))
				}
				if seg.Rest != nil {
					ss.Rest = append([]string{eng.Runner.FFmpeg}, seg.Rest.Args()...)
				}
				s.Segments = ss
			}
		}
		writeJSON(env.Stdout, s)
		return ExitOK
	}

	start := time.Now()
	prog := newProgress(env)
	results, err := eng.Export(ctx, req, prog.update)
	prog.finish()
	sum := exportSummary{Outputs: results, Error: engine.Info(err)}
	sum.Stats.WallSeconds = time.Since(start).Seconds()
	sum.Stats.PeakRSSBytes = peakRSS()
	failed := 0
	for _, r := range results {
		if r.Error != nil {
			failed++
		}
	}
	sum.OK = err == nil && failed == 0
	if *asJSON {
		writeJSON(env.Stdout, sum)
	} else {
		printResults(env.Stdout, results)
	}
	switch {
	case err != nil:
		return fail(env, err)
	case failed == len(results):
		return ExitFailed
	case failed > 0:
		return ExitPartial
	}
	return ExitOK
}

func printResults(w io.Writer, results []engine.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tSTATUS\tSIZE\tFRAME\tDURATION\tMODE\tFILE")
	for _, r := range results {
		if r.Error != nil {
			fmt.Fprintf(tw, "%s\t✗ %s\t\t\t\t\t%s\n", r.Preset, r.Error.Code, r.Error.Message)
			continue
		}
		mode := "encoded"
		if r.Passthrough {
			mode = "passthrough"
		}
		fmt.Fprintf(tw, "%s\t✓ ok\t%s\t%dx%d\t%.1fs\t%s\t%s\n", r.Preset, humanBytes(r.SizeBytes), r.Width, r.Height, r.Duration, mode, r.Path)
	}
	_ = tw.Flush()
	for _, r := range results {
		var extra []string
		if r.Thumbnail != "" {
			extra = append(extra, "thumbnail "+r.Thumbnail)
		}
		if r.Captions != "" {
			extra = append(extra, "captions "+r.Captions)
		}
		if r.Loudness != "" && r.Error == nil {
			extra = append(extra, "loudness: "+r.Loudness)
		}
		if len(r.SharesFileWith) > 0 {
			extra = append(extra, "the same file as "+strings.Join(r.SharesFileWith, ", ")+" (one encode)")
		}
		if len(extra) > 0 {
			fmt.Fprintf(w, "%s: %s\n", r.Preset, strings.Join(extra, "; "))
		}
	}
	for _, r := range results {
		if r.Error != nil && r.Error.Remedy != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Preset, r.Error.Remedy)
		}
	}
}

func printEstimates(w io.Writer, est []engine.SizeEstimate) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tESTIMATE\tFROM")
	for _, e := range est {
		if e.Error != nil {
			fmt.Fprintf(tw, "%s\t✗ %s\t%s\n", e.Preset, e.Error.Code, e.Error.Message)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Preset, humanBytes(e.Bytes), e.Method)
	}
	_ = tw.Flush()
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// peakRSS is this process's peak resident memory (children excluded).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // Linux reports KiB
}

// brandKitDir is where --brand-kit NAME is: a folder path as given, else
// NAME in $OUTPOST_BRAND_KITS (default ~/.config/outpost/brand-kits).
func brandKitDir(env *Env, name string) string {
	if st, err := os.Stat(name); err == nil && st.IsDir() || strings.ContainsRune(name, os.PathSeparator) {
		return name
	}
	root := lookupEnv(env, "OUTPOST_BRAND_KITS", "")
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".config", "outpost", "brand-kits")
		}
	}
	return filepath.Join(root, name)
}
