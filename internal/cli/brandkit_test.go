package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"outpost/internal/blob"
	"outpost/internal/media/mediatest"
	"outpost/internal/store"
)

// TestExport_brandKitFromService: with the service's data dir configured,
// --brand-kit SLUG reads the workspace's kit and its files.
func TestExport_brandKitFromService(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	data := t.TempDir()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(data, "outpost.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := s.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := blob.FileURL(filepath.Join(data, "blobs"))
	b, err := blob.Open(ctx, u, blob.Options{Secret: bytes.Repeat([]byte("k"), blob.MinSecretLen), PublicBaseURL: "http://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#fff"/></svg>`
	if _, err := b.Put(ctx, "brand-kits/acme/logo.svg", strings.NewReader(svg), "image/svg+xml"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutFile(ctx, "projects/outro/source.mp4", mediatest.Generate(t, mediatest.Spec{Duration: 0.5, FPS: 25}), ""); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	outro, err := s.CreateProject(ctx, store.Project{WorkspaceID: ws.ID, Name: "Outro", Kind: store.ProjectUpload,
		SourceKey: "projects/outro/source.mp4", Status: store.ProjectReady})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: ws.ID, Slug: "acme", Name: "Acme",
		WatermarkKey: "brand-kits/acme/logo.svg", WatermarkFormat: "svg", Position: "bl", OutroProjectID: outro.ID}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	src := mediatest.Generate(t, mediatest.Spec{Duration: 1, FPS: 25, Audio: true})
	var stdout, stderr bytes.Buffer
	env := &Env{Stdout: &stdout, Stderr: &stderr, Logger: slog.New(slog.DiscardHandler), Getenv: func(k string) string {
		return map[string]string{"OUTPOST_DATA_DIR": data, "OUTPOST_BRAND_KITS": t.TempDir()}[k]
	}}
	code := Main(context.Background(), env, []string{"export", src, "--preset", "mp4-720p", "--quality", "web",
		"--out", t.TempDir(), "--json", "--thumbnails=false", "--brand-kit", "acme"})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var sum exportSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if o := sum.Outputs[0]; o.Passthrough || math.Abs(o.Duration-1.5) > 0.1 {
		t.Errorf("output %+v, want 1.5 s (source + outro) with the watermark", o)
	}
	stdout.Reset()
	stderr.Reset()
	code = Main(context.Background(), env, []string{"export", src, "--preset", "mp4-720p", "--brand-kit", "nope"})
	if code == ExitOK || !strings.Contains(stderr.String(), "brand_kit_invalid") {
		t.Errorf("unknown slug: exit %d\n%s", code, stderr.String())
	}
}
