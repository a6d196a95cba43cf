package outpost

import (
	"strings"
	"testing"

	"outpost/internal/errcode"
)

func TestPlainMessage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"targets[1] (tiktok): max_duration: 12:00 is longer than 10:00": "TikTok: 12:00 is longer than 10:00",
		"targets[0] (pst_abc): fps: too fast":                           "Your preset: too fast",
		"project prj_7Hq2 is not ready (status probing)":                "Project is not ready (status probing)",
		`brand kit "bkt_99" not found`:                                  "Brand kit not found",
		"tiktok: TikTok rejected the video: spam":                       "TikTok rejected the video: spam",
		"": "",
	} {
		if got := PlainMessage(in); got != want {
			t.Errorf("PlainMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExplain: the failures the issue found leaking internals read in
// plain words, with the code kept for the details line.
func TestExplain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		code           errcode.Code
		msg            string
		title, message string
		remedy         string
	}{
		{errcode.ConnectionExpired, "youtube connection con_Ab12 (Sandbox Channel): oauth2: \"invalid_grant\"",
			"Platform authentication expired", "The platform no longer accepts Outpost's access to this account.", "Reconnect the account"},
		{errcode.SourceEmpty, "data/tmp/source-8841.part is empty (0 bytes)",
			"This file can't be used", "The file is empty (0 bytes).", "Upload or export the master again"},
		{errcode.RenderFailed, "ffmpeg exit 1: [libx264 @ 0x55] broken pipe",
			"Rendering failed", "ffmpeg stopped before the file was finished.", "Retry the export"},
		{errcode.PlatformRejected, "video rejected: copyright",
			"The platform refused the post", "Video rejected: copyright", "Check the platform's reason"},
		{errcode.PlatformRule, "targets[0] (facebook-reel): min_duration: Facebook Reel needs at least 3 s",
			"A format can't be made from this video", "Facebook Reel: Facebook Reel needs at least 3 s", "Change the source or the settings"},
		{"no_such_code", "boom", "Something went wrong", "Boom", ""},
	} {
		x := Explain(c.code, c.msg)
		if x.Title != c.title || x.Message != c.message || !strings.HasPrefix(x.Remedy, c.remedy) || x.Code != c.code {
			t.Errorf("Explain(%s, %q) = %+v", c.code, c.msg, x)
		}
		for _, leak := range []string{"con_", "data/tmp", "0x55", "oauth2"} {
			if strings.Contains(x.Message+x.Remedy, leak) {
				t.Errorf("Explain(%s) leaks %q: %+v", c.code, leak, x)
			}
		}
	}
	if x := ExplainError(&errcode.Error{Code: errcode.InvalidOption, Message: "no format is selected", Remedy: "Pick one."}); x.Remedy != "Pick one." || x.Message != "No format is selected" {
		t.Errorf("ExplainError keeps the error's own remedy: %+v", x)
	}
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Acme Corp": "acme-corp", "  Été 2026 — launch!": "t-2026-launch", "": "", "a--b": "a-b"} {
		if got := Slug(in, 60); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Slug("abcdefgh", 4); got != "abcd" {
		t.Errorf("Slug with max 4 = %q", got)
	}
}
