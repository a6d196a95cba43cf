package media

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
)

// ffmpegContext is the "[h264_nvenc @ 0x5639178b7400] " a log line starts
// with: an address, noise in a message.
var ffmpegContext = regexp.MustCompile(`^\[[^\]]* @ 0x[0-9a-f]+\] `)

// testEncodes caches TestEncode's answers for the life of the process: a
// driver or device does not appear or vanish while Outpost runs, and the
// probe costs a process start and a device open.
var testEncodes sync.Map // ffmpeg binary + argv → *testEncode

type testEncode struct {
	once sync.Once
	err  error
}

// TestEncode runs ffmpeg once with args (a one-frame test encode to the
// null muxer, e.g. render.ProbeArgs) and reports whether it worked: the way
// to tell whether a hardware encoder that ffmpeg was built with has its
// driver, device and library here. The answer is cached per process; a run
// cut short by ctx is not cached. The error is the last line ffmpeg logged
// ("Cannot load libcuda.so.1").
func (r *Runner) TestEncode(ctx context.Context, args []string) error {
	key := r.bin() + "\x00" + strings.Join(args, "\x00")
	v, _ := testEncodes.LoadOrStore(key, &testEncode{})
	te := v.(*testEncode)
	var ran bool
	te.once.Do(func() {
		ran = true
		te.err = r.testEncode(ctx, args)
	})
	if ran && ctx.Err() != nil {
		// Not an answer about the encoder: ask again next time.
		testEncodes.CompareAndDelete(key, te)
		return ctx.Err()
	}
	return te.err
}

func (r *Runner) testEncode(ctx context.Context, args []string) error {
	_, err := r.output(ctx, args...)
	if err == nil {
		return nil
	}
	var xe *ExitError
	if errors.As(err, &xe) {
		lines := strings.Split(strings.TrimSpace(xe.Stderr), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			// ffmpeg's closing lines say only that the encoder did not
			// open; the cause is above them.
			l := ffmpegContext.ReplaceAllString(strings.TrimSpace(lines[i]), "")
			if l != "" && !strings.HasPrefix(l, "Error initializing output stream") && l != "Conversion failed!" &&
				!strings.HasPrefix(l, "Error parsing global options") {
				return errors.New(l)
			}
		}
	}
	return err
}
