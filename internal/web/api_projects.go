package web

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// projectUploadForm is the multipart/form-data body of an upload.
type projectUploadForm struct {
	File     formFile `json:"file"` // the master, streamed; at most OUTPOST_MAX_UPLOAD_BYTES
	Name     string   `json:"name,omitempty"`
	Client   string   `json:"client,omitempty"`
	Campaign string   `json:"campaign,omitempty"`
}

// formFile is a file part of a multipart form (for the OpenAPI document).
type formFile struct{}

// projectURLRequest creates a project from a public URL.
type projectURLRequest struct {
	SourceURL string `json:"source_url,omitempty"`
	Name      string `json:"name,omitempty"`
	Client    string `json:"client,omitempty"`
	Campaign  string `json:"campaign,omitempty"`
	// Timeline, instead of source_url, makes a timeline project: clips of
	// other projects (in and out points in seconds), crossfades and an
	// audio bed, joined in the export's one render.
	Timeline *outpost.Timeline `json:"timeline,omitempty"`
}

// createProject takes a multipart upload or a JSON source_url (or
// timeline).
//
// A source that cannot be used (not a video, cut short, no video stream,
// unreachable URL) is refused with 422 and its code, and nothing is kept:
// no project row, no blob, no temp file. Only usable sources become
// projects, so every project in a list can be exported.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "" || err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
		return s.importProject(w, r)
	case err == nil && mt == "multipart/form-data":
		if params["boundary"] == "" {
			return errcode.New(errcode.InvalidOption, "multipart/form-data without a boundary")
		}
		// Large uploads outlast any server-wide read timeout; the size cap
		// and the client's own connection bound them instead.
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		mr, err := r.MultipartReader()
		if err != nil {
			return errcode.Wrap(errcode.InvalidOption, err, "the body is not a multipart form")
		}
		p, err := s.svc.Projects.Upload(r.Context(), workspaceOf(r), mr)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusCreated, p)
		return nil
	}
	return errcode.New(errcode.UnsupportedMediaType, "Content-Type %q is not accepted: upload a file as multipart/form-data or send {\"source_url\"} as application/json", ct)
}

func (s *Server) importProject(w http.ResponseWriter, r *http.Request) error {
	var req projectURLRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	labels := outpost.Labels{Client: req.Client, Campaign: req.Campaign}
	var p outpost.Project
	var err error
	switch {
	case req.Timeline != nil && req.SourceURL != "":
		return errcode.New(errcode.InvalidOption, "give source_url or timeline, not both")
	case req.Timeline != nil:
		p, err = s.svc.Projects.CreateTimeline(r.Context(), workspaceOf(r), outpost.TimelineProject{Name: req.Name,
			Labels: labels, Timeline: *req.Timeline})
	default:
		p, err = s.svc.Projects.Import(r.Context(), workspaceOf(r), outpost.Import{SourceURL: req.SourceURL, Name: req.Name, Labels: labels})
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, p)
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	pg, err := s.svc.Projects.List(r.Context(), workspaceOf(r), outpost.ProjectQuery{Q: r.URL.Query().Get("q"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(pg.Projects, pg.NextCursor))
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Projects.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, p)
	return nil
}
