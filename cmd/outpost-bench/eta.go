package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"outpost/internal/eta"
)

// progressArgs makes a command print machine-readable progress every 0.1 s,
// as outpost's own runs of ffmpeg do.
var progressArgs = []string{"-progress", "pipe:1", "-stats_period", "0.1", "-nostats"}

// sample is one progress report: output seconds written, and when.
type sample struct {
	out float64
	at  time.Time
}

// readProgress collects the out_time of ffmpeg's -progress blocks.
func readProgress(r io.Reader) []sample {
	var s []sample
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "out_time_us=")
		if !ok {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us >= 0 {
			s = append(s, sample{out: float64(us) / 1e6, at: time.Now()})
		}
	}
	return s
}

// etaShares are the points of a render at which the estimates are judged.
var etaShares = []float64{0.10, 0.25, 0.50}

// etaErrors replays each run's reports through two estimators and returns
// their relative errors (estimate/truth − 1) at etaShares: ffmpeg's (time
// left at the speed since the start) and eta.Estimator's, whose prior is
// what the earlier runs measured (none for the first), as History gives it
// on a node that rendered the same kind of export before.
func etaErrors(runs [][]sample, total float64) (naive, est [][]float64) {
	var h eta.History
	const key = "bench"
	for _, run := range runs {
		if len(run) < 2 {
			continue
		}
		end := run[len(run)-1].at
		e := &eta.Estimator{Total: total, Prior: h.Prior(key)}
		var n, x []float64
		next := 0
		for _, s := range run {
			left, ok := e.Observe(s.out, s.at)
			if next < len(etaShares) && s.out >= etaShares[next]*total {
				truth := end.Sub(s.at).Seconds()
				elapsed := s.at.Sub(run[0].at).Seconds()
				n = append(n, (total-s.out)/(s.out/elapsed)/truth-1)
				if ok {
					x = append(x, left.Seconds()/truth-1)
				} else {
					x = append(x, math.NaN())
				}
				next++
			}
		}
		naive, est = append(naive, n), append(est, x)
		h.Record(key, e.Speed())
	}
	return naive, est
}

// printETA prints the ETA errors per run.
func printETA(w io.Writer, naive, est [][]float64) {
	fmt.Fprintf(w, "\nETA error of the render (estimate / actual time left − 1), outpost's expert argv, per run:\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "| run\t| estimator")
	for _, s := range etaShares {
		fmt.Fprintf(tw, "\t| at %.0f %%", 100*s)
	}
	fmt.Fprintln(tw, "\t|")
	fmt.Fprint(tw, "|---\t|---")
	for range etaShares {
		fmt.Fprint(tw, "\t|---")
	}
	fmt.Fprintln(tw, "\t|")
	for i := range naive {
		row := func(name string, errs []float64) {
			fmt.Fprintf(tw, "| %d\t| %s", i+1, name)
			for _, e := range errs {
				if math.IsNaN(e) {
					fmt.Fprint(tw, "\t| —")
				} else {
					fmt.Fprintf(tw, "\t| %+.0f %%", 100*e)
				}
			}
			fmt.Fprintln(tw, "\t|")
		}
		row("ffmpeg (speed since start)", naive[i])
		prior := "warm-up speed, no prior"
		if i > 0 {
			prior = "warm-up speed + earlier runs"
		}
		row(prior, est[i])
	}
	tw.Flush()
}
