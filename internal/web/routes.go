package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
)

// route is one entry of the route table: how to serve it, and what the
// OpenAPI document says about it.
type route struct {
	Method  string // "" matches every method (Raw handlers that check it themselves)
	Path    string // ServeMux path, with {name} wildcards
	Summary string
	Tag     string
	// Public routes need no API key.
	Public bool
	// Handler serves an API route; Raw serves a non-API one as is (and
	// keeps it out of the OpenAPI document).
	Handler handlerFunc
	Raw     http.Handler
	// Idempotent routes honour the Idempotency-Key header.
	Idempotent bool
	// Burst routes take what many clients send at once (accepting
	// exports): their requests are served in arrival order, at most
	// Deps.AcceptConcurrency at a time, before any other work (the API
	// key's check included). Under a burst each then waits its turn here
	// rather than a random turn at the database's connections.
	Burst bool
	// MaxBody caps the request body; 0 means maxJSONBody, -1 no cap (the
	// handler sets its own).
	MaxBody int64

	// For the OpenAPI document.
	Query    []param
	Request  any   // JSON body type
	Form     any   // multipart/form-data body type
	Status   int   // success status
	Response any   // JSON response type; nil for none
	Events   []any // SSE: the types of the events' data
}

// param is a query parameter.
type param struct {
	Name, Type, Description string
}

// checkQuery refuses a query parameter the route does not take (a typo in
// a filter must not silently list everything), naming it.
func checkQuery(r *http.Request, ps []param) error {
	var unknown []string
	for name := range r.URL.Query() {
		if !slices.ContainsFunc(ps, func(p param) bool { return p.Name == name }) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	takes := "no query parameters"
	if len(ps) > 0 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		takes = strings.Join(names, ", ")
	}
	return &errcode.Error{Code: errcode.InvalidOption,
		Message: fmt.Sprintf("unknown query parameter %q (this route takes %s)", unknown[0], takes),
		Remedy:  "Remove the parameter or correct its name; GET /api/v1/openapi.json lists each route's parameters."}
}

func (rt route) pattern() string {
	if rt.Method == "" {
		return rt.Path
	}
	return rt.Method + " " + rt.Path
}

var pageParams = []param{
	{"cursor", "string", "next_cursor of the previous page"},
	{"limit", "integer", "page size, 1 to 500 (default 50)"},
}

// routeTable lists every route the server has. New registers them on the
// mux and the OpenAPI document is built from them, so the two cannot drift.
func (s *Server) routeTable(metrics prometheus.Gatherer) []route {
	upload := s.cfg.MaxUploadBytes + 1<<20 // the file plus the form's other fields
	return append([]route{
		{Method: "GET", Path: "/healthz", Tag: "system", Public: true, Summary: "Report whether the service can take work",
			Handler: s.healthz, Status: 200, Response: healthJSON{}},
		{Method: "GET", Path: "/metrics", Public: true,
			Raw: promhttp.HandlerFor(metrics, promhttp.HandlerOpts{})},
		{Path: "/dl/", Public: true, Raw: s.trackDownloads(s.downloads)},
		{Method: "GET", Path: "/api/v1/openapi.json", Tag: "system", Public: true, Summary: "This API's OpenAPI 3.1 document",
			Handler: s.openAPIDocument, Status: 200, Response: map[string]any{}},

		{Method: "POST", Path: "/api/v1/projects", Tag: "projects", Summary: "Create a project from an uploaded file, a URL or a timeline of other projects' clips",
			Handler: s.createProject, Idempotent: true, MaxBody: upload,
			Form: projectUploadForm{}, Request: projectURLRequest{}, Status: 201, Response: outpost.Project{}},
		{Method: "GET", Path: "/api/v1/projects", Tag: "projects", Summary: "List projects, newest first",
			Handler: s.listProjects, Query: append([]param{{"q", "string", "search in name, client and campaign"}}, pageParams...),
			Status: 200, Response: page[outpost.Project]{}},
		{Method: "GET", Path: "/api/v1/projects/{id}", Tag: "projects", Summary: "Get a project",
			Handler: s.getProject, Status: 200, Response: outpost.Project{}},

		{Method: "GET", Path: "/api/v1/presets", Tag: "presets", Summary: "List built-in and user presets",
			Handler: s.listPresets, Status: 200, Response: page[outpost.Preset]{}},
		{Method: "POST", Path: "/api/v1/presets", Tag: "presets", Summary: "Create a user preset on a built-in",
			Handler: s.createPreset, Idempotent: true, Request: presetCreateRequest{}, Status: 201, Response: outpost.Preset{}},
		{Method: "GET", Path: "/api/v1/presets/{id}", Tag: "presets", Summary: "Get a built-in or user preset",
			Handler: s.getPreset, Status: 200, Response: outpost.Preset{}},
		{Method: "PATCH", Path: "/api/v1/presets/{id}", Tag: "presets", Summary: "Change a user preset",
			Handler: s.updatePreset, Request: presetPatchRequest{}, Status: 200, Response: outpost.Preset{}},
		{Method: "DELETE", Path: "/api/v1/presets/{id}", Tag: "presets", Summary: "Delete a user preset",
			Handler: s.deletePreset, Status: 204},

		{Method: "POST", Path: "/api/v1/exports", Tag: "exports", Summary: "Start an export of a project to one or more targets (with variants: one export per variant, grouped)",
			Handler: s.createExport, Idempotent: true, Burst: true, Request: exportCreateRequest{}, Status: 202, Response: outpost.ExportDetail{}},
		{Method: "POST", Path: "/api/v1/exports/batch", Tag: "exports", Summary: "Start many exports: a result per item (202 when all were accepted, else 207)",
			Handler: s.createExportBatch, Burst: true, Request: exportBatchRequest{}, Status: 202, Response: batchResultJSON{}},
		{Method: "POST", Path: "/api/v1/estimate", Tag: "exports", Summary: "Estimate each target's file size for an export's settings (a short sample encode)",
			Handler: s.estimate, Request: estimateRequest{}, Status: 200, Response: estimateJSON{}},
		{Method: "POST", Path: "/api/v1/previews", Tag: "exports", Summary: "Render a fast low-resolution preview of one target's settings: a link to a playable MP4",
			Handler: s.preview, Request: previewRequest{}, Status: 201, Response: outpost.Preview{}},
		{Method: "GET", Path: "/api/v1/exports", Tag: "exports", Summary: "Export history: search and filter, newest first",
			Handler: s.trackHistoryView(s.listExports), Query: append([]param{
				{"group_id", "string", "the exports of one variants request"},
				{"status", "string", "comma-separated statuses: queued, running, succeeded, partially_failed, failed, canceled"},
				{"client", "string", "exact client label"},
				{"campaign", "string", "exact campaign label"},
				{"project_id", "string", "exports of this project"},
				{"preset", "string", "comma-separated preset ids: exports with any of these targets"},
				{"q", "string", "search in project name, labels and presets; an export id matches exactly"},
				{"platform", "string", "exports with a target for the platform (its presets, and user presets based on them) or a post to it: youtube, facebook, instagram, linkedin, tiktok"},
				{"created_after", "string", "exports created at or after this time (RFC 3339, e.g. 2025-06-01T00:00:00Z)"},
				{"created_before", "string", "exports created before this time (RFC 3339)"},
			}, pageParams...),
			Status: 200, Response: page[outpost.Export]{}},
		{Method: "GET", Path: "/api/v1/exports/{id}", Tag: "exports", Summary: "Get an export with its renditions and download links",
			Handler: s.getExport, Status: 200, Response: outpost.ExportDetail{}},
		{Method: "POST", Path: "/api/v1/exports/{id}/cancel", Tag: "exports", Summary: "Cancel an export",
			Handler: s.cancelExport, Idempotent: true, Status: 200, Response: outpost.ExportDetail{}},
		{Method: "POST", Path: "/api/v1/exports/{id}/retry", Tag: "exports", Summary: "Retry a failed or canceled export",
			Handler: s.retryExport, Idempotent: true, Status: 202, Response: outpost.ExportDetail{}},
		{Method: "GET", Path: "/api/v1/exports/{id}/events", Tag: "exports", Summary: "Live progress as server-sent events (progress, rendition, publication, done)",
			Handler: s.exportEvents, Query: []param{{"last_event_id", "integer", "resume after this event id (the Last-Event-ID header wins)"}},
			Status: 200, Events: []any{events.Progress{}, events.Rendition{}, events.Publication{}, events.Done{}}},

		{Method: "POST", Path: "/api/v1/brand-kits", Tag: "brand-kits", Summary: "Create a brand kit (JSON, or multipart/form-data with a PNG or SVG \"watermark\")",
			Handler: s.createBrandKit, Idempotent: true, MaxBody: maxWatermarkBytes + 1<<20,
			Form: brandKitForm{}, Request: brandKitRequest{}, Status: 201, Response: outpost.BrandKit{}},
		{Method: "GET", Path: "/api/v1/brand-kits", Tag: "brand-kits", Summary: "List the workspace's brand kits",
			Handler: s.listBrandKits, Status: 200, Response: page[outpost.BrandKit]{}},
		{Method: "GET", Path: "/api/v1/brand-kits/{id}", Tag: "brand-kits", Summary: "Get a brand kit by id or slug",
			Handler: s.getBrandKit, Status: 200, Response: outpost.BrandKit{}},
		{Method: "PATCH", Path: "/api/v1/brand-kits/{id}", Tag: "brand-kits", Summary: "Change a brand kit's settings",
			Handler: s.updateBrandKit, Request: brandKitRequest{}, Status: 200, Response: outpost.BrandKit{}},
		{Method: "PUT", Path: "/api/v1/brand-kits/{id}/watermark", Tag: "brand-kits", Summary: "Replace a brand kit's watermark image (PNG or SVG)",
			Handler: s.putWatermark, MaxBody: maxWatermarkBytes + 1<<20, Form: watermarkForm{}, Status: 200, Response: outpost.BrandKit{}},
		{Method: "DELETE", Path: "/api/v1/brand-kits/{id}", Tag: "brand-kits", Summary: "Delete a brand kit",
			Handler: s.deleteBrandKit, Status: 204},

		{Method: "POST", Path: "/api/v1/exports/{id}/publications", Tag: "publications", Summary: "Share a finished export to more connected accounts",
			Handler: s.addPublications, Idempotent: true, Request: publicationsCreateRequest{}, Status: 202, Response: publicationList{}},
		{Method: "GET", Path: "/api/v1/publications/{id}", Tag: "publications", Summary: "Get a publication",
			Handler: s.getPublication, Status: 200, Response: outpost.Publication{}},
		{Method: "PATCH", Path: "/api/v1/publications/{id}", Tag: "publications", Summary: "Reschedule a pending or scheduled publication (schedule_at null: now)",
			Handler: s.patchPublication, Request: publicationPatchRequest{}, Status: 200, Response: outpost.Publication{}},
		{Method: "POST", Path: "/api/v1/publications/{id}/cancel", Tag: "publications", Summary: "Cancel a pending or scheduled publication",
			Handler: s.cancelPublication, Idempotent: true, Status: 200, Response: outpost.Publication{}},
		{Method: "POST", Path: "/api/v1/publications/{id}/retry", Tag: "publications", Summary: "Retry a failed publication as it was (the upload resumes; never a second post)",
			Handler: s.retryPublication, Idempotent: true, Status: 200, Response: outpost.Publication{}},

		{Method: "GET", Path: "/api/v1/platforms", Tag: "connections", Summary: "The publishing platforms: each one's post fields (kind, limit and how it is counted, choices, default), scheduling, presets, and whether it can be connected here",
			Handler: s.listPlatforms, Status: 200, Response: platformList{}},
		{Method: "GET", Path: "/api/v1/connections", Tag: "connections", Summary: "Connected accounts, and which platforms can be connected",
			Handler: s.listConnections, Status: 200, Response: outpost.ConnectionList{}},
		{Method: "GET", Path: "/api/v1/connections/{id}", Tag: "connections", Summary: "Get a connected account",
			Handler: s.getConnection, Status: 200, Response: outpost.Connection{}},
		{Method: "DELETE", Path: "/api/v1/connections/{id}", Tag: "connections", Summary: "Disconnect an account (its pending publications are canceled)",
			Handler: s.deleteConnection, Status: 204},
		{Method: "POST", Path: "/api/v1/connections/{platform}/authorize", Tag: "connections", Summary: "Start connecting an account: the URL to open in a browser",
			Handler: s.authorizeConnection, Request: authorizeRequest{}, Status: 200, Response: outpost.Authorization{}},
		{Method: "GET", Path: "/connect/{platform}", Tag: "connections", Public: true, Summary: "Start connecting an account in a browser (API key or signed-in session): redirects to the platform",
			Handler: s.connectStart, Query: []param{{"return_to", "string", "local path to return to after the callback"}}, Status: 302},
		{Method: "GET", Path: "/oauth/{platform}/callback", Public: true, Raw: http.HandlerFunc(s.oauthCallback)},

		{Method: "POST", Path: "/api/v1/webhooks", Tag: "webhooks", Summary: "Add a webhook endpoint (the signing secret is shown once)",
			Handler: s.createWebhook, Idempotent: true, Request: webhookCreateRequest{}, Status: 201, Response: outpost.Webhook{}},
		{Method: "GET", Path: "/api/v1/webhooks", Tag: "webhooks", Summary: "List webhook endpoints",
			Handler: s.listWebhooks, Status: 200, Response: page[outpost.Webhook]{}},
		{Method: "GET", Path: "/api/v1/webhooks/{id}", Tag: "webhooks", Summary: "Get a webhook endpoint",
			Handler: s.getWebhook, Status: 200, Response: outpost.Webhook{}},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", Tag: "webhooks", Summary: "Delete a webhook endpoint and its delivery log",
			Handler: s.deleteWebhook, Status: 204},
		{Method: "GET", Path: "/api/v1/webhooks/{id}/deliveries", Tag: "webhooks", Summary: "An endpoint's delivery log, newest first",
			Handler: s.listDeliveries, Query: []param{{"limit", "integer", "how many, 1 to 500 (default 50)"}}, Status: 200, Response: page[outpost.Delivery]{}},
		{Method: "POST", Path: "/api/v1/webhook-deliveries/{id}/redeliver", Tag: "webhooks", Summary: "Send a delivery again",
			Handler: s.redeliver, Idempotent: true, Status: 202, Response: outpost.Delivery{}},

		{Method: "GET", Path: "/api/v1/renditions/{id}", Tag: "renditions", Summary: "Get a rendition with a fresh download link",
			Handler: s.getRendition, Status: 200, Response: outpost.Rendition{}},
		{Method: "PUT", Path: "/api/v1/renditions/{id}/thumbnail", Tag: "renditions", Summary: "Set a rendition's thumbnail from an uploaded JPEG or PNG (cropped to the video's aspect, long side 1280, JPEG ≤ 2 MiB)",
			Handler: s.putThumbnail, MaxBody: maxThumbnailBytes + 1<<20, Form: thumbnailForm{}, Status: 200, Response: outpost.Rendition{}},
		{Method: "POST", Path: "/api/v1/renditions/{id}/save", Tag: "renditions", Summary: "Keep a rendition's file past retention",
			Handler: s.saveRendition, Idempotent: true, Status: 200, Response: outpost.Rendition{}},

		s.statsRoute(),
	}, s.teamRoutes()...)
}

// pathParams returns the {name} wildcards of a pattern's path.
func pathParams(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "$"))
		}
	}
	return names
}
