package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// maxWatermarkBytes caps a watermark image upload.
const maxWatermarkBytes = outpost.MaxWatermarkBytes

// brandKitRequest creates (JSON, or the fields of a multipart form with a
// "watermark" file) or changes (PATCH: absent fields stay) a brand kit.
type brandKitRequest = outpost.BrandKitChange

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

func (s *Server) createBrandKit(w http.ResponseWriter, r *http.Request) error {
	var req brandKitRequest
	var image []byte
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		var err error
		if req, image, err = s.readBrandKitForm(r); err != nil {
			return err
		}
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.svc.BrandKits.Create(r.Context(), workspaceOf(r), req, image)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, k)
	return nil
}

func (s *Server) listBrandKits(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.svc.BrandKits.List(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(ks, ""))
	return nil
}

func (s *Server) getBrandKit(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.BrandKits.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, k)
	return nil
}

func (s *Server) updateBrandKit(w http.ResponseWriter, r *http.Request) error {
	var req brandKitRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, err := s.svc.BrandKits.Update(r.Context(), workspaceOf(r), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, k)
	return nil
}

// putWatermark replaces a kit's image. The old image stays in storage:
// exports accepted earlier still render with it.
func (s *Server) putWatermark(w http.ResponseWriter, r *http.Request) error {
	_, image, err := s.readBrandKitForm(r)
	if err != nil {
		return err
	}
	if image == nil {
		return errcode.New(errcode.InvalidOption, "the form has no \"watermark\" file")
	}
	k, err := s.svc.BrandKits.SetWatermark(r.Context(), workspaceOf(r), r.PathValue("id"), image)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, k)
	return nil
}

func (s *Server) deleteBrandKit(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.BrandKits.Delete(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readBrandKitForm reads a multipart kit: text fields and an optional
// "watermark" file.
func (s *Server) readBrandKitForm(r *http.Request) (brandKitRequest, []byte, error) {
	var req brandKitRequest
	mr, err := r.MultipartReader()
	if err != nil {
		return req, nil, errcode.New(errcode.UnsupportedMediaType, "send the watermark as multipart/form-data with a \"watermark\" file")
	}
	var image []byte
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
			image = data
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
