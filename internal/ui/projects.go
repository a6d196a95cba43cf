package ui

import (
	"io"
	"net/http"
	"net/url"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// projectCard is a project in the list.
type projectCard struct {
	outpost.Project
	Shape  string
	Poster string
}

type projectsData struct {
	Projects       []projectCard
	NextCursor     string
	Q              string
	MaxUploadBytes int64
	MaxUpload      string
	// Open is a project whose export modal opens at once ("Export
	// another version").
	Open string
	// Folders is the clients → campaigns sidebar; Client and Campaign the
	// folder shown.
	Folders          foldersView
	Client, Campaign string
	// MoreURL is the next page, with the filters.
	MoreURL string
}

func (h *Handler) projectsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ctx, ws := r.Context(), workspaceOf(r)
	pg, err := h.svc.Projects.List(ctx, ws, outpost.ProjectQuery{Q: q.Get("q"), Client: q.Get("client"), Campaign: q.Get("campaign"),
		Limit: 48, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	d := projectsData{NextCursor: pg.NextCursor, Q: q.Get("q"), MaxUploadBytes: h.cfg.MaxUploadBytes,
		MaxUpload: humanBytes(h.cfg.MaxUploadBytes), Open: q.Get("export"), Client: q.Get("client"), Campaign: q.Get("campaign")}
	for _, p := range pg.Projects {
		d.Projects = append(d.Projects, card(p))
	}
	if pg.NextCursor != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "partial" {
				nq[k] = v
			}
		}
		nq.Set("cursor", pg.NextCursor)
		d.MoreURL = "/projects?" + nq.Encode()
	}
	if q.Get("partial") != "" {
		// The live search's list, without the page around it.
		h.renderTemplate(w, r, http.StatusOK, "projects", "project-list", page{Data: d})
		return nil
	}
	if d.Folders, err = h.folders(ctx, ws, "/projects", false, q); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "projects", page{Title: "Projects", Nav: "projects", Data: d, Flash: deletedFlash(r)})
	return nil
}

func card(p outpost.Project) projectCard {
	c := projectCard{Project: p, Poster: "/projects/" + p.ID + "/poster", Shape: shapeLandscape}
	if p.Media != nil {
		c.Shape = shapeOf(p.Media)
	}
	return c
}

// uploadProject streams a multipart upload to the projects service (no
// size held in memory, no read deadline), which probes it, stores it with
// a poster frame and creates the project.
func (h *Handler) uploadProject(w http.ResponseWriter, r *http.Request) error {
	// Large uploads outlast any server-wide read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUploadBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return errcode.New(errcode.InvalidOption, "the upload is not a file form: choose a file and upload again")
	}
	p, err := h.svc.Projects.Upload(r.Context(), workspaceOf(r), mr)
	if err != nil {
		return err
	}
	return h.projectCreated(w, r, p)
}

func (h *Handler) projectCreated(w http.ResponseWriter, r *http.Request, p outpost.Project) error {
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusCreated, map[string]string{"id": p.ID, "name": p.Name, "url": "/projects#" + p.ID})
		return nil
	}
	http.Redirect(w, r, "/projects#"+p.ID, http.StatusSeeOther)
	return nil
}

// importProject fetches a public URL (the projects service guards against
// private addresses) and makes a project of it.
func (h *Handler) importProject(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	p, err := h.svc.Projects.Import(r.Context(), workspaceOf(r), outpost.Import{
		SourceURL: r.PostFormValue("source_url"), Name: r.PostFormValue("name"),
		Labels: outpost.Labels{Client: r.PostFormValue("client"), Campaign: r.PostFormValue("campaign")}})
	if err != nil {
		return err
	}
	return h.projectCreated(w, r, p)
}

// poster serves a project's poster frame (a placeholder when it has none).
func (h *Handler) poster(w http.ResponseWriter, r *http.Request) error {
	p, err := h.svc.Projects.Poster(r.Context(), workspaceOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	defer p.Close()
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Type", p.ContentType)
	_, _ = io.Copy(w, p)
	return nil
}
