package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// persisted starts a sandbox that keeps its state in path, uploads in dir.
func persisted(t *testing.T, dir, path string) *env {
	t.Helper()
	s := New(Options{Dir: dir, AutoApprove: true})
	if err := s.Persist(path); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, s: s, url: srv.URL}
}

// TestPersist_restart: a sandbox started again on the same state file
// knows the tokens it issued, the posts it holds, and an upload half done,
// which completes where it stopped.
func TestPersist_restart(t *testing.T) {
	t.Parallel()
	dir, path := t.TempDir(), filepath.Join(t.TempDir(), "state.json")
	a := persisted(t, dir, path)
	tok := a.s.IssueToken(YouTube)
	tt := a.s.IssueToken(TikTok)
	done := bytes.Repeat([]byte{3}, 300<<10)
	loc := ytStart(t, a, tok, ytMeta, len(done))
	a.do("PUT", loc, bytes.NewReader(done), fmt.Sprintf("Content-Range: bytes 0-%d/%d", len(done)-1, len(done))).want(t, 200, `"id":"`)
	half := bytes.Repeat([]byte{5}, 600<<10)
	loc2 := ytStart(t, a, tok, ytMeta, len(half))
	r := a.do("PUT", loc2, bytes.NewReader(half[:256<<10]), fmt.Sprintf("Content-Range: bytes 0-262143/%d", len(half)))
	if r.status != 308 {
		t.Fatalf("first chunk: %d %s", r.status, r.body)
	}
	before := a.s.Posts("")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v; want mode 0600", st, err)
	}

	b := persisted(t, dir, path)
	after := b.s.Posts("")
	if len(after) != 1 || len(before) != 1 || after[0].ID != before[0].ID || after[0].URL != before[0].URL ||
		after[0].SHA256 != before[0].SHA256 || !after[0].CreatedAt.Equal(before[0].CreatedAt) {
		t.Fatalf("posts after the restart = %+v, want %+v", after, before)
	}
	// The tokens still work.
	b.do("GET", "/youtube/v3/videos?part=status&id="+before[0].ID, nil, "Authorization: Bearer "+tok).want(t, 200, `"id":"`+before[0].ID+`"`)
	b.do("POST", "/v2/post/publish/creator_info/query/", nil, "Authorization: Bearer "+tt).want(t, 200, `"code":"ok"`)
	// The half-done upload goes on from 256 KiB (on the new server's port).
	u, err := url.Parse(loc2)
	if err != nil {
		t.Fatal(err)
	}
	next := u.RequestURI()
	r = b.do("PUT", next, nil, fmt.Sprintf("Content-Range: bytes */%d", len(half)))
	if r.status != 308 || r.header.Get("Range") != "bytes=0-262143" {
		t.Fatalf("status query after the restart: %d Range %q %s", r.status, r.header.Get("Range"), r.body)
	}
	b.do("PUT", next, bytes.NewReader(half[256<<10:]), fmt.Sprintf("Content-Range: bytes 262144-%d/%d", len(half)-1, len(half))).
		want(t, 200, `"uploadStatus":"processed"`)
	posts := b.s.Posts(YouTube)
	sum := sha256.Sum256(half)
	if len(posts) != 2 || posts[1].SHA256 != hex.EncodeToString(sum[:]) || posts[1].Size != int64(len(half)) {
		t.Fatalf("posts = %+v, want the resumed upload second with the bytes of both halves", posts)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("upload files left: %v", left)
	}
}

func TestPersist_refusesWhatItCannotKeep(t *testing.T) {
	t.Parallel()
	// Uploads in a temporary folder would not outlive the process.
	tmp := New(Options{})
	defer tmp.Close()
	if err := tmp.Persist(filepath.Join(t.TempDir(), "state.json")); err == nil {
		t.Error("Persist without Options.Dir: no error")
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"version":1,"tokens":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := New(Options{Dir: t.TempDir()}).Persist(path)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Persist of a damaged file = %v, want an error saying so", err)
	}
}
