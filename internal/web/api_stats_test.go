package web

import (
	"io"
	"net/http"
	"testing"
	"time"

	"outpost/internal/outpost"
	"outpost/internal/store"
)

func TestServer_stats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(d int) string { return today.AddDate(0, 0, d).Format(dateLayout) }

	// Events stored earlier: two days ago, yesterday just before midnight,
	// and one in another workspace, which must not count.
	for _, ev := range []store.Event{
		{WorkspaceID: e.ws.ID, Type: "test.older", CreatedAt: today.AddDate(0, 0, -2).Add(time.Hour)},
		{WorkspaceID: e.ws.ID, Type: "test.older", CreatedAt: today.AddDate(0, 0, -2).Add(2 * time.Hour)},
		{WorkspaceID: e.ws.ID, Type: "test.late", CreatedAt: today.Add(-time.Microsecond)},
		{WorkspaceID: e.other.ID, Type: "test.older", CreatedAt: today.AddDate(0, 0, -2).Add(time.Hour)},
	} {
		if _, err := e.store.InsertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}

	// Tracked over HTTP: two history views (the second page is not a new
	// view), and a download through a signed link (a later range request
	// of the same file is not a new download).
	p := e.readyProject(e.ws.ID, "Stats master")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}})
	want(t, e.get("/api/v1/exports"), http.StatusOK)
	want(t, e.get("/api/v1/exports?status=queued&client=Acme"), http.StatusOK)
	want(t, e.get("/api/v1/exports?cursor=x"), http.StatusBadRequest) // a bad request is no view
	e.finishRendition(d.Renditions[0].ID, "0123456789", time.Now().Add(time.Hour))
	var got outpost.ExportDetail
	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	r.json(t, &got)
	link := *got.Renditions[0].DownloadURL
	for _, rng := range []string{"", "bytes=5-"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			t.Fatalf("download %q: %d", rng, res.StatusCode)
		}
	}
	res, err := http.Get(link + "x") // a refused link is no download
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	r = e.get("/api/v1/stats?from=" + day(-2) + "&to=" + day(0))
	want(t, r, http.StatusOK)
	var st outpost.StatsReport
	r.json(t, &st)
	if st.From != day(-2) || st.To != day(0) || len(st.Days) != 3 {
		t.Fatalf("stats = %s", r.body)
	}
	for i, dd := range st.Days {
		if dd.Date != day(i-2) {
			t.Errorf("days[%d].date = %s, want %s", i, dd.Date, day(i-2))
		}
	}
	check := func(i int, typ string, n int64) {
		t.Helper()
		if got := st.Days[i].Counts[typ]; got != n {
			t.Errorf("%s %s = %d, want %d (%s)", st.Days[i].Date, typ, got, n, r.body)
		}
	}
	check(0, "test.older", 2)
	check(1, "test.late", 1)
	if len(st.Days[1].Counts) != 1 {
		t.Errorf("yesterday counts = %v", st.Days[1].Counts)
	}
	check(2, outpost.EventHistoryViewed, 2)
	check(2, outpost.EventRenditionDownloaded, 1)
	t.Logf("today: %v", st.Days[2].Counts)

	// The download event names the rendition and its export.
	evs, err := e.store.ListEvents(ctx, store.EventFilter{WorkspaceID: e.ws.ID, Type: outpost.EventRenditionDownloaded})
	if err != nil || len(evs.Events) != 1 || evs.Events[0].SubjectID != d.Renditions[0].ID {
		t.Errorf("download events = %+v, %v", evs.Events, err)
	}

	// The other workspace sees only its own.
	r = e.do(request{method: "GET", path: "/api/v1/stats?from=" + day(-2) + "&to=" + day(-2), key: e.okey})
	want(t, r, http.StatusOK)
	var other outpost.StatsReport
	r.json(t, &other)
	if len(other.Days) != 1 || len(other.Days[0].Counts) != 1 || other.Days[0].Counts["test.older"] != 1 {
		t.Errorf("other workspace stats = %s", r.body)
	}

	// Defaults: the last 30 days, today last.
	r = e.get("/api/v1/stats")
	want(t, r, http.StatusOK)
	r.json(t, &st)
	if len(st.Days) != statsDefaultDays || st.To != day(0) || st.Days[len(st.Days)-1].Date != day(0) {
		t.Errorf("default range: from %s to %s, %d days", st.From, st.To, len(st.Days))
	}

	for _, q := range []string{"from=yesterday", "to=2026-13-01", "from=" + day(1) + "&to=" + day(0), "from=2020-01-01&to=2026-01-01"} {
		wantError(t, e.get("/api/v1/stats?"+q), http.StatusBadRequest, "invalid_option")
	}
	wantError(t, e.do(request{method: "GET", path: "/api/v1/stats"}), http.StatusUnauthorized, "unauthorized")

	// The route is in the OpenAPI document.
	r = e.get("/api/v1/openapi.json")
	want(t, r, http.StatusOK)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	r.json(t, &doc)
	if _, ok := doc.Paths["/api/v1/stats"]["get"]; !ok {
		t.Errorf("GET /api/v1/stats is not in the OpenAPI document")
	}
}
