package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad_platforms(t *testing.T) {
	t.Parallel()
	secret := filepath.Join(t.TempDir(), "tt")
	if err := os.WriteFile(secret, []byte("tt-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{
		"OUTPOST_YOUTUBE_CLIENT_ID=yt-id", "OUTPOST_YOUTUBE_CLIENT_SECRET=yt-secret",
		"OUTPOST_FACEBOOK_CLIENT_ID=123", "OUTPOST_FACEBOOK_CLIENT_SECRET=fb-secret",
		"OUTPOST_FACEBOOK_BASE_URL=http://127.0.0.1:9000/",
		"OUTPOST_TIKTOK_CLIENT_ID=tt-id", "OUTPOST_TIKTOK_CLIENT_SECRET_FILE=" + secret,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Platform{
		"youtube":   {ClientID: "yt-id", ClientSecret: "yt-secret"},
		"facebook":  {ClientID: "123", ClientSecret: "fb-secret", BaseURL: "http://127.0.0.1:9000"},
		"instagram": {ClientID: "123", ClientSecret: "fb-secret", BaseURL: "http://127.0.0.1:9000"}, // Facebook Login
		"linkedin":  {},
		"tiktok":    {ClientID: "tt-id", ClientSecret: "tt-secret"},
	}
	for name, w := range want {
		if got := c.Platforms[name]; got != w {
			t.Errorf("%s = %+v, want %+v", name, got, w)
		}
	}
	if c.Platforms["linkedin"].Configured() || !c.Platforms["tiktok"].Configured() {
		t.Error("Configured wrong")
	}
	if s := c.LogValue().String(); strings.Contains(s, "secret") && strings.Contains(s, "yt-secret") {
		t.Errorf("log shows a client secret: %s", s)
	}

	for _, env := range [][]string{
		{"OUTPOST_LINKEDIN_CLIENT_ID=x"},
		{"OUTPOST_YOUTUBE_BASE_URL=ftp://x"},
		{"OUTPOST_SANDBOX=true", "OUTPOST_SANDBOX_ADDR=nope"},
	} {
		if _, err := Load(env, nil, nil); err == nil {
			t.Errorf("Load(%v) accepted", env)
		}
	}
}
