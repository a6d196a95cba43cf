package web

import (
	"net/http"
	"time"

	"outpost/internal/outpost"
)

// publicationsCreateRequest shares a finished export to more destinations.
type publicationsCreateRequest struct {
	Destinations []outpost.Destination `json:"destinations"`
}

// publicationList is the response of a share.
type publicationList struct {
	Publications []outpost.Publication `json:"publications"`
}

// publicationPatchRequest reschedules a publication: a time in the
// future, or null for now.
type publicationPatchRequest struct {
	ScheduleAt *time.Time `json:"schedule_at"`
}

func (s *Server) addPublications(w http.ResponseWriter, r *http.Request) error {
	var req publicationsCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ps, err := s.svc.Publications.Share(r.Context(), workspaceOf(r), r.PathValue("id"), req.Destinations)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []outpost.Publication{}
	}
	s.writeJSON(w, r, http.StatusAccepted, publicationList{Publications: ps})
	return nil
}

func (s *Server) getPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Publications.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

// actOnPublication answers with the publication {id} as act left it.
func (s *Server) actOnPublication(w http.ResponseWriter, r *http.Request,
	act func(r *http.Request, workspaceID, id string) (outpost.Publication, error),
) error {
	p, err := act(r, workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}

func (s *Server) cancelPublication(w http.ResponseWriter, r *http.Request) error {
	return s.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return s.svc.Publications.Cancel(r.Context(), ws, id)
	})
}

func (s *Server) retryPublication(w http.ResponseWriter, r *http.Request) error {
	return s.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		return s.svc.Publications.Retry(r.Context(), ws, id)
	})
}

func (s *Server) patchPublication(w http.ResponseWriter, r *http.Request) error {
	var req publicationPatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.actOnPublication(w, r, func(r *http.Request, ws, id string) (outpost.Publication, error) {
		var at time.Time
		if req.ScheduleAt != nil {
			at = *req.ScheduleAt
		}
		return s.svc.Publications.Reschedule(r.Context(), ws, id, at)
	})
}
