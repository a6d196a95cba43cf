package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/render"
	"outpost/internal/store"
)

// maxThumbnailBytes caps an uploaded thumbnail image.
const maxThumbnailBytes = 20 << 20

// thumbnailForm is the multipart body that sets a rendition's thumbnail.
type thumbnailForm struct {
	Thumbnail formFile `json:"thumbnail"` // JPEG or PNG, at most 20 MiB; cropped to the video's aspect
}

// putThumbnail replaces a rendition's thumbnail with an uploaded image,
// sized to the platform rules: the video's aspect, long side 1280 (YouTube
// 1280×720), JPEG of at most 2 MiB.
func (s *Server) putThumbnail(w http.ResponseWriter, r *http.Request) error {
	rd, e, err := s.renditionInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rd.Status != store.RenditionSucceeded || rd.Width <= 0 || rd.Height <= 0 {
		return errcode.New(errcode.Conflict, "rendition %s is %s: a thumbnail goes with a finished video", rd.ID, rd.Status)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errcode.New(errcode.UnsupportedMediaType, "send the image as multipart/form-data with a \"thumbnail\" file")
	}
	var data []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return multipartError(err)
		}
		if part.FormName() != "thumbnail" {
			return errcode.New(errcode.InvalidOption, "unknown form field %q: send thumbnail", part.FormName())
		}
		if data, err = io.ReadAll(io.LimitReader(part, maxThumbnailBytes+1)); err != nil {
			return multipartError(err)
		}
		if len(data) > maxThumbnailBytes {
			return errcode.New(errcode.PayloadTooLarge, "the thumbnail is larger than %d MiB", maxThumbnailBytes>>20)
		}
	}
	if data == nil {
		return errcode.New(errcode.InvalidOption, "the form has no \"thumbnail\" file")
	}
	tw, th := render.ThumbnailSize(rd.Width, rd.Height)
	jpg, err := engine.ThumbnailFromImage(bytes.NewReader(data), tw, th)
	if err != nil {
		return err
	}
	// Named for the rendition, not its file: renditions that one encode
	// served share their file, each has its own thumbnail.
	key, err := blob.RenditionKey(rd.ExportID, rd.ID+".thumbnail.jpg")
	if err != nil {
		return err
	}
	if _, err := s.blob.Put(r.Context(), key, bytes.NewReader(jpg), "image/jpeg"); err != nil {
		return err
	}
	rd.ThumbnailKey = key
	if rd, err = s.store.UpdateRendition(r.Context(), rd); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.renditionView(r.Context(), rd, e.ProjectName))
	return nil
}
