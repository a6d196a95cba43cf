package render

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/internal/preset"
)

// every returns keyframes every step seconds from 0 up to duration.
func every(step, duration float64) []float64 {
	var ks []float64
	for k := 0.0; k < duration; k += step {
		ks = append(ks, k)
	}
	return ks
}

func TestPlanSegments(t *testing.T) {
	t.Parallel()
	vfr := []float64{0, 0.9, 2.03, 3.4, 5.71, 6.02, 8.333, 9.01, 11.5, 12.26, 14.9, 16.0, 17.61, 19.95}
	for _, tc := range []struct {
		name      string
		duration  float64
		keyframes []float64
		s         SegmentSettings
		want      []float64 // the cuts
	}{
		{"one worker", 120, every(2, 120), SegmentSettings{Count: 1, MinSeconds: 10}, nil},
		{"two equal", 120, every(2, 120), SegmentSettings{Count: 2, MinSeconds: 10}, []float64{60}},
		{"four equal", 120, every(2, 120), SegmentSettings{Count: 4, MinSeconds: 10}, []float64{30, 60, 90}},
		{"keyframes off the ideal", 100, every(3, 100), SegmentSettings{Count: 4, MinSeconds: 10}, []float64{24, 51, 75}},
		{"short source is one segment", 15, every(1, 15), SegmentSettings{Count: 4, MinSeconds: 10}, nil},
		{"minimum caps the count", 35, every(1, 35), SegmentSettings{Count: 8, MinSeconds: 10}, []float64{12, 23}},
		{"keyframe-sparse: one usable keyframe", 60, []float64{0, 25}, SegmentSettings{Count: 4, MinSeconds: 10}, []float64{25}},
		{"keyframe-sparse: only the first", 60, []float64{0}, SegmentSettings{Count: 4, MinSeconds: 10}, nil},
		{"keyframe-sparse: too close to the end", 60, []float64{0, 55}, SegmentSettings{Count: 2, MinSeconds: 10}, nil},
		{"vfr keyframes", 20, vfr, SegmentSettings{Count: 4, MinSeconds: 2}, []float64{5.71, 9.01, 14.9}},
		{"timeline: cut anywhere", 31, nil, SegmentSettings{Count: 3, MinSeconds: 10}, []float64{10.333, 20.667}},
		{"no minimum", 3, every(0.5, 3), SegmentSettings{Count: 3}, []float64{1, 2}},
		{"zero count", 60, every(1, 60), SegmentSettings{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			segs := PlanSegments(tc.duration, tc.keyframes, tc.s)
			var cuts []float64
			for i, s := range segs {
				if s.Index != i || s.End <= s.Start {
					t.Errorf("segment %d: %+v", i, s)
				}
				if i > 0 {
					cuts = append(cuts, s.Start)
					if s.Start != segs[i-1].End {
						t.Errorf("segment %d starts at %g, the one before ends at %g", i, s.Start, segs[i-1].End)
					}
					if tc.keyframes != nil && !slices.Contains(tc.keyframes, s.Start) {
						t.Errorf("cut at %g is not a keyframe", s.Start)
					}
				}
				if len(segs) > 1 && s.Duration() < tc.s.MinSeconds {
					t.Errorf("segment %d is %g s, under the minimum", i, s.Duration())
				}
			}
			if segs[0].Start != 0 || segs[len(segs)-1].End != tc.duration {
				t.Errorf("segments cover %g to %g, want 0 to %g", segs[0].Start, segs[len(segs)-1].End, tc.duration)
			}
			if !slices.Equal(cuts, tc.want) {
				t.Errorf("cuts %v, want %v", cuts, tc.want)
			}
		})
	}
}

func TestFirstFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start, fps float64
		want       int
	}{
		{0, 30, 0},
		{10, 30, 300},
		{10.5, 25, 263},
		{10.48, 25, 262},
		{1.0010015, 30000.0 / 1001, 30}, // a keyframe time read a little late
		{60.06, 30000.0 / 1001, 1800},
	} {
		if got := FirstFrame(tc.start, tc.fps); got != tc.want {
			t.Errorf("FirstFrame(%g, %g) = %d, want %d", tc.start, tc.fps, got, tc.want)
		}
	}
}

func TestBuildSegmented_golden(t *testing.T) {
	t.Parallel()
	social := []string{"youtube-1080p", "instagram-reel", "linkedin-square"}
	for _, tc := range []struct {
		name     string
		source   string
		ids      []string
		finish   func(ts []Target, o *Options)
		segments []Segment
	}{
		{"segmented-social", "master-12mbps", social, nil, []Segment{{0, 0, 14}, {1, 14, 30}}},
		{"segmented-six-three", "master-12mbps", []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok", "facebook-reel", "youtube-shorts"}, nil,
			[]Segment{{0, 0, 10}, {1, 10, 20}, {2, 20, 30}}},
		// A passthrough, a GIF and a VP9 encode beside segmented ones;
		// thumbnails every few seconds in every piece.
		{"segmented-mixed", "phone-rotated", []string{"youtube-1080p", "tiktok", "gif-480p", "webm-1080p"}, func(ts []Target, o *Options) {
			for i := range ts {
				ts[i].Thumbnail = true
			}
		}, []Segment{{0, 0, 4.2}, {1, 4.2, 8}}},
		{"segmented-hdr-captions-watermark", "hdr10-4k60", []string{"youtube-1080p", "instagram-reel"}, func(ts []Target, o *Options) {
			o.Captions = "/work/captions.vtt"
			at := 9.0
			o.ThumbnailAt = &at
			for i := range ts {
				ts[i].Captions = Captions{Burn: true, Track: true}
				ts[i].Watermark = &Watermark{Path: "/brand/logo.png"}
				ts[i].Thumbnail = true
			}
		}, []Segment{{0, 0, 6.006}, {1, 6.006, 12.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources[tc.source]
			ts := targets(t, "", "", tc.ids...)
			opts := Options{OutDir: "/out", WorkDir: "/out/.work", Loudness: mastered}
			if tc.finish != nil {
				tc.finish(ts, &opts)
			}
			s, err := BuildSegmented(&src, ts, opts, tc.segments, "/pieces")
			if err != nil {
				t.Fatal(err)
			}
			checkSegmented(t, s)
			type argv struct {
				Piece []string `json:"piece,omitempty"`
				Rest  []string `json:"rest,omitempty"`
				Join  []string `json:"join,omitempty"`
				List  string   `json:"list,omitempty"`
			}
			var all []argv
			for _, p := range s.Pieces {
				all = append(all, argv{Piece: p.Args()})
			}
			if s.Rest != nil {
				all = append(all, argv{Rest: s.Rest.Args()})
			}
			for _, j := range s.Joins {
				all = append(all, argv{Join: j.Args, List: j.ConcatList()})
			}
			got, err := json.MarshalIndent(struct {
				Segments []Segment `json:"segments"`
				Argv     []argv    `json:"argv"`
			}{s.Segments, all}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", tc.name+".json"), append(got, '\n'))
		})
	}
}

// checkSegmented asserts what every segmented plan keeps: each piece
// writes one file per segmented encode and no audio; every join reads one
// piece of each segment; every file of the single pass is made by a join
// or the rest.
func checkSegmented(t *testing.T, s *Segmented) {
	t.Helper()
	written := map[string]bool{}
	for i, p := range s.Pieces {
		args := strings.Join(p.Args(), " ")
		if strings.Contains(args, "-c:a") || strings.Contains(args, "[ao") {
			t.Errorf("piece %d encodes audio: %s", i, args)
		}
		for _, o := range p.Outputs {
			if len(o.Args) > 0 {
				written[o.Args[len(o.Args)-1]] = true
			}
		}
	}
	made := map[string]bool{}
	for _, j := range s.Joins {
		if len(j.Pieces) != len(s.Segments) {
			t.Errorf("join of output %d has %d pieces for %d segments", j.Output, len(j.Pieces), len(s.Segments))
		}
		for _, p := range j.Pieces {
			if !written[p] {
				t.Errorf("join reads %s, which no piece writes", p)
			}
		}
		made[j.Args[len(j.Args)-1]] = true
	}
	if s.Rest != nil {
		for _, o := range s.Rest.Outputs {
			if len(o.Args) > 0 && !slices.Contains(o.Args, "-vn") {
				made[o.Args[len(o.Args)-1]] = true
			}
		}
	}
	for _, o := range s.Whole.Outputs {
		if o.SharedFile == "" && !made[o.TempPath] {
			t.Errorf("%s: no join or rest output writes %s", o.PresetID, o.TempPath)
		}
	}
}

func TestBuildSegmented_sample(t *testing.T) {
	t.Parallel()
	src := sources["master-1080p30"]
	_, err := BuildSegmented(&src, targets(t, "", "", "tiktok"), Options{OutDir: "/out", Sample: &Span{Duration: 2}}, []Segment{{0, 0, 30}}, "/p")
	if err == nil {
		t.Fatal("a sample was planned in segments")
	}
	_ = preset.HD
}
