package media

import (
	"strings"
	"testing"

	"outpost/internal/errcode"
)

// The stderr samples are ffmpeg 5.1.9's own words, from real runs.
func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		stderr   string
		exitCode int
		want     errcode.Code
		wantMsg  string
	}{
		{
			name:     "missing input",
			stderr:   "nothere.mp4: No such file or directory\n",
			exitCode: 1, want: errcode.SourceNotFound, wantMsg: "nothere.mp4: No such file or directory",
		},
		{
			name: "unknown encoder",
			stderr: "Input #0, lavfi, from 'testsrc2=d=1':\n  Duration: N/A, start: 0.000000, bitrate: N/A\n" +
				"  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 25 tbn\n" +
				"Unknown encoder 'nosuchenc'\n",
			exitCode: 1, want: errcode.EncoderMissing, wantMsg: "Unknown encoder 'nosuchenc'",
		},
		{
			name:     "encoder not found",
			stderr:   "[vost#0:0 @ 0x1] Encoder not found\n",
			exitCode: 1, want: errcode.EncoderMissing, wantMsg: "vost#0:0: Encoder not found",
		},
		{
			name: "truncated mp4",
			stderr: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5598d30958c0] moov atom not found\n" +
				"trunc.mp4: Invalid data found when processing input\n",
			exitCode: 1, want: errcode.SourceTruncated, wantMsg: "mov,mp4,m4a,3gp,3g2,mj2: moov atom not found",
		},
		{
			name: "text file named mp4",
			stderr: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x559de31a68c0] Format mov,mp4,m4a,3gp,3g2,mj2 detected only with low score of 1, misdetection possible!\n" +
				"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x559de31a68c0] moov atom not found\n" +
				"text.mp4: Invalid data found when processing input\n",
			exitCode: 1, want: errcode.SourceUnreadable, wantMsg: "text.mp4: Invalid data found when processing input",
		},
		{
			name:     "cut inside moov",
			stderr:   "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x564b0cde41c0] error reading header\nfile:t100.mp4: End of file\n",
			exitCode: 1, want: errcode.SourceTruncated, wantMsg: "file:t100.mp4: End of file",
		},
		{
			name:     "partial file",
			stderr:   "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] stream 0, offset 0x30: partial file\n",
			exitCode: 1, want: errcode.SourceTruncated, wantMsg: "mov,mp4,m4a,3gp,3g2,mj2: stream 0, offset 0x30: partial file",
		},
		{
			name: "disk full at header",
			stderr: "Stream mapping:\n" +
				"Could not write header for output file #0 (incorrect codec parameters ?): No space left on device\n" +
				"Error initializing output stream 0:0 -- \nConversion failed!\n",
			exitCode: 1, want: errcode.DiskFull,
			wantMsg: "Could not write header for output file #0 (incorrect codec parameters ?): No space left on device",
		},
		{
			name:     "disk full at trailer, exit 0",
			stderr:   "Error writing trailer of /dev/full: No space left on device\nError closing file /dev/full: No space left on device\n",
			exitCode: 0, want: errcode.DiskFull, wantMsg: "Error writing trailer of full: No space left on device",
		},
		{
			name:     "output folder missing (no argv: taken as the source)",
			stderr:   "Input #0, lavfi, from 'testsrc2=d=1':\nnodir/o.mp4: No such file or directory\n",
			exitCode: 1, want: errcode.SourceNotFound, wantMsg: "nodir/o.mp4: No such file or directory",
		},
		{
			name:     "permission denied (no argv: taken as an output)",
			stderr:   "/ro/out.mp4: Permission denied\n",
			exitCode: 1, want: errcode.OutputWriteFailed, wantMsg: "out.mp4: Permission denied",
		},
		{
			name:     "could not open file",
			stderr:   "[mp4 @ 0x1] Could not open file : /ro/out.mp4\n",
			exitCode: 1, want: errcode.OutputWriteFailed, wantMsg: "mp4: Could not open file : out.mp4",
		},
		{
			name: "no such filter",
			stderr: "  Stream #0:0 -> #0:0 (rawvideo (native) -> h264 (libx264))\n" +
				"[AVFilterGraph @ 0x55c4597afb80] No such filter: 'nosuchfilter'\n" +
				"Error reinitializing filters!\nFailed to inject frame into filter network: Invalid argument\n" +
				"Error while processing the decoded data for stream #0:0\nConversion failed!\n",
			exitCode: 1, want: errcode.RenderFailed, wantMsg: "AVFilterGraph: No such filter: 'nosuchfilter'",
		},
		{
			name:     "bad option",
			stderr:   "Unrecognized option 'bogusopt'.\nError splitting the argument list: Option not found\n",
			exitCode: 1, want: errcode.RenderFailed, wantMsg: "Unrecognized option 'bogusopt'.",
		},
		{
			name: "odd size",
			stderr: "[libx264 @ 0x558ac9f69740] width not divisible by 2 (321x241)\n" +
				"Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height\n",
			exitCode: 1, want: errcode.RenderFailed, wantMsg: "libx264: width not divisible by 2 (321x241)",
		},
		{
			name:     "no cause line: last line",
			stderr:   "frame=   25 fps=0.0 q=-1.0\nsomething odd happened\n",
			exitCode: 1, want: errcode.RenderFailed, wantMsg: "something odd happened",
		},
		{name: "empty stderr", stderr: "", exitCode: 1, want: errcode.RenderFailed, wantMsg: "exited with status 1 and no message"},
		{name: "killed", stderr: "", exitCode: -1, want: errcode.RenderFailed, wantMsg: "killed by a signal (out of memory?)"},
		{name: "carriage returns", stderr: "frame=1\rframe=2\rUnknown encoder 'x'\r\n", exitCode: 1, want: errcode.EncoderMissing, wantMsg: "Unknown encoder 'x'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := Classify(tt.stderr, tt.exitCode)
			if e.Code != tt.want || e.Message != tt.wantMsg {
				t.Errorf("Classify = %q %q, want %q %q", e.Code, e.Message, tt.want, tt.wantMsg)
			}
		})
	}
}

func TestClassify_inputsKnown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stderr string
		inputs []string
		want   errcode.Code
	}{
		{"in.mp4: No such file or directory\n", []string{"in.mp4"}, errcode.SourceNotFound},
		{"nodir/o.mp4: No such file or directory\n", []string{"in.mp4"}, errcode.OutputWriteFailed},
		{"in.mp4: Permission denied\n", []string{"in.mp4"}, errcode.SourceUnreadable},
		{"out.mp4: Permission denied\n", []string{"in.mp4"}, errcode.OutputWriteFailed},
		{"a dir: Is a directory\n", []string{"a dir"}, errcode.SourceUnreadable},
		{"out: Is a directory\n", []string{"a dir"}, errcode.OutputWriteFailed},
	}
	for _, tt := range tests {
		if got := classify(tt.stderr, 1, tt.inputs).Code; got != tt.want {
			t.Errorf("classify(%q, inputs %q) = %q, want %q", tt.stderr, tt.inputs, got, tt.want)
		}
	}
}

func TestCleanLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"[libx264 @ 0x55d1c0] width not divisible by 2", "libx264: width not divisible by 2"},
		{"[AVFilterGraph @ 0x1] No such filter: 'x'", "AVFilterGraph: No such filter: 'x'"},
		{"[in] no pointer", "in: no pointer"},
		{"plain", "plain"},
		{"tab\there", "tab here"},
		{strings.Repeat("é", 400), strings.Repeat("é", 150) + "…"},
		// Server paths are reduced to base names; other slashes stay.
		{"/srv/outpost/data/work/exp_1/.tiktok.mp4.part: No space left on device", ".tiktok.mp4.part: No space left on device"},
		{"file:/srv/outpost/data/blobs/projects/prj_1/source.mp4: Invalid data found when processing input",
			"source.mp4: Invalid data found when processing input"},
		{"[AVFilterGraph @ 0x1] Error opening 'ass=/srv/data/work/exp_1/tiktok.ass'", "AVFilterGraph: Error opening 'ass=tiktok.ass'"},
		{"Error opening output file /srv/data/work/x.mp4.", "Error opening output file x.mp4."},
		{"aspect 16/9 and rate 30000/1001", "aspect 16/9 and rate 30000/1001"},
	}
	for _, tt := range tests {
		if got := cleanLine(tt.in); got != tt.want {
			t.Errorf("cleanLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("nothere.mp4: No such file or directory\n", 1)
	f.Add("[x @ 0x1] moov atom not found\nmisdetection possible", 1)
	f.Add("", -1)
	f.Fuzz(func(t *testing.T, stderr string, code int) {
		e := classify(stderr, code, []string{"in.mp4"})
		if e == nil || e.Code == "" || e.Message == "" {
			t.Fatalf("classify = %+v", e)
		}
		if strings.ContainsAny(e.Message, "\n\r") {
			t.Errorf("multi-line message %q", e.Message)
		}
		if _, ok := errcode.Remedies[e.Code]; !ok {
			t.Errorf("code %q has no remedy", e.Code)
		}
	})
}
