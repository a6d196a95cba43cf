package web

import (
	"errors"
	"net/http"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

// renditionInWorkspace returns the caller's rendition id and its export, or
// not_found.
func (s *Server) renditionInWorkspace(r *http.Request, id string) (store.Rendition, store.Export, error) {
	rd, err := s.store.GetRendition(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Rendition{}, store.Export{}, notFound("rendition", id)
	}
	if err != nil {
		return store.Rendition{}, store.Export{}, err
	}
	e, err := s.exportInWorkspace(r, rd.ExportID)
	if err != nil {
		if errcode.Of(err) == errcode.NotFound {
			return store.Rendition{}, store.Export{}, notFound("rendition", id)
		}
		return store.Rendition{}, store.Export{}, err
	}
	return rd, e, nil
}

func (s *Server) getRendition(w http.ResponseWriter, r *http.Request) error {
	rd, e, err := s.renditionInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, s.renditionView(r.Context(), rd, e.ProjectName))
	return nil
}

// saveRendition keeps a rendition's file past retention. Saving twice is
// harmless; a file already deleted cannot be saved.
func (s *Server) saveRendition(w http.ResponseWriter, r *http.Request) error {
	rd, e, err := s.renditionInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rd.DeletedAt != nil {
		return errcode.New(errcode.Conflict, "rendition %s was deleted after its retention: export again to get the file back", rd.ID)
	}
	if rd.Status == store.RenditionFailed || rd.Status == store.RenditionCanceled {
		return errcode.New(errcode.Conflict, "rendition %s is %s: there is no file to keep", rd.ID, rd.Status)
	}
	if !rd.Saved {
		if err := s.store.SetRenditionSaved(r.Context(), rd.ID, true); err != nil {
			return err
		}
		rd.Saved = true
	}
	s.writeJSON(w, r, http.StatusOK, s.renditionView(r.Context(), rd, e.ProjectName))
	return nil
}
