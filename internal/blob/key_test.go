package blob

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key string
		ok  bool
	}{
		{"renditions/exp_1/youtube-1080p.mp4", true},
		{"a", true},
		{"a/b c/ü.mp4", true},
		{"a..b/c", true},
		{"", false},
		{"/abs/key", false},
		{"../escape", false},
		{"a/../b", false},
		{"a/..", false},
		{"./a", false},
		{"a//b", false},
		{"a/", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"x.attrs", false},
		{"\xff", false},
		{strings.Repeat("k", maxKeyLen+1), false},
	}
	for _, tt := range tests {
		err := ValidateKey(tt.key)
		if tt.ok && err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", tt.key, err)
		}
	}
}

func TestRenditionKey(t *testing.T) {
	t.Parallel()
	got, err := RenditionKey("exp_42", "tiktok.mp4")
	if err != nil || got != "renditions/exp_42/tiktok.mp4" {
		t.Fatalf("RenditionKey = %q, %v", got, err)
	}
	for _, bad := range [][2]string{
		{"..", "x.mp4"},
		{"exp", "../x.mp4"},
		{"exp", "a/b.mp4"},
		{"", "x.mp4"},
		{"exp", ""},
		{"exp", "."},
	} {
		if k, err := RenditionKey(bad[0], bad[1]); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("RenditionKey(%q, %q) = %q, %v; want ErrInvalidKey", bad[0], bad[1], k, err)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"clip.mp4":               "clip.mp4",
		"  my clip.mp4 ":         "my clip.mp4",
		"a/b\\c\".mp4":           "a_b_c_.mp4",
		"line\nbreak.mp4":        "line_break.mp4",
		"..":                     "",
		"":                       "",
		"Été – final.mov":        "Été – final.mov",
		"bad\xffutf8.mp4":        "bad_utf8.mp4",
		strings.Repeat("é", 150): strings.Repeat("é", 100),
	}
	for in, want := range tests {
		if got := sanitizeFilename(in); got != want {
			t.Errorf("sanitizeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzValidateKey checks that an accepted key is already clean and cannot
// name anything outside the bucket root, on either backend's notion of a
// path.
func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{"renditions/e/a.mp4", "../x", "a/../b", "/abs", "a//b", "a/./b", `a\..\b`, "..", "a/b/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateKey(key) != nil {
			return
		}
		if path.Clean(key) != key || path.IsAbs(key) || strings.HasPrefix(key, "../") {
			t.Fatalf("accepted unclean key %q (clean %q)", key, path.Clean(key))
		}
		root := filepath.FromSlash("/srv/blobs")
		full := filepath.Join(root, filepath.FromSlash(key))
		if !strings.HasPrefix(full, root+string(filepath.Separator)) {
			t.Fatalf("accepted key %q escapes root: %s", key, full)
		}
	})
}
