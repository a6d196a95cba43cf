package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/render"
	"outpost/internal/store"
)

// maxWatermarkBytes caps a watermark image upload.
const maxWatermarkBytes = 5 << 20

// brandKitJSON is a brand kit.
type brandKitJSON struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Client string `json:"client,omitempty"`
	// Watermark is null when the kit has no image.
	Watermark      *watermarkJSON `json:"watermark"`
	IntroProjectID string         `json:"intro_project_id,omitempty"`
	OutroProjectID string         `json:"outro_project_id,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// watermarkJSON is a kit's image and its placement.
type watermarkJSON struct {
	Format string `json:"format"` // png or svg
	// URL is a signed link to the image, valid for an hour.
	URL      string  `json:"url,omitempty"`
	Position string  `json:"position"`
	Margin   float64 `json:"margin"`
	Width    float64 `json:"width"`
	Opacity  float64 `json:"opacity"`
}

// brandKitRequest creates (JSON, or the fields of a multipart form with a
// "watermark" file) or changes (PATCH: absent fields stay) a brand kit.
// Position is tl, tr, bl, br or center; Margin, Width (fractions of the
// frame) and Opacity are 0 for their defaults (0.03, 0.15, 1).
type brandKitRequest struct {
	Slug           *string  `json:"slug,omitempty"`
	Name           *string  `json:"name,omitempty"`
	Client         *string  `json:"client,omitempty"`
	Position       *string  `json:"position,omitempty"`
	Margin         *float64 `json:"margin,omitempty"`
	Width          *float64 `json:"width,omitempty"`
	Opacity        *float64 `json:"opacity,omitempty"`
	IntroProjectID *string  `json:"intro_project_id,omitempty"`
	OutroProjectID *string  `json:"outro_project_id,omitempty"`
}

// brandKitForm is the multipart/form-data body of a kit with its image.
type brandKitForm struct {
	Watermark      formFile `json:"watermark"` // PNG (with alpha) or SVG, at most 5 MiB
	Slug           string   `json:"slug"`
	Name           string   `json:"name,omitempty"`
	Client         string   `json:"client,omitempty"`
	Position       string   `json:"position,omitempty"`
	Margin         float64  `json:"margin,omitempty"`
	Width          float64  `json:"width,omitempty"`
	Opacity        float64  `json:"opacity,omitempty"`
	IntroProjectID string   `json:"intro_project_id,omitempty"`
	OutroProjectID string   `json:"outro_project_id,omitempty"`
}

// watermarkForm is the multipart body that replaces a kit's image.
type watermarkForm struct {
	Watermark formFile `json:"watermark"` // PNG (with alpha) or SVG, at most 5 MiB
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (s *Server) brandKitView(ctx context.Context, k store.BrandKit) brandKitJSON {
	v := brandKitJSON{ID: k.ID, Slug: k.Slug, Name: k.Name, Client: k.Client,
		IntroProjectID: k.IntroProjectID, OutroProjectID: k.OutroProjectID, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt}
	if k.WatermarkKey != "" {
		w := &watermarkJSON{Format: k.WatermarkFormat, Position: k.Position, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity}
		if link, _, err := s.blob.SignedURL(ctx, k.WatermarkKey, downloadLinkTTL, k.Slug+"."+k.WatermarkFormat); err == nil {
			w.URL = link
		} else {
			s.logger.WarnContext(ctx, "sign watermark link", slog.String("brand_kit_id", k.ID), slog.Any("error", err))
		}
		v.Watermark = w
	}
	return v
}

// brandKit returns the caller's kit by id or slug, or not_found.
func (s *Server) brandKit(r *http.Request, ref string) (store.BrandKit, error) {
	k, err := s.store.FindBrandKit(r.Context(), workspaceOf(r), ref)
	if errors.Is(err, store.ErrNotFound) {
		return k, notFound("brand kit", ref)
	}
	return k, err
}

// apply checks req's fields and sets them on k.
func (s *Server) applyBrandKit(r *http.Request, k *store.BrandKit, req brandKitRequest) error {
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
		p, err := s.store.GetProject(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
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

func (s *Server) createBrandKit(w http.ResponseWriter, r *http.Request) error {
	var req brandKitRequest
	var image *watermarkImage
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		var err error
		if req, image, err = s.readBrandKitForm(r); err != nil {
			return err
		}
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k := store.BrandKit{ID: store.NewID(store.PrefixBrandKit), WorkspaceID: workspaceOf(r)}
	if err := s.applyBrandKit(r, &k, req); err != nil {
		return err
	}
	if image != nil {
		if err := s.storeWatermark(r.Context(), &k, image); err != nil {
			return err
		}
	}
	created, err := s.store.CreateBrandKit(r.Context(), k)
	if err != nil {
		s.deleteWatermark(r.Context(), k.WatermarkKey)
		if errors.Is(err, store.ErrConflict) {
			return errcode.New(errcode.Conflict, "a brand kit with slug %q already exists", k.Slug)
		}
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, s.brandKitView(r.Context(), created))
	return nil
}

func (s *Server) listBrandKits(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.store.ListBrandKits(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	views := make([]brandKitJSON, len(ks))
	for i, k := range ks {
		views[i] = s.brandKitView(r.Context(), k)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(views, ""))
	return nil
}

func (s *Server) getBrandKit(w http.ResponseWriter, r *http.Request) error {
	k, err := s.brandKit(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.brandKitView(r.Context(), k))
	return nil
}

func (s *Server) updateBrandKit(w http.ResponseWriter, r *http.Request) error {
	var req brandKitRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.brandKit(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.applyBrandKit(r, &k, req); err != nil {
		return err
	}
	up, err := s.store.UpdateBrandKit(r.Context(), k)
	if errors.Is(err, store.ErrConflict) {
		return errcode.New(errcode.Conflict, "a brand kit with slug %q already exists", k.Slug)
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.brandKitView(r.Context(), up))
	return nil
}

// putWatermark replaces a kit's image. The old image stays in storage:
// exports accepted earlier still render with it.
func (s *Server) putWatermark(w http.ResponseWriter, r *http.Request) error {
	k, err := s.brandKit(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	_, image, err := s.readBrandKitForm(r)
	if err != nil {
		return err
	}
	if image == nil {
		return errcode.New(errcode.InvalidOption, "the form has no \"watermark\" file")
	}
	if err := s.storeWatermark(r.Context(), &k, image); err != nil {
		return err
	}
	up, err := s.store.UpdateBrandKit(r.Context(), k)
	if err != nil {
		s.deleteWatermark(r.Context(), k.WatermarkKey)
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.brandKitView(r.Context(), up))
	return nil
}

func (s *Server) deleteBrandKit(w http.ResponseWriter, r *http.Request) error {
	k, err := s.brandKit(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.store.DeleteBrandKit(r.Context(), k.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("brand kit", k.ID)
		}
		return err
	}
	// The image stays: queued exports that took the kit still need it.
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// watermarkImage is an uploaded image, checked.
type watermarkImage struct {
	data   []byte
	format string // png or svg
}

// readBrandKitForm reads a multipart kit: text fields and an optional
// "watermark" file.
func (s *Server) readBrandKitForm(r *http.Request) (brandKitRequest, *watermarkImage, error) {
	var req brandKitRequest
	mr, err := r.MultipartReader()
	if err != nil {
		return req, nil, errcode.New(errcode.UnsupportedMediaType, "send the watermark as multipart/form-data with a \"watermark\" file")
	}
	var image *watermarkImage
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, nil, multipartError(err)
		}
		field := part.FormName()
		if field == "watermark" {
			data, err := io.ReadAll(io.LimitReader(part, maxWatermarkBytes+1))
			if err != nil {
				return req, nil, multipartError(err)
			}
			if len(data) > maxWatermarkBytes {
				return req, nil, errcode.New(errcode.PayloadTooLarge, "the watermark is larger than %d MiB", maxWatermarkBytes>>20)
			}
			format := imageFormat(data)
			if format == "" {
				return req, nil, errcode.New(errcode.WatermarkInvalid, "the watermark is neither a PNG nor an SVG image")
			}
			image = &watermarkImage{data: data, format: format}
			continue
		}
		v, err := formValue(part, field)
		if err != nil {
			return req, nil, err
		}
		num := func() (*float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, errcode.New(errcode.InvalidOption, "%s %q: give a number", field, v)
			}
			return &f, nil
		}
		switch field {
		case "slug":
			req.Slug = &v
		case "name":
			req.Name = &v
		case "client":
			req.Client = &v
		case "position":
			req.Position = &v
		case "intro_project_id":
			req.IntroProjectID = &v
		case "outro_project_id":
			req.OutroProjectID = &v
		case "margin":
			req.Margin, err = num()
		case "width":
			req.Width, err = num()
		case "opacity":
			req.Opacity, err = num()
		default:
			return req, nil, errcode.New(errcode.InvalidOption, "unknown form field %q", field)
		}
		if err != nil {
			return req, nil, err
		}
	}
	return req, image, nil
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

// storeWatermark probes the image (ffmpeg must read it) and stores it under
// a new key on k.
func (s *Server) storeWatermark(ctx context.Context, k *store.BrandKit, img *watermarkImage) error {
	f, err := os.CreateTemp(s.tmpDir, "watermark-*."+img.format)
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(img.data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	info, err := s.prober.Probe(ctx, f.Name())
	if err != nil || info.Video == nil || info.Video.Width == 0 {
		return errcode.New(errcode.WatermarkInvalid, "the watermark %s cannot be read as an image", strings.ToUpper(img.format))
	}
	key, err := jobs.BrandKitKey(k.ID, img.format)
	if err != nil {
		return err
	}
	ctype := "image/png"
	if img.format == "svg" {
		ctype = "image/svg+xml"
	}
	if _, err := s.blob.PutFile(ctx, key, f.Name(), ctype); err != nil {
		return fmt.Errorf("store watermark: %w", err)
	}
	k.WatermarkKey, k.WatermarkFormat = key, img.format
	return nil
}

func (s *Server) deleteWatermark(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := s.blob.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.logger.WarnContext(ctx, "delete orphan watermark", slog.String("blob_key", key), slog.Any("error", err))
	}
}
