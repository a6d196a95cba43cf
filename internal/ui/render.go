package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"outpost/internal/authz"
	"outpost/internal/errcode"
	"outpost/internal/outpost"
	"outpost/internal/preset"
)

// page is what every template gets.
type page struct {
	Title string
	// Nav is the menu entry to mark as current.
	Nav   string
	User  *outpost.User
	Flash *flash
	// FlashInPage: the page shows Flash itself (in its card), not the
	// layout above it.
	FlashInPage bool
	Data        any
	// Workspaces are the signed-in user's workspaces, for the header's
	// switcher.
	Workspaces []outpost.Workspace
}

// flash is a message at the top of a page or in a panel: what happened
// and what to do; an error's code goes in a details line.
type flash struct {
	Kind    string       `json:"kind"` // "error", "info", "success"
	Title   string       `json:"title,omitempty"`
	Message string       `json:"message"`
	Remedy  string       `json:"remedy,omitempty"`
	Code    errcode.Code `json:"code,omitempty"`
}

// explained is the flash of an explained failure.
func explained(x outpost.Explanation) *flash {
	return &flash{Kind: "error", Title: x.Title, Message: x.Message, Remedy: x.Remedy, Code: x.Code}
}

var funcs = template.FuncMap{
	"icon":      icon,
	"bytes":     humanBytes,
	"clock":     clock,
	"when":      when,
	"clock24":   func(t time.Time) string { return t.Local().Format("15:04") },
	"status":    exportStatus,
	"rstatus":   renditionStatus,
	"platform":  platformLabel,
	"lower":     strings.ToLower,
	"join":      strings.Join,
	"add":       func(a, b int) int { return a + b },
	"pct":       func(f float64) string { return fmt.Sprintf("%.0f", math.Floor(f)) },
	"hasPrefix": strings.HasPrefix,
	"kitFields": func(d brandKitsData, k kitView) kitFieldsData {
		return kitFieldsData{Kit: k, Positions: d.Positions, Clips: d.Clips}
	},
	"postFields": func(p outpost.Platform) []postField { return postFields(p, outpost.PostFields{}) },
	"scopes":     scopeList,
	"allows":     func(r outpost.Role, a string) bool { return authz.RoleAllows(r, authz.Action(a)) },
	"gib":        func(n int64) int64 { return n >> 30 },
	"fields": func(d presetsData, name, base string, s *outpost.PresetSettings) presetFieldsData {
		f := presetFieldsData{D: d, Name: name, Base: base}
		if s != nil {
			f.PresetSettings = *s
		}
		return f
	},
	"kitListed": func(kits []outpost.BrandKit, ref string) bool {
		return slices.ContainsFunc(kits, func(k outpost.BrandKit) bool { return k.Slug == ref || k.ID == ref })
	},
}

// kitFieldsData fills the brand kit form's fields.
type kitFieldsData struct {
	Kit       kitView
	Positions []choice
	Clips     []outpost.Project
}

// presetFieldsData fills the preset form's fields.
type presetFieldsData struct {
	D          presetsData
	Name, Base string
	outpost.PresetSettings
}

// parsePages parses each page of templates/pages with the layout and the
// partials.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse templates: %w", err)
	}
	names, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list pages: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("ui: clone templates: %w", err)
		}
		if t, err = t.ParseFS(assets, n); err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}

// render writes a page. Templates run into a buffer first, so a template
// error becomes a clean error page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	h.renderTemplate(w, r, status, name, "layout", p)
}

// renderTemplate executes one named template of a page (the layout, or a
// fragment the page defines for partial updates).
func (h *Handler) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, p page) {
	if v := viewerOf(r); v != nil && p.User == nil {
		p.User = &v.User
	}
	if p.User != nil && tmpl == "layout" && p.Workspaces == nil {
		p.Workspaces = h.switchable(r)
	}
	t, ok := h.pages[name]
	if !ok {
		h.logger.ErrorContext(r.Context(), "ui: no such page", "page", name)
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		h.logger.ErrorContext(r.Context(), "ui: render page", "page", name, "error", err)
		if name != "error" {
			h.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
				"This page could not be shown.", "Retry, and report it with the server log if it persists.")
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, title, msg, remedy string) {
	f := &flash{Kind: "error", Title: title, Message: msg, Remedy: remedy, Code: codeForStatus(status)}
	if wantsJSON(r) {
		h.writeJSONError(w, status, f)
		return
	}
	h.render(w, r, status, "error", page{Title: title, FlashInPage: true, Flash: f})
}

func codeForStatus(status int) errcode.Code {
	switch status {
	case http.StatusNotFound:
		return errcode.NotFound
	case http.StatusUnauthorized:
		return errcode.Unauthorized
	case http.StatusForbidden:
		return errcode.Unauthorized
	case http.StatusConflict:
		return errcode.Conflict
	}
	return errcode.Internal
}

// wantsJSON reports whether the request came from the page's scripts,
// which read errors as JSON.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		r.Header.Get("X-Requested-With") != ""
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		h.logger.Error("ui: encode json", "error", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encode response"}}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonError is the body of a failed request made by the page's scripts:
// the flash the page shows (title, message, remedy, code).
type jsonError struct {
	Error *flash `json:"error"`
	// Field names the form field to fix, when the failure is about one.
	Field string `json:"field,omitempty"`
}

func (h *Handler) writeJSONError(w http.ResponseWriter, status int, f *flash) {
	h.writeJSON(w, status, jsonError{Error: f})
}

// fail shows err plainly: what happened and what to do, as JSON for
// scripts and as a page otherwise. Unexpected errors are logged and shown
// without their details.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, f := h.describe(r, err)
	if wantsJSON(r) {
		je := jsonError{Error: f}
		var fe fieldError
		if errors.As(err, &fe) {
			je.Field = fe.field
		}
		h.writeJSON(w, status, je)
		return
	}
	h.render(w, r, status, "error", page{Title: f.Title, FlashInPage: true, Flash: f})
}

// describe maps an error to its HTTP status (errcode.Status, as the API
// does) and its plain-words explanation (outpost.Explain).
func (h *Handler) describe(r *http.Request, err error) (int, *flash) {
	var coded *errcode.Error
	if !errors.As(err, &coded) {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			coded = errcode.New(errcode.PayloadTooLarge, "the request is larger than %d bytes", tooLarge.Limit)
		case r.Context().Err() != nil:
			return http.StatusServiceUnavailable, explained(outpost.Explain(errcode.Canceled, "The request was canceled."))
		default:
			h.logger.ErrorContext(r.Context(), "ui request failed", "path", r.URL.Path, "error", err)
			return http.StatusInternalServerError, explained(outpost.Explain(errcode.Internal, ""))
		}
	}
	status := errcode.Status(coded.Code)
	if status >= 500 {
		h.logger.ErrorContext(r.Context(), "ui request failed", "path", r.URL.Path, "error", err)
	}
	if coded.Message == "" && coded.Err != nil && status < 500 {
		c := *coded
		c.Message = coded.Err.Error()
		coded = &c
	}
	return status, explained(outpost.ExplainError(coded))
}

// humanBytes formats a size with decimal units, as platforms state their
// limits ("4 GB").
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			if f < 10 && f != math.Trunc(f) {
				return fmt.Sprintf("%.1f %s", f, u)
			}
			return fmt.Sprintf("%.0f %s", f, u)
		}
	}
	return fmt.Sprintf("%.0f PB", f/unit)
}

// clock formats seconds as m:ss or h:mm:ss.
func clock(sec float64) string {
	return preset.Clock(sec)
}

// when formats a time for lists, in the server's zone.
func when(t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return ""
		}
		tt = *v
	default:
		return ""
	}
	if tt.IsZero() {
		return ""
	}
	return tt.Local().Format("2 Jan 2006, 15:04")
}

// statusView is a status shown as an icon and a word, never colour alone.
// Every status the pages show is mapped here, and only here: the live
// views are these server-rendered chips too.
type statusView struct {
	Icon  string
	Text  string
	Class string
}

// The statuses' views, by status.
var (
	exportStatuses = map[outpost.ExportStatus]statusView{
		outpost.ExportQueued:          {"clock", "Queued", "queued"},
		outpost.ExportRunning:         {"spinner", "Running", "running"},
		outpost.ExportSucceeded:       {"check", "Done", "ok"},
		outpost.ExportPartiallyFailed: {"warn", "Partly failed", "warn"},
		outpost.ExportFailed:          {"x", "Failed", "bad"},
		outpost.ExportCanceled:        {"slash", "Canceled", "muted"},
	}
	renditionStatuses = map[outpost.RenditionStatus]statusView{
		outpost.RenditionPending:   {"clock", "Waiting", "queued"},
		outpost.RenditionRunning:   {"spinner", "Rendering", "running"},
		outpost.RenditionSucceeded: {"check", "Ready", "ok"},
		outpost.RenditionFailed:    {"x", "Failed", "bad"},
		outpost.RenditionCanceled:  {"slash", "Canceled", "muted"},
	}
	// outcomeStatuses are the export chips: an export's overall state
	// with its posts (outpost.Outcome, whose Label is the word).
	outcomeStatuses = map[outpost.OutcomeState]statusView{
		outpost.OutcomeQueued:    {"clock", "", "queued"},
		outpost.OutcomeRendering: {"spinner", "", "running"},
		outpost.OutcomePosting:   {"spinner", "", "running"},
		outpost.OutcomeReady:     {"check", "", "ok"},
		outpost.OutcomeAttention: {"warn", "", "warn"},
		outpost.OutcomeFailed:    {"x", "", "bad"},
		outpost.OutcomeCanceled:  {"slash", "", "muted"},
	}
	pubStatuses = map[outpost.PublicationState]statusView{
		outpost.PublicationPending:    {"clock", "Waiting", "queued"},
		outpost.PublicationScheduled:  {"clock", "Scheduled", "queued"},
		outpost.PublicationUploading:  {"spinner", "Uploading", "running"},
		outpost.PublicationProcessing: {"spinner", "Processing on the platform", "running"},
		outpost.PublicationPublished:  {"check", "Published", "ok"},
		outpost.PublicationFailed:     {"x", "Failed", "bad"},
		outpost.PublicationCanceled:   {"slash", "Canceled", "muted"},
	}
)

// statusOf is the view of status s in table m; a status the table lacks
// shows as itself, waiting.
func statusOf[S ~string](m map[S]statusView, s S) statusView {
	if v, ok := m[s]; ok {
		return v
	}
	return statusView{"clock", string(s), "queued"}
}

func exportStatus(s outpost.ExportStatus) statusView { return statusOf(exportStatuses, s) }

// outcomeStatus is an export's chip: its overall state's icon and colour
// with the outcome's label.
func outcomeStatus(o outpost.Outcome) statusView {
	v := statusOf(outcomeStatuses, o.State)
	v.Text = o.Label
	return v
}
func renditionStatus(s outpost.RenditionStatus) statusView { return statusOf(renditionStatuses, s) }
func pubStatus(s outpost.PublicationState) statusView      { return statusOf(pubStatuses, s) }

func deliveryStatus(s outpost.DeliveryStatus) statusView {
	switch s {
	case outpost.DeliverySucceeded:
		return statusView{"check", "Delivered", "ok"}
	case outpost.DeliveryFailed:
		return statusView{"x", "Gave up", "bad"}
	}
	return statusView{"clock", "Retrying", "queued"}
}
