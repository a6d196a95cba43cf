package media

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Progress is one report of a running ffmpeg, from its -progress output.
type Progress struct {
	// Frame is the number of video frames written so far (0 for audio-only
	// outputs).
	Frame int64
	// FPS is the encoding speed in frames per second.
	FPS float64
	// Speed is media seconds written per wall-clock second (ffmpeg's "1.5x");
	// 0 while ffmpeg reports N/A.
	Speed float64
	// OutTime is how many seconds of output have been written.
	OutTime float64
	// Percent is OutTime over the expected total, 0 to 100. It never goes
	// down, and stays 0 when the total is unknown until Done.
	Percent float64
	// ETA is the expected remaining wall-clock time, 0 when unknown or done.
	ETA time.Duration
	// Done is ffmpeg's last report (progress=end); Percent is then 100. Run
	// passes it on only when ffmpeg succeeded, because ffmpeg also sends its
	// last report when it stops on SIGINT.
	Done bool
}

// ProgressParser turns the key=value blocks ffmpeg writes with
// "-progress pipe:1" into Progress reports. It is an io.Writer so a process's
// stdout can be given to it directly; it keeps partial lines between writes.
//
// A block is a series of lines such as "frame=25", "out_time_us=1000000",
// "speed=1.02x", closed by "progress=continue" or "progress=end". Values of
// "N/A" leave the field unknown. Unknown keys are ignored, so later ffmpeg
// versions adding keys do not break it.
type ProgressParser struct {
	// Total is the expected output duration in seconds, for Percent and ETA;
	// 0 or less when unknown.
	Total float64
	// ReportFunc receives one Progress per block. It runs on the writing
	// goroutine and should return quickly: ffmpeg waits while it runs.
	ReportFunc func(Progress)
	// Now is the clock for the ETA when ffmpeg reports no speed; nil leaves
	// the ETA unknown then, which keeps the parser a pure function of its
	// input.
	Now func() time.Time

	cur     Progress
	percent float64
	start   time.Time
	partial []byte
}

// maxProgressLine bounds a partial line; progress lines are short, and a
// garbage stream must not grow memory.
const maxProgressLine = 1 << 10

// maxETA keeps a nonsense estimate from overflowing time.Duration.
const maxETA = 1000 * time.Hour

// Write parses complete lines and keeps the last partial one.
func (p *ProgressParser) Write(b []byte) (int, error) {
	n := len(b)
	if p.Now != nil && p.start.IsZero() {
		p.start = p.Now()
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if room := maxProgressLine - len(p.partial); room > 0 {
				p.partial = append(p.partial, b[:min(room, len(b))]...)
			}
			break
		}
		if len(p.partial) > 0 {
			if room := maxProgressLine - len(p.partial); room > 0 {
				p.partial = append(p.partial, b[:min(room, i)]...)
			}
			p.line(string(p.partial))
			p.partial = p.partial[:0]
		} else {
			p.line(string(b[:i]))
		}
		b = b[i+1:]
	}
	return n, nil
}

// Close parses a last line that had no newline.
func (p *ProgressParser) Close() error {
	if len(p.partial) > 0 {
		p.line(string(p.partial))
		p.partial = p.partial[:0]
	}
	return nil
}

func (p *ProgressParser) line(l string) {
	key, val, ok := strings.Cut(strings.TrimSpace(l), "=")
	if !ok {
		return
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	switch key {
	case "frame":
		if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
			p.cur.Frame = n
		}
	case "fps":
		p.cur.FPS = nonNegative(val)
	case "speed":
		p.cur.Speed = nonNegative(strings.TrimSpace(strings.TrimSuffix(val, "x")))
	case "out_time_us", "out_time_ms": // both are microseconds in ffmpeg 5.1
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			p.cur.OutTime = max(float64(n)/1e6, 0)
		}
	case "out_time":
		if s, ok := parseClock(val); ok {
			p.cur.OutTime = max(s, 0)
		}
	case "progress":
		p.emit(val == "end")
	}
}

func (p *ProgressParser) emit(done bool) {
	out := p.cur
	if p.Total > 0 {
		p.percent = max(p.percent, min(out.OutTime/p.Total*100, 100))
	}
	out.Done = done
	if done {
		p.percent = 100
	}
	out.Percent = p.percent
	out.ETA = p.eta(out)
	if p.ReportFunc != nil {
		p.ReportFunc(out)
	}
}

func (p *ProgressParser) eta(pr Progress) time.Duration {
	if pr.Done || p.Total <= 0 || pr.OutTime <= 0 {
		return 0
	}
	remaining := p.Total - pr.OutTime
	if remaining <= 0 {
		return 0
	}
	var secs float64
	switch {
	case pr.Speed > 0:
		secs = remaining / pr.Speed
	case p.Now != nil && !p.start.IsZero():
		elapsed := p.Now().Sub(p.start).Seconds()
		secs = elapsed * remaining / pr.OutTime
	default:
		return 0
	}
	if !(secs > 0) {
		return 0
	}
	if secs >= maxETA.Seconds() {
		return maxETA
	}
	return time.Duration(secs * float64(time.Second))
}

// ParseProgress reads ffmpeg -progress output from r until EOF, calling fn
// for every block. total is the expected duration in seconds (0 if unknown).
// The ETA comes from ffmpeg's speed only, so the result depends on the input
// alone.
func ParseProgress(r io.Reader, total float64, fn func(Progress)) error {
	p := &ProgressParser{Total: total, ReportFunc: fn}
	if _, err := io.Copy(p, r); err != nil {
		return fmt.Errorf("read progress: %w", err)
	}
	return p.Close()
}

// nonNegative parses a float, mapping N/A, garbage, negatives and
// non-finite values to 0.
func nonNegative(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// parseClock parses ffmpeg's [-]HH:MM:SS.micro.
func parseClock(s string) (float64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	var total float64
	for _, part := range parts {
		f, err := strconv.ParseFloat(part, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return 0, false
		}
		total = total*60 + f
	}
	if math.IsInf(total, 0) {
		return 0, false
	}
	if neg {
		total = -total
	}
	return total, true
}
