package sandbox

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"testing"
)

// TestAvatar: an account's picture is a real image, its own: 120×120, in
// two colours, different for two accounts and the same for one.
func TestAvatar(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	decode := func(path string) (image.Image, string) {
		t.Helper()
		r := e.do("GET", path, nil)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader([]byte(r.body)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return img, r.body
	}
	a, aBody := decode("/_sandbox/avatar/" + YouTubeChannelID + ".png")
	_, bBody := decode("/_sandbox/avatar/" + TikTokUsername + ".png")
	_, again := decode("/_sandbox/avatar/" + YouTubeChannelID + ".png")
	if b := a.Bounds(); b.Dx() != avatarSize || b.Dy() != avatarSize {
		t.Errorf("size %v", b)
	}
	colours := map[[4]uint32]bool{}
	for y := 0; y < avatarSize; y += 4 {
		for x := 0; x < avatarSize; x += 4 {
			r, g, b, al := a.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, al}] = true
		}
	}
	if len(colours) != 2 {
		t.Errorf("%d colours, want a pattern in 2", len(colours))
	}
	if aBody == bBody || aBody != again {
		t.Error("pictures are not per account")
	}
	// The accounts' profiles point at their own pictures.
	r := e.do("GET", "/v2/user/info/?fields=open_id,avatar_url", nil, "Authorization: Bearer "+e.s.IssueToken(TikTok))
	r.want(t, http.StatusOK, `/_sandbox/avatar/`+TikTokUsername+`\.png`)
}
