package ui

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

// kitView is a brand kit on the brand kits page.
type kitView struct {
	outpost.BrandKit
	// Placement is the watermark's place and size in words.
	Placement string
	// Intro and Outro name the clips' projects.
	Intro, Outro string
	// Opacity and Width are the watermark's, in percent, for the form.
	Opacity, Width int
	Position       string
}

type brandKitsData struct {
	Kits []kitView
	// Edit is the slug of the kit whose form is open ("new": the new kit
	// form).
	Edit string
	// Clips are the ready projects an intro or outro can be.
	Clips     []outpost.Project
	Positions []choice
	// New holds the new kit form's defaults.
	New kitView
}

func (h *Handler) brandKitsPage(w http.ResponseWriter, r *http.Request) error {
	ctx, ws := r.Context(), workspaceOf(r)
	kits, err := h.svc.BrandKits.List(ctx, ws)
	if err != nil {
		return err
	}
	pg, err := h.svc.Projects.List(ctx, ws, outpost.ProjectQuery{Limit: 200})
	if err != nil {
		return err
	}
	d := brandKitsData{Edit: r.URL.Query().Get("edit"), Positions: positionChoices,
		New: kitView{Opacity: 100, Width: 15, Position: "br"}}
	names := map[string]string{}
	for _, p := range pg.Projects {
		if p.Status == outpost.ProjectReady && p.Kind != outpost.ProjectTimeline {
			d.Clips = append(d.Clips, p)
			names[p.ID] = p.Name
		}
	}
	for _, k := range kits {
		v := kitView{BrandKit: k, Intro: names[k.IntroProjectID], Outro: names[k.OutroProjectID],
			Opacity: 100, Width: 15, Position: "br"}
		if wm := k.Watermark; wm != nil {
			v.Position = wm.Position
			v.Width = percent(wm.Width, 0.15)
			v.Opacity = percent(wm.Opacity, 1)
			v.Placement = labelOf(positionChoices, wm.Position) + " · " + strconv.Itoa(v.Width) + " % of the width · " +
				strconv.Itoa(v.Opacity) + " % opaque"
		}
		d.Kits = append(d.Kits, v)
	}
	pgd := page{Title: "Brand kits", Nav: "brand-kits", Data: d}
	switch q := r.URL.Query(); {
	case q.Get("saved") != "":
		pgd.Flash = &flash{Kind: "success", Title: "Saved " + q.Get("saved"), Message: "Exports that pick this kit get its watermark and clips; exports already made keep theirs."}
	case q.Get("deleted") != "":
		pgd.Flash = &flash{Kind: "success", Title: "Deleted " + q.Get("deleted"), Message: "Exports already made keep their watermark."}
	}
	h.render(w, r, http.StatusOK, "brandkits", pgd)
	return nil
}

// percent is f (0 meaning def) in whole percent.
func percent(f, def float64) int {
	if f == 0 {
		f = def
	}
	return int(f*100 + 0.5)
}

// maxKitForm bounds the kit form: the watermark image and the fields.
const maxKitForm = outpost.MaxWatermarkBytes + 1<<20

// kitForm reads the kit form: its settings, and the watermark image when
// one was chosen (nil otherwise).
func kitForm(w http.ResponseWriter, r *http.Request) (outpost.BrandKitChange, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxKitForm)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return outpost.BrandKitChange{}, nil, errcode.New(errcode.PayloadTooLarge, "the watermark is larger than %d MiB", outpost.MaxWatermarkBytes>>20)
		}
		return outpost.BrandKitChange{}, nil, errcode.New(errcode.InvalidOption, "the form could not be read: reload the page and try again")
	}
	text := func(name string) *string {
		v := strings.TrimSpace(r.PostFormValue(name))
		return &v
	}
	var c outpost.BrandKitChange
	c.Name, c.Client, c.Position = text("name"), text("client"), text("position")
	c.IntroProjectID, c.OutroProjectID = text("intro_project_id"), text("outro_project_id")
	if s := text("slug"); *s != "" {
		c.Slug = s
	}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"opacity", &c.Opacity}, {"width", &c.Width}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 1 || n > 100 {
			return c, nil, errcode.New(errcode.InvalidOption, "%s %q: give a percentage from 1 to 100", f.name, v)
		}
		n /= 100
		*f.dst = &n
	}
	file, _, err := r.FormFile("watermark")
	if errors.Is(err, http.ErrMissingFile) {
		return c, nil, nil
	}
	if err != nil {
		return c, nil, errcode.New(errcode.InvalidOption, "the watermark could not be read: choose the file again")
	}
	defer file.Close()
	img, err := io.ReadAll(file)
	if err != nil {
		return c, nil, errcode.New(errcode.InvalidOption, "the watermark could not be read: choose the file again")
	}
	if len(img) == 0 {
		return c, nil, nil
	}
	return c, img, nil
}

func (h *Handler) createBrandKit(w http.ResponseWriter, r *http.Request) error {
	c, img, err := kitForm(w, r)
	if err != nil {
		return err
	}
	if c.Slug == nil {
		s := outpost.Slug(*c.Name, 63)
		c.Slug = &s
	}
	k, err := h.svc.BrandKits.Create(r.Context(), workspaceOf(r), c, img)
	if err != nil {
		return err
	}
	return h.afterKit(w, r, "saved", k.Name)
}

func (h *Handler) updateBrandKit(w http.ResponseWriter, r *http.Request) error {
	c, img, err := kitForm(w, r)
	if err != nil {
		return err
	}
	ctx, ws, ref := r.Context(), workspaceOf(r), r.PathValue("id")
	k, err := h.svc.BrandKits.Update(ctx, ws, ref, c)
	if err != nil {
		return err
	}
	if img != nil {
		if k, err = h.svc.BrandKits.SetWatermark(ctx, ws, k.ID, img); err != nil {
			return err
		}
	}
	return h.afterKit(w, r, "saved", k.Name)
}

func (h *Handler) deleteBrandKit(w http.ResponseWriter, r *http.Request) error {
	ctx, ws := r.Context(), workspaceOf(r)
	k, err := h.svc.BrandKits.Get(ctx, ws, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.svc.BrandKits.Delete(ctx, ws, k.ID); err != nil {
		return err
	}
	return h.afterKit(w, r, "deleted", k.Name)
}

func (h *Handler) afterKit(w http.ResponseWriter, r *http.Request, what, name string) error {
	to := "/brand-kits?" + what + "=" + url.QueryEscape(name)
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusOK, map[string]string{"url": to})
		return nil
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
