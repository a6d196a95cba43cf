package jobs

import (
	"errors"
	"testing"

	"outpost/internal/errcode"
	"outpost/internal/publish"
)

// TestErrMessage: a publication's stored message names the platform and
// gives the platform's own words once.
func TestErrMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&publish.Error{Platform: "tiktok", Class: publish.Permanent, Raw: "spam", Message: "TikTok rejected the video: spam"},
			"tiktok: TikTok rejected the video: spam"},
		{&publish.Error{Platform: "youtube", Class: publish.Permanent, Raw: "uploadLimitExceeded", Message: "the channel's daily upload limit is used up"},
			"youtube: the channel's daily upload limit is used up (uploadLimitExceeded)"},
		{&publish.Error{Platform: "linkedin", Class: publish.Transient, Err: errors.New("connection reset")},
			"linkedin: connection reset"},
		{errcode.New(errcode.FileNotFound, "the file has expired"), "the file has expired"},
	} {
		if got := errMessage(tc.err); got != tc.want {
			t.Errorf("errMessage(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
