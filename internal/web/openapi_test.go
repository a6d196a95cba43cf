package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestServer_openAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(request{method: "GET", path: "/api/v1/openapi.json"})
	want(t, r, http.StatusOK)
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	r.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	// Every /api/v1 route the mux serves is in the document: ask the mux
	// itself for each documented and each table pattern, so a route added
	// outside the table (or a table entry that is not mounted) fails here.
	n := 0
	for _, rt := range e.srv.routes {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue
		}
		n++
		req, _ := http.NewRequest(rt.Method, strings.NewReplacer("{id}", "x").Replace(rt.Path), nil)
		if _, pattern := e.srv.mux.Handler(req); pattern != rt.pattern() {
			t.Errorf("%s is not mounted (mux gives %q)", rt.pattern(), pattern)
		}
		op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s missing from the OpenAPI document", rt.pattern())
			continue
		}
		if op["summary"] == "" || op["responses"] == nil {
			t.Errorf("%s: incomplete operation %v", rt.pattern(), op)
		}
	}
	documented := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			documented++
			req, _ := http.NewRequest(strings.ToUpper(method), strings.NewReplacer("{id}", "x").Replace(path), nil)
			if _, pattern := e.srv.mux.Handler(req); pattern == "" {
				t.Errorf("documented %s %s is not served", method, path)
			}
		}
	}
	if n < 17 || documented != n+2 { // + /healthz, /connect/{platform}
		t.Errorf("%d API routes, %d documented", n, documented)
	}
	// History's filters are documented.
	var names []string
	for _, p := range doc.Paths["/api/v1/exports"]["get"]["parameters"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	for _, f := range []string{"created_after", "created_before", "platform", "status", "cursor"} {
		if !slices.Contains(names, f) {
			t.Errorf("GET /api/v1/exports: parameter %s not documented (have %v)", f, names)
		}
	}
	// Schemas come from the types: spot checks.
	exp := doc.Components.Schemas["ExportDetail"]
	props, _ := exp["properties"].(map[string]any)
	for _, f := range []string{"id", "status", "progress", "labels", "renditions", "error", "started_at"} {
		if props[f] == nil {
			t.Errorf("ExportDetail lacks %s: %v", f, props)
		}
	}
	// Warnings about files made all the same, and targets refused at
	// acceptance, on the export and its renditions.
	for _, f := range []struct{ schema, prop string }{{"ExportDetail", "warnings"}, {"ExportDetail", "refused"},
		{"Rendition", "warnings"}, {"Warning", "ranges"}, {"RefusedTarget", "rule"}} {
		props, _ := doc.Components.Schemas[f.schema]["properties"].(map[string]any)
		if props[f.prop] == nil {
			t.Errorf("%s lacks %s: %v", f.schema, f.prop, props)
		}
	}
	if !bytes.Contains(r.body, []byte(`"partially_failed"`)) || !bytes.Contains(r.body, []byte(`"idempotency_key_reused"`)) {
		t.Error("enums missing")
	}
	// The post fields come from the platforms' descriptors.
	dest, _ := doc.Components.Schemas["Destination"]["description"].(string)
	if !strings.Contains(dest, "TikTok (`tiktok`): `caption` (at most 2200 (utf16)), `privacy` (required, public|friends|followers|private)") {
		t.Errorf("Destination description: %s", dest)
	}
	if !bytes.Contains(r.body, []byte(`"textarea"`)) || !bytes.Contains(r.body, []byte(`"utf16"`)) {
		t.Error("field kind and count enums missing")
	}
	for name, s := range doc.Components.Schemas {
		if s["type"] == nil {
			t.Errorf("schema %s has no type", name)
		}
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
}
