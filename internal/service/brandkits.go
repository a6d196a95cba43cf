package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/render"
	"outpost/internal/store"
)

// BrandKits are the workspaces' brand kits.
type BrandKits struct {
	store  *store.Store
	blob   *blob.Store
	prober *media.Prober
	tmpDir string
	views  *views
	logger *slog.Logger
}

var _ outpost.BrandKits = (*BrandKits)(nil)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// kit returns the workspace's kit by id or slug.
func (s *BrandKits) kit(ctx context.Context, workspaceID, ref string) (store.BrandKit, error) {
	k, err := s.store.FindBrandKit(ctx, workspaceID, ref)
	return k, coded(err, "brand kit", ref)
}

// apply checks req's fields and sets them on k.
func (s *BrandKits) apply(ctx context.Context, k *store.BrandKit, req outpost.BrandKitChange) error {
	str := func(p *string, dst *string) {
		if p != nil {
			*dst = strings.TrimSpace(*p)
		}
	}
	str(req.Slug, &k.Slug)
	str(req.Name, &k.Name)
	str(req.Client, &k.Client)
	str(req.Position, &k.Position)
	str(req.IntroProjectID, &k.IntroProjectID)
	str(req.OutroProjectID, &k.OutroProjectID)
	for _, f := range []struct {
		p   *float64
		dst *float64
	}{{req.Margin, &k.Margin}, {req.Width, &k.Width}, {req.Opacity, &k.Opacity}} {
		if f.p != nil {
			*f.dst = *f.p
		}
	}
	if !slugPattern.MatchString(k.Slug) {
		return errcode.New(errcode.InvalidOption, "slug %q: use 1 to 63 lowercase letters, digits and dashes, e.g. \"acme\"", k.Slug)
	}
	if k.Name == "" {
		k.Name = k.Slug
	}
	for _, l := range []struct{ field, v string }{{"name", k.Name}, {"client", k.Client}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return err
		}
	}
	pos, err := render.ParsePosition(k.Position)
	if err != nil {
		return errcode.Wrap(errcode.InvalidOption, err, "position")
	}
	k.Position = string(pos)
	switch {
	case k.Width < 0 || k.Width > 1:
		return errcode.New(errcode.InvalidOption, "width %g: a fraction of the frame width, 0 to 1 (0: 0.15)", k.Width)
	case k.Margin < 0 || k.Margin > 0.4:
		return errcode.New(errcode.InvalidOption, "margin %g: a fraction of the frame's shorter side, 0 to 0.4 (0: 0.03)", k.Margin)
	case k.Opacity < 0 || k.Opacity > 1:
		return errcode.New(errcode.InvalidOption, "opacity %g: 0 to 1 (0: opaque)", k.Opacity)
	}
	for field, id := range map[string]string{"intro_project_id": k.IntroProjectID, "outro_project_id": k.OutroProjectID} {
		if id == "" {
			continue
		}
		p, err := projectIn(ctx, s.store, k.WorkspaceID, id)
		if isNotFound(err) {
			return errcode.New(errcode.NotFound, "%s: project %s not found", field, id)
		}
		if err != nil {
			return err
		}
		if p.Status != store.ProjectReady || p.SourceKey == "" {
			return errcode.New(errcode.InvalidOption, "%s: project %s is not a ready uploaded or fetched video", field, id)
		}
	}
	return nil
}

// Create makes a brand kit, with its watermark image when given.
func (s *BrandKits) Create(ctx context.Context, workspaceID string, req outpost.BrandKitChange, watermark []byte) (outpost.BrandKit, error) {
	k := store.BrandKit{ID: store.NewID(store.PrefixBrandKit), WorkspaceID: workspaceID}
	if err := s.apply(ctx, &k, req); err != nil {
		return outpost.BrandKit{}, err
	}
	if watermark != nil {
		if err := s.storeWatermark(ctx, &k, watermark); err != nil {
			return outpost.BrandKit{}, err
		}
	}
	created, err := s.store.CreateBrandKit(ctx, k)
	if err != nil {
		s.deleteWatermark(ctx, k.WatermarkKey)
		if errors.Is(err, store.ErrConflict) {
			return outpost.BrandKit{}, errcode.New(errcode.Conflict, "a brand kit with slug %q already exists", k.Slug)
		}
		return outpost.BrandKit{}, err
	}
	return s.views.brandKit(ctx, created), nil
}

// List returns the workspace's brand kits.
func (s *BrandKits) List(ctx context.Context, workspaceID string) ([]outpost.BrandKit, error) {
	ks, err := s.store.ListBrandKits(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]outpost.BrandKit, len(ks))
	for i, k := range ks {
		out[i] = s.views.brandKit(ctx, k)
	}
	return out, nil
}

// Get returns a kit by id or slug.
func (s *BrandKits) Get(ctx context.Context, workspaceID, ref string) (outpost.BrandKit, error) {
	k, err := s.kit(ctx, workspaceID, ref)
	if err != nil {
		return outpost.BrandKit{}, err
	}
	return s.views.brandKit(ctx, k), nil
}

// Update changes a kit's settings.
func (s *BrandKits) Update(ctx context.Context, workspaceID, ref string, req outpost.BrandKitChange) (outpost.BrandKit, error) {
	k, err := s.kit(ctx, workspaceID, ref)
	if err != nil {
		return outpost.BrandKit{}, err
	}
	if err := s.apply(ctx, &k, req); err != nil {
		return outpost.BrandKit{}, err
	}
	up, err := s.store.UpdateBrandKit(ctx, k)
	if errors.Is(err, store.ErrConflict) {
		return outpost.BrandKit{}, errcode.New(errcode.Conflict, "a brand kit with slug %q already exists", k.Slug)
	}
	if err != nil {
		return outpost.BrandKit{}, err
	}
	return s.views.brandKit(ctx, up), nil
}

// SetWatermark replaces a kit's image. The old image stays in storage:
// exports accepted earlier still render with it.
func (s *BrandKits) SetWatermark(ctx context.Context, workspaceID, ref string, image []byte) (outpost.BrandKit, error) {
	k, err := s.kit(ctx, workspaceID, ref)
	if err != nil {
		return outpost.BrandKit{}, err
	}
	if err := s.storeWatermark(ctx, &k, image); err != nil {
		return outpost.BrandKit{}, err
	}
	up, err := s.store.UpdateBrandKit(ctx, k)
	if err != nil {
		s.deleteWatermark(ctx, k.WatermarkKey)
		return outpost.BrandKit{}, err
	}
	return s.views.brandKit(ctx, up), nil
}

// Delete deletes a kit. Its image stays: queued exports that took the kit
// still need it.
func (s *BrandKits) Delete(ctx context.Context, workspaceID, ref string) error {
	k, err := s.kit(ctx, workspaceID, ref)
	if err != nil {
		return err
	}
	return coded(s.store.DeleteBrandKit(ctx, k.ID), "brand kit", k.ID)
}

// imageFormat recognises a PNG by its signature and an SVG by its root
// element; "" for anything else.
func imageFormat(data []byte) string {
	if bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return "png"
	}
	head := data[:min(len(data), 4096)]
	if bytes.Contains(head, []byte("<svg")) && !bytes.Contains(bytes.ToLower(head), []byte("<html")) {
		return "svg"
	}
	return ""
}

// storeWatermark checks the image (a PNG or an SVG ffmpeg reads) and
// stores it under a new key on k.
func (s *BrandKits) storeWatermark(ctx context.Context, k *store.BrandKit, data []byte) error {
	if len(data) > outpost.MaxWatermarkBytes {
		return errcode.New(errcode.PayloadTooLarge, "the watermark is larger than %d MiB", outpost.MaxWatermarkBytes>>20)
	}
	format := imageFormat(data)
	if format == "" {
		return errcode.New(errcode.WatermarkInvalid, "the watermark is neither a PNG nor an SVG image")
	}
	if format == "svg" {
		if err := checkSVG(data); err != nil {
			return &errcode.Error{Code: errcode.WatermarkInvalid, Message: "the SVG watermark was refused: " + err.Error(),
				Remedy: "Save the logo again as a plain SVG (shapes and text only: no scripts, links, or images and fonts from elsewhere), or upload a PNG."}
		}
	}
	f, err := os.CreateTemp(s.tmpDir, "watermark-*."+format)
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	info, err := s.prober.Probe(ctx, f.Name())
	if err != nil || info.Video == nil || info.Video.Width == 0 {
		return errcode.New(errcode.WatermarkInvalid, "the watermark %s cannot be read as an image", strings.ToUpper(format))
	}
	key, err := jobs.BrandKitKey(k.ID, format)
	if err != nil {
		return err
	}
	ctype := "image/png"
	if format == "svg" {
		ctype = "image/svg+xml"
	}
	if _, err := s.blob.PutFile(ctx, key, f.Name(), ctype); err != nil {
		return fmt.Errorf("store watermark: %w", err)
	}
	k.WatermarkKey, k.WatermarkFormat = key, format
	return nil
}

func (s *BrandKits) deleteWatermark(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := s.blob.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.logger.WarnContext(ctx, "delete orphan watermark", slog.String("blob_key", key), slog.Any("error", err))
	}
}
