package render

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"outpost/internal/preset"
)

// TestBuild_goldenHardware pins the argv of each hardware encoder: the
// level's rate control mapped (NVENC -cq in VBR under the caps, VAAPI and
// QSV VBR at half the cap), forced IDR frames, the VAAPI device and upload;
// VP9, ProRes, GIF and stream copies stay as they are.
func TestBuild_goldenHardware(t *testing.T) {
	t.Parallel()
	social := []string{"youtube-1080p", "instagram-reel", "linkedin-square"}
	for _, tc := range []struct {
		name   string
		source string
		hw     Hardware
		level  preset.Level
		ids    []string
	}{
		{"hw-nvenc-social", "master-12mbps", NVENC, "", social},
		{"hw-nvenc-ultra-mixed", "phone-rotated", NVENC, preset.Ultra, []string{"youtube-1080p", "tiktok", "gif-480p", "webm-1080p"}},
		{"hw-vaapi-social", "master-12mbps", VAAPI, "", social},
		{"hw-vaapi-web-mixed", "odd-silent", VAAPI, preset.Web, []string{"tiktok", "mp4-720p", "webm-1080p", "mov-prores-1080p"}},
		{"hw-qsv-social", "master-12mbps", QSV, "", social},
		{"hw-qsv-passthrough", "master-1080p30", QSV, "", []string{"youtube-1080p", "instagram-reel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := sources[tc.source]
			plan, err := Build(&src, targets(t, "", tc.level, tc.ids...), Options{OutDir: "/out", Loudness: mastered, Hardware: tc.hw})
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan)
			for _, o := range plan.Outputs {
				if e := o.Encoding; e != nil && e.Encoder == "libx264" {
					t.Errorf("%s: encoded with x264 under %s", o.PresetID, tc.hw)
				}
			}
			goldenPlan(t, tc.name, plan)
		})
	}
}

func TestParseHardware(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Hardware
		wantErr bool
	}{
		{"", Software, false},
		{"software", Software, false},
		{"nvenc", NVENC, false},
		{"vaapi", VAAPI, false},
		{"qsv", QSV, false},
		{"NVENC", Software, true},
		{"cuda", Software, true},
		{"auto", Software, true}, // auto is resolved by probing, never planned
	} {
		got, err := ParseHardware(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseHardware(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestProbeArgs pins the one-frame test encodes: the encoder's own
// settings at the HD level, VAAPI's device opened and frames uploaded.
func TestProbeArgs(t *testing.T) {
	t.Parallel()
	var got [][]string
	for _, h := range Hardwares {
		for _, e := range h.Encoders() {
			got = append(got, ProbeArgs(e))
		}
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "golden", "hw-probes.json"), append(b, '\n'))
	for _, args := range got {
		if !slices.Contains(args, "-frames:v") {
			t.Errorf("probe encodes more than one frame: %q", args)
		}
	}
}
