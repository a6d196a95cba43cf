package media

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// realProgress is ffmpeg 5.1.9's -progress pipe:1 output for a 2 s encode
// (testsrc2 + sine to H.264/AAC), the first and last blocks.
const realProgress = `frame=1
fps=0.00
stream_0_0_q=0.0
bitrate=N/A
total_size=48
out_time_us=0
out_time_ms=0
out_time=00:00:00.000000
dup_frames=0
drop_frames=0
speed=   0x
progress=continue
frame=50
fps=0.00
stream_0_0_q=-1.0
bitrate= 353.6kbits/s
total_size=89280
out_time_us=2020136
out_time_ms=2020136
out_time=00:00:02.020136
dup_frames=0
drop_frames=0
speed=26.9x
progress=end
`

func TestParseProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		total float64
		want  []Progress
	}{
		{
			name: "real ffmpeg output", in: realProgress, total: 2,
			want: []Progress{
				{Frame: 1},
				{Frame: 50, Speed: 26.9, OutTime: 2.020136, Percent: 100, Done: true},
			},
		},
		{
			name:  "percent and eta from speed",
			in:    "frame=25\nfps=50.5\nout_time_us=1000000\nspeed=2x\nprogress=continue\n",
			total: 4,
			want:  []Progress{{Frame: 25, FPS: 50.5, Speed: 2, OutTime: 1, Percent: 25, ETA: 1500 * time.Millisecond}},
		},
		{
			name:  "N/A values at the start",
			in:    "frame=0\nfps=N/A\nout_time_us=N/A\nout_time_ms=N/A\nout_time=N/A\nspeed=N/A\nprogress=continue\n",
			total: 10,
			want:  []Progress{{}},
		},
		{
			name:  "negative start time (audio priming)",
			in:    "out_time_us=-23220\nout_time=-00:00:00.023220\nprogress=continue\n",
			total: 10,
			want:  []Progress{{}},
		},
		{
			name:  "out_time only",
			in:    "out_time=00:01:02.500000\nprogress=continue\n",
			total: 125,
			want:  []Progress{{OutTime: 62.5, Percent: 50}},
		},
		{
			name:  "unknown total: percent stays 0 until done",
			in:    "out_time_us=5000000\nspeed=1x\nprogress=continue\nprogress=end\n",
			total: 0,
			want:  []Progress{{OutTime: 5, Speed: 1}, {OutTime: 5, Speed: 1, Percent: 100, Done: true}},
		},
		{
			name:  "percent never goes down",
			in:    "out_time_us=3000000\nprogress=continue\nout_time_us=2000000\nprogress=continue\n",
			total: 4,
			want:  []Progress{{OutTime: 3, Percent: 75}, {OutTime: 2, Percent: 75}},
		},
		{
			name:  "crlf, spaces and junk lines",
			in:    "frame = 7\r\nnot a pair\r\n=\r\nspeed= 1.5x \r\nprogress=continue\r\n",
			total: 0,
			want:  []Progress{{Frame: 7, Speed: 1.5}},
		},
		{
			name:  "garbage numbers",
			in:    "frame=-4\nfps=NaN\nspeed=-1x\nout_time_us=abc\nout_time=1:2\nprogress=continue\n",
			total: 1,
			want:  []Progress{{}},
		},
		{
			name:  "last line without newline",
			in:    "frame=3\nprogress=end",
			total: 1,
			want:  []Progress{{Frame: 3, Percent: 100, Done: true}},
		},
		{name: "empty", in: "", total: 1, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []Progress
			if err := ParseProgress(strings.NewReader(tt.in), tt.total, func(p Progress) { got = append(got, p) }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// Writes split anywhere must give the same reports as one write.
func TestProgressParser_splitWrites(t *testing.T) {
	t.Parallel()
	var whole []Progress
	if err := ParseProgress(strings.NewReader(realProgress), 2, func(p Progress) { whole = append(whole, p) }); err != nil {
		t.Fatal(err)
	}
	for size := 1; size < 40; size++ {
		var got []Progress
		p := &ProgressParser{Total: 2, ReportFunc: func(pr Progress) { got = append(got, pr) }}
		for s := realProgress; len(s) > 0; {
			n := min(size, len(s))
			if _, err := p.Write([]byte(s[:n])); err != nil {
				t.Fatal(err)
			}
			s = s[n:]
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, whole) {
			t.Errorf("writes of %d bytes: got %+v, want %+v", size, got, whole)
		}
	}
}

// Without a speed, the ETA comes from the wall clock.
func TestProgressParser_etaFromWallClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var got []Progress
	p := &ProgressParser{Total: 10, Now: clock, ReportFunc: func(pr Progress) { got = append(got, pr) }}
	if _, err := p.Write([]byte("speed=N/A\n")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(4 * time.Second)
	if _, err := p.Write([]byte("out_time_us=2000000\nprogress=continue\n")); err != nil {
		t.Fatal(err)
	}
	// 2 s of media in 4 s of wall time: 8 s of media left takes 16 s.
	if len(got) != 1 || got[0].ETA != 16*time.Second {
		t.Errorf("got %+v, want one report with ETA 16s", got)
	}
}

func TestProgressParser_longLine(t *testing.T) {
	t.Parallel()
	var got []Progress
	p := &ProgressParser{ReportFunc: func(pr Progress) { got = append(got, pr) }}
	long := "frame=" + strings.Repeat("9", 100000)
	for range 3 {
		if _, err := p.Write([]byte(long)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Write([]byte("\nframe=5\nprogress=continue\n")); err != nil {
		t.Fatal(err)
	}
	if len(p.partial) != 0 || cap(p.partial) > 2*maxProgressLine {
		t.Errorf("partial line kept %d bytes (cap %d)", len(p.partial), cap(p.partial))
	}
	if len(got) != 1 || got[0].Frame != 5 {
		t.Errorf("got %+v", got)
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add(realProgress, 2.0)
	f.Add("out_time_us=9223372036854775807\nspeed=1e-300x\nprogress=continue\n", 1.0)
	f.Add("out_time=99999999:00:00.0\nprogress=continue\n", 1e-300)
	f.Add("frame=1\nprogress=end\nprogress=continue\n", -1.0)
	f.Fuzz(func(t *testing.T, in string, total float64) {
		last := 0.0
		err := ParseProgress(strings.NewReader(in), total, func(p Progress) {
			if p.Percent < 0 || p.Percent > 100 || math.IsNaN(p.Percent) {
				t.Fatalf("percent %v", p.Percent)
			}
			if p.Percent < last {
				t.Fatalf("percent went down: %v after %v", p.Percent, last)
			}
			last = p.Percent
			if p.ETA < 0 || p.ETA > maxETA {
				t.Fatalf("eta %v", p.ETA)
			}
			for _, v := range []float64{p.FPS, p.Speed, p.OutTime} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("bad value in %+v", p)
				}
			}
			if p.Frame < 0 {
				t.Fatalf("frame %d", p.Frame)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
