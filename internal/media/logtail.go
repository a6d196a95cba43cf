package media

import (
	"bytes"
	"strings"
)

// tailSize is how much of stderr an error keeps: enough for the cause and
// its consequences, small enough to store with every failed export.
const tailSize = 8 << 10

// maxLine bounds the line being scanned, so a process that never writes a
// newline cannot grow memory.
const maxLine = 4 << 10

// logTail is an io.Writer for a process's stderr that keeps the last max
// bytes, and remembers the first line that reports a failed write: ffmpeg 5.1
// logs "Error writing trailer of out.mp4: No space left on device" and still
// exits 0, so the exit status alone would call a broken file a success.
//
// It is written by the one goroutine os/exec copies stderr with and read
// after Wait, so it needs no lock.
type logTail struct {
	max          int
	buf          []byte
	cut          bool // bytes were dropped from the front
	line         []byte
	writeFailure string

	// outTime, when set, is how far the output has got (seconds); each
	// decode error line is noted with it in decodeErrors.
	outTime      func() float64
	decodeErrors []float64
	decodeCount  int
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

func (t *logTail) Write(p []byte) (int, error) {
	n := len(p)
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		// Amortised: copy down only when twice the size.
		n := copy(t.buf, t.buf[len(t.buf)-t.max:])
		t.buf = t.buf[:n]
		t.cut = true
	}
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			t.appendLine(p)
			break
		}
		t.appendLine(p[:i])
		t.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (t *logTail) appendLine(p []byte) {
	if room := maxLine - len(t.line); room > 0 {
		t.line = append(t.line, p[:min(room, len(p))]...)
	}
}

func (t *logTail) endLine() {
	if len(t.line) > 0 && (t.writeFailure == "" || t.outTime != nil) {
		l := string(t.line)
		if t.writeFailure == "" && isWriteFailure(l) {
			t.writeFailure = strings.TrimSpace(l)
		}
		if t.outTime != nil && isDecodeError(l) {
			t.decodeCount++
			if len(t.decodeErrors) < maxDecodeErrors {
				t.decodeErrors = append(t.decodeErrors, t.outTime())
			}
		}
	}
	t.line = t.line[:0]
}

// maxDecodeErrors bounds the decode error times kept: a source damaged
// throughout must not grow memory with its length.
const maxDecodeErrors = 10_000

// isDecodeError reports lines where a decoder met damaged input: ffmpeg's
// own "Error while decoding stream #0:0: …" and "corrupt decoded frame",
// and H.264's error concealment, which decodes on and says only this.
func isDecodeError(l string) bool {
	return strings.Contains(l, "Error while decoding stream #") ||
		strings.Contains(l, "corrupt decoded frame in stream") ||
		strings.Contains(l, "error while decoding MB") ||
		(strings.Contains(l, "concealing ") && strings.Contains(l, " errors in "))
}

// isWriteFailure reports lines ffmpeg logs about an output it could not
// finish while still exiting 0.
func isWriteFailure(l string) bool {
	return strings.Contains(l, "Error writing trailer") ||
		strings.Contains(l, "Error closing file") ||
		strings.Contains(l, "No space left on device")
}

// String returns the kept tail, starting at a line boundary when the front
// was cut.
func (t *logTail) String() string {
	b, cut := t.buf, t.cut
	if len(b) > t.max {
		b, cut = b[len(b)-t.max:], true
	}
	if cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
