package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"outpost/internal/cli"
	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/publish/platforms"
	"outpost/internal/sandbox"
)

// sandboxServer is the platform emulators served on a listener of their
// own: the platforms' real paths at the root of one origin.
type sandboxServer struct {
	sb  *sandbox.Server
	ln  net.Listener
	srv *http.Server
	url string
}

// startSandbox binds addr and builds the emulators; serve starts serving.
func startSandbox(addr string, opts sandbox.Options, logger *slog.Logger) (*sandboxServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, errcode.Wrap(errcode.ConfigInvalid, err, "sandbox: listen on "+addr+" (OUTPOST_SANDBOX_ADDR, --sandbox-addr)")
	}
	u := listenURL(ln)
	opts.BaseURL = u
	opts.Logger = logger
	sb := sandbox.New(opts)
	return &sandboxServer{sb: sb, ln: ln, url: u, srv: &http.Server{
		Handler:           sb,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}, nil
}

// startKeptSandbox starts the emulators of `serve --sandbox` with their
// state kept in DATA_DIR/sandbox (uploads in progress in its uploads
// folder), so that a restart keeps connected accounts connected and posts
// listed. A port the system picked (the default :0) is remembered there and
// asked for again, so that the links the emulators handed out (post URLs,
// upload sessions saved by publications) still lead to them.
func startKeptSandbox(cfg *config.Config, opts sandbox.Options, logger *slog.Logger) (*sandboxServer, error) {
	dir := filepath.Join(cfg.DataDir, "sandbox")
	if opts.Dir == "" {
		opts.Dir = filepath.Join(dir, "uploads")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, errcode.Wrap(errcode.ConfigInvalid, err, "sandbox: create its folder in the data dir")
	}
	addrFile := filepath.Join(dir, "addr")
	addr := cfg.SandboxAddr
	var sb *sandboxServer
	if _, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		if last, err := os.ReadFile(addrFile); err == nil {
			if sb, err = startSandbox(strings.TrimSpace(string(last)), opts, logger); err != nil {
				logger.Info("sandbox: the last port is taken; links to the old one no longer work", "addr", strings.TrimSpace(string(last)))
			}
		}
	}
	if sb == nil {
		var err error
		if sb, err = startSandbox(addr, opts, logger); err != nil {
			return nil, err
		}
	}
	if err := sb.sb.Persist(filepath.Join(dir, "state.json")); err != nil {
		_ = sb.close()
		return nil, &errcode.Error{Code: errcode.ConfigInvalid, Message: "sandbox: its saved state cannot be read", Err: err,
			Remedy: "Remove DATA_DIR/sandbox/state.json to start the emulators afresh (sandbox accounts must then be connected again)."}
	}
	if err := os.WriteFile(addrFile, []byte(sb.ln.Addr().String()+"\n"), 0o600); err != nil {
		logger.Warn("sandbox: remember its address", "error", err)
	}
	return sb, nil
}

// listenURL is the http URL of a listener (localhost for any address).
func listenURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

func (s *sandboxServer) serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *sandboxServer) shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

func (s *sandboxServer) close() error {
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return errors.Join(err, s.sb.Close())
}

// printSandbox writes the sandbox's URLs and endpoints.
func printSandbox(w io.Writer, base string, clients bool) {
	fmt.Fprintf(w, "  platform emulators (sandbox) at %s\n", base)
	fmt.Fprintf(w, "    posted so far:  %s/_sandbox/  (JSON: %s/_sandbox/state)\n", base, base)
	fmt.Fprintf(w, "    faults:         POST %s/_sandbox/faults {\"platform\",\"kind\":\"5xx|429|quota|reset|expire_token|revoke|slow_processing|reject\",\"count\"}\n", base)
	if clients {
		fmt.Fprintln(w, "    OAuth clients (id / secret), base URL for every platform's API and OAuth:")
		var env []string
		for _, d := range platforms.All() {
			c := sandbox.DefaultClient(d.ID)
			fmt.Fprintf(w, "      %-10s %s / %s\n", d.ID, c.ID, c.Secret)
			up := config.EnvPrefix + d.Env
			env = append(env, fmt.Sprintf("%s_CLIENT_ID=%s %s_CLIENT_SECRET=%s %s_BASE_URL=%s", up, c.ID, up, c.Secret, up, base))
		}
		fmt.Fprintf(w, "    to point `outpost serve` here:\n      %s\n", strings.Join(env, " \\\n      "))
	}
}

// runSandbox is `outpost sandbox`: the emulators alone, until interrupted.
func runSandbox(ctx context.Context, env *cli.Env, args []string) int {
	fs := newFlagSet(env, "sandbox")
	addr := fs.String("addr", "127.0.0.1:9900", "listen address, host:port")
	autoApprove := fs.Bool("auto-approve", false, "skip the consent page: authorize redirects at once")
	delay := fs.Duration("processing-delay", 0, "how long uploads stay processing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		return cli.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "outpost sandbox: unexpected argument %q\n", fs.Arg(0))
		return cli.ExitUsage
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	sb, err := startSandbox(*addr, sandbox.Options{AutoApprove: *autoApprove, ProcessingDelay: *delay}, logger)
	if err != nil {
		return fail(env, err)
	}
	defer sb.close()
	errc := make(chan error, 1)
	go func() { errc <- sb.serve() }()
	fmt.Fprintf(env.Stdout, "Outpost sandbox is running at %s (Ctrl-C to stop)\n", sb.url)
	printSandbox(env.Stdout, sb.url, true)
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	sb.shutdown(sctx)
	if err != nil {
		return fail(env, fmt.Errorf("sandbox: %w", err))
	}
	return cli.ExitOK
}
