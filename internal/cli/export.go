package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"syscall"
	"text/tabwriter"
	"time"

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
	Argv    []string        `json:"argv"`
	Outputs []render.Output `json:"outputs"`
	Refused []engine.Result `json:"refused,omitempty"`
}

func newEngine(env *Env) *engine.Engine {
	return &engine.Engine{
		Prober: &media.Prober{FFprobe: lookupEnv(env, "OUTPOST_FFPROBE", "ffprobe")},
		Runner: &media.Runner{FFmpeg: lookupEnv(env, "OUTPOST_FFMPEG", "ffmpeg"), Logger: env.Logger},
		Logger: env.Logger,
	}
}

func runExport(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "export", "INPUT --preset ID [--preset ID …] --out DIR [options]")
	var presets listFlag
	fs.Var(&presets, "preset", "preset id, repeatable or comma-separated (see `outpost presets list`)")
	quality := fs.String("quality", "hd", "quality level: web, hd or ultra")
	fit := fs.String("fit", "blur", "framing when the aspect changes: pad, blur or crop")
	out := fs.String("out", ".", "output folder; files are written as DIR/<preset-id>.<ext>")
	asJSON := fs.Bool("json", false, "print one JSON summary on stdout")
	planOnly := fs.Bool("plan", false, "print the ffmpeg argv as JSON and run nothing")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
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
	targets := make([]render.Target, 0, len(presets))
	for _, id := range presets {
		p, err := preset.Lookup(id)
		if err != nil {
			return fail(env, errcode.Wrap(errcode.UnknownPreset, err, "--preset"))
		}
		targets = append(targets, render.Target{Preset: p, Quality: level, Fit: fitMode})
	}
	req := engine.Request{Source: pos[0], Targets: targets, OutDir: *out}
	eng := newEngine(env)

	if *planOnly {
		_, plan, results, err := eng.Prepare(ctx, req)
		if err != nil {
			return fail(env, err)
		}
		s := planSummary{}
		if plan != nil {
			s.Argv = append([]string{eng.Runner.FFmpeg}, plan.Args()...)
			s.Outputs = plan.Outputs
		}
		for _, r := range results {
			if r.Error != nil {
				s.Refused = append(s.Refused, r)
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
		if r.Error != nil && r.Error.Remedy != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Preset, r.Error.Remedy)
		}
	}
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
