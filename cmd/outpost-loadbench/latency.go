package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"outpost/internal/benchstat"
)

// latencyTargets are rendered while the API's latency is measured: the
// six social platforms of issue 12 (three encodes).
var latencyTargets = []string{"youtube-1080p", "instagram-reel", "linkedin-square", "tiktok", "facebook-reel", "youtube-shorts"}

// latencyRow is one OUTPOST_RENDER_NICE's figures.
type latencyRow struct {
	nice             string
	idle, rendering  []time.Duration
	renderSeconds    float64
	load             string
	stillRenderingOK bool
}

// renderLatency measures p99 of GET /api/v1/exports of `outpost serve`
// (one worker, SQLite) idle, then while its worker renders a 1080p30 source
// to six social targets, for each OUTPOST_RENDER_NICE value: the render
// must not starve the API (target: p99 during ≤ 2 × idle).
func renderLatency(ctx context.Context, c config, dir string) error {
	src := filepath.Join(dir, "latency-source.mp4")
	gen := exec.CommandContext(ctx, c.ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(c.latencySeconds), "-vf", "noise=alls=10:allf=t",
		"-c:v", "libx264", "-preset", "veryfast", "-b:v", "12000k", "-maxrate", "12000k", "-bufsize", "24000k",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", src)
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("make the latency source: %w: %s", err, out)
	}
	var rows []latencyRow
	for _, nice := range strings.Split(c.latencyNice, ",") {
		nice = strings.TrimSpace(nice)
		row, err := latencyAt(ctx, c, dir, src, nice)
		if err != nil {
			return fmt.Errorf("OUTPOST_RENDER_NICE=%s: %w", nice, err)
		}
		rows = append(rows, row)
	}
	fmt.Printf("\n### API latency during a render: GET /api/v1/exports, %d requests at 20/s per sample (outpost serve, 1 worker, SQLite)\n\n", c.latencyRequests)
	fmt.Printf("Render: %d s 1080p30 noisy source → %s (three encodes).\n\n", c.latencySeconds, strings.Join(latencyTargets, ", "))
	fmt.Println("| OUTPOST_RENDER_NICE | p50 idle / rendering | p99 idle | p99 rendering | ratio | target | render | load at start |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		i99, r99 := percentile(r.idle, 99), percentile(r.rendering, 99)
		note := ""
		if !r.stillRenderingOK {
			note = " (the render ended before the sample did)"
		}
		fmt.Printf("| %s | %s / %s | %s | %s (%d requests%s) | %.2f | ≤ 2 | %.1f s | %s |\n", r.nice, pct(r.idle, 50), pct(r.rendering, 50),
			i99.Round(100*time.Microsecond), r99.Round(100*time.Microsecond), len(r.rendering), note,
			float64(r99)/float64(i99), r.renderSeconds, r.load)
	}
	return nil
}

func latencyAt(ctx context.Context, c config, dir, src, nice string) (latencyRow, error) {
	row := latencyRow{nice: nice, load: benchstat.LoadNow()}
	data := filepath.Join(dir, "latency-nice-"+nice)
	if err := os.MkdirAll(data, 0o755); err != nil {
		return row, err
	}
	lc := c
	lc.workers = "1"
	srv, err := startServer(ctx, lc, data, "OUTPOST_RENDER_NICE="+nice)
	if err != nil {
		return row, err
	}
	defer srv.stop()
	client := &http.Client{Timeout: time.Minute}
	projectID, err := srv.upload(ctx, client, src)
	if err != nil {
		return row, err
	}
	if row.idle, err = sampleList(ctx, srv, client, c.latencyRequests, nil); err != nil {
		return row, err
	}

	var targets []map[string]any
	for _, p := range latencyTargets {
		targets = append(targets, map[string]any{"preset": p})
	}
	body, _ := json.Marshal(map[string]any{"project_id": projectID, "targets": targets})
	var created struct {
		ID string `json:"id"`
	}
	if err := srv.call(ctx, client, http.MethodPost, "/api/v1/exports", body, http.StatusAccepted, &created); err != nil {
		return row, err
	}
	start := time.Now()
	// Sampled once ffmpeg runs: from the render stage on.
	for {
		x, err := srv.export(ctx, client, created.ID)
		if err != nil {
			return row, err
		}
		if x.Status != "queued" && x.Status != "running" {
			return row, fmt.Errorf("export %s before the render stage: %s", x.Status, x.failure())
		}
		if x.Progress.Stage == "render" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rendering := func() bool {
		x, err := srv.export(ctx, client, created.ID)
		return err == nil && x.Progress.Stage == "render" && x.Status == "running"
	}
	if row.rendering, err = sampleList(ctx, srv, client, c.latencyRequests, rendering); err != nil {
		return row, err
	}
	row.stillRenderingOK = rendering()
	for {
		x, err := srv.export(ctx, client, created.ID)
		if err != nil {
			return row, err
		}
		if x.Status == "succeeded" {
			break
		}
		if x.Status != "queued" && x.Status != "running" {
			return row, fmt.Errorf("export %s: %s", x.Status, x.failure())
		}
		time.Sleep(250 * time.Millisecond)
	}
	row.renderSeconds = time.Since(start).Seconds()
	return row, nil
}

// sampleList times n GET /api/v1/exports, one every 50 ms; with
// whileTrue, it stops early once that reports false (checked every 20
// requests).
func sampleList(ctx context.Context, srv *server, client *http.Client, n int, whileTrue func() bool) ([]time.Duration, error) {
	var ds []time.Duration
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		if whileTrue != nil && i > 0 && i%20 == 0 && !whileTrue() {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		t0 := time.Now()
		if err := srv.call(ctx, client, http.MethodGet, "/api/v1/exports?limit=50", nil, http.StatusOK, nil); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	return ds, nil
}

type exportView struct {
	Status   string `json:"status"`
	Progress struct {
		Stage string `json:"stage"`
	} `json:"progress"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (x exportView) failure() string {
	if x.Error == nil {
		return ""
	}
	return x.Error.Code + ": " + x.Error.Message
}

func (s *server) export(ctx context.Context, client *http.Client, id string) (exportView, error) {
	var x exportView
	err := s.call(ctx, client, http.MethodGet, "/api/v1/exports/"+id, nil, http.StatusOK, &x)
	return x, err
}

// call makes one API request and decodes the answer into out (unless nil).
func (s *server) call(ctx context.Context, client *http.Client, method, path string, body []byte, want int, out any) error {
	req, _ := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
