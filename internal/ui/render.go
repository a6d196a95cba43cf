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
	"regexp"
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
// and what to do.
type flash struct {
	Kind    string `json:"kind"` // "error", "info", "success"
	Title   string `json:"title,omitempty"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

var funcs = template.FuncMap{
	"icon":      icon,
	"bytes":     humanBytes,
	"clock":     clock,
	"when":      when,
	"status":    exportStatus,
	"rstatus":   renditionStatus,
	"platform":  platformLabel,
	"lower":     strings.ToLower,
	"join":      strings.Join,
	"add":       func(a, b int) int { return a + b },
	"pct":       func(f float64) string { return fmt.Sprintf("%.0f", math.Floor(f)) },
	"hasPrefix": strings.HasPrefix,
	"scopes":    scopeList,
	"allows":    func(r outpost.Role, a string) bool { return authz.RoleAllows(r, authz.Action(a)) },
	"gib":       func(n int64) int64 { return n >> 30 },
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
	if wantsJSON(r) {
		h.writeJSONError(w, status, codeForStatus(status), msg, remedy)
		return
	}
	h.render(w, r, status, "error", page{Title: title, FlashInPage: true,
		Flash: &flash{Kind: "error", Title: title, Message: msg, Remedy: remedy}})
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

// jsonError is the body of a failed request made by the page's scripts.
type jsonError struct {
	Error struct {
		Code    errcode.Code `json:"code"`
		Title   string       `json:"title"`
		Message string       `json:"message"`
		Remedy  string       `json:"remedy"`
	} `json:"error"`
}

func (h *Handler) writeJSONError(w http.ResponseWriter, status int, code errcode.Code, msg, remedy string) {
	var e jsonError
	e.Error.Code, e.Error.Title, e.Error.Message, e.Error.Remedy = code, errorTitle(code), msg, remedy
	h.writeJSON(w, status, e)
}

// fail shows err plainly: what happened and what to do, as JSON for
// scripts and as a page otherwise. Unexpected errors are logged and shown
// without their details.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg, remedy := h.describe(r, err)
	if wantsJSON(r) {
		h.writeJSONError(w, status, code, msg, remedy)
		return
	}
	h.render(w, r, status, "error", page{Title: errorTitle(code), FlashInPage: true,
		Flash: &flash{Kind: "error", Title: errorTitle(code), Message: msg, Remedy: remedy}})
}

// describe maps an error to its HTTP status (errcode.Status, as the API
// does), code, message and remedy.
func (h *Handler) describe(r *http.Request, err error) (int, errcode.Code, string, string) {
	var coded *errcode.Error
	if !errors.As(err, &coded) {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			coded = errcode.New(errcode.PayloadTooLarge, "the request is larger than %d bytes", tooLarge.Limit)
		case r.Context().Err() != nil:
			return http.StatusServiceUnavailable, errcode.Canceled, "The request was canceled.", "Retry."
		default:
			h.logger.ErrorContext(r.Context(), "ui request failed", "path", r.URL.Path, "error", err)
			return http.StatusInternalServerError, errcode.Internal, "An unexpected error happened.",
				errcode.Remedies[errcode.Internal]
		}
	}
	status := errcode.Status(coded.Code)
	if status >= 500 {
		h.logger.ErrorContext(r.Context(), "ui request failed", "path", r.URL.Path, "error", err)
	}
	msg := plainMessage(coded.Message)
	if msg == "" && coded.Err != nil && status < 500 {
		msg = coded.Err.Error()
	}
	if msg == "" {
		msg = errorTitle(coded.Code) + "."
	}
	return status, coded.Code, msg, coded.RemedyText()
}

var targetPrefix = regexp.MustCompile(`targets\[\d+\] \(([^)]+)\): `)

// plainMessage turns an API-shaped message into one for people: a
// "targets[2] (tiktok): " prefix becomes "TikTok: ", and a leading
// rule name ("max_duration: ") goes.
func plainMessage(msg string) string {
	msg = targetPrefix.ReplaceAllStringFunc(msg, func(m string) string {
		sub := targetPrefix.FindStringSubmatch(m)
		name := sub[1]
		if p, err := preset.Lookup(name); err == nil {
			name = p.Name
		}
		return name + ": "
	})
	for _, rule := range []string{"max_duration: ", "min_duration: ", "max_size: ", "fps: "} {
		msg = strings.Replace(msg, ": "+rule, ": ", 1)
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// errorTitle is a short headline for a code.
func errorTitle(c errcode.Code) string {
	switch c {
	case errcode.PlatformRule:
		return "A format can't be made from this video"
	case errcode.PayloadTooLarge:
		return "File too large"
	case errcode.SourceNoVideo:
		return "No video in this file"
	case errcode.SourceDamaged:
		return "Made from a damaged source"
	case errcode.SourceUnreadable, errcode.SourceTruncated, errcode.SourceEmpty:
		return "This file can't be used"
	case errcode.URLNotAllowed, errcode.SourceFetchFailed:
		return "That link can't be imported"
	case errcode.UnknownPreset:
		return "Unknown format"
	case errcode.InvalidOption:
		return "Check the settings"
	case errcode.NotFound:
		return "Not found"
	case errcode.Conflict:
		return "That can't be done now"
	case errcode.Unauthorized:
		return "Please sign in"
	case errcode.Forbidden:
		return "Not allowed"
	case errcode.RateLimited:
		return "Too many attempts"
	case errcode.PlanLimit:
		return "Over the workspace's plan"
	case errcode.InviteInvalid:
		return "This invite can't be used"
	case errcode.LinkExpired, errcode.FileNotFound:
		return "The file has expired"
	case errcode.ConnectionExpired:
		return "Platform authentication expired"
	case errcode.ConnectionUnreadable:
		return "The account's sign-in can't be read on this server"
	case errcode.PublicationStuck:
		return "The post stopped moving"
	case errcode.PlatformNotConfigured:
		return "Publishing is not set up"
	case errcode.CaptionTooLong:
		return "Text too long for the platform"
	case errcode.PostInvalid:
		return "Check the post"
	case errcode.PlatformRejected:
		return "The platform refused the post"
	}
	return "Something went wrong"
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

func exportStatus(s outpost.ExportStatus) statusView       { return statusOf(exportStatuses, s) }
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
