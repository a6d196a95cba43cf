package preset

import (
	"errors"
	"slices"
	"testing"

	"outpost/internal/media"
)

func TestIDs_stable(t *testing.T) {
	t.Parallel()
	// Scripts rely on these ids: changing one is a breaking change.
	want := []string{
		"youtube-1080p", "youtube-4k", "youtube-shorts", "instagram-reel", "instagram-feed",
		"facebook-feed", "facebook-reel", "linkedin-landscape", "linkedin-square", "tiktok",
		"mp4-720p", "mp4-1080p", "mp4-4k", "mov-prores-1080p", "webm-1080p", "gif-480p",
	}
	if got := IDs(); !slices.Equal(got, want) {
		t.Fatalf("IDs() = %v, want %v", got, want)
	}
	for _, p := range Builtins() {
		for _, l := range Levels {
			if _, ok := p.Quality[l]; !ok {
				t.Errorf("%s: no %s quality", p.ID, l)
			}
		}
		if p.Video.Width%2 != 0 || p.Video.Height%2 != 0 {
			t.Errorf("%s: odd size %dx%d", p.ID, p.Video.Width, p.Video.Height)
		}
		if p.Video.MaxFPS <= 0 {
			t.Errorf("%s: no max fps", p.ID)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	p, err := Lookup("tiktok")
	if err != nil || p.ID != "tiktok" || p.Rules.MaxDuration != 600 {
		t.Fatalf("Lookup(tiktok) = %+v, %v", p, err)
	}
	// Copies are independent of the table.
	p.Quality[HD] = Quality{CRF: 1}
	if q, _ := Lookup("tiktok"); q.Quality[HD].CRF == 1 {
		t.Fatal("Lookup returned a shared map")
	}
	if _, err := Lookup("myspace"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Lookup(myspace) err = %v", err)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		level   Level
		fit     Fit
		wantErr bool
	}{
		{"", HD, FitBlur, false},
		{"web", Web, "", true},
		{"ULTRA", Ultra, "", true},
		{"crop", "", FitCrop, true},
		{"pad", "", FitPad, true},
	} {
		l, lerr := ParseLevel(tc.in)
		f, ferr := ParseFit(tc.in)
		if tc.level != "" && (lerr != nil || l != tc.level) {
			t.Errorf("ParseLevel(%q) = %q, %v", tc.in, l, lerr)
		}
		if tc.fit != "" && (ferr != nil || f != tc.fit) {
			t.Errorf("ParseFit(%q) = %q, %v", tc.in, f, ferr)
		}
		if tc.wantErr && lerr == nil && ferr == nil {
			t.Errorf("%q parsed as both a level and a fit", tc.in)
		}
	}
}

func TestPreset_Size(t *testing.T) {
	t.Parallel()
	p720, _ := Lookup("mp4-720p")
	reel, _ := Lookup("instagram-reel")
	for _, tc := range []struct {
		p      Preset
		sw, sh int
		w, h   int
	}{
		{reel, 1920, 1080, 1080, 1920}, // fixed size whatever the source
		{p720, 1920, 1080, 1280, 720},
		{p720, 1080, 1920, 720, 1280}, // portrait keeps its shape
		{p720, 1080, 1080, 720, 720},
		{p720, 641, 361, 1280, 720}, // odd source, even output
		{p720, 721, 1281, 720, 1278},
		{p720, 4000, 1000, 1280, 320},
	} {
		w, h := tc.p.Size(tc.sw, tc.sh)
		if w != tc.w || h != tc.h {
			t.Errorf("%s.Size(%d,%d) = %dx%d, want %dx%d", tc.p.ID, tc.sw, tc.sh, w, h, tc.w, tc.h)
		}
	}
}

func TestPreset_Check(t *testing.T) {
	t.Parallel()
	good := func() *media.Info {
		return &media.Info{
			Duration: 30, SizeBytes: 20 * mb, FastStart: true,
			Video: &media.Video{Codec: "h264", Profile: "High", PixFmt: "yuv420p", Width: 1080, Height: 1920, FrameRate: 30},
			Audio: &media.Audio{Codec: "aac", Profile: "LC", SampleRate: 48000, Channels: 2},
		}
	}
	tiktok, _ := Lookup("tiktok")
	reel, _ := Lookup("facebook-reel")
	for _, tc := range []struct {
		name   string
		p      Preset
		mutate func(*media.Info)
		rules  []string
	}{
		{"fit", tiktok, func(*media.Info) {}, nil},
		{"too long", tiktok, func(i *media.Info) { i.Duration = 601 }, []string{"max_duration"}},
		{"too short for reels", reel, func(i *media.Info) { i.Duration = 2 }, []string{"min_duration"}},
		{"too big", tiktok, func(i *media.Info) { i.SizeBytes = 5 * gb }, []string{"max_size"}},
		{"no audio", tiktok, func(i *media.Info) { i.Audio = nil }, []string{"audio_stream"}},
		{"moov last", tiktok, func(i *media.Info) { i.FastStart = false }, []string{"faststart"}},
		{"vfr", tiktok, func(i *media.Info) { i.Video.VariableFrameRate = true }, []string{"constant_frame_rate"}},
		{"slow", tiktok, func(i *media.Info) { i.Video.FrameRate = 15 }, []string{"min_fps"}},
		{"prores", tiktok, func(i *media.Info) { i.Video.Codec = "prores" }, []string{"video_codec"}},
		{"landscape reel", reel, func(i *media.Info) { i.Video.Width, i.Video.Height = 1920, 1080 }, []string{"aspect_ratio"}},
		{"odd", tiktok, func(i *media.Info) { i.Video.Width = 1079 }, []string{"even_dimensions"}},
		{"no video", tiktok, func(i *media.Info) { i.Video = nil }, []string{"video_stream"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info := good()
			tc.mutate(info)
			var got []string
			for _, v := range tc.p.Check(info) {
				got = append(got, v.Rule)
				if v.Message == "" || v.Remedy == "" {
					t.Errorf("violation %s lacks message or remedy", v.Rule)
				}
			}
			if !slices.Equal(got, tc.rules) {
				t.Errorf("Check() rules = %v, want %v", got, tc.rules)
			}
		})
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{2.5: "2.5 s", 3: "3 s", 90: "1:30", 600: "10:00", 43200: "12:00:00"} {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}
