package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/events"
	"outpost/internal/outpost"
	"outpost/internal/service"
	"outpost/internal/store"
	"outpost/internal/waitfor"

	"outpost/internal/storetest"
)

func (e *env) createExport(key string, body map[string]any) outpost.ExportDetail {
	e.t.Helper()
	r := e.do(request{method: "POST", path: "/api/v1/exports", key: key, json: body})
	want(e.t, r, http.StatusAccepted)
	var d outpost.ExportDetail
	r.json(e.t, &d)
	return d
}

func TestServer_exports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.readyProject(e.ws.ID, "Spring launch master")
	d := e.createExport(e.key, map[string]any{
		"project_id": p.ID,
		"targets":    []any{map[string]any{"preset": "youtube-1080p", "quality": "hd"}, map[string]any{"preset": "mp4-720p", "fit": "pad"}},
		"priority":   1,
		"labels":     map[string]any{"client": "Acme", "campaign": "Spring"},
	})
	if d.Status != store.ExportQueued || d.ProjectID != p.ID || len(d.Renditions) != 2 ||
		d.Renditions[0].Preset != "youtube-1080p" || d.Renditions[0].Status != store.RenditionPending ||
		d.Renditions[0].DownloadURL != nil || d.Labels != (outpost.Labels{Client: "Acme", Campaign: "Spring"}) || d.Error != nil {
		t.Fatalf("created %+v", d)
	}
	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)

	// Bad requests change nothing.
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"destinations", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}},
			"destinations": []any{map[string]any{"connection_id": "con_x"}}}, 422, "platform_not_configured"},
		{"unknown preset", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "myspace"}}}, 400, "unknown_preset"},
		{"bad quality", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok", "quality": "max"}}}, 400, "invalid_option"},
		{"unknown target field", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok", "crf": 1}}}, 400, "invalid_option"},
		{"unknown label", map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}}, "labels": map[string]any{"team": "x"}}, 400, "invalid_option"},
		{"no targets", map[string]any{"project_id": p.ID}, 400, "invalid_option"},
		{"missing project", map[string]any{"project_id": "prj_nope", "targets": []any{map[string]any{"preset": "tiktok"}}}, 404, "not_found"},
		{"no project", map[string]any{"targets": []any{map[string]any{"preset": "tiktok"}}}, 400, "invalid_option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.post("/api/v1/exports", tc.body), tc.status, tc.code)
		})
	}
	// A project of another workspace is not found, and no export appears there.
	wantError(t, e.do(request{method: "POST", path: "/api/v1/exports", key: e.okey, json: map[string]any{
		"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}}}}), 404, "not_found")
	for _, path := range []string{"/api/v1/exports/" + d.ID, "/api/v1/exports/" + d.ID + "/events", "/api/v1/renditions/" + d.Renditions[0].ID} {
		wantError(t, e.do(request{method: "GET", path: path, key: e.okey}), 404, "not_found")
	}
	for _, path := range []string{"/api/v1/exports/" + d.ID + "/cancel", "/api/v1/exports/" + d.ID + "/retry", "/api/v1/renditions/" + d.Renditions[0].ID + "/save"} {
		wantError(t, e.do(request{method: "POST", path: path, key: e.okey}), 404, "not_found")
	}

	// History: filters and search.
	d2 := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "tiktok"}},
		"labels": map[string]any{"client": "Globex"}})
	list := func(query string) []string {
		t.Helper()
		r := e.get("/api/v1/exports" + query)
		want(t, r, http.StatusOK)
		var pg page[outpost.Export]
		r.json(t, &pg)
		var ids []string
		for _, x := range pg.Data {
			ids = append(ids, x.ID)
		}
		return ids
	}
	for q, wantIDs := range map[string][]string{
		"":                        {d2.ID, d.ID},
		"?client=Acme":            {d.ID},
		"?campaign=Spring":        {d.ID},
		"?q=globex":               {d2.ID},
		"?preset=tiktok":          {d2.ID},
		"?status=queued":          {d2.ID, d.ID},
		"?status=failed,canceled": nil,
		"?limit=1":                {d2.ID},
		// Created at or after, and before (RFC 3339); a platform's targets
		// or posts.
		"?created_after=" + url.QueryEscape(d2.CreatedAt.Format(time.RFC3339Nano)):  {d2.ID},
		"?created_before=" + url.QueryEscape(d2.CreatedAt.Format(time.RFC3339Nano)): {d.ID},
		"?created_after=" + url.QueryEscape(d.CreatedAt.Add(-time.Hour).Format(time.RFC3339)) +
			"&created_before=" + url.QueryEscape(d2.CreatedAt.Add(time.Hour).Format(time.RFC3339)): {d2.ID, d.ID},
		"?created_after=2000-01-01T00:00:00Z&created_before=2000-01-02T00:00:00Z": nil,
		"?platform=youtube":  {d.ID},
		"?platform=tiktok":   {d2.ID},
		"?platform=linkedin": nil,
	} {
		if got := list(q); strings.Join(got, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("GET /api/v1/exports%s = %v, want %v", q, got, wantIDs)
		}
	}
	// A filter the API does not know is refused by name, not ignored; so
	// are bad dates and platforms.
	for q, name := range map[string]string{
		"?colour=red":                          "colour",
		"?status=queued&since=2020-01-01":      "since",
		"?created_after=yesterday":             "created_after",
		"?created_before=2025-13-01T00:00:00Z": "created_before",
		"?platform=myspace":                    "myspace",
	} {
		r := e.get("/api/v1/exports" + q)
		wantError(t, r, http.StatusBadRequest, "invalid_option")
		if !strings.Contains(string(r.body), name) {
			t.Errorf("GET /api/v1/exports%s: %s; want it to name %s", q, r.body, name)
		}
	}
	r = e.do(request{method: "GET", path: "/api/v1/exports", key: e.okey})
	var other page[outpost.Export]
	r.json(t, &other)
	if len(other.Data) != 0 {
		t.Errorf("other workspace lists %d exports", len(other.Data))
	}

	// Cancel, then retry.
	r = e.post("/api/v1/exports/"+d2.ID+"/cancel", nil)
	want(t, r, http.StatusOK)
	var c outpost.ExportDetail
	r.json(t, &c)
	if c.Status != store.ExportCanceled || c.Renditions[0].Status != store.RenditionCanceled || c.FinishedAt == nil {
		t.Errorf("canceled %s", r.body)
	}
	wantError(t, e.post("/api/v1/exports/"+d2.ID+"/cancel", nil), http.StatusConflict, "conflict")
	r = e.post("/api/v1/exports/"+d2.ID+"/retry", nil)
	want(t, r, http.StatusAccepted)
	r.json(t, &c)
	if c.Status != store.ExportQueued {
		t.Errorf("retried %s", r.body)
	}
	wantError(t, e.post("/api/v1/exports/"+d.ID+"/retry", nil), http.StatusConflict, "conflict")
}

// finishRendition stores a file for the rendition and marks it succeeded,
// as the store step would.
func (e *env) finishRendition(id string, content string, expiresAt time.Time) store.Rendition {
	e.t.Helper()
	ctx := e.t.Context()
	rd, err := e.store.GetRendition(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	key := "renditions/" + rd.ExportID + "/" + rd.PresetID + ".mp4"
	if _, err := e.blob.Put(ctx, key, strings.NewReader(content), "video/mp4"); err != nil {
		e.t.Fatal(err)
	}
	rd.Status, rd.BlobKey, rd.SizeBytes, rd.Duration = store.RenditionSucceeded, key, int64(len(content)), 2
	rd.Width, rd.Height, rd.VideoCodec, rd.AudioCodec = 1280, 720, "h264", "aac"
	rd.ExpiresAt = &expiresAt
	rd, err = e.store.UpdateRendition(ctx, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	return rd
}

func TestServer_renditionDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.readyProject(e.ws.ID, "Spring Launch: Master!")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "mp4-720p"}, map[string]any{"preset": "mp4-1080p"}, map[string]any{"preset": "webm-1080p"}}})
	now := time.Now()
	e.finishRendition(d.Renditions[0].ID, "0123456789abcdef", now.Add(24*time.Hour))
	e.finishRendition(d.Renditions[1].ID, "expired", now.Add(-time.Minute))
	soon := now.Add(10 * time.Minute)
	e.finishRendition(d.Renditions[2].ID, "soon", soon)

	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	var got outpost.ExportDetail
	r.json(t, &got)
	r0, r1, r2 := got.Renditions[0], got.Renditions[1], got.Renditions[2]
	if r0.DownloadURL == nil || r0.SizeBytes != 16 || r0.Width != 1280 || r0.Status != store.RenditionSucceeded {
		t.Fatalf("rendition %+v", r0)
	}
	if exp := r0.DownloadURLExpiresAt.Sub(now); exp < 59*time.Minute || exp > 61*time.Minute {
		t.Errorf("link valid for %v, want an hour", exp)
	}
	if r1.DownloadURL != nil {
		t.Errorf("expired rendition has a link")
	}
	if r2.DownloadURL == nil || r2.DownloadURLExpiresAt.After(soon.Add(time.Second)) {
		t.Errorf("link outlives the file: %v > %v", r2.DownloadURLExpiresAt, soon)
	}

	// The link works without an API key, with ranges, and names the file.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", *r0.DownloadURL, nil)
	req.Header.Set("Range", "bytes=4-9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || string(body) != "456789" {
		t.Errorf("range: %d %q", res.StatusCode, body)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "spring-launch-master-mp4-720p.mp4") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// A tampered link is refused.
	res, err = http.Get(strings.Replace(*r0.DownloadURL, "mp4-720p", "mp4-1080p", 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("tampered link: %d", res.StatusCode)
	}

	// Saving keeps the file, and the link is no longer capped by expiry.
	r = e.post("/api/v1/renditions/"+r2.ID+"/save", nil)
	want(t, r, http.StatusOK)
	var saved outpost.Rendition
	r.json(t, &saved)
	if !saved.Saved || saved.ExpiresAt != nil || saved.DownloadURLExpiresAt.Sub(now) < 59*time.Minute {
		t.Errorf("saved (want expires_at null) %s", r.body)
	}
	rd, _ := e.store.GetRendition(t.Context(), r2.ID)
	if !rd.Saved || rd.ExpiresAt != nil {
		t.Errorf("in the store: saved %v, expires_at %v; want saved, no expiry", rd.Saved, rd.ExpiresAt)
	}
	want(t, e.post("/api/v1/renditions/"+r2.ID+"/save", nil), http.StatusOK)
	if err := e.store.MarkRenditionDeleted(t.Context(), r1.ID, now); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.post("/api/v1/renditions/"+r1.ID+"/save", nil), http.StatusConflict, "conflict")
	wantError(t, e.post("/api/v1/renditions/rnd_nope/save", nil), http.StatusNotFound, "not_found")
	r = e.get("/api/v1/renditions/" + r1.ID)
	want(t, r, http.StatusOK)
	var del outpost.Rendition
	r.json(t, &del)
	if !del.Deleted || del.DownloadURL != nil {
		t.Errorf("deleted rendition %s", r.body)
	}
}

// TestServer_exportGolden pins the export JSON (ids and times normalised).
func TestServer_exportGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.readyProject(e.ws.ID, "Master")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "mp4-720p"}, map[string]any{"preset": "tiktok", "fit": "crop"}},
		"labels": map[string]any{"client": "Acme"}})
	ctx := t.Context()
	e.finishRendition(d.Renditions[0].ID, "data", time.Now().Add(48*time.Hour))
	rd, _ := e.store.GetRendition(ctx, d.Renditions[1].ID)
	rd.Status, rd.ErrorCode, rd.ErrorMessage = store.RenditionFailed, errcode.PlatformRule, "max_duration: too long"
	if _, err := e.store.UpdateRendition(ctx, rd); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateExportStatus(ctx, d.ID, store.StatusChange{Status: store.ExportRunning}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateExportStatus(ctx, d.ID, store.StatusChange{Status: store.ExportPartiallyFailed,
		ErrorCode: errcode.PlatformRule, ErrorMessage: "1 of 2 targets failed"}); err != nil {
		t.Fatal(err)
	}
	// The node of each step: node-1 rendered both, checked and stored
	// the first; the second broke its platform's rule at the check.
	r0, r1 := d.Renditions[0].ID, d.Renditions[1].ID
	storetest.RecordSteps(t, e.store, d.ID, "node-1", "host-1",
		storetest.Step{RenditionID: r0, Kind: outpost.StepRender, Outcome: outpost.StepSucceeded},
		storetest.Step{RenditionID: r1, Kind: outpost.StepRender, Outcome: outpost.StepSucceeded},
		storetest.Step{RenditionID: r0, Kind: outpost.StepCheck, Outcome: outpost.StepSucceeded},
		storetest.Step{RenditionID: r1, Kind: outpost.StepCheck, Outcome: outpost.StepFailed, Code: errcode.PlatformRule},
		storetest.Step{RenditionID: r0, Kind: outpost.StepStore, Outcome: outpost.StepSucceeded})
	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	golden(t, "export.json", normalise(r.body))
}

var (
	idRE   = regexp.MustCompile(`"(exp|prj|rnd)_[0-9a-z]+`)
	timeRE = regexp.MustCompile(`"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"`)
	urlRE  = regexp.MustCompile(`"http://[^"]*"`)
)

func normalise(b []byte) []byte {
	b = idRE.ReplaceAll(b, []byte(`"${1}_ID`))
	b = timeRE.ReplaceAll(b, []byte(`"TIME"`))
	b = urlRE.ReplaceAll(b, []byte(`"URL"`))
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, event, data string
}

// readSSE reads events until the stream ends or n events arrived; comments
// are counted.
func readSSE(t *testing.T, body io.Reader, n int) (evs []sseEvent, comments int) {
	t.Helper()
	sc := bufio.NewScanner(body)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur != (sseEvent{}) {
				evs = append(evs, cur)
				cur = sseEvent{}
				if len(evs) == n {
					return evs, comments
				}
			}
		case strings.HasPrefix(line, ":"):
			comments++
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
	return evs, comments
}

func TestServer_exportEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(e *env, d *Deps, so *service.Options) {
		e.configure = func(s *Server) { s.heartbeat = 20 * time.Millisecond }
	})
	p := e.readyProject(e.ws.ID, "Master")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{map[string]any{"preset": "mp4-720p"}}})
	ctx := t.Context()

	open := func(ctx context.Context, header map[string]string, query string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/exports/"+d.ID+"/events"+query, nil)
		req.Header.Set("Authorization", "Bearer "+e.key)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	// Live: subscribe first, then publish.
	res := open(ctx, nil, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// A heartbeat comes while nothing happens.
	body := bufio.NewReader(res.Body)
	beat := make(chan error, 1)
	go func() {
		for {
			line, err := body.ReadString('\n')
			if err != nil || strings.HasPrefix(line, ": heartbeat") {
				beat <- err
				return
			}
		}
	}()
	select {
	case err := <-beat:
		if err != nil {
			t.Fatalf("the stream ended before a heartbeat: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no heartbeat on an idle stream")
	}
	evs := []events.Event{}
	for _, pub := range []struct {
		typ  string
		data any
	}{
		{events.TypeProgress, events.Progress{Stage: "render", Percent: 40, FPS: 120, ETASeconds: 3}},
		{events.TypeRendition, events.Rendition{ID: d.Renditions[0].ID, Preset: "mp4-720p", Status: "succeeded"}},
		{events.TypeDone, events.Done{Status: "succeeded"}},
	} {
		if pub.typ == events.TypeDone {
			// "done" commits with the export's final status.
			if _, err := e.store.UpdateExportStatus(ctx, d.ID, store.StatusChange{Status: store.ExportSucceeded}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := e.broker.Publish(ctx, d.ID, pub.typ, pub.data)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	got, _ := readSSE(t, body, 10)
	if len(got) != 3 {
		t.Fatalf("events %+v", got)
	}
	for i, ev := range evs {
		if got[i].event != ev.Type || got[i].id != itoa(ev.Seq) || !json.Valid([]byte(got[i].data)) {
			t.Errorf("event %d = %+v, want %s %d", i, got[i], ev.Type, ev.Seq)
		}
	}
	if !strings.Contains(got[0].data, `"percent":40`) {
		t.Errorf("progress data %s", got[0].data)
	}
	// The stream ended after done (readSSE hit EOF with 3 of 10).

	// Resume after the first event, by header and by query.
	for _, tc := range []struct {
		header map[string]string
		query  string
	}{
		{map[string]string{"Last-Event-ID": itoa(evs[0].Seq)}, ""},
		{nil, "?last_event_id=" + itoa(evs[0].Seq)},
	} {
		res := open(ctx, tc.header, tc.query)
		got, _ := readSSE(t, res.Body, 10)
		if len(got) != 2 || got[0].event != "rendition" || got[1].event != "done" {
			t.Errorf("resumed %v%s: %+v", tc.header, tc.query, got)
		}
	}
	res = open(ctx, map[string]string{"Last-Event-ID": "abc"}, "")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad Last-Event-ID: %d", res.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestServer_sharedFileDownload: renditions that one encode served share
// one file; each has its own link name, and a download is counted for the
// rendition whose link was used.
func TestServer_sharedFileDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	p := e.readyProject(e.ws.ID, "Reel")
	d := e.createExport(e.key, map[string]any{"project_id": p.ID, "targets": []any{
		map[string]any{"preset": "youtube-shorts"}, map[string]any{"preset": "tiktok"}}})
	shared := "renditions/" + d.ID + "/youtube-shorts+tiktok.mp4"
	for _, r := range d.Renditions {
		rd := e.finishRendition(r.ID, "the one file", time.Now().Add(time.Hour))
		rd.BlobKey = shared
		if _, err := e.store.UpdateRendition(ctx, rd); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.blob.Put(ctx, shared, strings.NewReader("the one file"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	var got outpost.ExportDetail
	r := e.get("/api/v1/exports/" + d.ID)
	want(t, r, http.StatusOK)
	r.json(t, &got)
	shorts := got.Renditions[0] // the first of the two: a lookup by key alone finds the last
	if shorts.Preset != "youtube-shorts" || shorts.DownloadURL == nil || !strings.Contains(*shorts.DownloadURL, "reel-youtube-shorts.mp4") {
		t.Fatalf("youtube-shorts rendition %+v", shorts)
	}
	// The second says whose file it is; the first has its own.
	if shorts.SameFileAs != "" || got.Renditions[1].SameFileAs != shorts.ID {
		t.Errorf("same_file_as: %q and %q, want none and %s", shorts.SameFileAs, got.Renditions[1].SameFileAs, shorts.ID)
	}
	res, err := http.Get(*shorts.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "the one file" {
		t.Fatalf("download: %d %q", res.StatusCode, body)
	}
	evs := waitfor.Value(t, 5*time.Second, func() ([]store.Event, error) {
		l, err := e.store.ListEvents(ctx, store.EventFilter{WorkspaceID: e.ws.ID, Type: outpost.EventRenditionDownloaded})
		if err == nil && len(l.Events) == 0 {
			err = errors.New("no download event yet")
		}
		return l.Events, err
	}, "the download event")
	if len(evs) != 1 || evs[0].SubjectID != shorts.ID {
		t.Errorf("download events %+v, want one for the youtube-shorts rendition %s", evs, shorts.ID)
	}
}
