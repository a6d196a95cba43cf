package web

import (
	"errors"
	"io"
	"net/http"

	"outpost/internal/errcode"
)

func (s *Server) getRendition(w http.ResponseWriter, r *http.Request) error {
	rd, err := s.svc.Exports.Rendition(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rd)
	return nil
}

// saveRendition keeps a rendition's file past retention.
func (s *Server) saveRendition(w http.ResponseWriter, r *http.Request) error {
	rd, err := s.svc.Exports.KeepRendition(r.Context(), workspaceOf(r), r.PathValue("id"), true)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rd)
	return nil
}

// maxThumbnailBytes caps an uploaded thumbnail image.
const maxThumbnailBytes = 20 << 20

// thumbnailForm is the multipart body that sets a rendition's thumbnail.
type thumbnailForm struct {
	Thumbnail formFile `json:"thumbnail"` // JPEG or PNG, at most 20 MiB; cropped to the video's aspect
}

// putThumbnail replaces a rendition's thumbnail with an uploaded image.
func (s *Server) putThumbnail(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.Exports.Rendition(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errcode.New(errcode.UnsupportedMediaType, "send the image as multipart/form-data with a \"thumbnail\" file")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return errcode.New(errcode.InvalidOption, "the form has no \"thumbnail\" file")
		}
		if err != nil {
			return multipartError(err)
		}
		if part.FormName() != "thumbnail" {
			return errcode.New(errcode.InvalidOption, "unknown form field %q: send thumbnail", part.FormName())
		}
		rd, err := s.svc.Exports.SetThumbnail(r.Context(), workspaceOf(r), r.PathValue("id"), part)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, rd)
		return nil
	}
}
