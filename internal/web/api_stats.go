package web

import (
	"net/http"
	"path"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// Stats limits.
const (
	statsDefaultDays = 30
	statsMaxDays     = 366
	dateLayout       = "2006-01-02"
)

// statsRoute is the route table entry of GET /api/v1/stats.
func (s *Server) statsRoute() route {
	return route{Method: "GET", Path: "/api/v1/stats", Tag: "stats",
		Summary: "Tracking events (exports, progress milestones, completions, downloads, history views) counted per day",
		Handler: s.stats, Query: []param{
			{"from", "string", "first day, YYYY-MM-DD (UTC; default 29 days before to)"},
			{"to", "string", "last day, YYYY-MM-DD, inclusive (UTC; default today)"},
		}, Status: 200, Response: outpost.StatsReport{}}
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	from, to, err := statsRange(r, s.now())
	if err != nil {
		return err
	}
	rep, err := s.svc.Stats.Count(r.Context(), workspaceOf(r), from, to)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rep)
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

// historyView is the payload of a history.viewed event: the filters the
// history was viewed with.
type historyView struct {
	Status   string `json:"status,omitempty"`
	Client   string `json:"client,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Preset   string `json:"preset,omitempty"`
	Q        string `json:"q,omitempty"`
}

// trackHistoryView records a history.viewed event for each successful first
// page of the export history (further pages are the same view).
func (s *Server) trackHistoryView(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := next(w, r); err != nil {
			return err
		}
		q := r.URL.Query()
		if q.Get("cursor") == "" {
			s.svc.Stats.Record(r.Context(), workspaceOf(r), outpost.EventHistoryViewed, "", historyView{
				Status: q.Get("status"), Client: q.Get("client"), Campaign: q.Get("campaign"),
				Preset: q.Get("preset"), Q: q.Get("q"),
			})
		}
		return nil
	}
}

// trackDownloads records a rendition.downloaded event for each download
// served through a signed /dl/ link (file storage; S3 links are presigned
// and go to the store directly). A download is a GET answered 200, or 206
// for a range from byte 0: players and download managers fetch a file in
// several ranges, and only the first one counts.
func (s *Server) trackDownloads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if r.Method != http.MethodGet {
			return
		}
		if cw.status != http.StatusOK && !(cw.status == http.StatusPartialContent && strings.HasPrefix(r.Header.Get("Range"), "bytes=0-")) {
			return
		}
		// The handler checked the link's signature, so obj is the key it
		// served.
		s.svc.Stats.RecordDownload(r.Context(), r.URL.Query().Get("obj"), path.Base(r.URL.Path))
	})
}
