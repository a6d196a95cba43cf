package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
)

// exportCreateRequest starts an export, or (with variants) one export per
// variant, grouped: the response is then an outpost.ExportGroup.
type exportCreateRequest struct {
	outpost.ExportRequest
	// Variants make one export per variant (A/B), grouped by group_id.
	Variants []outpost.Variant `json:"variants,omitempty"`
}

// checkExport checks the request's own fields before the service does.
func checkExport(req outpost.ExportRequest, variants []outpost.Variant) error {
	if strings.TrimSpace(req.ProjectID) == "" {
		return errcode.New(errcode.InvalidOption, "project_id is required")
	}
	if len(req.Targets) == 0 && len(variants) == 0 {
		return errcode.New(errcode.InvalidOption, "targets: give at least one target, e.g. [{\"preset\":\"youtube-1080p\"}]")
	}
	return nil
}

func (s *Server) createExport(w http.ResponseWriter, r *http.Request) error {
	var req exportCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	v, err := s.startExport(r.Context(), workspaceOf(r), req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, v)
	return nil
}

// startExport creates the export, or the variants' group, of req.
func (s *Server) startExport(ctx context.Context, workspaceID string, req exportCreateRequest) (any, error) {
	if err := checkExport(req.ExportRequest, req.Variants); err != nil {
		return nil, err
	}
	if len(req.Variants) > 0 {
		return s.svc.Exports.CreateVariants(ctx, workspaceID, req.ExportRequest, req.Variants)
	}
	return s.svc.Exports.Create(ctx, workspaceID, req.ExportRequest)
}

func (s *Server) listExports(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	eq := outpost.ExportQuery{ProjectID: q.Get("project_id"), GroupID: q.Get("group_id"),
		Client: q.Get("client"), Campaign: q.Get("campaign"), Q: q.Get("q"), Presets: splitList(q.Get("preset")),
		Platform: strings.TrimSpace(q.Get("platform")), Limit: limit, Cursor: cursor}
	if eq.CreatedFrom, err = queryTime(q, "created_after"); err != nil {
		return err
	}
	if eq.CreatedTo, err = queryTime(q, "created_before"); err != nil {
		return err
	}
	for _, st := range splitList(q.Get("status")) {
		eq.Statuses = append(eq.Statuses, outpost.ExportStatus(st))
	}
	pg, err := s.svc.Exports.List(r.Context(), workspaceOf(r), eq)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(pg.Exports, pg.NextCursor))
	return nil
}

// queryTime reads an RFC 3339 time from the query; zero when absent.
func queryTime(q url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errcode.New(errcode.InvalidOption, "%s %q: want an RFC 3339 time such as 2025-06-01T00:00:00Z", name, v)
	}
	return t, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Exports.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, d)
	return nil
}

func (s *Server) cancelExport(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Exports.Cancel(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, d)
	return nil
}

func (s *Server) retryExport(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Exports.Retry(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, d)
	return nil
}

// exportEvents streams an export's progress as server-sent events
// (events.Stream). A reconnect with Last-Event-ID (or ?last_event_id=)
// resumes after that event.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) error {
	after, err := events.LastEventID(r)
	if err != nil {
		return err
	}
	ch, err := s.svc.Exports.Events(r.Context(), workspaceOf(r), r.PathValue("id"), after)
	if err != nil {
		return err
	}
	events.Stream(r.Context(), w, ch, s.heartbeat)
	return nil
}
