package web

import (
	"encoding/json"
	"net/http"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

// Stats limits.
const (
	statsDefaultDays = 30
	statsMaxDays     = 366
	dateLayout       = "2006-01-02"
)

// statsJSON is GET /api/v1/stats: tracking events counted per UTC day and
// type, every day of the range listed (empty counts on quiet days).
type statsJSON struct {
	From string     `json:"from"` // first day, YYYY-MM-DD
	To   string     `json:"to"`   // last day, inclusive
	Days []statsDay `json:"days"`
}

type statsDay struct {
	Date   string           `json:"date"`
	Counts map[string]int64 `json:"counts"` // event type → count
}

// statsRoute is the route table entry of GET /api/v1/stats.
func (s *Server) statsRoute() route {
	return route{Method: "GET", Path: "/api/v1/stats", Tag: "stats",
		Summary: "Tracking events (exports, progress milestones, completions, downloads, history views) counted per day",
		Handler: s.stats, Query: []param{
			{"from", "string", "first day, YYYY-MM-DD (UTC; default 29 days before to)"},
			{"to", "string", "last day, YYYY-MM-DD, inclusive (UTC; default today)"},
		}, Status: 200, Response: statsJSON{}}
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	from, to, err := statsRange(r, s.now())
	if err != nil {
		return err
	}
	counts, err := s.store.CountEventsByDay(r.Context(), store.EventFilter{
		WorkspaceID: workspaceOf(r), Since: from, Until: to.AddDate(0, 0, 1),
	})
	if err != nil {
		return err
	}
	out := statsJSON{From: from.Format(dateLayout), To: to.Format(dateLayout)}
	index := map[string]int{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		index[d.Format(dateLayout)] = len(out.Days)
		out.Days = append(out.Days, statsDay{Date: d.Format(dateLayout), Counts: map[string]int64{}})
	}
	for _, c := range counts {
		if i, ok := index[c.Date]; ok {
			out.Days[i].Counts[c.Type] += c.Count
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// statsRange parses from and to (UTC days, inclusive), defaulting to the
// last statsDefaultDays days.
func statsRange(r *http.Request, now time.Time) (from, to time.Time, err error) {
	q := r.URL.Query()
	to = now.UTC().Truncate(24 * time.Hour)
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse(dateLayout, v); err != nil {
			return from, to, errcode.New(errcode.InvalidOption, "to %q: want a date as YYYY-MM-DD", v)
		}
	}
	from = to.AddDate(0, 0, -(statsDefaultDays - 1))
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse(dateLayout, v); err != nil {
			return from, to, errcode.New(errcode.InvalidOption, "from %q: want a date as YYYY-MM-DD", v)
		}
	}
	switch days := int(to.Sub(from)/(24*time.Hour)) + 1; {
	case days < 1:
		return from, to, errcode.New(errcode.InvalidOption, "from %s is after to %s", from.Format(dateLayout), to.Format(dateLayout))
	case days > statsMaxDays:
		return from, to, errcode.New(errcode.InvalidOption, "from %s to %s is %d days: at most %d", from.Format(dateLayout), to.Format(dateLayout), days, statsMaxDays)
	}
	return from, to, nil
}

// Tracking event types recorded by the HTTP layer. The export lifecycle
// events (export.queued, export.progress, export.succeeded…) are recorded
// by the jobs service.
const (
	EventHistoryViewed       = "history.viewed"
	EventRenditionDownloaded = "rendition.downloaded"
)

// record stores a tracking event. Tracking never fails the request it
// describes: an error is logged.
func (s *Server) record(r *http.Request, ev store.Event, payload any) {
	if payload != nil {
		raw, err := json.Marshal(payload)
		if err == nil {
			ev.Payload = raw
		}
	}
	if _, err := s.store.InsertEvent(r.Context(), ev); err != nil {
		s.logger.WarnContext(r.Context(), "record tracking event", "type", ev.Type, "error", err)
	}
}
