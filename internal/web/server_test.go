package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/service"
)

func TestServer_auth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	revoked, revokedKey, err := e.store.CreateAPIKey(ctx, e.ws.ID, "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeAPIKey(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"not bearer", "Basic " + e.key},
		{"empty bearer", "Bearer "},
		{"unknown key", "Bearer opk_nope"},
		{"revoked key", "Bearer " + revokedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.header != "" {
				h["Authorization"] = tc.header
			}
			r := e.do(request{method: "GET", path: "/api/v1/projects", header: h})
			wantError(t, r, http.StatusUnauthorized, "unauthorized")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
	// A key in the URL is not a way in.
	r := e.do(request{method: "GET", path: "/api/v1/exports/exp_x/events?access_token=" + e.key})
	wantError(t, r, http.StatusUnauthorized, "unauthorized")

	want(t, e.get("/api/v1/projects"), http.StatusOK)
	keys, err := e.store.ListAPIKeys(ctx, e.ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	var first time.Time
	for _, k := range keys {
		if k.Name == "test" {
			if k.LastUsedAt == nil {
				t.Fatal("last_used_at not recorded")
			}
			first = *k.LastUsedAt
		}
	}
	want(t, e.get("/api/v1/projects"), http.StatusOK)
	keys, _ = e.store.ListAPIKeys(ctx, e.ws.ID)
	for _, k := range keys {
		if k.Name == "test" && !k.LastUsedAt.Equal(first) {
			t.Errorf("last_used_at written again within a minute: %v then %v", first, *k.LastUsedAt)
		}
	}
}

func TestServer_errorEnvelope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantError(t, e.get("/api/v1/nope"), http.StatusNotFound, "not_found")
	wantError(t, e.do(request{method: "GET", path: "/nope"}), http.StatusNotFound, "not_found")
	r := e.do(request{method: "DELETE", path: "/api/v1/exports", key: e.key})
	wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	wantError(t, e.get("/api/v1/exports/exp_missing"), http.StatusNotFound, "not_found")
	wantError(t, e.get("/api/v1/projects/prj_missing"), http.StatusNotFound, "not_found")

	// Bodies.
	wantError(t, e.post("/api/v1/presets", map[string]any{"name": "x", "base_preset_id": "tiktok", "colour": "red"}),
		http.StatusBadRequest, "invalid_option")
	wantError(t, e.post("/api/v1/presets", map[string]any{"name": 5}), http.StatusBadRequest, "invalid_option")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/presets", key: e.key, body: strings.NewReader(`{"name":`),
		header: map[string]string{"Content-Type": "application/json"}}), http.StatusBadRequest, "invalid_json")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/presets", key: e.key, body: strings.NewReader(`{} {}`),
		header: map[string]string{"Content-Type": "application/json"}}), http.StatusBadRequest, "invalid_json")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/presets", key: e.key, body: strings.NewReader(`name=x`),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}), http.StatusUnsupportedMediaType, "unsupported_media_type")
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	wantError(t, e.do(request{method: "POST", path: "/api/v1/presets", key: e.key, body: strings.NewReader(big),
		header: map[string]string{"Content-Type": "application/json"}}), http.StatusRequestEntityTooLarge, "payload_too_large")
	wantError(t, e.get("/api/v1/projects?limit=0"), http.StatusBadRequest, "invalid_option")
	wantError(t, e.get("/api/v1/exports?status=done"), http.StatusBadRequest, "invalid_option")

	// Every response carries the security headers and a request id.
	r = e.get("/api/v1/projects")
	for h, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := r.header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
}

func TestServer_recoverPanics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.srv.logRequests(e.srv.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
	r := resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	wantError(t, r, http.StatusInternalServerError, "internal")
	if bytes.Contains(r.body, []byte("boom")) {
		t.Errorf("panic value leaked to the client: %s", r.body)
	}
}

func TestHTTPError(t *testing.T) {
	t.Parallel()
	// Every code keeps the status of the one table (errcode.Status, which
	// TestStatus checks for completeness).
	for c := range errcode.Remedies {
		if st := httpError(errcode.New(c, "x")).status; st != errcode.Status(c) {
			t.Errorf("code %s maps to %d, the table says %d", c, st, errcode.Status(c))
		}
	}
	if he := httpError(errors.New("secret detail")); he.status != 500 || strings.Contains(he.message, "secret") {
		t.Errorf("plain error: %+v", he)
	}
}

func TestServer_healthz(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	e := newEnv(t, func(e *env, d *Deps, so *service.Options) {
		d.Ready = func(ctx context.Context) error {
			if fail.Load() {
				return errcode.New(errcode.DBUnavailable, "database is down")
			}
			return nil
		}
	})
	r := e.do(request{method: "GET", path: "/healthz"})
	want(t, r, http.StatusOK)
	if string(r.body) != `{"status":"ok"}`+"\n" {
		t.Errorf("body %s", r.body)
	}
	fail.Store(true)
	r = e.do(request{method: "GET", path: "/healthz"})
	want(t, r, http.StatusServiceUnavailable)
	var h healthJSON
	r.json(t, &h)
	if h.Status != "unavailable" || h.Error == nil || h.Error.Code != errcode.DBUnavailable {
		t.Errorf("body %s", r.body)
	}
}

func TestServer_metrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want(t, e.get("/api/v1/projects"), http.StatusOK)
	want(t, e.get("/api/v1/projects/prj_nope"), http.StatusNotFound)
	want(t, e.get("/api/v1/nowhere"), http.StatusNotFound)
	r := e.do(request{method: "GET", path: "/metrics"})
	want(t, r, http.StatusOK)
	for _, s := range []string{
		`outpost_http_requests_total{method="GET",route="GET /api/v1/projects",status="200"} 1`,
		`outpost_http_requests_total{method="GET",route="GET /api/v1/projects/{id}",status="404"} 1`,
		`outpost_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`outpost_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/projects",le="+Inf"} 1`,
		"go_goroutines ",
	} {
		if !bytes.Contains(r.body, []byte(s)) {
			t.Errorf("metrics lack %s", s)
		}
	}
	// A second server on the same registry reuses the collectors.
	if _, err := New(Deps{Config: e.cfg, Services: e.svc, Metrics: e.reg}); err != nil {
		t.Errorf("second New on one registry: %v", err)
	}
}
