package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/media"
)

// blobCheckTimeout bounds the start-up check of blob storage (an S3
// endpoint that does not answer is retried by the SDK).
const blobCheckTimeout = 20 * time.Second

// checkTools runs ffmpeg and ffprobe once before anything is opened: the
// API probes every upload with ffprobe, workers render with ffmpeg.
func checkTools(ctx context.Context, cfg *config.Config, http bool, runner *media.Runner, prober *media.Prober) error {
	if cfg.Workers > 0 {
		if _, err := runner.Capabilities(ctx); err != nil {
			return err
		}
	}
	if cfg.Workers > 0 || http {
		if err := prober.Check(ctx); err != nil {
			return err
		}
	}
	return nil
}

// checkDataDir makes the data dir (0700) and checks that a file can be
// written in it, so that an unusable one is named as such rather than as
// the first file that fails in it.
func checkDataDir(dir string) error {
	bad := func(err error) error {
		return &errcode.Error{
			Code:    errcode.ConfigInvalid,
			Message: fmt.Sprintf("data dir %s (OUTPOST_DATA_DIR, --data-dir) is not a folder Outpost can write", dir),
			Remedy:  "Point OUTPOST_DATA_DIR (--data-dir) at a folder this user may create and write, or fix the folder's owner and permissions.",
			Err:     err,
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return bad(err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return bad(err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return bad(err)
	}
	return nil
}

// listenError says what a failed listen means for the person starting the
// server: a port in use is the usual one.
func listenError(addr string, err error) error {
	e := &errcode.Error{Code: errcode.ConfigInvalid, Err: err,
		Message: "cannot listen on " + addr + " (OUTPOST_LISTEN, --listen)"}
	if errors.Is(err, syscall.EADDRINUSE) {
		e.Message = addr + " (OUTPOST_LISTEN, --listen) is already in use by another program"
		e.Remedy = "Stop the program using that port (another Outpost?), or set OUTPOST_LISTEN (--listen) to a free address such as 127.0.0.1:8081."
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		e.Remedy = "Set OUTPOST_LISTEN (--listen) to host:port with a host this machine has, such as 127.0.0.1:8080 or :8080."
	}
	return e
}
