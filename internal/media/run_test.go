package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/internal/errcode"
)

func TestArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"adds all", []string{"-i", "in.mp4", "out.mp4"},
			[]string{"-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-stats_period", "0.1", "-nostats", "-i", "in.mp4", "out.mp4"}},
		{"keeps what is there", []string{"-y", "-hide_banner", "-i", "in.mp4", "out.mp4"},
			[]string{"-nostdin", "-progress", "pipe:1", "-stats_period", "0.1", "-nostats", "-y", "-hide_banner", "-i", "in.mp4", "out.mp4"}},
		{"-n wins over -y", []string{"-n", "-i", "in.mp4", "out.mp4"},
			[]string{"-hide_banner", "-nostdin", "-progress", "pipe:1", "-stats_period", "0.1", "-nostats", "-n", "-i", "in.mp4", "out.mp4"}},
		{"own -progress and -stats", []string{"-progress", "file.txt", "-stats", "-i", "a", "b"},
			[]string{"-hide_banner", "-nostdin", "-y", "-progress", "file.txt", "-stats", "-i", "a", "b"}},
		{"empty", nil, []string{"-hide_banner", "-nostdin", "-y", "-progress", "pipe:1", "-stats_period", "0.1", "-nostats"}},
	}
	for _, tt := range tests {
		if got := Argv(tt.args); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Argv(%q) = %q, want %q", tt.name, tt.args, got, tt.want)
		}
	}
}

// lavfi is the argv for a synthetic encode of dur seconds to out.
func lavfi(dur, out string, extra ...string) []string {
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=" + dur,
		"-f", "lavfi", "-i", "sine=duration=" + dur,
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}
	args = append(args, extra...)
	return append(args, out)
}

func TestRunner_Run(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r := &Runner{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	out := filepath.Join(t.TempDir(), "out.mp4")
	var got []Progress
	if err := r.Run(t.Context(), lavfi("2", out, "-movflags", "+faststart"), 2, func(p Progress) { got = append(got, p) }); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no progress")
	}
	last := 0.0
	for i, p := range got {
		if p.Percent < last {
			t.Errorf("report %d: percent went down from %v to %v", i, last, p.Percent)
		}
		last = p.Percent
		if p.Done != (i == len(got)-1) {
			t.Errorf("report %d of %d: Done = %v", i, len(got), p.Done)
		}
	}
	if end := got[len(got)-1]; end.Percent != 100 || end.Frame != 50 || end.OutTime < 1.9 {
		t.Errorf("last report %+v, want 100%% at frame 50", end)
	}
	info, err := (&Prober{}).Probe(t.Context(), out)
	if err != nil {
		t.Fatal(err)
	}
	if !near(info.Duration, 2, 0.1) || info.Video.FrameCount != 50 || !info.FastStart {
		t.Errorf("output: duration %v, %d frames, faststart %v", info.Duration, info.Video.FrameCount, info.FastStart)
	}
	if !strings.Contains(logs.String(), "ffmpeg_args") || !strings.Contains(logs.String(), "ffmpeg_exit_code=0") {
		t.Errorf("logs: %s", logs.String())
	}
}

// A progress callback slower than CancelGrace (a database write on a busy
// node) does not fail a render that finished: ffmpeg's output is drained
// without waiting for it. It used to: os/exec's Wait found the copy of
// stdout unfinished CancelGrace after ffmpeg exited and returned
// exec.ErrWaitDelay, reported as "ffmpeg was killed by a signal".
func TestRunner_Run_slowProgress(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out.mp4")
	var calls, done int
	err := (&Runner{}).Run(t.Context(), lavfi("1", out), 1, func(p Progress) {
		calls++
		if p.Done {
			done++
			return
		}
		if calls == 1 {
			time.Sleep(CancelGrace + time.Second) // the slow write
		}
	})
	if err != nil {
		t.Fatalf("Run with a slow callback: %v", err)
	}
	if done != 1 {
		t.Errorf("%d Done reports in %d calls, want the one", done, calls)
	}
}

// Canceling stops ffmpeg with SIGINT; it still finishes the MP4, shorter.
func TestRunner_Run_cancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := filepath.Join(t.TempDir(), "out.mp4")
	var mu sync.Mutex
	var got []Progress
	// -re reads the input in real time, so the 30 s encode is still running
	// when we cancel, whatever the machine's speed.
	args := append([]string{"-re"}, lavfi("30", out)...)
	err := (&Runner{}).Run(ctx, args, 30, func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, p)
		if p.OutTime >= 0.5 {
			cancel()
		}
	})
	if errcode.Of(err) != errcode.Canceled || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled wrapping context.Canceled", err)
	}
	var ee *ExitError
	if !errors.As(err, &ee) || ee.ExitCode != 255 || !strings.Contains(ee.Stderr, "received signal 2") {
		t.Errorf("ExitError = %+v, want exit 255 after SIGINT", ee)
	}
	mu.Lock()
	for _, p := range got {
		if p.Done {
			t.Errorf("Done reported for a canceled run: %+v", p)
		}
	}
	mu.Unlock()
	info, err := (&Prober{}).Probe(t.Context(), out)
	if err != nil {
		t.Fatalf("the canceled output is not a valid file: %v", err)
	}
	if info.Duration <= 0 || info.Duration >= 30 {
		t.Errorf("canceled output lasts %v s", info.Duration)
	}
}

func TestRunner_Run_errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.mp4")
	tests := []struct {
		name    string
		runner  Runner
		args    []string
		want    errcode.Code
		wantMsg string
	}{
		{"no such filter", Runner{}, lavfi("1", out, "-vf", "nosuchfilter"), errcode.RenderFailed, "No such filter: 'nosuchfilter'"},
		{"bad option", Runner{}, lavfi("1", out, "-bogusopt", "1"), errcode.RenderFailed, "Unrecognized option 'bogusopt'"},
		{"unknown encoder", Runner{}, lavfi("1", out, "-c:v", "nosuchenc"), errcode.EncoderMissing, "Unknown encoder 'nosuchenc'"},
		{"missing input", Runner{}, []string{"-i", filepath.Join(dir, "nope.mp4"), out}, errcode.SourceNotFound, "nope.mp4: No such file or directory"},
		{"output folder missing", Runner{}, lavfi("1", filepath.Join(dir, "nodir", "out.mp4")), errcode.OutputWriteFailed, "No such file or directory"},
		// ffmpeg exits 0 here; the trailer error must not pass as success.
		{"disk full", Runner{}, lavfi("1", "/dev/full", "-f", "mpegts"), errcode.DiskFull, "No space left on device"},
		{"no ffmpeg", Runner{FFmpeg: filepath.Join(dir, "ffmpeg")}, lavfi("1", out), errcode.FFmpegMissing, "ffmpeg not found"},
		{"no ffmpeg on PATH", Runner{FFmpeg: "outpost-no-such-ffmpeg"}, lavfi("1", out), errcode.FFmpegMissing, "ffmpeg not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if strings.HasPrefix(tt.name, "disk full") {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
			}
			called := false
			err := tt.runner.Run(t.Context(), tt.args, 1, func(p Progress) { called = called || p.Done })
			t.Log(err)
			e := errcode.As(err)
			if e.Code != tt.want || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("got %q %q, want %q containing %q", e.Code, e.Message, tt.want, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err.Error())
			}
			var ee *ExitError
			if tt.want != errcode.FFmpegMissing && (!errors.As(err, &ee) || ee.Stderr == "") {
				t.Errorf("no stderr tail in %v", err)
			}
			if called {
				t.Error("Done reported for a failed run")
			}
		})
	}
}

// TestRunner_Run_nice: with Nice set, every thread of ffmpeg runs at that
// nice value, those started before the runner lowered it included.
func TestRunner_Run_nice(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("nice values are set on Linux only")
	}
	marker := filepath.Join(t.TempDir(), "nice-marker.mp4")
	r := &Runner{Nice: 7}
	var once sync.Once
	var seen error
	args := []string{"-re", "-threads", "2", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3",
		"-filter_threads", "2", "-vf", "scale=320:180", "-c:v", "libx264", "-threads", "2", "-preset", "ultrafast", marker}
	err := r.Run(t.Context(), args, 3, func(Progress) {
		once.Do(func() { seen = niceOfProcess(marker, 7) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != nil {
		t.Error(seen)
	}
}

// niceOfProcess checks that each thread of the child ffmpeg whose command
// line names marker runs at nice value want.
func niceOfProcess(marker string, want int) error {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		tasks, _ := filepath.Glob(filepath.Join(d, "task", "*", "stat"))
		if len(tasks) < 2 {
			return fmt.Errorf("ffmpeg has %d threads; the test wants several", len(tasks))
		}
		for _, task := range tasks {
			stat, err := os.ReadFile(task)
			if err != nil {
				continue // the thread ended
			}
			// Fields after the command name: state is 3rd, nice the 19th.
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if n, _ := strconv.Atoi(f[16]); n != want {
				return fmt.Errorf("ffmpeg thread %s runs at nice %d, want %d", task, n, want)
			}
		}
		return nil
	}
	return errors.New("no ffmpeg process with the marker in its command line")
}
