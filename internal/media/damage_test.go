package media

import (
	"reflect"
	"testing"

	"outpost/internal/media/mediatest"
)

func TestDamagedRanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		times []float64
		want  []TimeRange
	}{
		{"none", nil, nil},
		{"one, at the start", []float64{0.2}, []TimeRange{{0, 2.2}}},
		{"close ones merge", []float64{5.5, 4, 6.25, 4.8}, []TimeRange{{3.5, 8.3}}},
		{"far apart", []float64{1, 10}, []TimeRange{{0.5, 3}, {9.5, 12}}},
		{"just under the gap", []float64{1, 5.49}, []TimeRange{{0.5, 7.5}}},
		{"rounded outward", []float64{0.3 + 0.1, 7.123}, []TimeRange{{0, 2.4}, {6.6, 9.2}}},
	} {
		if got := damagedRanges(tc.times, DamageGap); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: damagedRanges(%v) = %v, want %v", tc.name, tc.times, got, tc.want)
		}
	}
}

// TestJoinReports: the reports of a segmented render's parts, each
// shifted to the whole output's time, make one: errors added up,
// stretches in order, near ones merged across a cut.
func TestJoinReports(t *testing.T) {
	t.Parallel()
	piece := func(n int, rs ...TimeRange) Report { return Report{DecodeErrors: n, Damaged: rs} }
	for _, tc := range []struct {
		name string
		reps []Report
		want Report
	}{
		{"none", nil, Report{}},
		{"clean parts", []Report{{}, Report{}.Shift(3)}, Report{}},
		{"one piece, shifted", []Report{{}, piece(2, TimeRange{0, 2.2}).Shift(3.1)}, piece(2, TimeRange{3.1, 5.3})},
		{"across a cut: merged", []Report{piece(1, TimeRange{4.5, 7}), piece(3, TimeRange{0, 1.5}).Shift(6)},
			piece(4, TimeRange{4.5, 7.5})},
		{"apart, out of order", []Report{piece(1, TimeRange{0, 1.5}).Shift(10), piece(1, TimeRange{0.5, 3})},
			piece(2, TimeRange{0.5, 3}, TimeRange{10, 11.5})},
		{"the rest's audio errors count", []Report{piece(0), piece(5, TimeRange{2, 4.5})}, piece(5, TimeRange{2, 4.5})},
	} {
		if got := JoinReports(tc.reps...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: JoinReports = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestIsDecodeError(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]bool{
		"Error while decoding stream #0:0: Invalid data found when processing input":    true,
		"damaged.mp4: corrupt decoded frame in stream 0":                                true,
		"[h264 @ 0x55d0] error while decoding MB 12 7, bytestream -7":                   true,
		"[h264 @ 0x55d0] concealing 1200 DC, 1200 AC, 1200 MV errors in P frame":        true,
		"[libx264 @ 0x55d0] frame I:1     Avg QP:20.00  size: 1234":                     false,
		"[aac @ 0x55d0] Too many bits 8832 > 6144 per frame requested, clamping to max": false,
		"Error writing trailer of out.mp4: No space left on device":                     false,
	} {
		if got := isDecodeError(line); got != want {
			t.Errorf("isDecodeError(%q) = %v, want %v", line, got, want)
		}
	}
}

// TestRunner_RunReport_damaged decodes a source whose middle was
// overwritten with random bytes: the report counts decode errors, in the
// middle of the timeline; an intact source has none.
func TestRunner_RunReport_damaged(t *testing.T) {
	t.Parallel()
	const dur = 8.0
	src := mediatest.Generate(t, mediatest.Spec{Duration: dur, Bitrate: "1500k"})
	bad := mediatest.Damaged(t, src, 0.45, 0.6)
	// Read at twice real time, as a render about that fast would: the
	// progress reports date the errors.
	args := func(in string) []string { return []string{"-readrate", "2", "-i", in, "-f", "null", "-"} }

	rep, err := (&Runner{}).RunReport(t.Context(), []string{"-i", src, "-f", "null", "-"}, dur, nil)
	if err != nil || rep.DecodeErrors != 0 || rep.Damaged != nil {
		t.Fatalf("intact source: %+v, %v", rep, err)
	}
	rep, err = (&Runner{}).RunReport(t.Context(), args(bad), dur, nil)
	if err != nil {
		t.Fatalf("damaged source: %v", err)
	}
	if rep.DecodeErrors == 0 || len(rep.Damaged) == 0 {
		t.Fatalf("damaged source: report %+v, want decode errors", rep)
	}
	for _, r := range rep.Damaged {
		// The damage is in the middle, a little over 3.5 to 5 s.
		if r.Start < 2 || r.Start > 5 || r.End > dur+2.5 || r.Start >= r.End {
			t.Errorf("damaged stretch %+v is not in the middle of the %v s source (report %+v)", r, dur, rep)
		}
	}
}
