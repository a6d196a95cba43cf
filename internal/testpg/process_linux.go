//go:build linux

package testpg

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"outpost/internal/waitfor"
)

// dirPrefix names the temporary directories, so that stale ones can be found.
const dirPrefix = "outpost-testpg-"

// process is a postgres server started by this test binary.
type process struct {
	dir    string // temporary root: data/, sock/, owner.pid, postgres.log
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	// durable keeps fsync and synchronous commit (Start's benchmarks).
	durable bool
}

// findBinDir returns the directory holding initdb and postgres: the newest
// Debian version under /usr/lib/postgresql, else the one on PATH.
func findBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(pgVersion(b), pgVersion(a)) })
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

// pgVersion returns the major version in a /usr/lib/postgresql/N/bin path.
func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startProcess initdbs a new cluster in a temporary directory and starts
// postgres on it. durable keeps PostgreSQL's durability settings and puts
// the cluster on disk rather than on the RAM disk.
func startProcess(ctx context.Context, bin string, durable bool) (*process, error) {
	sweepStale()

	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	base := baseDir()
	if durable {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	p := &process{dir: dir, durable: durable}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("write owner pid: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sock"), 0o700); err != nil {
		return nil, fmt.Errorf("create socket dir: %w", err)
	}
	if cred != nil {
		for _, d := range []string{dir, filepath.Join(dir, "sock")} {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("chown %s to postgres: %w", d, err)
			}
		}
	}

	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, tail(out))
	}

	// A free port can be taken between probing and binding; try a few.
	for attempt := 0; ; attempt++ {
		err = p.startPostgres(ctx, bin, cred)
		if err == nil {
			ok = true
			return p, nil
		}
		if attempt == 2 {
			return nil, err
		}
	}
}

// startPostgres starts the server on a free port and waits until it accepts
// connections.
func (p *process) startPostgres(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(p.dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	defer logFile.Close()

	args := []string{
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", filepath.Join(p.dir, "sock"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "shared_buffers=32MB",
	}
	if !p.durable {
		// Durability is worthless for a test's server; speed is not.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = p.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// If the test binary dies without running Stop (killed, timed out),
		// the kernel stops the server. Go sets this after the credential
		// change, which would otherwise clear it.
		Pdeathsig: syscall.SIGQUIT,
		Setpgid:   true,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	p.cmd, p.port = cmd, port
	p.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()

	err = waitfor.Until(60*time.Second, func() error {
		select {
		case <-p.exited:
			log, _ := os.ReadFile(logPath)
			return waitfor.Stop(fmt.Errorf("postgres exited at start: %s\n%s", cmd.ProcessState, tail(log)))
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(cctx, p.url().String())
		if err != nil {
			return err
		}
		_ = conn.Close(ctx)
		return nil
	})
	if err != nil {
		select {
		case <-p.exited:
			return err
		default:
		}
		_ = p.stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres not ready after 60s: %w\n%s", err, tail(log))
	}
	return nil
}

// url is the DSN of the maintenance database.
func (p *process) url() *url.URL {
	return &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
}

// stop asks postgres for a fast shutdown, kills it if that takes too long,
// and removes the directory.
func (p *process) stop() error {
	var errs []error
	if p.cmd != nil && p.cmd.Process != nil {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-p.exited:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
				errs = append(errs, errors.New("postgres did not stop within 15s: killed"))
			}
		}
	}
	if err := os.RemoveAll(p.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", p.dir, err))
	}
	return errors.Join(errs...)
}

// serverCredential returns the `postgres` OS user when running as root
// (postgres refuses to run as root), else nil: run as the current user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres OS user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse postgres uid: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse postgres gid: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// baseDir is where server directories go: /dev/shm when it is a usable
// tmpfs (a RAM disk makes CREATE DATABASE several times faster), else the
// temporary directory.
func baseDir() string {
	const shm = "/dev/shm"
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err == nil && uint64(st.Bavail)*uint64(st.Bsize) >= 1<<30 &&
		syscall.Access(shm, 2 /* W_OK */) == nil {
		return shm
	}
	return os.TempDir()
}

// sweepStale removes directories left by test binaries that died without
// stopping their server (the server itself died with them).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(baseDir(), dirPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			// Being created right now by another binary, or not ours.
			continue
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || alive(owner) || postmasterAlive(d) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// postmasterAlive reports whether the postmaster.pid in dir names a live
// process.
func postmasterAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(strings.TrimSpace(string(first)))
	return err == nil && alive(pid)
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// tail returns the end of a log for an error message.
func tail(b []byte) string {
	const n = 2048
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
