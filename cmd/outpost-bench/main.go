// Command outpost-bench measures the render engine against the ways people
// render without it, in one run on one machine, and prints ratios:
//
//   - three: outpost export of three social targets vs the same ffmpeg argv
//     run by hand (the expert command, from `outpost export --plan`):
//     overhead; vs one ffmpeg process per target with the same settings
//     (the naive script): the gain of decoding once;
//   - six: six social platforms in three shapes from a noisy 12 Mbit/s
//     master: outpost (one encode per shape) vs the plan of the same six
//     targets before shared encodes (-before-rev: six encodes in one
//     ffmpeg command) vs the best hand-written command (three encodes,
//     each file copied to its platforms' names); encoder counts and bytes
//     stored;
//   - passthrough of a compatible 2-minute master to youtube-1080p;
//   - long: three social targets of a 2-minute H.264 Main 12 Mbit/s master,
//     seconds and real-time factor, before and after shared encodes;
//   - segments: the long case's export in one pass on one core vs in two
//     segments on two single-core workers (taskset), the joins' time, the
//     bytes written for pieces, and a simulation of 4, 8 and 16 workers
//     from the measured times (segments.go);
//   - outpost's own peak memory (ffmpeg excluded);
//   - the error of the render's time-left estimate at 10, 25 and 50 %
//     (eta.go), on the expert runs' progress (in the three case).
//
// Every figure is a median over -runs runs, and the contenders of a case
// run interleaved so that drift in the machine's speed hits them alike.
//
// With -quality it measures the x264 presets of each quality level
// instead (quality.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"outpost/internal/benchstat"
)

type config struct {
	outpost, ffmpeg string
	// before is an outpost binary built at beforeRev, for the "before"
	// figures; "" when it could not be built.
	before, beforeRev    string
	seconds, ptSeconds   int
	sixSeconds, longSecs int
	runs, longRuns       int
	cases                map[string]bool
	work                 string
	keep                 bool
	quality              bool
	qualitySeconds       int
}

// issueBase is the commit before shared encodes (issue 12): the "before"
// of the six and long cases.
const issueBase = "46d801d54e87d6847c9bf7750ade9a4f108c056b"

func main() {
	var c config
	var cases string
	flag.StringVar(&c.outpost, "outpost", "bin/outpost", "outpost binary")
	flag.StringVar(&c.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary")
	flag.StringVar(&cases, "cases", "three,six,passthrough,long,segments", "cases to run, comma-separated: three, six, passthrough, long, segments")
	flag.IntVar(&c.seconds, "seconds", 30, "length of the 1080p30 sources of the three and six cases, in seconds")
	flag.IntVar(&c.sixSeconds, "six-seconds", 0, "length of the six case's source (0: -seconds)")
	flag.IntVar(&c.ptSeconds, "passthrough-seconds", 120, "length of the passthrough master in seconds")
	flag.IntVar(&c.longSecs, "long-seconds", 120, "length of the long case's master in seconds")
	flag.IntVar(&c.runs, "runs", 3, "runs per measurement (the median is reported)")
	flag.IntVar(&c.longRuns, "long-runs", 1, "runs of the long and segments cases (each takes minutes)")
	flag.StringVar(&c.beforeRev, "before-rev", issueBase, "git revision whose outpost is \"before\" in the six and long cases (\"\" to skip)")
	flag.StringVar(&c.work, "work", "", "work folder (default: a temp folder, removed at the end)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder")
	flag.BoolVar(&c.quality, "quality", false, "measure the x264 presets of each quality level instead (make bench-quality)")
	flag.IntVar(&c.qualitySeconds, "quality-seconds", 5, "length of the -quality masters in seconds")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	c.cases = map[string]bool{}
	for _, k := range strings.Split(cases, ",") {
		c.cases[strings.TrimSpace(k)] = true
	}
	if c.sixSeconds == 0 {
		c.sixSeconds = c.seconds
	}
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
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(c.work)
	}
	if c.quality {
		return runQuality(ctx, c)
	}
	abs, err := filepath.Abs(c.outpost)
	if err != nil {
		return err
	}
	c.outpost = abs
	if c.beforeRev != "" && (c.cases["six"] || c.cases["long"]) {
		if c.before, err = buildAt(ctx, c.beforeRev, c.work); err != nil {
			log.Printf("no \"before\" figures: %v", err)
		}
	}
	fmt.Printf("Outpost render benchmark — %s\n", machine())
	for _, k := range []struct {
		name string
		fn   func(context.Context, config) (*table, error)
	}{
		{"three", caseThree}, {"six", caseSix}, {"passthrough", casePassthrough}, {"long", caseLong}, {"segments", caseSegments},
	} {
		if !c.cases[k.name] {
			continue
		}
		t, err := k.fn(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		t.print()
	}
	return nil
}

// table is one case's result, printed as a Markdown table.
type table struct {
	title string
	rows  [][]string // measurement, median, ratio/extra, target
	notes []string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print() {
	fmt.Printf("\n%s\n\n| measurement | median | ratio | target |\n|---|---|---|---|\n", t.title)
	for _, r := range t.rows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
	for _, n := range t.notes {
		fmt.Println("\n" + n)
	}
}

// machine describes where the bench runs: cores and the load average.
func machine() string {
	return fmt.Sprintf("%d cores, load average %s at the start", numCPU(), benchstat.Load())
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
