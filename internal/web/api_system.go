package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// healthJSON is /healthz's answer.
type healthJSON struct {
	Status string              `json:"status"` // ok or unavailable
	Error  *outpost.CodedError `json:"error,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			he := httpError(err)
			if he.code == errcode.Internal {
				he.message = err.Error() // operators read this, not API clients
			}
			s.writeJSON(w, r, http.StatusServiceUnavailable, healthJSON{Status: "unavailable", Error: outpost.NewCodedError(he.code, he.message)})
			return nil
		}
	}
	s.writeJSON(w, r, http.StatusOK, healthJSON{Status: "ok"})
	return nil
}

func (s *Server) openAPIDocument(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, s.openAPI())
	return nil
}

// page is one page of a list: the items and the cursor of the next page
// (null on the last).
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](data []T, next string) page[T] {
	if data == nil {
		data = []T{}
	}
	p := page[T]{Data: data}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

// pageQuery reads ?cursor= and ?limit=.
func pageQuery(r *http.Request) (cursor string, limit int, err error) {
	q := r.URL.Query()
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil || limit < 1 || limit > 500 {
			return "", 0, errcode.New(errcode.InvalidOption, "limit: want a number from 1 to 500, got %q", l)
		}
	}
	return q.Get("cursor"), limit, nil
}
