package web

import (
	"net/http"
)

// webhookCreateRequest adds an endpoint.
type webhookCreateRequest struct {
	URL string `json:"url"`
	// Events are the event types to send; empty sends all.
	Events []string `json:"events,omitempty"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req webhookCreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	wh, err := s.svc.Webhooks.Create(r.Context(), workspaceOf(r), req.URL, req.Events)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, wh)
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.Webhooks.List(r.Context(), workspaceOf(r))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(list, ""))
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	wh, err := s.svc.Webhooks.Get(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wh)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Webhooks.Delete(r.Context(), workspaceOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	_, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	ds, err := s.svc.Webhooks.Deliveries(r.Context(), workspaceOf(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, newPage(ds, ""))
	return nil
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Webhooks.Redeliver(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusAccepted, d)
	return nil
}
