package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/internal/benchstat"
	cfg "outpost/internal/config"
	"outpost/internal/media"
	"outpost/internal/render"
)

// riverFetchInterval is the queue latency of the simulation: River's
// FetchPollInterval default (riverqueue/river client.go,
// FetchPollIntervalDefault = 1 * time.Second; internal/jobs keeps it), the
// longest a free worker waits before it sees a job inserted meanwhile.
const riverFetchInterval = time.Second

// segmentPlan is what `outpost export --segments N --plan` prints (the
// fields used).
type segmentPlan struct {
	Argv     []string `json:"argv"`
	Segments *struct {
		Segments []render.Segment `json:"segments"`
		Pieces   [][]string       `json:"pieces_argv"`
		Rest     []string         `json:"rest_argv"`
		Joins    []render.Join    `json:"joins"`
	} `json:"segments"`
}

// caseSegments: the 2-minute social three in one pass on one core (W=1)
// vs in two segments on two workers of one core each (W=2): the plan's own
// ffmpeg commands, each pinned with taskset, run as River would run them
// (a free worker takes the next job: the pieces and the rest, then the
// joins). Then a simulation of more workers from the measured times.
func caseSegments(ctx context.Context, c config) (*table, error) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return nil, fmt.Errorf("taskset (util-linux) is needed to pin the workers to cores: %w", err)
	}
	if c.longRuns < 1 {
		return nil, fmt.Errorf("-long-runs %d: want at least 1", c.longRuns)
	}
	if numCPU() < 2 {
		return nil, fmt.Errorf("W=2 needs 2 cores, this machine has %d", numCPU())
	}
	master := filepath.Join(c.work, "master-main-12mbps.mp4")
	if _, err := os.Stat(master); err != nil {
		log.Printf("segments: generating a %d s H.264 Main 12 Mbit/s master", c.longSecs)
		if err := generate(ctx, c.ffmpeg, master, c.longSecs, mainMaster); err != nil {
			return nil, err
		}
	}
	info, err := (&media.Prober{}).Probe(ctx, master)
	if err != nil {
		return nil, err
	}
	keyframes, err := (&media.Prober{}).Keyframes(ctx, master)
	if err != nil {
		return nil, err
	}
	minSeconds, err := cfg.SegmentMinFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	one, err := planOf(ctx, c.outpost, master, filepath.Join(c.work, "seg-w1"), three...)
	if err != nil {
		return nil, err
	}
	two, err := segmentedPlanOf(ctx, c.outpost, master, filepath.Join(c.work, "seg-w2"), 2, three...)
	if err != nil {
		return nil, err
	}
	s := two.Segments
	var jobs, joins []workerJob
	for i, p := range s.Pieces {
		jobs = append(jobs, workerJob{name: fmt.Sprintf("piece %d", i), argv: p})
	}
	if s.Rest != nil {
		jobs = append(jobs, workerJob{name: "rest", argv: s.Rest})
	}
	for _, j := range s.Joins {
		joins = append(joins, workerJob{name: "join " + filepath.Base(j.List), argv: append([]string{c.ffmpeg}, j.Args...)})
	}

	var w1, w2 []cost
	// Per run: each piece's, the rest's and each join's cost.
	var pieceTimes, joinEach [][]cost
	var restTimes []cost
	var joinTimes []time.Duration
	var extra, final int64
	var loads []string
	for i := range c.longRuns {
		loads = append(loads, benchstat.LoadNow())
		runOne := func() error {
			log.Printf("segments: W=1, run %d/%d (load %s)", i+1, c.longRuns, benchstat.LoadNow())
			fresh(filepath.Join(c.work, "seg-w1"))
			d, err := timeCmd(ctx, append([]string{"taskset", "-c", "0"}, one.Argv...), c.work)
			if err != nil {
				return fmt.Errorf("W=1: %w", err)
			}
			w1 = append(w1, d)
			return nil
		}
		runTwo := func() error {
			log.Printf("segments: W=2, run %d/%d (load %s)", i+1, c.longRuns, benchstat.LoadNow())
			fresh(filepath.Join(c.work, "seg-w2"))
			for _, j := range s.Joins {
				if err := os.MkdirAll(filepath.Dir(j.List), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(j.List, []byte(j.ConcatList()), 0o644); err != nil {
					return err
				}
			}
			start := time.Now()
			done, err := runWorkers(ctx, 2, jobs, c.work)
			if err != nil {
				return fmt.Errorf("W=2 pieces: %w", err)
			}
			joined, err := runWorkers(ctx, 2, joins, c.work)
			if err != nil {
				return fmt.Errorf("W=2 joins: %w", err)
			}
			w2 = append(w2, cost{wall: time.Since(start), cpu: sumCPU(done) + sumCPU(joined)})
			pieceTimes = append(pieceTimes, done[:len(s.Pieces)])
			if s.Rest != nil {
				restTimes = append(restTimes, done[len(done)-1])
			}
			var jsum time.Duration
			for _, j := range joined {
				jsum += j.wall
			}
			joinEach, joinTimes = append(joinEach, joined), append(joinTimes, jsum)
			extra, final = intermediateBytes(two), joinedBytes(two)
			return nil
		}
		order := []func() error{runOne, runTwo}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, f := range order {
			if err := f(); err != nil {
				return nil, err
			}
		}
	}

	m1, m2 := medianCost(w1), medianCost(w2)
	speedup := ratio(m1.wall, m2.wall)
	t := &table{title: fmt.Sprintf("### Segments: %d s 1080p30 H.264 Main 12 Mbit/s master → %s, one core per worker, median of %d runs",
		c.longSecs, strings.Join(three, " + "), c.longRuns)}
	t.row("W=1: one pass (`taskset -c 0`)", m1.String(), "1.00", "")
	t.row(fmt.Sprintf("W=2: %d pieces + rest, then %d joins (`taskset -c 0` / `-c 1`)", len(s.Pieces), len(s.Joins)), m2.String(),
		fmt.Sprintf("speedup W=2/W=1 = %.2f", speedup), "≥ 1.6")
	mJoin := benchstat.Median(joinTimes)
	t.row("joins (concat -c copy + audio + faststart), all targets", fmt.Sprintf("%.2f s", mJoin.Seconds()), "", "")
	t.row("extra bytes written (pieces + audio)", benchstat.MiB(extra), fmt.Sprintf("%.2f × the joined files (%s)", float64(extra)/float64(max(final, 1)), benchstat.MiB(final)), "")

	// The simulation: on a core of its own a job's wall time is its CPU
	// time (ffmpeg's threads share the one core), which on a shared
	// machine is the figure that does not depend on the other load. Each
	// piece takes the measured CPU time per second of source, the rest and
	// the joins their measured CPU times, and every job waits one fetch
	// interval before a worker takes it. W=1 is the one pass's CPU time.
	var perSec float64
	var segSecs float64
	for k, seg := range s.Segments {
		perSec += medianCost(column(pieceTimes, k)).cpu.Seconds()
		segSecs += seg.Duration()
	}
	perSec /= segSecs
	var rest time.Duration
	if len(restTimes) > 0 {
		rest = medianCost(restTimes).cpu
	}
	var joinJobs []time.Duration
	for k := range s.Joins {
		joinJobs = append(joinJobs, medianCost(column(joinEach, k)).cpu)
	}
	for _, w := range []int{2, 4, 8, 16} {
		segs := render.PlanSegments(info.Duration, keyframes, render.SegmentSettings{Count: w, MinSeconds: minSeconds})
		var pieces []time.Duration
		for _, seg := range segs {
			pieces = append(pieces, time.Duration(perSec*seg.Duration()*float64(time.Second)))
		}
		if rest > 0 {
			pieces = append(pieces, rest)
		}
		wall := makespan(w, pieces, riverFetchInterval) + makespan(w, joinJobs, riverFetchInterval)
		t.row(fmt.Sprintf("simulated W=%d (%d segments)", w, len(segs)), fmt.Sprintf("%.2f s", wall.Seconds()),
			fmt.Sprintf("speedup %.2f (vs the one pass's %.2f CPU s)", ratio(m1.cpu, wall), m1.cpu.Seconds()), "")
	}
	t.notes = append(t.notes,
		fmt.Sprintf("Runs, wall (CPU) s: W=1 %s; W=2 %s; load average (1 min) at each start: %s.", costs(w1), costs(w2), strings.Join(loads, ", ")),
		fmt.Sprintf("Pieces: %s s of source each, %s s each (medians, wall (CPU)); rest (audio once): %s s; joins: %s s each. "+
			"Simulation, from CPU times (a job's wall time on a core of its own): %.3f CPU s per second of source per piece, the measured rest and joins, %s queue latency per job "+
			"(River's FetchPollInterval default), segments as render.PlanSegments cuts them at the master's keyframes with the %g s minimum; "+
			"the simulated W=2 row beside the measured one is the model's check.",
			segLengths(s.Segments), pieceMedians(pieceTimes, len(s.Pieces)), costs(restTimes), pieceMedians(joinEach, len(s.Joins)), perSec, riverFetchInterval, minSeconds))
	return t, nil
}

// segmentedPlanOf asks outpost for the segmented plan of an export.
func segmentedPlanOf(ctx context.Context, outpost, src, out string, n int, presets ...string) (*segmentPlan, error) {
	b, err := planJSON(ctx, outpost, src, out, []string{"--segments", strconv.Itoa(n)}, presets...)
	if err != nil {
		return nil, err
	}
	var p segmentPlan
	if err := json.Unmarshal(b, &p); err != nil || p.Segments == nil || len(p.Segments.Pieces) != n {
		return nil, fmt.Errorf("%s --plan --segments %d printed no %d-segment plan (source shorter than %d × $OUTPOST_SEGMENT_MIN_SECONDS, or too few keyframes?): %v", outpost, n, n, n, err)
	}
	return &p, nil
}

type workerJob struct {
	name string
	argv []string
}

// runWorkers runs jobs on w workers, worker k pinned to core k: a free
// worker takes the next job. It returns each job's cost, in job order.
func runWorkers(ctx context.Context, w int, jobs []workerJob, work string) ([]cost, error) {
	costs := make([]cost, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int, len(jobs))
	for i := range jobs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				argv := append([]string{"taskset", "-c", strconv.Itoa(k)}, jobs[i].argv...)
				costs[i], errs[i] = timeCmd(ctx, argv, work)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("%s: %w", jobs[i].name, errs[i])
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return costs, nil
}

// makespan is when the last of jobs ends on w workers that each take the
// longest job left when free (every job waiting latency first).
func makespan(w int, jobs []time.Duration, latency time.Duration) time.Duration {
	js := slices.Clone(jobs)
	slices.SortFunc(js, func(a, b time.Duration) int { return int(b - a) })
	free := make([]time.Duration, w)
	for _, j := range js {
		k := slices.Index(free, slices.Min(free))
		free[k] += latency + j
	}
	return slices.Max(free)
}

// intermediateBytes is the size of the pieces and audio files a segmented
// render wrote besides its joined files.
func intermediateBytes(p *segmentPlan) int64 {
	var files []string
	for _, j := range p.Segments.Joins {
		files = append(files, j.Pieces...)
		if j.Audio != "" {
			files = append(files, j.Audio)
		}
	}
	return filesBytes(files)
}

// joinedBytes is the size of the joined files (the joins' last argument).
func joinedBytes(p *segmentPlan) int64 {
	var files []string
	for _, j := range p.Segments.Joins {
		files = append(files, j.Args[len(j.Args)-1])
	}
	return filesBytes(files)
}

func sumCPU(cs []cost) time.Duration {
	var d time.Duration
	for _, c := range cs {
		d += c.cpu
	}
	return d
}

func column(rows [][]cost, k int) []cost {
	var col []cost
	for _, r := range rows {
		col = append(col, r[k])
	}
	return col
}

// pieceMedians is the median cost of each of the n jobs over the runs.
func pieceMedians(rows [][]cost, n int) string {
	var ms []cost
	for k := range n {
		ms = append(ms, medianCost(column(rows, k)))
	}
	return costs(ms)
}

func segLengths(ss []render.Segment) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%.2f", s.Duration())
	}
	return strings.Join(parts, ", ")
}
