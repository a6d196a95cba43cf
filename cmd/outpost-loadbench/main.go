// Command outpost-loadbench measures the API under load on the embedded
// default (SQLite, local files), or on PostgreSQL (-database-url, or
// -postgres for a throwaway durable server): it starts `outpost serve` on a
// fresh data dir, uploads one tiny source, fires N concurrent POST /api/v1/exports
// (N goroutines in flight over a bounded pool of connections), checks that
// none was lost, and reports accept latency; then it holds N concurrent SSE
// subscribers for a while and reports how many stayed connected and the
// server's RSS. `make bench` runs it after the render benchmark.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"outpost/internal/benchstat"
	"outpost/internal/testpg"
	"outpost/internal/waitfor"
)

type config struct {
	outpost     string
	ffmpeg      string
	requests    int
	conns       int
	subscribers int
	hold        time.Duration
	workers     string
	keep        bool
	// latency measures GET /api/v1/exports idle and during a render.
	latency         bool
	latencySeconds  int
	latencyRequests int
	latencyNice     string

	databaseURL string
	postgres    bool
}

func main() {
	var c config
	flag.StringVar(&c.outpost, "outpost", "bin/outpost", "outpost binary")
	flag.StringVar(&c.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary (makes the tiny source)")
	flag.IntVar(&c.requests, "requests", 1000, "concurrent POST /api/v1/exports")
	flag.IntVar(&c.conns, "conns", 64, "HTTP connections the POSTs share")
	flag.IntVar(&c.subscribers, "subscribers", 1000, "concurrent SSE subscribers (one connection each)")
	flag.DurationVar(&c.hold, "hold", 5*time.Second, "how long the subscribers are held")
	flag.StringVar(&c.workers, "workers", "0", "the server's --workers: 0 measures the accept path alone")
	flag.BoolVar(&c.keep, "keep", false, "keep the data dir")
	flag.BoolVar(&c.latency, "latency", true, "then measure GET /api/v1/exports latency idle and while the server renders six social targets")
	flag.IntVar(&c.latencySeconds, "latency-seconds", 20, "length of the 1080p30 source rendered during the latency measurement")
	flag.IntVar(&c.latencyRequests, "latency-requests", 300, "GET requests per latency sample, 20 a second")
	flag.StringVar(&c.latencyNice, "latency-nice", "19,10", "OUTPOST_RENDER_NICE values to measure, comma-separated (19 is the default)")

	flag.StringVar(&c.databaseURL, "database-url", "", "the server's OUTPOST_DATABASE_URL (postgres://…); default SQLite in the data dir")
	flag.BoolVar(&c.postgres, "postgres", false, "start a throwaway PostgreSQL (fsync and synchronous commit on, on disk) for the server")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "outpost-loadbench:", err)
		os.Exit(1)
	}
}

// server is a running `outpost serve`.
type server struct {
	cmd      *exec.Cmd
	base     string
	key      string
	log      *os.File
	stopOnce sync.Once
}

func run(ctx context.Context, c config) error {
	// Each subscriber and each pooled connection is a descriptor on both
	// sides; the server inherits the raised limit.
	nofile, err := raiseNoFile(uint64(2*c.subscribers + 2*c.conns + 512))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "outpost-loadbench-*")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "work dir:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	engine := "SQLite"
	if c.postgres {
		dsn, stop, err := testpg.Start(ctx, true)
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer stop()
		c.databaseURL = dsn
	}
	if c.databaseURL != "" {
		engine = "PostgreSQL"
	}
	src := filepath.Join(dir, "source.mp4")
	gen := exec.CommandContext(ctx, c.ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=2",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", src)
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("make source: %w: %s", err, out)
	}
	srv, err := startServer(ctx, c, dir)
	if err != nil {
		return err
	}
	defer srv.stop()

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: c.conns, MaxIdleConnsPerHost: c.conns}, Timeout: 5 * time.Minute}
	projectID, err := srv.upload(ctx, client, src)
	if err != nil {
		return err
	}

	// Accept path: N requests in flight at once, c.conns connections.
	body, _ := json.Marshal(map[string]any{
		"project_id": projectID,
		"targets":    []map[string]any{{"preset": "mp4-720p", "quality": "web"}},
	})
	type result struct {
		id          string
		status      int
		err         error
		total, wire time.Duration
	}
	results := make([]result, c.requests)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var got time.Time
			trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { got = time.Now() }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, srv.base+"/api/v1/exports", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+srv.key)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			r := &results[i]
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			var out struct {
				ID string `json:"id"`
			}
			r.err = json.NewDecoder(resp.Body).Decode(&out)
			r.total, r.wire = time.Since(t0), time.Since(got)
			r.status, r.id = resp.StatusCode, out.ID
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)

	ids := map[string]bool{}
	var totals, wires []time.Duration
	failed := 0
	var firstErr string
	for _, r := range results {
		if r.err != nil || r.status != http.StatusAccepted || r.id == "" {
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf("status %d, %v", r.status, r.err)
			}
			continue
		}
		ids[r.id] = true
		totals, wires = append(totals, r.total), append(wires, r.wire)
	}
	listed, err := srv.countHistory(ctx, client, ids)
	if err != nil {
		return err
	}

	// SSE: every subscriber on its own connection, on queued exports (no
	// workers), so the streams stay open on heartbeats.
	subIDs := slices.Sorted(func(yield func(string) bool) {
		for id := range ids {
			if !yield(id) {
				return
			}
		}
	})
	rssBefore, _ := rss(srv.cmd.Process.Pid)
	connected, held, rssHeld, subErr := holdSubscribers(ctx, srv, subIDs, c.subscribers, c.hold)

	fmt.Printf("\n### Load: %d concurrent exports, %d SSE subscribers (outpost serve --workers %s, %s, RLIMIT_NOFILE %d)\n\n",
		c.requests, c.subscribers, c.workers, engine, nofile)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| POST /api/v1/exports accepted (202) | %d of %d (%d failed%s) |\n", len(totals), c.requests, failed, errNote(firstErr))
	fmt.Printf("| distinct export ids / in history (GET /exports) | %d / %d |\n", len(ids), listed)
	fmt.Printf("| wall time, throughput | %s, %.0f req/s |\n", elapsed.Round(time.Millisecond), float64(len(totals))/elapsed.Seconds())
	fmt.Printf("| accept latency p50 / p99 / max (client: queued for one of %d connections + server) | %s / %s / %s |\n",
		c.conns, pct(totals, 50), pct(totals, 99), pct(totals, 100))
	fmt.Printf("| accept latency p50 / p99 / max (on the connection) | %s / %s / %s |\n", pct(wires, 50), pct(wires, 99), pct(wires, 100))
	fmt.Printf("| SSE subscribers connected / still connected after %s | %d / %d of %d%s |\n", c.hold, connected, held, c.subscribers, errNote(subErr))
	fmt.Printf("| server RSS: idle after the POSTs / holding the subscribers | %s / %s |\n", benchstat.MiB(rssBefore), benchstat.MiB(rssHeld))
	fmt.Println()

	if failed > 0 || len(ids) != len(totals) || listed != len(ids) || held != c.subscribers {
		return fmt.Errorf("lost work: %d failed, %d ids, %d in history, %d of %d subscribers held", failed, len(ids), listed, held, c.subscribers)
	}
	srv.stop()
	if c.latency {
		return renderLatency(ctx, c, dir)
	}
	return nil
}

func errNote(s string) string {
	if s == "" {
		return ""
	}
	return "; first error: " + s
}

// raiseNoFile raises the soft open-file limit to at least want (up to the
// hard limit, raising that too when the process may) and returns it.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	if lim.Max < want {
		raised := lim
		raised.Max = want
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			lim.Max = want
		}
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("set RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < want {
		return lim.Cur, fmt.Errorf("RLIMIT_NOFILE is %d, need %d: raise the hard limit (ulimit -Hn)", lim.Cur, want)
	}
	return lim.Cur, nil
}

func startServer(ctx context.Context, c config, dir string, extraEnv ...string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find free port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := &server{base: "http://" + addr, key: "olb_" + hex.EncodeToString(b)}
	s.log, err = os.Create(filepath.Join(dir, "outpost.log"))
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OUTPOST_") })
	env = append(env,
		"OUTPOST_DATA_DIR="+filepath.Join(dir, "data"),
		"OUTPOST_LISTEN="+addr,
		"OUTPOST_BOOTSTRAP_API_KEY="+s.key,
		"OUTPOST_WORKERS="+c.workers,
		"OUTPOST_LOG_LEVEL=warn",
		"OUTPOST_API_RATE_LIMIT=0", // capacity, not the per-key limit, is measured
	)
	env = append(env, extraEnv...)

	if c.databaseURL != "" {
		// A node on PostgreSQL is part of a cluster and needs the
		// cluster's key: a throwaway one.
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		env = append(env, "OUTPOST_DATABASE_URL="+c.databaseURL, "OUTPOST_SECRET_KEY="+hex.EncodeToString(secret))
	}
	s.cmd = exec.Command(c.outpost, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.outpost, err)
	}
	healthy := waitfor.OK(s.base + "/healthz")
	err = waitfor.Until(60*time.Second, func() error {
		if ctx.Err() != nil {
			return waitfor.Stop(ctx.Err())
		}
		return healthy()
	})
	if err != nil {
		s.stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("outpost serve did not answer on %s: %w (log: %s)", s.base, err, s.log.Name())
	}
	return s, nil
}

func (s *server) stop() { s.stopOnce.Do(s.terminate) }

func (s *server) terminate() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	_ = s.log.Close()
}

func (s *server) upload(ctx context.Context, client *http.Client, path string) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(fw, f); err != nil {
		return "", fmt.Errorf("read source: %w", err)
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/projects", &buf)
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload source: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.ID == "" {
		return "", fmt.Errorf("upload source: %d %s", resp.StatusCode, b)
	}
	return out.ID, nil
}

// countHistory pages through GET /api/v1/exports and counts how many of
// ids it lists.
func (s *server) countHistory(ctx context.Context, client *http.Client, ids map[string]bool) (int, error) {
	n, cursor := 0, ""
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/exports?limit=500&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+s.key)
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("list exports: %w", err)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("list exports: %d %v", resp.StatusCode, err)
		}
		for _, x := range page.Data {
			if ids[x.ID] {
				n++
			}
		}
		if page.NextCursor == nil {
			return n, nil
		}
		cursor = *page.NextCursor
	}
}

// holdSubscribers opens n SSE streams (round-robin over ids), each on its
// own connection, holds them for hold, and returns how many connected, how
// many were still open at the end, and the server's RSS at that moment.
func holdSubscribers(ctx context.Context, s *server, ids []string, n int, hold time.Duration) (connected, held int, rssHeld int64, firstErr string) {
	if len(ids) == 0 {
		return 0, 0, 0, "no exports to subscribe to"
	}
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: -1, DisableKeepAlives: true}
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var nConnected, nClosed atomic.Int64
	var errOnce sync.Once
	setErr := func(err error) { errOnce.Do(func() { firstErr = err.Error() }) }
	var ready, done sync.WaitGroup
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			readyOnce := sync.OnceFunc(ready.Done)
			defer readyOnce()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/exports/"+ids[i%len(ids)]+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+s.key)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := client.Do(req)
			if err != nil {
				setErr(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				setErr(fmt.Errorf("status %d", resp.StatusCode))
				return
			}
			nConnected.Add(1)
			readyOnce()
			// Read until the hold ends (ctx canceled) or the server closes.
			r := bufio.NewReader(resp.Body)
			for {
				if _, err := r.ReadString('\n'); err != nil {
					if ctx.Err() == nil {
						nClosed.Add(1)
						setErr(fmt.Errorf("stream closed: %w", err))
					}
					return
				}
			}
		}()
	}
	ready.Wait()
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	rssHeld, _ = rss(s.cmd.Process.Pid)
	connected = int(nConnected.Load())
	held = connected - int(nClosed.Load())
	cancel()
	done.Wait()
	return connected, held, rssHeld, firstErr
}

// rss reads VmRSS of pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("read rss: no VmRSS line")
}

// pct returns the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	return percentile(ds, p).Round(100 * time.Microsecond).String()
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}
