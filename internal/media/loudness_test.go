package media

import (
	"math"
	"testing"
)

const ebur128Log = `Input #0, lavfi, from 'sine=f=1000':
  Duration: N/A, start: 0.000000, bitrate: 705 kb/s
[Parsed_ebur128_0 @ 0x5575b9d05f80] Summary:

  Integrated loudness:
    I:         -21.8 LUFS
    Threshold: -31.8 LUFS

  Loudness range:
    LRA:         3.4 LU
    Threshold: -41.8 LUFS
    LRA low:   -23.1 LUFS
    LRA high:  -19.7 LUFS

  True peak:
    Peak:      -20.8 dBFS
`

func TestParseLoudness(t *testing.T) {
	t.Parallel()
	l, err := ParseLoudness(ebur128Log)
	if err != nil {
		t.Fatal(err)
	}
	if *l != (Loudness{Integrated: -21.8, Threshold: -31.8, Range: 3.4, TruePeak: -20.8}) || l.Silent() {
		t.Errorf("got %+v", *l)
	}
	silence, err := ParseLoudness("Summary:\n\n  Integrated loudness:\n    I:         -70.0 LUFS\n    Threshold:   0.0 LUFS\n\n  Loudness range:\n    LRA:         0.0 LU\n\n  True peak:\n    Peak:       -inf dBFS\n")
	if err != nil || !math.IsInf(silence.TruePeak, -1) || !silence.Silent() {
		t.Errorf("silence: %+v %v", silence, err)
	}
	for _, bad := range []string{"", "no summary here", "Summary:\n  Integrated loudness:\n    I: -20 LUFS\n"} {
		if _, err := ParseLoudness(bad); err == nil {
			t.Errorf("ParseLoudness(%q) accepted", bad)
		}
	}
}

func FuzzParseLoudness(f *testing.F) {
	f.Add(ebur128Log)
	f.Add("Summary:\nTrue peak:\nPeak: nan\n")
	f.Fuzz(func(t *testing.T, log string) {
		_, _ = ParseLoudness(log)
	})
}
