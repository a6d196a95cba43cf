package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

type historyFilter struct {
	Q, Client, Campaign, Status, Platform, From, To, Project string
}

// Active reports whether any filter is set.
func (f historyFilter) Active() bool { return f != historyFilter{} }

// History views: a table, or a timeline grouped by day.
const (
	viewTable    = "table"
	viewTimeline = "timeline"
)

// dayGroup is one day of the timeline.
type dayGroup struct {
	Label string
	Rows  []exportView
}

type historyData struct {
	Filter historyFilter
	// View is table or timeline; Days are the rows by day, for the
	// timeline; TableURL and TimelineURL switch with the same filters.
	View                  string
	Days                  []dayGroup
	TableURL, TimelineURL string
	Folders               foldersView
	Rows                  []exportView
	NextURL               string
	Statuses              []outpost.ExportStatus
	Platforms             []string
	Clients               []string
	Campaigns             []string
}

func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := historyFilter{
		Q: strings.TrimSpace(q.Get("q")), Client: strings.TrimSpace(q.Get("client")),
		Campaign: strings.TrimSpace(q.Get("campaign")), Status: q.Get("status"),
		Platform: q.Get("platform"), From: q.Get("from"), To: q.Get("to"), Project: q.Get("project"),
	}
	ctx, ws := r.Context(), workspaceOf(r)
	eq := outpost.ExportQuery{Q: f.Q, Client: f.Client, Campaign: f.Campaign, ProjectID: f.Project, Platform: f.Platform,
		Limit: 20, Cursor: q.Get("cursor")}
	if f.Status != "" {
		eq.Statuses = []outpost.ExportStatus{outpost.ExportStatus(f.Status)}
	}
	for _, d := range []struct {
		v   string
		dst *time.Time
		add int
	}{{f.From, &eq.CreatedFrom, 0}, {f.To, &eq.CreatedTo, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.v, time.Local)
		if err != nil {
			return errcode.New(errcode.InvalidOption, "date %q: use the date picker (YYYY-MM-DD)", d.v)
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	pg, err := h.svc.Exports.List(ctx, ws, eq)
	if err != nil {
		return err
	}
	cat, err := h.catalog(ctx, ws)
	if err != nil {
		return err
	}
	d := historyData{Filter: f, Statuses: outpost.ExportStatuses, Platforms: presetPlatforms(), View: viewTable}
	if q.Get("view") == viewTimeline {
		d.View = viewTimeline
	}
	for _, e := range pg.Exports {
		detail, err := h.svc.Exports.Get(ctx, ws, e.ID)
		if err != nil {
			return err
		}
		v := h.buildExportView(detail, cat)
		d.Rows = append(d.Rows, v)
		day := dayLabel(e.CreatedAt, h.now())
		if n := len(d.Days); n == 0 || d.Days[n-1].Label != day {
			d.Days = append(d.Days, dayGroup{Label: day})
		}
		d.Days[len(d.Days)-1].Rows = append(d.Days[len(d.Days)-1].Rows, v)
	}
	for _, vw := range []struct {
		name string
		dst  *string
	}{{viewTable, &d.TableURL}, {viewTimeline, &d.TimelineURL}} {
		vq := url.Values{}
		for k, v := range q {
			if k != "cursor" && k != "partial" && k != "view" {
				vq[k] = v
			}
		}
		if vw.name == viewTimeline {
			vq.Set("view", viewTimeline)
		}
		*vw.dst = "/history"
		if len(vq) > 0 {
			*vw.dst += "?" + vq.Encode()
		}
	}
	if pg.NextCursor != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "cursor" && k != "partial" {
				nq[k] = v
			}
		}
		nq.Set("cursor", pg.NextCursor)
		d.NextURL = "/history?" + nq.Encode()
	}
	if q.Get("partial") != "" {
		h.renderTemplate(w, r, http.StatusOK, "history", d.View, page{Data: d})
		return nil
	}
	if d.Clients, d.Campaigns, err = h.svc.Projects.Labels(ctx, ws); err != nil {
		return err
	}
	if d.Folders, err = h.folders(ctx, ws, "/history", true, q); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "history", page{Title: "History", Nav: "history", Data: d, Flash: deletedFlash(r)})
	return nil
}

// dayLabel names the day of t for the timeline: Today, Yesterday, or the
// date, in the server's zone.
func dayLabel(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch day, today := time.Date(y1, m1, d1, 0, 0, 0, 0, time.Local), time.Date(y2, m2, d2, 0, 0, 0, 0, time.Local); {
	case day.Equal(today):
		return "Today"
	case day.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case y1 == y2:
		return t.Format("Monday 2 January")
	}
	return t.Format("Monday 2 January 2006")
}
