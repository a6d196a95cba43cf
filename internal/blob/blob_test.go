package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testSecret is the link HMAC key of test stores.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newFileStore(t *testing.T, publicBaseURL string) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs") // Open must create it
	u, err := FileURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(t.Context(), u, Options{Secret: testSecret, PublicBaseURL: publicBaseURL})
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st, dir
}

func TestStore_File(t *testing.T) {
	t.Parallel()
	st, _ := newFileStore(t, "http://127.0.0.1:8080")
	runStoreSuite(t, st)
}

func TestOpen_Errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := Options{Secret: testSecret, PublicBaseURL: "http://127.0.0.1:8080"}
	tests := []struct {
		name string
		url  string
		opts Options
		want string
	}{
		{"scheme", "gs://bucket", good, "unsupported scheme"},
		{"relative file", "file://rel/dir", good, "has host"},
		{"opaque file", "file:rel/dir", good, "absolute path"},
		{"file query", "file://" + dir + "?create_dir=true", good, "no query parameters"},
		{"short secret", "file://" + dir, Options{Secret: []byte("short"), PublicBaseURL: "http://x"}, "at least 16 bytes"},
		{"no base url", "file://" + dir, Options{Secret: testSecret}, "PublicBaseURL is required"},
		{"relative base url", "file://" + dir, Options{Secret: testSecret, PublicBaseURL: "/x"}, "absolute http(s) URL"},
		{"download path", "file://" + dir, Options{Secret: testSecret, PublicBaseURL: "http://x", DownloadPath: "dl"}, "must start with /"},
		{"s3 no bucket", "s3://?region=us-east-1", good, "needs a bucket name"},
		{"s3 half creds", "s3://b?region=us-east-1", Options{S3AccessKeyID: "k"}, "both"},
		{"s3 unknown param", "s3://b?region=us-east-1&bogus=1", good, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := Open(t.Context(), tt.url, tt.opts)
			if err == nil {
				_ = st.Close()
				t.Fatalf("Open(%q) succeeded, want error containing %q", tt.url, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want error containing %q", tt.url, err, tt.want)
			}
		})
	}
}

func TestStore_PutFileNoTempLeftovers(t *testing.T) {
	t.Parallel()
	st, dir := newFileStore(t, "http://127.0.0.1:8080")
	ctx := t.Context()

	src := filepath.Join(t.TempDir(), "src.mp4")
	payload := bytes.Repeat([]byte("outpost"), 10_000)
	if err := os.WriteFile(src, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	key := "renditions/exp_1/clip.mp4"
	n, err := st.PutFile(ctx, key, src, "video/mp4")
	if err != nil || n != int64(len(payload)) {
		t.Fatalf("PutFile = %d, %v; want %d", n, err, len(payload))
	}
	// A failed write must not leave its temp file next to the blobs.
	if _, err := st.Put(ctx, "renditions/exp_1/broken.mp4", &failingReader{n: 1 << 20}, "video/mp4"); err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"renditions/exp_1/clip.mp4", "renditions/exp_1/clip.mp4.attrs"}
	if strings.Join(files, ",") != strings.Join(want, ",") {
		t.Fatalf("files in bucket dir = %v, want %v", files, want)
	}
	if _, err := st.PutFile(ctx, key, filepath.Join(t.TempDir(), "missing"), "video/mp4"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PutFile(missing) = %v, want fs.ErrNotExist", err)
	}
}

// runStoreSuite is the behaviour every backend must share.
func runStoreSuite(t *testing.T, st *Store) {
	t.Helper()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_rt/clip.mp4"
		payload := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
		before := time.Now().Add(-2 * time.Second)
		n, err := st.Put(ctx, key, bytes.NewReader(payload), "video/mp4")
		if err != nil || n != int64(len(payload)) {
			t.Fatalf("Put = %d, %v", n, err)
		}
		attrs, err := st.Attributes(ctx, key)
		if err != nil {
			t.Fatalf("Attributes: %v", err)
		}
		if attrs.Size != int64(len(payload)) || attrs.ContentType != "video/mp4" || attrs.ETag == "" {
			t.Errorf("Attributes = %+v", attrs)
		}
		if attrs.ModTime.Before(before) || attrs.ModTime.After(time.Now().Add(2*time.Second)) {
			t.Errorf("ModTime = %v, want about now", attrs.ModTime)
		}
		if ok, err := st.Exists(ctx, key); !ok || err != nil {
			t.Errorf("Exists = %v, %v; want true", ok, err)
		}
		if got := readAll(t, st, key, 0, -1); !bytes.Equal(got, payload) {
			t.Errorf("Open read %q, want %q", got, payload)
		}
		if got := readAll(t, st, key, 10, 5); string(got) != "abcde" {
			t.Errorf("NewRangeReader(10, 5) read %q, want %q", got, "abcde")
		}
		if got := readAll(t, st, key, 30, -1); string(got) != "uvwxyz" {
			t.Errorf("NewRangeReader(30, -1) read %q, want %q", got, "uvwxyz")
		}
		// Overwrite replaces.
		if _, err := st.Put(ctx, key, strings.NewReader("v2"), "video/mp4"); err != nil {
			t.Fatalf("Put v2: %v", err)
		}
		if got := readAll(t, st, key, 0, -1); string(got) != "v2" {
			t.Errorf("after overwrite read %q, want v2", got)
		}
	})

	t.Run("SniffContentType", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_sniff/notes.txt"
		if _, err := st.Put(ctx, key, strings.NewReader("plain words"), ""); err != nil {
			t.Fatalf("Put: %v", err)
		}
		attrs, err := st.Attributes(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(attrs.ContentType, "text/plain") {
			t.Errorf("sniffed ContentType = %q, want text/plain", attrs.ContentType)
		}
	})

	t.Run("DeleteIdempotent", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_del/clip.mp4"
		if _, err := st.Put(ctx, key, strings.NewReader("x"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := st.Delete(ctx, key); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		if err := st.Delete(ctx, "renditions/never/was.mp4"); err != nil {
			t.Fatalf("Delete(never existed): %v", err)
		}
		if ok, err := st.Exists(ctx, key); ok || err != nil {
			t.Errorf("Exists after Delete = %v, %v; want false", ok, err)
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open after Delete = %v, want ErrNotFound", err)
		}
		if _, err := st.Attributes(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Attributes after Delete = %v, want ErrNotFound", err)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		for _, key := range []string{"../outside", "/etc/passwd", "a/../../b", ""} {
			if _, err := st.Put(ctx, key, strings.NewReader("x"), "text/plain"); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, err := st.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q) = %v, want ErrInvalidKey", key, err)
			}
			if err := st.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, _, err := st.SignedURL(ctx, key, time.Minute, ""); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("SignedURL(%q) = %v, want ErrInvalidKey", key, err)
			}
		}
	})

	t.Run("FailedPutKeepsOld", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		key := "renditions/exp_fail/clip.mp4"
		if _, err := st.Put(ctx, key, strings.NewReader("old"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		n, err := st.Put(ctx, key, &failingReader{n: 256 << 10}, "video/mp4")
		if !errors.Is(err, errFailingReader) {
			t.Fatalf("Put(failing reader) = %d, %v; want errFailingReader", n, err)
		}
		if got := readAll(t, st, key, 0, -1); string(got) != "old" {
			t.Errorf("after failed Put read %q, want old", got)
		}
		fresh := "renditions/exp_fail/never.mp4"
		if _, err := st.Put(ctx, fresh, &failingReader{n: 256 << 10}, "video/mp4"); err == nil {
			t.Fatal("Put(failing reader) succeeded")
		}
		if ok, err := st.Exists(ctx, fresh); ok || err != nil {
			t.Errorf("Exists after failed Put = %v, %v; want false", ok, err)
		}
	})

	t.Run("Streaming20MB", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		const size = 20 << 20
		key := "renditions/exp_big/master.mp4"
		src := io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), size)
		sum := sha256.New()
		n, err := st.Put(ctx, key, io.TeeReader(src, sum), "video/mp4")
		if err != nil || n != size {
			t.Fatalf("Put = %d, %v; want %d", n, err, size)
		}
		r, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Size() != size {
			t.Errorf("Size = %d, want %d", r.Size(), size)
		}
		got := sha256.New()
		if m, err := io.Copy(got, r); err != nil || m != size {
			t.Fatalf("read back %d, %v", m, err)
		}
		if !bytes.Equal(got.Sum(nil), sum.Sum(nil)) {
			t.Fatal("read back content differs from what was written")
		}
		// The last 4 KiB, by range, match the generator's.
		want := make([]byte, 4096)
		gen := rand.NewChaCha8([32]byte{1, 2, 3})
		if _, err := io.CopyN(io.Discard, gen, size-4096); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(gen, want); err != nil {
			t.Fatal(err)
		}
		if tail := readAll(t, st, key, size-4096, 4096); !bytes.Equal(tail, want) {
			t.Error("range read of the tail differs")
		}
	})
}

func readAll(t *testing.T, st *Store, key string, off, length int64) []byte {
	t.Helper()
	r, err := st.NewRangeReader(t.Context(), key, off, length)
	if err != nil {
		t.Fatalf("NewRangeReader(%q, %d, %d): %v", key, off, length, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

var errFailingReader = errors.New("source broke")

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errFailingReader
	}
	m := min(len(p), f.n)
	for i := range p[:m] {
		p[i] = 'z'
	}
	f.n -= m
	return m, nil
}
