package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"outpost/internal/benchstat"
	"outpost/internal/preset"
	"outpost/internal/render"
)

var (
	three = []string{"youtube-1080p", "instagram-reel", "linkedin-square"}
	six   = []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok", "facebook-reel", "youtube-shorts"}
)

func numCPU() int { return runtime.NumCPU() }

// caseThree: outpost vs the same argv by hand vs one process per target.
func caseThree(ctx context.Context, c config) (*table, error) {
	src := filepath.Join(c.work, "source-1080p30.mp4")
	log.Printf("three: generating a %d s 1080p30 source with audio", c.seconds)
	if err := generate(ctx, c.ffmpeg, src, c.seconds, compatibleMaster); err != nil {
		return nil, err
	}
	out := filepath.Join(c.work, "out")
	expert, err := planOf(ctx, c.outpost, src, out, three...)
	if err != nil {
		return nil, err
	}
	var naive [][]string
	for _, t := range three {
		p, err := planOf(ctx, c.outpost, src, filepath.Join(c.work, "naive"), t)
		if err != nil {
			return nil, err
		}
		naive = append(naive, p.Argv)
	}
	var tOutpost, tExpert, tNaive []cost
	var rss []int64
	var progress [][]sample
	for i := range c.runs {
		log.Printf("three: run %d/%d (load %s)", i+1, c.runs, benchstat.LoadNow())
		_ = os.RemoveAll(out)
		r, d, err := timeExport(ctx, c.outpost, src, out, three...)
		if err != nil {
			return nil, err
		}
		tOutpost, rss = append(tOutpost, d), append(rss, r.Stats.PeakRSSBytes)

		fresh(out)
		var reports []sample
		if d, err = timeProgress(ctx, expert.Argv, c.work, &reports); err != nil {
			return nil, fmt.Errorf("expert command: %w", err)
		}
		tExpert, progress = append(tExpert, d), append(progress, reports)

		fresh(filepath.Join(c.work, "naive"))
		var sum cost
		for _, argv := range naive {
			d, err := timeCmd(ctx, argv, c.work)
			if err != nil {
				return nil, fmt.Errorf("naive command: %w", err)
			}
			sum = sum.add(d)
		}
		tNaive = append(tNaive, sum)
	}
	mo, me, mn := medianCost(tOutpost), medianCost(tExpert), medianCost(tNaive)
	t := &table{title: fmt.Sprintf("### Three social targets (%s), %d s 1080p30 source, median of %d runs", strings.Join(three, " + "), c.seconds, c.runs)}
	t.row("outpost export (1 process, decode once)", mo.String(), "1.00", "")
	t.row("expert ffmpeg command (same argv)", me.String(), "outpost/expert = "+mo.ratio(me), "≤ 1.05")
	t.row("naive: one ffmpeg per target", mn.String(), "outpost/naive = "+mo.ratio(mn), "≤ 1.00")
	t.row("outpost peak RSS (ffmpeg excluded)", benchstat.MiB(slices.Max(rss)), "", "")
	t.notes = append(t.notes, fmt.Sprintf("Runs, wall (CPU) s: outpost %s; expert %s; naive %s.", costs(tOutpost), costs(tExpert), costs(tNaive)))
	var eta strings.Builder
	naiveErr, estErr := etaErrors(progress, float64(c.seconds))
	printETA(&eta, naiveErr, estErr)
	t.notes = append(t.notes, strings.TrimSpace(eta.String()))
	return t, nil
}

// caseSix: six platforms, three shapes. Outpost vs the plan before shared
// encodes vs the best hand-written command.
func caseSix(ctx context.Context, c config) (*table, error) {
	src := filepath.Join(c.work, "source-noisy.mp4")
	log.Printf("six: generating a %d s noisy 1080p30 master at about 12 Mbit/s", c.sixSeconds)
	if err := generate(ctx, c.ffmpeg, src, c.sixSeconds, noisyMaster); err != nil {
		return nil, err
	}
	out := filepath.Join(c.work, "six")
	plan, err := planOf(ctx, c.outpost, src, out, six...)
	if err != nil {
		return nil, err
	}
	var before *planSummary
	beforeOut := filepath.Join(c.work, "six-before")
	if c.before != "" {
		if before, err = planOf(ctx, c.before, src, beforeOut, six...); err != nil {
			return nil, err
		}
	}
	hand, err := handSix(src, filepath.Join(c.work, "six-hand"))
	if err != nil {
		return nil, err
	}

	var tOutpost, tBefore, tHand []cost
	var stored, beforeBytes, handBytes int64
	for i := range c.runs {
		log.Printf("six: run %d/%d (load %s)", i+1, c.runs, benchstat.LoadNow())
		_ = os.RemoveAll(out)
		r, d, err := timeExport(ctx, c.outpost, src, out, six...)
		if err != nil {
			return nil, err
		}
		tOutpost = append(tOutpost, d)
		if stored, err = uniqueBytes(r); err != nil {
			return nil, err
		}

		if before != nil {
			fresh(beforeOut)
			d, err := timeCmd(ctx, before.Argv, c.work)
			if err != nil {
				return nil, fmt.Errorf("before command: %w", err)
			}
			tBefore = append(tBefore, d)
			beforeBytes = filesBytes(before.files())
		}

		fresh(hand.dir)
		d, err = timeCmd(ctx, append([]string{c.ffmpeg}, hand.argv...), c.work)
		if err != nil {
			return nil, fmt.Errorf("hand-written command: %w", err)
		}
		cp, err := hand.copyToNames(ctx)
		if err != nil {
			return nil, err
		}
		tHand = append(tHand, d.add(cp))
		handBytes = filesBytes(hand.names())
	}
	mo, mh := medianCost(tOutpost), medianCost(tHand)
	t := &table{title: fmt.Sprintf("### Six platforms in three shapes (%s), %d s noisy 1080p30 master at 12 Mbit/s, median of %d runs",
		strings.Join(six, ", "), c.sixSeconds, c.runs)}
	t.row(fmt.Sprintf("outpost export: %d encoders, %s stored", plan.Encodes, benchstat.MiB(stored)), mo.String(), "1.00", "")
	if before != nil {
		mb := medianCost(tBefore)
		t.row(fmt.Sprintf("the plan before shared encodes (%s), one ffmpeg: %d encoders, %s stored", short(c.beforeRev), countEncoders(before.Argv), benchstat.MiB(beforeBytes)),
			mb.String(), "outpost/before = "+mo.ratio(mb), "≤ 0.55")
	}
	t.row(fmt.Sprintf("hand-written ffmpeg, three encodes + copies to six names: %d encoders, %s stored", countEncoders(hand.argv), benchstat.MiB(handBytes)),
		mh.String(), "outpost/hand = "+mo.ratio(mh), "≤ 1.05")
	t.notes = append(t.notes, fmt.Sprintf("Runs, wall (CPU) s: outpost %s; before %s; hand-written %s.", costs(tOutpost), costs(tBefore), costs(tHand)))
	return t, nil
}

// handCommand is the hand-written six-platform render: three encodes, the
// 9:16 file copied (cp) to its other platforms' names.
type handCommand struct {
	dir   string
	argv  []string
	files map[string][]string // written file → the platform files copied from it
}

// handSix writes the command an expert would for the six platforms: one
// decode, split three ways, the 9:16 and 1:1 frames over a blurred copy of
// themselves, three x264 encodes with settings that satisfy every platform
// of each shape (outpost's own per-preset settings: YouTube Shorts' are the
// strictest of the 9:16 four), the audio copied, then file copies.
func handSix(src, dir string) (*handCommand, error) {
	enc := func(id string) ([]string, error) {
		p, err := preset.Lookup(id)
		if err != nil {
			return nil, err
		}
		t := render.Target{Preset: p, Quality: preset.HD}
		return render.TargetEncoding(&t, 30, 0).Args(), nil
	}
	yt, err := enc("youtube-1080p")
	if err != nil {
		return nil, err
	}
	reel, err := enc("youtube-shorts")
	if err != nil {
		return nil, err
	}
	square, err := enc("linkedin-square")
	if err != nil {
		return nil, err
	}
	blur := func(in, out string, w, h int) string {
		return fmt.Sprintf("[%s]split[%sb][%sf];[%sb]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,boxblur=10:2,scale=%d:%d[%sbg];"+
			"[%sf]scale=%d:%d:force_original_aspect_ratio=decrease[%sfg];[%sbg][%sfg]overlay=(W-w)/2:(H-h)/2[%s]",
			in, in, in, in, w/8, h/8, w/8, h/8, w, h, in, in, w, h, in, in, in, out)
	}
	graph := "[0:v]split=3[y][r][s];" + blur("r", "reel", 1080, 1920) + ";" + blur("s", "square", 1080, 1080)
	h := &handCommand{dir: dir, files: map[string][]string{
		filepath.Join(dir, "youtube-1080p.mp4"):   nil,
		filepath.Join(dir, "instagram-reel.mp4"):  {filepath.Join(dir, "tiktok.mp4"), filepath.Join(dir, "facebook-reel.mp4"), filepath.Join(dir, "youtube-shorts.mp4")},
		filepath.Join(dir, "linkedin-square.mp4"): nil,
	}}
	h.argv = []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", src, "-filter_complex", graph}
	for _, o := range []struct {
		label string
		enc   []string
		file  string
	}{{"y", yt, "youtube-1080p.mp4"}, {"reel", reel, "instagram-reel.mp4"}, {"square", square, "linkedin-square.mp4"}} {
		h.argv = append(h.argv, "-map", "["+o.label+"]", "-map", "0:a")
		h.argv = append(h.argv, o.enc...)
		h.argv = append(h.argv, "-c:a", "copy", "-movflags", "+faststart", filepath.Join(dir, o.file))
	}
	return h, nil
}

func (h *handCommand) copyToNames(ctx context.Context) (cost, error) {
	var sum cost
	for from, tos := range h.files {
		for _, to := range tos {
			d, err := timeCmd(ctx, []string{"cp", from, to}, "")
			if err != nil {
				return sum, err
			}
			sum = sum.add(d)
		}
	}
	return sum, nil
}

func (h *handCommand) names() []string {
	var ns []string
	for from, tos := range h.files {
		ns = append(ns, from)
		ns = append(ns, tos...)
	}
	return ns
}

// casePassthrough: a compatible 2-minute master to youtube-1080p.
func casePassthrough(ctx context.Context, c config) (*table, error) {
	master := filepath.Join(c.work, "master-compatible.mp4")
	log.Printf("passthrough: generating a %d s compatible master", c.ptSeconds)
	if err := generate(ctx, c.ffmpeg, master, c.ptSeconds, compatibleMaster); err != nil {
		return nil, err
	}
	var ts []cost
	mode := "encoded"
	for range c.runs {
		out := filepath.Join(c.work, "pt")
		_ = os.RemoveAll(out)
		r, d, err := timeExport(ctx, c.outpost, master, out, "youtube-1080p")
		if err != nil {
			return nil, err
		}
		ts = append(ts, d)
		if len(r.Outputs) == 1 && r.Outputs[0].Passthrough {
			mode = "passthrough"
		}
	}
	t := &table{title: fmt.Sprintf("### Passthrough, median of %d runs", c.runs)}
	t.row(fmt.Sprintf("%d s master → youtube-1080p (%s)", c.ptSeconds, mode), medianCost(ts).String(), "", "≤ 2 s for 2 min")
	t.notes = append(t.notes, "Runs, wall (CPU) s: "+costs(ts)+".")
	return t, nil
}

// caseLong: the 2-minute "social three", before and after.
func caseLong(ctx context.Context, c config) (*table, error) {
	master := filepath.Join(c.work, "master-main-12mbps.mp4")
	log.Printf("long: generating a %d s H.264 Main 12 Mbit/s master", c.longSecs)
	if err := generate(ctx, c.ffmpeg, master, c.longSecs, mainMaster); err != nil {
		return nil, err
	}
	var tAfter, tBefore []cost
	var loads []string
	for i := range c.longRuns {
		if c.before != "" {
			log.Printf("long: before, run %d/%d (load %s)", i+1, c.longRuns, benchstat.LoadNow())
			loads = append(loads, benchstat.LoadNow())
			_ = os.RemoveAll(filepath.Join(c.work, "long-before"))
			_, d, err := timeExport(ctx, c.before, master, filepath.Join(c.work, "long-before"), three...)
			if err != nil {
				return nil, err
			}
			tBefore = append(tBefore, d)
		}
		log.Printf("long: after, run %d/%d (load %s)", i+1, c.longRuns, benchstat.LoadNow())
		loads = append(loads, benchstat.LoadNow())
		_ = os.RemoveAll(filepath.Join(c.work, "long"))
		_, d, err := timeExport(ctx, c.outpost, master, filepath.Join(c.work, "long"), three...)
		if err != nil {
			return nil, err
		}
		tAfter = append(tAfter, d)
	}
	d := float64(c.longSecs)
	t := &table{title: fmt.Sprintf("### %d s 1080p30 H.264 Main 12 Mbit/s master → %s, median of %d runs", c.longSecs, strings.Join(three, " + "), c.longRuns)}
	if len(tBefore) > 0 {
		mb := medianCost(tBefore)
		t.row("before ("+short(c.beforeRev)+")", mb.String(), fmt.Sprintf("real-time factor %.2f", mb.wall.Seconds()/d), "")
	}
	ma := medianCost(tAfter)
	t.row("after", ma.String(), fmt.Sprintf("real-time factor %.2f", ma.wall.Seconds()/d), "≤ 1.0 (2 min in 2 min)")
	t.notes = append(t.notes, fmt.Sprintf("Runs, wall (CPU) s: before %s; after %s; load average (1 min) at each start: %s.", costs(tBefore), costs(tAfter), strings.Join(loads, ", ")))
	return t, nil
}

// planSummary is what `outpost export --plan` prints (the fields used).
type planSummary struct {
	Argv    []string `json:"argv"`
	Encodes int      `json:"encodes"`
	Outputs []struct {
		TempPath   string `json:"temp_path"`
		SharedFile string `json:"shared_file"`
	} `json:"outputs"`
}

// files are the files the plan's ffmpeg writes.
func (p *planSummary) files() []string {
	var fs []string
	for _, o := range p.Outputs {
		if o.SharedFile == "" {
			fs = append(fs, o.TempPath)
		}
	}
	return fs
}

// planJSON is what `outpost export --plan` prints for an export, with the
// extra flags.
func planJSON(ctx context.Context, outpost, src, out string, extra []string, presets ...string) ([]byte, error) {
	args := append([]string{"export", src, "--out", out, "--plan"}, extra...)
	for _, p := range presets {
		args = append(args, "--preset", p)
	}
	cmd := exec.CommandContext(ctx, outpost, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s --plan %s: %w", outpost, strings.Join(extra, " "), err)
	}
	return b, nil
}

// planOf asks an outpost binary for the exact ffmpeg argv of an export.
func planOf(ctx context.Context, outpost, src, out string, presets ...string) (*planSummary, error) {
	b, err := planJSON(ctx, outpost, src, out, nil, presets...)
	if err != nil {
		return nil, err
	}
	var plan planSummary
	if err := json.Unmarshal(b, &plan); err != nil || len(plan.Argv) == 0 {
		return nil, fmt.Errorf("%s --plan printed no argv: %v", outpost, err)
	}
	return &plan, nil
}

func countEncoders(argv []string) int {
	n := 0
	for i, a := range argv {
		if a == "-c:v" && i+1 < len(argv) && argv[i+1] != "copy" && argv[i+1] != "mjpeg" {
			n++
		}
	}
	return n
}

type exportResult struct {
	OK      bool `json:"ok"`
	Outputs []struct {
		Path        string `json:"path"`
		Passthrough bool   `json:"passthrough"`
	} `json:"outputs"`
	Stats struct {
		PeakRSSBytes int64 `json:"peak_rss_bytes"`
	} `json:"stats"`
}

// timeExport runs `outpost export --json` and times it.
func timeExport(ctx context.Context, outpost, src, out string, presets ...string) (*exportResult, cost, error) {
	args := []string{"export", src, "--out", out, "--json"}
	for _, p := range presets {
		args = append(args, "--preset", p)
	}
	cmd := exec.CommandContext(ctx, outpost, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	b, err := cmd.Output()
	d := costOf(cmd, start)
	if err != nil {
		return nil, d, fmt.Errorf("outpost export: %w\n%s", err, stderr.String())
	}
	var r exportResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, d, err
	}
	if !r.OK {
		return nil, d, fmt.Errorf("outpost export failed: %s", b)
	}
	return &r, d, nil
}

// uniqueBytes is the bytes of an export's files, each file once however
// many names (hard links) it has.
func uniqueBytes(r *exportResult) (int64, error) {
	var seen []os.FileInfo
	var n int64
	for _, o := range r.Outputs {
		st, err := os.Stat(o.Path)
		if err != nil {
			return 0, err
		}
		if slices.ContainsFunc(seen, func(s os.FileInfo) bool { return os.SameFile(s, st) }) {
			continue
		}
		seen = append(seen, st)
		n += st.Size()
	}
	return n, nil
}

func filesBytes(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// timeCmd runs argv as outpost would (progress on stdout, discarded). The
// folders the outputs go to (the output folder and the engine's work folder
// for thumbnails) are made first, as outpost makes them.
func timeCmd(ctx context.Context, argv []string, work string) (cost, error) {
	return timeProgress(ctx, argv, work, nil)
}

// timeProgress is timeCmd that, with progress set, has ffmpeg report its
// progress as outpost's runs do and collects the reports (eta.go).
func timeProgress(ctx context.Context, argv []string, work string, progress *[]sample) (cost, error) {
	for _, a := range argv[1:] {
		if work != "" && strings.HasPrefix(a, work+string(filepath.Separator)) {
			if err := os.MkdirAll(filepath.Dir(a), 0o755); err != nil {
				return cost{}, err
			}
		}
	}
	args := argv[1:]
	if progress != nil {
		args = append(slices.Clone(progressArgs), args...)
	}
	cmd := exec.CommandContext(ctx, argv[0], args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var stdout io.ReadCloser
	if progress != nil {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return cost{}, err
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return cost{}, err
	}
	if progress != nil {
		*progress = readProgress(stdout)
	}
	if err := cmd.Wait(); err != nil {
		return cost{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return costOf(cmd, start), nil
}

// cost is what a run took: wall time, and CPU time (user + system, the
// process and the children it waited for: ffmpeg under outpost). On a
// machine shared with other work the CPU time is the steadier figure.
type cost struct{ wall, cpu time.Duration }

func costOf(cmd *exec.Cmd, start time.Time) cost {
	c := cost{wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		c.cpu = st.UserTime() + st.SystemTime()
	}
	return c
}

func (c cost) add(d cost) cost { return cost{c.wall + d.wall, c.cpu + d.cpu} }

func (c cost) String() string {
	return fmt.Sprintf("%.2f s (CPU %.2f s)", c.wall.Seconds(), c.cpu.Seconds())
}

// ratio is c/d, of wall and of CPU time.
func (c cost) ratio(d cost) string {
	return fmt.Sprintf("%.3f (CPU %.3f)", ratio(c.wall, d.wall), ratio(c.cpu, d.cpu))
}

// medianCost is the median wall time and the median CPU time.
func medianCost(cs []cost) cost {
	var walls, cpus []time.Duration
	for _, c := range cs {
		walls, cpus = append(walls, c.wall), append(cpus, c.cpu)
	}
	return cost{benchstat.Median(walls), benchstat.Median(cpus)}
}

func costs(cs []cost) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%.2f (%.2f)", c.wall.Seconds(), c.cpu.Seconds())
	}
	return strings.Join(parts, ", ")
}

func fresh(dir string) {
	_ = os.RemoveAll(dir)
	_ = os.MkdirAll(dir, 0o755)
}

// buildAt builds outpost as it was at git revision rev, into work.
func buildAt(ctx context.Context, rev, work string) (string, error) {
	root, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git checkout: %w", err)
	}
	src := filepath.Join(work, "before-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	log.Printf("building outpost at %s (the \"before\")", short(rev))
	archive := exec.CommandContext(ctx, "git", "-C", strings.TrimSpace(string(root)), "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		return "", fmt.Errorf("git archive %s: %w", rev, err)
	}
	if err := untar.Wait(); err != nil {
		return "", err
	}
	bin := filepath.Join(work, "outpost-before")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/outpost")
	build.Dir, build.Stderr = src, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build %s: %w", short(rev), err)
	}
	return bin, nil
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}
