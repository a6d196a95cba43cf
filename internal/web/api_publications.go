package web

import (
	"context"
	"net/http"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/store"
)

// publicationJSON is one post of an export to a connected account.
type publicationJSON struct {
	ID           string                 `json:"id"`
	ExportID     string                 `json:"export_id"`
	Platform     string                 `json:"platform"`
	ConnectionID string                 `json:"connection_id"`
	Preset       string                 `json:"preset"`
	RenditionID  string                 `json:"rendition_id"`
	State        store.PublicationState `json:"state"`
	// PostURL is the live post, once published.
	PostURL     string          `json:"post_url,omitempty"`
	ScheduleAt  *time.Time      `json:"schedule_at"`
	PublishedAt *time.Time      `json:"published_at"`
	Attempts    int             `json:"attempts"`
	Error       *codedErrorJSON `json:"error"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func publicationView(p store.Publication) publicationJSON {
	return publicationJSON{
		ID: p.ID, ExportID: p.ExportID, Platform: p.Platform, ConnectionID: p.ConnectionID, Preset: p.PresetID,
		RenditionID: p.RenditionID, State: p.State, PostURL: p.PostURL, ScheduleAt: p.ScheduleAt,
		PublishedAt: p.PublishedAt, Attempts: p.Attempts, Error: codedError(p.ErrorCode, p.ErrorMessage),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// publicationsCreateRequest shares a finished export to more destinations.
type publicationsCreateRequest struct {
	Destinations []jobs.Destination `json:"destinations"`
}

// publicationList is the response of a share.
type publicationList struct {
	Publications []publicationJSON `json:"publications"`
}

// publicationPatchRequest reschedules a publication: a time in the
// future, or null for now.
type publicationPatchRequest struct {
	ScheduleAt *time.Time `json:"schedule_at"`
}

func (s *Server) publishing() (publishService, error) {
	if s.publish == nil {
		return nil, errcode.New(errcode.PlatformNotConfigured, "publishing is not available on this server")
	}
	return s.publish, nil
}

func (s *Server) addPublications(w http.ResponseWriter, r *http.Request) error {
	e, err := s.exportInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req publicationsCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	svc, err := s.publishing()
	if err != nil {
		return err
	}
	ps, err := svc.AddPublications(r.Context(), e.WorkspaceID, e.ID, req.Destinations)
	if err != nil {
		return err
	}
	out := publicationList{Publications: make([]publicationJSON, len(ps))}
	for i, p := range ps {
		out.Publications[i] = publicationView(p)
	}
	s.writeJSON(w, r, http.StatusAccepted, out)
	return nil
}

// publicationInWorkspace returns the caller's publication, or not_found.
func (s *Server) publicationInWorkspace(r *http.Request, id string) (store.Publication, error) {
	p, err := s.store.GetPublication(r.Context(), id)
	if isNotFound(err) || err == nil && p.WorkspaceID != workspaceOf(r) {
		return store.Publication{}, notFound("publication", id)
	}
	return p, err
}

func (s *Server) getPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := s.publicationInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, publicationView(p))
	return nil
}

// actOnPublication applies act to the caller's publication {id} and
// answers with the publication as act left it.
func (s *Server) actOnPublication(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, svc publishService, p store.Publication) (store.Publication, error)) error {
	p, err := s.publicationInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	svc, err := s.publishing()
	if err != nil {
		return err
	}
	if p, err = act(r.Context(), svc, p); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, publicationView(p))
	return nil
}

func (s *Server) cancelPublication(w http.ResponseWriter, r *http.Request) error {
	return s.actOnPublication(w, r, func(ctx context.Context, svc publishService, p store.Publication) (store.Publication, error) {
		return svc.CancelPublication(ctx, p.WorkspaceID, p.ID)
	})
}

func (s *Server) retryPublication(w http.ResponseWriter, r *http.Request) error {
	return s.actOnPublication(w, r, func(ctx context.Context, svc publishService, p store.Publication) (store.Publication, error) {
		return svc.RetryPublication(ctx, p.WorkspaceID, p.ID)
	})
}

func (s *Server) patchPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := s.publicationInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req publicationPatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	svc, err := s.publishing()
	if err != nil {
		return err
	}
	var at time.Time
	if req.ScheduleAt != nil {
		at = *req.ScheduleAt
	}
	if p, err = svc.ReschedulePublication(r.Context(), p.WorkspaceID, p.ID, at); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, publicationView(p))
	return nil
}
