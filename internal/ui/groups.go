package ui

import (
	"net/http"
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// groupView is the exports of one A/B (variants) or batch request, side by
// side.
type groupView struct {
	ID      string
	Title   string
	Exports []exportView
	// Live: some export is still rendering or posting; EventsURLs are
	// their streams, space separated.
	Live      bool
	EventsURL string
	// Versions: the group compares versions of one project (A/B), rather
	// than a batch of projects.
	Versions bool
	Summary  string
}

func (h *Handler) groupData(r *http.Request) (page, error) {
	ctx, ws, id := r.Context(), workspaceOf(r), r.PathValue("id")
	pg, err := h.svc.Exports.List(ctx, ws, outpost.ExportQuery{GroupID: id, Limit: outpost.MaxBatch * outpost.MaxVariants})
	if err != nil {
		return page{}, err
	}
	if len(pg.Exports) == 0 {
		return page{}, errcode.New(errcode.NotFound, "this group of exports does not exist in this workspace")
	}
	cat, err := h.catalog(ctx, ws)
	if err != nil {
		return page{}, err
	}
	g := groupView{ID: id, Versions: true}
	var events []string
	ready := 0
	// Oldest first: version A before B, projects in the order picked.
	for i := len(pg.Exports) - 1; i >= 0; i-- {
		d, err := h.svc.Exports.Get(ctx, ws, pg.Exports[i].ID)
		if err != nil {
			return page{}, err
		}
		v := h.buildExportView(d, cat)
		if v.Live {
			g.Live = true
			events = append(events, v.EventsURL)
		}
		if v.Variant == "" || d.ProjectID != pg.Exports[0].ProjectID {
			g.Versions = false
		}
		if d.Outcome.State == outpost.OutcomeReady || d.Outcome.State == outpost.OutcomeAttention {
			ready++
		}
		g.Exports = append(g.Exports, v)
	}
	g.EventsURL = strings.Join(events, " ")
	n := len(g.Exports)
	if g.Versions {
		g.Title = strconv.Itoa(n) + " versions of " + g.Exports[0].ProjectName
	} else {
		g.Title = "Batch of " + strconv.Itoa(n) + " exports"
	}
	g.Summary = strconv.Itoa(ready) + " of " + strconv.Itoa(n) + " ready"
	return page{Title: g.Title, Nav: "history", Data: g}, nil
}

func (h *Handler) groupPage(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.groupData(r)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "group", pg)
	return nil
}

// groupLive renders the group's live part, fetched again on each event of
// its exports.
func (h *Handler) groupLive(w http.ResponseWriter, r *http.Request) error {
	pg, err := h.groupData(r)
	if err != nil {
		return err
	}
	h.renderTemplate(w, r, http.StatusOK, "group", "grouplive", pg)
	return nil
}
