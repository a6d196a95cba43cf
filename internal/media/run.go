package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"outpost/internal/errcode"
)

// Runner runs ffmpeg processes. The zero value runs "ffmpeg" from PATH and
// logs nothing.
type Runner struct {
	// FFmpeg is the ffmpeg binary: a path, or a name looked up on PATH.
	// Empty means "ffmpeg".
	FFmpeg string
	// Logger receives a debug line per run (argv, exit status, time taken).
	// Nil discards them.
	Logger *slog.Logger
	// Nice is the nice value ffmpeg runs at, 0 to 19 (Linux): higher
	// leaves the CPU to the caller's other work first. 0 runs it at the
	// caller's priority.
	Nice int
	// Children, when set, records every ffmpeg started, so that a node
	// killed mid-render can stop them when it starts again.
	Children *Children
}

// CancelGrace is how long ffmpeg may take after SIGINT to finish its output
// files (write the MP4 index) before it is killed.
const CancelGrace = 10 * time.Second

func (r *Runner) bin() string {
	if r.FFmpeg == "" {
		return "ffmpeg"
	}
	return r.FFmpeg
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Argv returns the arguments Run passes to ffmpeg for args: these global
// options, in this order, each only when args does not already contain it,
// followed by args unchanged:
//
//	-hide_banner      the banner is noise in the kept stderr tail
//	-nostdin          ffmpeg must never wait for or read keys
//	-y                overwrite outputs (left out when args has -n)
//	-progress pipe:1  machine-readable progress on stdout (left out when args
//	                  has -progress; Run then reports no progress)
//	-stats_period 0.1 a report every 0.1 s rather than 0.5 s: it also dates
//	                  the decode errors of Report (left out with -progress
//	                  or -stats_period in args)
//	-nostats          no human progress lines on stderr (left out with -stats)
//
// Render code builds args without them and can show the exact command with
// Argv. Outputs must not be stdout ("-" or "pipe:1"): stdout carries the
// progress.
func Argv(args []string) []string {
	has := func(flag string) bool { return slices.Contains(args, flag) }
	out := make([]string, 0, len(args)+8)
	if !has("-hide_banner") {
		out = append(out, "-hide_banner")
	}
	if !has("-nostdin") {
		out = append(out, "-nostdin")
	}
	if !has("-y") && !has("-n") {
		out = append(out, "-y")
	}
	if !has("-progress") {
		out = append(out, "-progress", "pipe:1")
		if !has("-stats_period") {
			out = append(out, "-stats_period", "0.1")
		}
	}
	if !has("-nostats") && !has("-stats") {
		out = append(out, "-nostats")
	}
	return append(out, args...)
}

// inputPaths returns the values of -i, which tell Classify an input's
// "No such file or directory" from an output's.
func inputPaths(args []string) []string {
	in := []string{}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-i" {
			in = append(in, args[i+1])
			i++
		}
	}
	return in
}

// Run runs ffmpeg with Argv(args) (args is the argv without the program
// name) and waits for it. total is the expected output duration in seconds,
// for Percent and ETA (0 if unknown). progress, if not nil, is called from
// one goroutine of its own with the reports, the latest one whenever it is
// free (a slow callback skips reports; it never holds ffmpeg up); the Done
// report comes last and only when ffmpeg succeeded, and no call comes
// after Run returns.
//
// Canceling ctx sends ffmpeg SIGINT, on which it stops reading and finishes
// its outputs (an MP4 gets its index and stays playable, only shorter); it is
// killed if it takes longer than CancelGrace. Run then returns a Canceled
// error wrapping ctx.Err().
//
// Other failures are an *errcode.Error from Classify holding an *ExitError
// with the stderr tail. A missing ffmpeg is FFmpegMissing. ffmpeg 5.1 exits
// 0 when writing an output's trailer fails (disk full); Run reports that as
// DiskFull or OutputWriteFailed all the same.
func (r *Runner) Run(ctx context.Context, args []string, total float64, progress func(Progress)) error {
	_, _, err := r.run(ctx, args, total, progress)
	return err
}

// Report is what a run noticed besides its outputs: the decoders' reports
// of damaged input.
type Report struct {
	// DecodeErrors counts ffmpeg's log lines saying a decoder met damaged
	// input (a corrupt packet, a concealed frame).
	DecodeErrors int
	// Damaged are the stretches of output time, in seconds and in order,
	// around which they were logged: the output time reached when a line
	// came (reported every 0.1 s of wall time), widened by damageBefore
	// and damageAfter (ffmpeg decodes ahead of what it has written: frame
	// threads, the encoder's lookahead), merged when less than DamageGap
	// apart. For a source rendered from its start, output time is source
	// time.
	Damaged []TimeRange
}

// TimeRange is a stretch of media time in seconds.
type TimeRange struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// DamageGap is the distance under which two damaged moments are reported as
// one stretch.
const DamageGap = 2.0

// How far before and after the output time of a decode error the damage
// may be, in seconds: a report's age, and the decoder's lead.
const (
	damageBefore = 0.5
	damageAfter  = 2.0
)

// RunReport is Run, also returning the Report of the run (when it
// succeeded; a failed run's error says more).
func (r *Runner) RunReport(ctx context.Context, args []string, total float64, progress func(Progress)) (Report, error) {
	_, rep, err := r.run(ctx, args, total, progress)
	return rep, err
}

// run is RunReport, also returning the tail of ffmpeg's stderr, which is
// where analysis filters (ebur128) print their results.
func (r *Runner) run(ctx context.Context, args []string, total float64, progress func(Progress)) (string, Report, error) {
	bin := r.bin()
	argv := Argv(args)
	log := r.logger()

	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = CancelGrace

	var done *Progress
	var outTime atomic.Uint64 // float64 bits: the output time reached
	reports := deliver(progress)
	parser := &ProgressParser{
		Total: total,
		Now:   time.Now,
		ReportFunc: func(p Progress) {
			outTime.Store(math.Float64bits(p.OutTime))
			if p.Done {
				done = &p // held back until the exit status is known
				return
			}
			reports.send(p)
		},
	}
	stderr := newLogTail(tailSize)
	stderr.outTime = func() float64 { return math.Float64frombits(outTime.Load()) }
	cmd.Stdout = parser
	cmd.Stderr = stderr

	log.DebugContext(ctx, "ffmpeg start", "ffmpeg_args", argv)
	start := time.Now()
	startLowered(cmd, r.Nice)
	startErr, err := r.Children.run(cmd, func(pid int) {
		if err := renice(pid, r.Nice); err != nil {
			log.WarnContext(ctx, "ffmpeg runs at normal priority", "nice", r.Nice, "error", err)
		}
	})
	_ = parser.Close()
	reports.close()
	if startErr != nil {
		return "", Report{}, startError(ctx, "ffmpeg", bin, startErr)
	}
	code := exitCode(err)
	log.DebugContext(ctx, "ffmpeg exit", "ffmpeg_exit_code", code, "elapsed", time.Since(start))

	if err != nil && ctx.Err() != nil {
		return "", Report{}, canceled(ctx, "ffmpeg", code, stderr, err)
	}
	if err != nil {
		e := classify(stderr.String(), code, inputPaths(args))
		e.Err = &ExitError{Program: "ffmpeg", ExitCode: code, Stderr: stderr.String(), Err: err}
		return "", Report{}, e
	}
	if stderr.writeFailure != "" {
		e := classify(stderr.writeFailure, 0, inputPaths(args))
		e.Err = &ExitError{Program: "ffmpeg", ExitCode: 0, Stderr: stderr.String()}
		return "", Report{}, e
	}
	if progress != nil {
		if done == nil {
			done = &Progress{Done: true, Percent: 100}
		}
		progress(*done)
	}
	rep := Report{DecodeErrors: stderr.decodeCount, Damaged: damagedRanges(stderr.decodeErrors, DamageGap)}
	return stderr.String(), rep, nil
}

// latest hands progress reports to a callback from a goroutine of its
// own, the latest report whenever the callback is free. ffmpeg's stdout
// is copied to the parser by os/exec's goroutine: a callback that blocks
// there (a database write on a busy node, SQLite's one connection held by
// another job) would leave the copy unfinished when ffmpeg exits, and
// Wait, CancelGrace later, would close the pipe and fail the finished run
// with exec.ErrWaitDelay (which read as "killed by a signal").
type latest struct {
	mu      sync.Mutex
	pending *Progress
	wake    chan struct{}
	done    chan struct{}
}

// deliver starts the goroutine that calls f (nil: none).
func deliver(f func(Progress)) *latest {
	if f == nil {
		return nil
	}
	l := &latest{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for range l.wake {
			l.mu.Lock()
			p := l.pending
			l.pending = nil
			l.mu.Unlock()
			if p != nil {
				f(*p)
			}
		}
	}()
	return l
}

// send hands p over without waiting: it replaces a report not yet
// delivered.
func (l *latest) send(p Progress) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.pending = &p
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is pending: it will take p
	}
}

// close delivers what is pending and waits for the callback's last call.
// No send may follow.
func (l *latest) close() {
	if l == nil {
		return
	}
	close(l.wake)
	<-l.done
}

// damagedRanges turns the output times of decode errors into stretches:
// each time widened by damageBefore and damageAfter (not below 0),
// stretches less than gap apart merged, rounded outward to tenths of a
// second.
func damagedRanges(times []float64, gap float64) []TimeRange {
	if len(times) == 0 {
		return nil
	}
	rs := make([]TimeRange, len(times))
	for i, t := range times {
		rs[i] = TimeRange{Start: math.Max(0, t-damageBefore), End: t + damageAfter}
	}
	out := mergeRanges(rs, gap)
	for i := range out {
		out[i] = roundRange(out[i])
	}
	return out
}

// mergeRanges sorts rs by start and merges the stretches less than gap
// apart.
func mergeRanges(rs []TimeRange, gap float64) []TimeRange {
	slices.SortFunc(rs, func(a, b TimeRange) int { return cmp.Compare(a.Start, b.Start) })
	var out []TimeRange
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start-out[n-1].End < gap {
			out[n-1].End = math.Max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Shift returns r with its damaged stretches moved later by offset
// seconds: the report of a render that wrote a part of a longer output
// (a segment's piece, from its own 0) in the whole output's time.
func (r Report) Shift(offset float64) Report {
	out := Report{DecodeErrors: r.DecodeErrors}
	for _, d := range r.Damaged {
		out.Damaged = append(out.Damaged, roundRange(TimeRange{Start: d.Start + offset, End: d.End + offset}))
	}
	return out
}

// JoinReports is one report for renders that made one output between them
// (the pieces and the rest of a segmented render, each Shift to the whole
// output's time): the decode errors added up, the damaged stretches in
// order, those less than DamageGap apart merged as damagedRanges merges.
func JoinReports(reps ...Report) Report {
	var out Report
	var all []TimeRange
	for _, r := range reps {
		out.DecodeErrors += r.DecodeErrors
		all = append(all, r.Damaged...)
	}
	out.Damaged = mergeRanges(all, DamageGap)
	return out
}

// roundRange rounds r outward to tenths of a second.
func roundRange(r TimeRange) TimeRange {
	// The epsilon keeps 0.1+0.2 from rounding up to 0.4.
	return TimeRange{Start: math.Floor(r.Start*10+1e-9) / 10, End: math.Ceil(r.End*10-1e-9) / 10}
}

// exitCode is the process exit status, -1 for a signal, 0 for no error.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// canceled is the error for a run stopped by its context. It wraps both
// ctx.Err() (for errors.Is) and the process's ExitError (for the log).
func canceled(ctx context.Context, program string, code int, stderr *logTail, err error) error {
	return &errcode.Error{
		Code:    errcode.Canceled,
		Message: program + " stopped",
		Err: fmt.Errorf("%w: %w", ctxErr(ctx),
			&ExitError{Program: program, ExitCode: code, Stderr: stderr.String(), Err: err}),
	}
}

// ctxErr is ctx.Err(), joined with the cancel cause when one was given, so
// errors.Is works for both.
func ctxErr(ctx context.Context) error {
	err, cause := ctx.Err(), context.Cause(ctx)
	if cause == nil || errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, cause)
}

// startError maps a failure to start program: a binary that is not there
// (or not executable) is FFmpegMissing.
func startError(ctx context.Context, program, bin string, err error) error {
	if ctx.Err() != nil {
		return &errcode.Error{Code: errcode.Canceled, Message: program + " not started", Err: ctxErr(ctx)}
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return &errcode.Error{Code: errcode.FFmpegMissing, Message: fmt.Sprintf("%s not found (%s)", program, bin), Err: err}
	}
	if errors.Is(err, fs.ErrPermission) {
		return &errcode.Error{Code: errcode.FFmpegMissing, Message: fmt.Sprintf("%s is not executable (%s)", program, bin), Err: err}
	}
	return fmt.Errorf("start %s: %w", program, err)
}
