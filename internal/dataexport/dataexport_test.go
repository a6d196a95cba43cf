package dataexport_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/internal/blob"
	"outpost/internal/dataexport"
	"outpost/internal/store"
	"outpost/internal/storetest"
	"outpost/internal/testpg"
)

var pg testpg.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// Secrets that a data export must never contain.
const (
	passwordHash  = "$2a$10$PASSWORD.HASH.THAT.MUST.NOT.LEAK"
	accessToken   = "SEALED-ACCESS-TOKEN-MUST-NOT-LEAK"
	refreshToken  = "SEALED-REFRESH-TOKEN-MUST-NOT-LEAK"
	webhookSecret = "whsec_WEBHOOKSECRETMUSTNOTLEAK"
	sourcePass    = "url-password-must-not-leak"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, &pg, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		blobURL, err := blob.FileURL(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := blob.Open(ctx, blobURL, blob.Options{Secret: []byte("0123456789abcdef0123456789abcdef"), PublicBaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bs.Close() })
		mux.Handle("/dl/", bs.Handler())
		put := func(key, body string) {
			if _, err := bs.Put(ctx, key, strings.NewReader(body), "application/octet-stream"); err != nil {
				t.Fatal(err)
			}
		}

		ws, _ := s.DefaultWorkspace(ctx)
		other, _ := s.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
		if _, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "owner@example.com", Name: "Owner",
			PasswordHash: passwordHash, Role: store.RoleOwner}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, store.User{WorkspaceID: ws.ID, Email: "viewer@example.com", PasswordHash: passwordHash,
			Role: store.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, store.User{WorkspaceID: other.ID, Email: "stranger@example.com", PasswordHash: passwordHash}); err != nil {
			t.Fatal(err)
		}
		_, apiKey, err := s.CreateAPIKey(ctx, ws.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		_, inviteToken, err := s.CreateInvite(ctx, store.Invite{WorkspaceID: ws.ID, Role: store.RoleMember})
		if err != nil {
			t.Fatal(err)
		}

		put("sources/master.mp4", "MASTER-BYTES")
		prj, err := s.CreateProject(ctx, store.Project{WorkspaceID: ws.ID, Name: "Spring launch", Kind: store.ProjectUpload,
			SourceKey: "sources/master.mp4", Status: store.ProjectReady})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateProject(ctx, store.Project{WorkspaceID: ws.ID, Name: "Fetched", Kind: store.ProjectURL,
			SourceURL: "https://agency:" + sourcePass + "@media.example.com/a.mp4", Status: store.ProjectReady}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateProject(ctx, store.Project{WorkspaceID: other.ID, Name: "Not ours", Kind: store.ProjectUpload,
			Status: store.ProjectReady}); err != nil {
			t.Fatal(err)
		}
		e, _ := s.CreateExport(ctx, store.Export{WorkspaceID: ws.ID, ProjectID: prj.ID})
		put("renditions/r1.mp4", "RENDITION-BYTES")
		put("thumbs/r1.jpg", "THUMB")
		r1, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "youtube-1080p",
			Status: store.RenditionSucceeded, BlobKey: "renditions/r1.mp4", ThumbnailKey: "thumbs/r1.jpg", SizeBytes: 15})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := s.CreateRendition(ctx, store.Rendition{ExportID: e.ID, PresetID: "tiktok", TargetIndex: 1,
			Status: store.RenditionSucceeded, BlobKey: "renditions/r2.mp4"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRenditionDeleted(ctx, r2.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		c, err := s.UpsertConnection(ctx, store.Connection{WorkspaceID: ws.ID, Platform: "youtube", AccountID: "UC1",
			AccountName: "Acme TV", AccessToken: []byte(accessToken), RefreshToken: []byte(refreshToken)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreatePublication(ctx, store.Publication{WorkspaceID: ws.ID, ExportID: e.ID, RenditionID: r1.ID,
			ConnectionID: c.ID, Platform: "youtube", Metadata: json.RawMessage(`{"title":"Launch"}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreatePreset(ctx, store.Preset{WorkspaceID: ws.ID, Name: "Brand reel", BasePresetID: "instagram-reel"}); err != nil {
			t.Fatal(err)
		}
		put("brand/acme.png", "PNG")
		if _, err := s.CreateBrandKit(ctx, store.BrandKit{WorkspaceID: ws.ID, Slug: "acme", Name: "Acme",
			WatermarkKey: "brand/acme.png", WatermarkFormat: "png", Position: "tr", Width: 0.2, Opacity: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{WorkspaceID: ws.ID, URL: "https://hooks.example.com/o",
			Secret: webhookSecret, Enabled: true}); err != nil {
			t.Fatal(err)
		}

		link := func(ctx context.Context, key, name string) (string, error) {
			u, _, err := bs.SignedURL(ctx, key, time.Hour, name)
			return u, err
		}
		var buf bytes.Buffer
		at := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
		if err := dataexport.Write(ctx, &buf, s, ws.ID, link, at); err != nil {
			t.Fatalf("Write: %v", err)
		}

		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		contents := map[string][]byte{}
		var names []string
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			contents[f.Name] = b
			names = append(names, f.Name)
			if !json.Valid(b) {
				t.Errorf("%s is not valid JSON:\n%s", f.Name, b)
			}
		}
		wantNames := []string{"manifest.json", "members.json", "projects.json", "exports.json", "renditions.json",
			"publications.json", "presets.json", "brand_kits.json", "webhooks.json"}
		if !slices.Equal(names, wantNames) {
			t.Fatalf("zip holds %v, want %v", names, wantNames)
		}

		// No secret anywhere, in any file.
		sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
		for name, b := range contents {
			for _, secret := range []string{passwordHash, accessToken, refreshToken, webhookSecret, sourcePass,
				apiKey, sum(apiKey), inviteToken, sum(inviteToken), "stranger@example.com", "Not ours"} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s contains %q", name, secret)
				}
			}
		}

		var manifest dataexport.Manifest
		decode(t, contents["manifest.json"], &manifest)
		if manifest.Workspace.ID != ws.ID || manifest.Version != 1 || !manifest.GeneratedAt.Equal(at) {
			t.Errorf("manifest = %+v", manifest)
		}
		var members []store.Member
		decode(t, contents["members.json"], &members)
		if len(members) != 2 || members[0].Email != "owner@example.com" || members[1].Role != store.RoleViewer {
			t.Errorf("members = %+v", members)
		}
		var projects []dataexport.Project
		decode(t, contents["projects.json"], &projects)
		if len(projects) != 2 {
			t.Fatalf("projects = %+v", projects)
		}
		for _, p := range projects {
			switch p.Name {
			case "Spring launch":
				if got := download(t, p.SourceLink); got != "MASTER-BYTES" {
					t.Errorf("source link gave %q", got)
				}
			case "Fetched":
				if p.SourceLink != "" || !strings.Contains(p.SourceURL, "media.example.com") {
					t.Errorf("fetched project = %+v", p)
				}
			}
		}
		var renditions []dataexport.Rendition
		decode(t, contents["renditions.json"], &renditions)
		if len(renditions) != 2 {
			t.Fatalf("renditions = %+v", renditions)
		}
		for _, r := range renditions {
			switch r.ID {
			case r1.ID:
				if download(t, r.DownloadLink) != "RENDITION-BYTES" || download(t, r.ThumbnailLink) != "THUMB" || r.CaptionsLink != "" {
					t.Errorf("stored rendition's links: %+v", r)
				}
			case r2.ID:
				if r.DownloadLink != "" || r.DeletedAt == nil {
					t.Errorf("deleted rendition has a link: %+v", r)
				}
			}
		}
		var exports []store.Export
		decode(t, contents["exports.json"], &exports)
		var pubs []store.Publication
		decode(t, contents["publications.json"], &pubs)
		var presets []store.Preset
		decode(t, contents["presets.json"], &presets)
		var kits []dataexport.BrandKit
		decode(t, contents["brand_kits.json"], &kits)
		var hooks []store.WebhookEndpoint
		decode(t, contents["webhooks.json"], &hooks)
		if len(exports) != 1 || len(pubs) != 1 || pubs[0].ConnectionID != c.ID || len(presets) != 1 || len(kits) != 1 ||
			download(t, kits[0].WatermarkLink) != "PNG" || len(hooks) != 1 || hooks[0].URL != "https://hooks.example.com/o" {
			t.Errorf("exports %d, publications %+v, presets %d, kits %+v, webhooks %+v", len(exports), pubs, len(presets), kits, hooks)
		}
	})
}

func TestWrite_emptyWorkspace(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, store.SQLite, &pg)
	ws, _ := s.DefaultWorkspace(t.Context())
	var buf bytes.Buffer
	noLink := func(context.Context, string, string) (string, error) { t.Error("a link was asked for"); return "", nil }
	if err := dataexport.Write(t.Context(), &buf, s, ws.ID, noLink, time.Now()); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "[]\n" {
			t.Errorf("%s = %q, want an empty array", f.Name, b)
		}
	}
	if err := dataexport.Write(t.Context(), io.Discard, s, "wsp_missing", noLink, time.Now()); err == nil {
		t.Error("a missing workspace exported")
	}
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

func download(t *testing.T, link string) string {
	t.Helper()
	if link == "" {
		t.Error("no link")
		return ""
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", link, resp.Status)
	}
	return string(b)
}
