package outpost

import (
	"slices"
	"testing"
)

func TestPlatform_Formats(t *testing.T) {
	t.Parallel()
	presets := []Preset{
		{ID: "youtube-shorts", Builtin: true}, {ID: "linkedin-square", Builtin: true}, {ID: "tiktok", Builtin: true},
		{ID: "youtube-1080p", Builtin: true}, {ID: "mp4-1080p", Builtin: true}, {ID: "linkedin-landscape", Builtin: true},
		{ID: "pst_1", BasePresetID: "linkedin-landscape"}, {ID: "pst_2", BasePresetID: "gif-480p"},
	}
	for _, c := range []struct {
		p    Platform
		want []string
	}{
		{Platform{ID: "linkedin", Presets: []string{"linkedin-landscape", "linkedin-square"}},
			[]string{"linkedin-landscape", "pst_1", "linkedin-square"}},
		{Platform{ID: "youtube", Presets: []string{"youtube-1080p", "youtube-4k", "youtube-shorts"}},
			[]string{"youtube-1080p", "youtube-shorts"}},
		{Platform{ID: "none"}, []string{}},
	} {
		if got := c.p.Formats(presets); !slices.Equal(got, c.want) {
			t.Errorf("%s: Formats = %v, want %v", c.p.ID, got, c.want)
		}
	}
}
