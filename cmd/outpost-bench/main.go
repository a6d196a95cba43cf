// Command outpost-bench measures the render engine against the ways people
// render without it, in one run on one machine, and prints ratios:
//
//   - outpost export of three social targets vs the same ffmpeg argv run by
//     hand (the expert command, from `outpost export --plan`): overhead;
//   - vs one ffmpeg process per target with the same settings (the naive
//     script): the gain of decoding once;
//   - passthrough of a compatible 2-minute master to youtube-1080p;
//   - outpost's own peak memory (ffmpeg excluded);
//   - the error of the render's time-left estimate at 10, 25 and 50 %
//     (eta.go), on the expert runs' progress.
//
// Every figure is a median over -runs runs, and the three contenders run
// interleaved so that drift in the machine's speed hits them alike.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

var targets = []string{"youtube-1080p", "instagram-reel", "linkedin-square"}

type config struct {
	outpost, ffmpeg    string
	seconds, ptSeconds int
	runs               int
	work               string
	keep               bool
}

func main() {
	var c config
	flag.StringVar(&c.outpost, "outpost", "bin/outpost", "outpost binary")
	flag.StringVar(&c.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary")
	flag.IntVar(&c.seconds, "seconds", 30, "length of the 1080p30 source in seconds")
	flag.IntVar(&c.ptSeconds, "passthrough-seconds", 120, "length of the passthrough master in seconds")
	flag.IntVar(&c.runs, "runs", 3, "runs per measurement (the median is reported)")
	flag.StringVar(&c.work, "work", "", "work folder (default: a temp folder, removed at the end)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	if err := run(context.Background(), c); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, c config) error {
	if c.work == "" {
		dir, err := os.MkdirTemp("", "outpost-bench-")
		if err != nil {
			return err
		}
		c.work = dir
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	}
	abs, err := filepath.Abs(c.outpost)
	if err != nil {
		return err
	}
	c.outpost = abs

	src := filepath.Join(c.work, "source-1080p30.mp4")
	log.Printf("generating a %d s 1080p30 source with audio", c.seconds)
	if err := generate(ctx, c.ffmpeg, src, c.seconds); err != nil {
		return err
	}

	out := filepath.Join(c.work, "out")
	expertArgv, err := planArgv(ctx, c.outpost, src, out, targets...)
	if err != nil {
		return err
	}
	var naive [][]string
	for _, t := range targets {
		argv, err := planArgv(ctx, c.outpost, src, filepath.Join(c.work, "naive"), t)
		if err != nil {
			return err
		}
		naive = append(naive, argv)
	}

	var tOutpost, tExpert, tNaive []time.Duration
	var progress [][]sample
	var rss []int64
	for i := 0; i < c.runs; i++ {
		log.Printf("run %d/%d", i+1, c.runs)
		os.RemoveAll(out)
		d, peak, err := timeOutpost(ctx, c.outpost, src, out)
		if err != nil {
			return err
		}
		tOutpost, rss = append(tOutpost, d), append(rss, peak)

		os.RemoveAll(out)
		os.MkdirAll(out, 0o755)
		var reports []sample
		d, err = timeCmd(ctx, expertArgv, c.work, &reports)
		if err != nil {
			return fmt.Errorf("expert command: %w", err)
		}
		tExpert, progress = append(tExpert, d), append(progress, reports)

		os.RemoveAll(filepath.Join(c.work, "naive"))
		os.MkdirAll(filepath.Join(c.work, "naive"), 0o755)
		var sum time.Duration
		for _, argv := range naive {
			d, err := timeCmd(ctx, argv, c.work, nil)
			if err != nil {
				return fmt.Errorf("naive command: %w", err)
			}
			sum += d
		}
		tNaive = append(tNaive, sum)
	}

	master := filepath.Join(c.work, "master-2min.mp4")
	log.Printf("generating a %d s compatible master for passthrough", c.ptSeconds)
	if err := generate(ctx, c.ffmpeg, master, c.ptSeconds); err != nil {
		return err
	}
	var tPass []time.Duration
	var passMode string
	for i := 0; i < c.runs; i++ {
		ptOut := filepath.Join(c.work, "pt")
		os.RemoveAll(ptOut)
		start := time.Now()
		res, err := exportJSON(ctx, c.outpost, master, ptOut, "youtube-1080p")
		if err != nil {
			return err
		}
		tPass = append(tPass, time.Since(start))
		passMode = "encoded"
		if len(res.Outputs) == 1 && res.Outputs[0].Passthrough {
			passMode = "passthrough"
		}
	}

	mo, me, mn, mp := median(tOutpost), median(tExpert), median(tNaive), median(tPass)
	fmt.Printf("\nOutpost render benchmark — %d s 1080p30 source, targets %s, median of %d runs\n\n",
		c.seconds, strings.Join(targets, " + "), c.runs)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "| measurement\t| median\t| ratio\t| target\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|")
	fmt.Fprintf(tw, "| outpost export (1 process, decode once)\t| %s\t| 1.00\t|\t|\n", secs(mo))
	fmt.Fprintf(tw, "| expert ffmpeg command (same argv)\t| %s\t| outpost/expert = %.3f\t| ≤ 1.05\t|\n", secs(me), ratio(mo, me))
	fmt.Fprintf(tw, "| naive: one ffmpeg per target\t| %s\t| outpost/naive = %.3f\t| ≤ 1.00\t|\n", secs(mn), ratio(mo, mn))
	fmt.Fprintf(tw, "| %d s master → youtube-1080p (%s)\t| %s\t|\t| ≤ 2 s for 2 min\t|\n", c.ptSeconds, passMode, secs(mp))
	fmt.Fprintf(tw, "| outpost peak RSS (ffmpeg excluded)\t| %.1f MiB\t|\t|\t|\n", float64(slices.Max(rss))/(1<<20))
	tw.Flush()
	fmt.Printf("\nruns (s): outpost %s; expert %s; naive %s; passthrough %s\n", list(tOutpost), list(tExpert), list(tNaive), list(tPass))
	naiveErr, estErr := etaErrors(progress, float64(c.seconds))
	printETA(os.Stdout, naiveErr, estErr)
	return nil
}

// generate writes a 1080p30 H.264 High + AAC 48 kHz MP4 (moov first, video
// capped at 6 Mbit/s so it satisfies youtube-1080p) of n seconds. Moving
// noise over testsrc2 makes it cost about what real footage costs to encode.
func generate(ctx context.Context, ffmpeg, path string, n int) error {
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(n), "-vf", "noise=alls=12:allf=t",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-maxrate", "6000k", "-bufsize", "12000k",
		"-profile:v", "high", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", path}
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// planArgv asks outpost for the exact ffmpeg argv of an export.
func planArgv(ctx context.Context, outpost, src, out string, presets ...string) ([]string, error) {
	args := []string{"export", src, "--out", out, "--plan"}
	for _, p := range presets {
		args = append(args, "--preset", p)
	}
	cmd := exec.CommandContext(ctx, outpost, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("outpost --plan: %w", err)
	}
	var plan struct {
		Argv []string `json:"argv"`
	}
	if err := json.Unmarshal(b, &plan); err != nil || len(plan.Argv) == 0 {
		return nil, fmt.Errorf("outpost --plan printed no argv: %v", err)
	}
	return plan.Argv, nil
}

type exportResult struct {
	OK      bool `json:"ok"`
	Outputs []struct {
		Passthrough bool `json:"passthrough"`
	} `json:"outputs"`
	Stats struct {
		PeakRSSBytes int64 `json:"peak_rss_bytes"`
	} `json:"stats"`
}

func exportJSON(ctx context.Context, outpost, src, out string, presets ...string) (*exportResult, error) {
	args := []string{"export", src, "--out", out, "--json"}
	for _, p := range presets {
		args = append(args, "--preset", p)
	}
	cmd := exec.CommandContext(ctx, outpost, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("outpost export: %w\n%s", err, stderr.String())
	}
	var r exportResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if !r.OK {
		return nil, fmt.Errorf("outpost export failed: %s", b)
	}
	return &r, nil
}

func timeOutpost(ctx context.Context, outpost, src, out string) (time.Duration, int64, error) {
	start := time.Now()
	r, err := exportJSON(ctx, outpost, src, out, targets...)
	if err != nil {
		return 0, 0, err
	}
	return time.Since(start), r.Stats.PeakRSSBytes, nil
}

// timeCmd runs argv as outpost would. The folders the outputs go to (the
// output folder and the engine's work folder for thumbnails) are made first,
// as outpost makes them. With progress set, ffmpeg also reports its
// progress every 0.1 s, as under outpost, and the reports are kept there.
func timeCmd(ctx context.Context, argv []string, work string, progress *[]sample) (time.Duration, error) {
	for _, a := range argv[1:] {
		if strings.HasPrefix(a, work+string(filepath.Separator)) {
			if err := os.MkdirAll(filepath.Dir(a), 0o755); err != nil {
				return 0, err
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
			return 0, err
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	if progress != nil {
		*progress = readProgress(stdout)
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return time.Since(start), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func list(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(parts, " ")
}
