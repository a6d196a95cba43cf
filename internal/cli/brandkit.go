package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/render"
	"outpost/internal/store"
)

// resolveBrandKit finds --brand-kit NAME: a folder (a path, or NAME under
// $OUTPOST_BRAND_KITS), else, when the service's data is configured
// ($OUTPOST_DATA_DIR or $OUTPOST_DATABASE_URL), the workspace's kit with
// that slug or id, whose files are copied into tmp.
func resolveBrandKit(ctx context.Context, env *Env, name, tmp string) (*engine.BrandKit, error) {
	dir := brandKitDir(env, name)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return engine.ReadBrandKit(dir)
	}
	k, err := storedBrandKit(ctx, env, name, tmp)
	if err != nil || k != nil {
		return k, err
	}
	return engine.ReadBrandKit(dir) // the "no brand kit folder" error
}

// storedBrandKit reads a kit from the service's database and blob storage;
// nil, nil when none is configured.
func storedBrandKit(ctx context.Context, env *Env, ref, tmp string) (*engine.BrandKit, error) {
	dataDir := lookupEnv(env, "OUTPOST_DATA_DIR", "")
	dbURL := lookupEnv(env, "OUTPOST_DATABASE_URL", "")
	if dbURL == "" {
		if dataDir == "" {
			return nil, nil
		}
		db := filepath.Join(dataDir, "outpost.db")
		if _, err := os.Stat(db); err != nil {
			return nil, nil
		}
		dbURL = "sqlite:" + db
	}
	blobURL := lookupEnv(env, "OUTPOST_BLOB_URL", "")
	if blobURL == "" {
		if dataDir == "" {
			dataDir = "./data"
		}
		var err error
		if blobURL, err = blob.FileURL(filepath.Join(dataDir, "blobs")); err != nil {
			return nil, err
		}
	}
	s, err := store.Open(ctx, dbURL, env.Logger)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var ws store.Workspace
	if slug := lookupEnv(env, "OUTPOST_WORKSPACE", ""); slug != "" {
		ws, err = s.GetWorkspaceBySlug(ctx, slug)
	} else {
		ws, err = s.DefaultWorkspace(ctx)
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "find the workspace of brand kit "+ref)
	}
	k, err := s.FindBrandKit(ctx, ws.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errcode.New(errcode.BrandKitInvalid, "no brand kit %q: neither a folder nor in the database of workspace %s", ref, ws.Slug)
	}
	if err != nil {
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "read brand kit "+ref)
	}
	// Only read: the link secret signs nothing here.
	secret := make([]byte, blob.MinSecretLen)
	_, _ = rand.Read(secret)
	b, err := blob.Open(ctx, blobURL, blob.Options{Secret: secret, PublicBaseURL: "http://127.0.0.1", Logger: env.Logger})
	if err != nil {
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "open blob storage")
	}
	defer b.Close()
	copyBlob := func(key, name string) (string, error) {
		dst := filepath.Join(tmp, name)
		r, err := b.Open(ctx, key)
		if err != nil {
			return "", errcode.Wrap(errcode.BrandKitInvalid, err, fmt.Sprintf("brand kit %s: read %s", k.Slug, key))
		}
		defer r.Close()
		f, err := os.Create(dst)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(f, r); err != nil {
			_ = f.Close()
			return "", fmt.Errorf("copy %s: %w", key, err)
		}
		return dst, f.Close()
	}
	out := &engine.BrandKit{Name: k.Name}
	if k.WatermarkKey != "" {
		p, err := copyBlob(k.WatermarkKey, "watermark."+k.WatermarkFormat)
		if err != nil {
			return nil, err
		}
		pos, err := render.ParsePosition(k.Position)
		if err != nil {
			return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "brand kit "+k.Slug)
		}
		out.Watermark = &render.Watermark{Path: p, Position: pos, Width: k.Width, Margin: k.Margin, Opacity: k.Opacity}
	}
	for _, c := range []struct {
		id   string
		dst  *string
		name string
	}{{k.IntroProjectID, &out.Intro, "intro"}, {k.OutroProjectID, &out.Outro, "outro"}} {
		if c.id == "" {
			continue
		}
		prj, err := s.GetProject(ctx, c.id)
		if err != nil || prj.SourceKey == "" {
			return nil, errcode.New(errcode.BrandKitInvalid, "brand kit %s: its %s project %s is gone", k.Slug, c.name, c.id)
		}
		if *c.dst, err = copyBlob(prj.SourceKey, c.name+path.Ext(prj.SourceKey)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
