package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
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
	Statuses  []store.ExportStatus
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
	ctx := r.Context()
	ws := workspaceOf(r)
	user, userList, err := h.userPresets(ctx, ws)
	if err != nil {
		return err
	}
	ef := store.ExportFilter{WorkspaceID: ws, Q: f.Q, Client: f.Client, Campaign: f.Campaign,
		ProjectID: f.Project, Limit: 20, Cursor: q.Get("cursor")}
	if f.Status != "" {
		st := store.ExportStatus(f.Status)
		if !st.Valid() {
			return errcode.New(errcode.InvalidOption, "unknown status %q", f.Status)
		}
		ef.Statuses = []store.ExportStatus{st}
	}
	if f.Platform != "" {
		if !slices.Contains(presetPlatforms(), f.Platform) {
			return errcode.New(errcode.InvalidOption, "unknown platform %q", f.Platform)
		}
		ef.PresetIDs = platformPresets(f.Platform, userList)
		ef.PublishedTo = f.Platform
	}
	for _, d := range []struct {
		v   string
		dst *time.Time
		add int
	}{{f.From, &ef.CreatedFrom, 0}, {f.To, &ef.CreatedTo, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.v, time.Local)
		if err != nil {
			return errcode.New(errcode.InvalidOption, "date %q: use the date picker (YYYY-MM-DD)", d.v)
		}
		*d.dst = t.AddDate(0, 0, d.add)
	}
	pg, err := h.store.ListExports(ctx, ef)
	if errors.Is(err, store.ErrInvalidCursor) {
		return errcode.New(errcode.InvalidOption, "that page link is out of date: start from the first page")
	}
	if err != nil {
		return err
	}
	d := historyData{Filter: f, Statuses: store.ExportStatuses, Platforms: presetPlatforms()}
	for _, e := range pg.Exports {
		v, err := h.buildExportView(ctx, e, user)
		if err != nil {
			return err
		}
		d.Rows = append(d.Rows, v)
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
	d.Clients, d.Campaigns, err = h.labels(r)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "history", page{Title: "History", Nav: "history", Data: d})
	return nil
}

// labels lists the client and campaign labels in use, for the filters'
// suggestions.
func (h *Handler) labels(r *http.Request) (clients, campaigns []string, err error) {
	pg, err := h.store.ListProjects(r.Context(), store.ProjectFilter{WorkspaceID: workspaceOf(r), Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	ex, err := h.store.ListExports(r.Context(), store.ExportFilter{WorkspaceID: workspaceOf(r), Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	add := func(list []string, v string) []string {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
		return list
	}
	for _, p := range pg.Projects {
		clients, campaigns = add(clients, p.Client), add(campaigns, p.Campaign)
	}
	for _, e := range ex.Exports {
		clients, campaigns = add(clients, e.Client), add(campaigns, e.Campaign)
	}
	slices.Sort(clients)
	slices.Sort(campaigns)
	return clients, campaigns, nil
}
