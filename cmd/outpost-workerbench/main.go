// Command outpost-workerbench measures one export over W = 1 and W = 2
// `outpost worker` processes, each pinned to its own core (taskset -c), on
// PostgreSQL and S3 (versitygw), as issue 13's bench asks: the wall time
// from the export's creation to its end, the median over interleaved runs
// of each W, and the speedup W=2/W=1. With one live worker the export
// renders in one pass; with two it is cut in two segments (a source past
// OUTPOST_SEGMENT_THRESHOLD), each a job, joined by a third.
//
//	go run ./cmd/outpost-workerbench -outpost bin/outpost -seconds 120 -runs 1
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"outpost/internal/benchstat"
	"outpost/internal/testpg"
	"outpost/internal/tests3"
	"outpost/internal/waitfor"
)

type config struct {
	outpost string
	seconds int
	runs    int
	presets []string
	keep    bool
	// threshold is OUTPOST_SEGMENT_THRESHOLD for the workers; "" keeps
	// the default (45 s).
	threshold string
}

func main() {
	var c config
	var presets string
	flag.StringVar(&c.outpost, "outpost", "bin/outpost", "outpost binary")
	flag.IntVar(&c.seconds, "seconds", 120, "length of the 1080p30 source in seconds")
	flag.IntVar(&c.runs, "runs", 1, "runs of each W, interleaved (the median is reported)")
	flag.StringVar(&presets, "presets", "youtube-1080p,instagram-reel,linkedin-square", "the export's targets")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder")
	flag.StringVar(&c.threshold, "threshold", "", "OUTPOST_SEGMENT_THRESHOLD of the workers, in seconds (default: theirs, 45)")
	flag.Parse()
	c.presets = strings.Split(presets, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "outpost-workerbench:", err)
		os.Exit(1)
	}
}

// cluster is the API process and what every node shares.
type cluster struct {
	c      config
	dir    string
	env    []string
	base   string
	key    string
	db     *sql.DB
	client *http.Client
}

func run(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "outpost-workerbench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	fmt.Printf("source: %d s 1080p30 H.264 + AAC; targets %s; machine: %d cores, load %s\n",
		c.seconds, strings.Join(c.presets, ", "), runtime.NumCPU(), benchstat.Load())
	src := filepath.Join(dir, "source.mp4")
	gen := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", strconv.Itoa(c.seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", src)
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("generate source: %w: %s", err, out)
	}

	dsn, stopPG, err := testpg.Start(ctx, true)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer stopPG()
	bin, err := tests3.Find()
	if err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, "s3"), 0o750); err != nil {
		return err
	}
	gw, stopGW, err := tests3.Launch(bin, filepath.Join(dir, "s3"), func(f string, a ...any) { fmt.Printf(f+"\n", a...) })
	if err != nil {
		return err
	}
	defer stopGW()
	if err := os.Mkdir(filepath.Join(gw.Root, "outpost"), 0o750); err != nil {
		return err
	}
	cl := &cluster{c: c, dir: dir, key: "owb_" + randomHex(16), client: &http.Client{Timeout: time.Minute}}
	cl.env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OUTPOST_") }),
		"OUTPOST_DATABASE_URL="+dsn, "OUTPOST_BLOB_URL="+gw.BucketURL("outpost"),
		"OUTPOST_SECRET_KEY="+randomHex(32), "OUTPOST_LOG_LEVEL=warn", "OUTPOST_API_RATE_LIMIT=0")
	cl.env = append(cl.env, gw.Env()...)
	if c.threshold != "" {
		cl.env = append(cl.env, "OUTPOST_SEGMENT_THRESHOLD="+c.threshold)
	}
	if cl.db, err = sql.Open("pgx", dsn); err != nil {
		return err
	}
	defer cl.db.Close()
	api, err := cl.serve(ctx)
	if err != nil {
		return err
	}
	defer terminate(api)
	prj, err := cl.upload(ctx, src)
	if err != nil {
		return err
	}

	walls := map[int][]time.Duration{}
	notes := map[int]string{}
	for r := range c.runs {
		// W=2 first: a segmented run that fails does so before the long
		// one-pass run.
		for _, w := range []int{2, 1} {
			d, note, err := cl.measure(ctx, prj, w)
			if err != nil {
				return fmt.Errorf("W=%d run %d: %w", w, r+1, err)
			}
			fmt.Printf("  W=%d run %d: %.1f s (%s), load %s\n", w, r+1, d.Seconds(), note, benchstat.Load())
			walls[w], notes[w] = append(walls[w], d), note
		}
	}
	fmt.Printf("\n| W (workers, 1 core each) | runs | median wall | how it ran |\n|---|---|---|---|\n")
	for _, w := range []int{1, 2} {
		fmt.Printf("| %d | %d | %.1f s | %s |\n", w, len(walls[w]), benchstat.Median(walls[w]).Seconds(), notes[w])
	}
	fmt.Printf("\nspeedup W=2/W=1: %.2f (target ≥ 1.6)\n", benchstat.Median(walls[1]).Seconds()/benchstat.Median(walls[2]).Seconds())
	return nil
}

// serve starts `outpost serve --workers 0`: the API, no renders.
func (cl *cluster) serve(ctx context.Context) (*exec.Cmd, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cl.base = "http://" + addr
	cmd, err := cl.start(nil, "api", "serve", "--workers", "0", "--listen", addr)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, "OUTPOST_BOOTSTRAP_API_KEY="+cl.key)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	healthy := waitfor.OK(cl.base + "/healthz")
	if err := waitfor.Until(60*time.Second, func() error {
		if ctx.Err() != nil {
			return waitfor.Stop(ctx.Err())
		}
		return healthy()
	}); err != nil {
		terminate(cmd)
		return nil, fmt.Errorf("outpost serve: %w (log in %s)", err, cl.dir)
	}
	return cmd, nil
}

// start prepares an outpost process named name (its data folder and log),
// under taskset when pin is set.
func (cl *cluster) start(pin *int, name string, args ...string) (*exec.Cmd, error) {
	data := filepath.Join(cl.dir, name)
	log, err := os.Create(data + ".log")
	if err != nil {
		return nil, err
	}
	args = append(args, "--data-dir", data)
	cmd := exec.Command(cl.c.outpost, args...)
	if pin != nil {
		cmd = exec.Command("taskset", append([]string{"-c", strconv.Itoa(*pin), cl.c.outpost}, args...)...)
	}
	cmd.Env, cmd.Stdout, cmd.Stderr = slices.Clone(cl.env), log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// measure starts w workers, one per core, runs the export and stops them.
func (cl *cluster) measure(ctx context.Context, project string, w int) (time.Duration, string, error) {
	var workers []*exec.Cmd
	defer func() {
		for _, cmd := range workers {
			terminate(cmd)
		}
	}()
	for i := range w {
		cmd, err := cl.start(&i, fmt.Sprintf("worker-%d", i), "worker")
		if err != nil {
			return 0, "", err
		}
		if err := cmd.Start(); err != nil {
			return 0, "", err
		}
		workers = append(workers, cmd)
	}
	// Every worker heard from (and no other): the export's render job
	// counts the live ones.
	if err := waitfor.Until(60*time.Second, func() error {
		var n int
		if err := cl.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM worker_nodes WHERE heartbeat_at > now() - interval '1 minute'`).Scan(&n); err != nil {
			return err
		}
		if n != w {
			return fmt.Errorf("%d live workers, want %d", n, w)
		}
		return nil
	}); err != nil {
		return 0, "", err
	}
	var targets []map[string]string
	for _, p := range cl.c.presets {
		targets = append(targets, map[string]string{"preset": p})
	}
	body, _ := json.Marshal(map[string]any{"project_id": project, "targets": targets})
	start := time.Now()
	var x exportView
	if err := cl.call(ctx, http.MethodPost, "/api/v1/exports", body, http.StatusAccepted, &x); err != nil {
		return 0, "", err
	}
	var final exportView
	if err := waitfor.Until(30*time.Minute, func() error {
		if err := cl.call(ctx, http.MethodGet, "/api/v1/exports/"+x.ID, nil, http.StatusOK, &final); err != nil {
			return waitfor.Stop(err)
		}
		switch final.Status {
		case "succeeded":
			return nil
		case "failed", "partially_failed", "canceled":
			return waitfor.Stop(fmt.Errorf("export %s", final.Status))
		}
		return errors.New(final.Status)
	}); err != nil {
		return 0, "", err
	}
	wall := time.Since(start)
	note := "one pass"
	if len(final.Segments) > 0 {
		var parts []string
		for _, n := range final.Segments {
			parts = append(parts, fmt.Sprintf("%d parts on %s", n.Parts, n.Node))
		}
		note = "segmented: " + strings.Join(parts, ", ")
	}
	return wall, note, nil
}

type exportView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Segments []struct {
		Node  string `json:"node"`
		Parts int    `json:"parts"`
	} `json:"segments"`
}

func (cl *cluster) call(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, cl.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+cl.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// upload uploads the source as a project and waits until it is ready.
func (cl *cluster) upload(ctx context.Context, path string) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(fw, f)
	_ = f.Close()
	if err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, cl.base+"/api/v1/projects", &buf)
	req.Header.Set("Authorization", "Bearer "+cl.key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := cl.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.ID == "" {
		return "", fmt.Errorf("upload source: %d %s", resp.StatusCode, b)
	}
	err = waitfor.Until(5*time.Minute, func() error {
		if err := cl.call(ctx, http.MethodGet, "/api/v1/projects/"+out.ID, nil, http.StatusOK, &out); err != nil {
			return waitfor.Stop(err)
		}
		if out.Status != "ready" {
			return fmt.Errorf("project %s", out.Status)
		}
		return nil
	})
	return out.ID, err
}

// terminate stops an outpost process (SIGTERM: its jobs stop cleanly and
// its node row goes) and waits for it.
func terminate(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
