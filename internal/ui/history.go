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

type historyData struct {
	Filter    historyFilter
	Rows      []exportView
	NextURL   string
	Statuses  []outpost.ExportStatus
	Platforms []string
	Clients   []string
	Campaigns []string
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
	d := historyData{Filter: f, Statuses: outpost.ExportStatuses, Platforms: presetPlatforms()}
	for _, e := range pg.Exports {
		detail, err := h.svc.Exports.Get(ctx, ws, e.ID)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, h.buildExportView(detail, cat))
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
		h.renderTemplate(w, r, http.StatusOK, "history", "rows", page{Data: d})
		return nil
	}
	if d.Clients, d.Campaigns, err = h.svc.Projects.Labels(ctx, ws); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "history", page{Title: "History", Nav: "history", Data: d, Flash: deletedFlash(r)})
	return nil
}
