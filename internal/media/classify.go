package media

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"outpost/internal/errcode"
)

// ExitError is an ffmpeg or ffprobe run that failed. It travels inside an
// *errcode.Error (as its Err) so that the one-line message stays short while
// the end of the log stays available to whoever needs it (logs, support).
type ExitError struct {
	// Program is "ffmpeg" or "ffprobe".
	Program string
	// ExitCode is the process exit status; -1 when a signal ended it.
	ExitCode int
	// Stderr is the last few KiB of the process's stderr.
	Stderr string
	// Err is the error from os/exec, when there is one.
	Err error
}

func (e *ExitError) Error() string {
	switch {
	case e.ExitCode < 0:
		// Which signal tells a crash (segmentation fault) from a kill
		// (the OOM killer, an operator): ffmpeg at -loglevel error says
		// nothing either way.
		var ee *exec.ExitError
		if errors.As(e.Err, &ee) && ee.ProcessState != nil {
			return e.Program + " was killed by a signal (" + ee.ProcessState.String() + ")"
		}
		if e.Err != nil {
			// No exit status: waiting for it failed (exec.ErrWaitDelay).
			return e.Program + ": " + e.Err.Error()
		}
		return e.Program + " was killed by a signal"
	case e.ExitCode == 0:
		// ffmpeg 5.1 exits 0 after failing to write an output's trailer.
		return e.Program + " exited with status 0 after a write error"
	}
	return fmt.Sprintf("%s exited with status %d", e.Program, e.ExitCode)
}

func (e *ExitError) Unwrap() error { return e.Err }

// rule maps ffmpeg log text to a code. Rules are tried in order and the first
// rule with a matching line wins, whatever the line's position: a truncated
// MP4 logs "moov atom not found" before the vaguer "Invalid data found", and
// the first is the better diagnosis.
type rule struct {
	text string
	code errcode.Code
	// unless vetoes the rule when it appears anywhere in the log.
	unless string
	// path is set for "<path>: <reason>" lines, where the path tells an input
	// from an output; inCode is the code when the path is an input.
	path   bool
	inCode errcode.Code
}

// rules are ffmpeg 5.1's messages, checked against real runs (see
// classify_test.go).
func rules() []rule {
	return []rule{
		{text: "No space left on device", code: errcode.DiskFull},
		{text: "Unknown encoder", code: errcode.EncoderMissing},
		{text: "Encoder not found", code: errcode.EncoderMissing},
		// A text file named .mp4 is probed as MP4 "with low score", then
		// has no moov either: that file is unreadable, not truncated.
		{text: "moov atom not found", code: errcode.SourceTruncated, unless: "misdetection possible"},
		{text: "partial file", code: errcode.SourceTruncated},
		{text: "Truncating packet", code: errcode.SourceTruncated},
		{text: "Invalid data found when processing input", code: errcode.SourceUnreadable},
		// An MP4 cut inside its moov: "error reading header", then
		// "<path>: End of file".
		{text: ": End of file", code: errcode.SourceTruncated},
		// ffmpeg prints the same "<path>: <reason>" for inputs and outputs.
		{text: "No such file or directory", path: true, code: errcode.OutputWriteFailed, inCode: errcode.SourceNotFound},
		{text: "Permission denied", path: true, code: errcode.OutputWriteFailed, inCode: errcode.SourceUnreadable},
		{text: "Is a directory", path: true, code: errcode.OutputWriteFailed, inCode: errcode.SourceUnreadable},
		{text: "Read-only file system", code: errcode.OutputWriteFailed},
		{text: "Could not open file", code: errcode.OutputWriteFailed},
		{text: "Error writing trailer", code: errcode.OutputWriteFailed},
		{text: "Error closing file", code: errcode.OutputWriteFailed},
	}
}

// Classify maps the end of an ffmpeg or ffprobe log and the exit status to a
// stable error code. The Message is the single most telling log line; the
// caller attaches the whole tail (Run and Probe put an *ExitError in Err).
//
// Without the argv it cannot tell an input from an output: "No such file or
// directory" is taken to be the source (SourceNotFound) and "Permission
// denied" an output (OutputWriteFailed). Run, which knows the inputs, tells
// them apart.
func Classify(stderr string, exitCode int) *errcode.Error {
	return classify(stderr, exitCode, nil)
}

// classify is Classify knowing the input paths (the values of -i); inputs nil
// means unknown.
func classify(stderr string, exitCode int, inputs []string) *errcode.Error {
	lines := logLines(stderr)
	for _, r := range rules() {
		if r.unless != "" && strings.Contains(stderr, r.unless) {
			continue
		}
		for _, l := range lines {
			if !strings.Contains(l, r.text) {
				continue
			}
			code := r.code
			if r.path {
				code = pathCode(l, r, inputs)
			}
			return &errcode.Error{Code: code, Message: cleanLine(l)}
		}
	}
	msg := ""
	for _, l := range lines {
		if looksLikeError(l) {
			msg = cleanLine(l)
			break
		}
	}
	if msg == "" && len(lines) > 0 {
		msg = cleanLine(lines[len(lines)-1])
	}
	if msg == "" {
		if exitCode < 0 {
			msg = "killed by a signal (out of memory?)"
		} else {
			msg = fmt.Sprintf("exited with status %d and no message", exitCode)
		}
	}
	return &errcode.Error{Code: errcode.RenderFailed, Message: msg}
}

// pathCode decides a "<path>: <reason>" line: inputs nil (unknown) means
// the rule's default for "No such file" (the source) and its output code for
// the rest.
func pathCode(line string, r rule, inputs []string) errcode.Code {
	path, _, ok := cutLast(line, ": "+r.text)
	if inputs == nil {
		if r.text == "No such file or directory" {
			return r.inCode
		}
		return r.code
	}
	if ok {
		for _, in := range inputs {
			if in == path {
				return r.inCode
			}
		}
	}
	return r.code
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// isGeneric reports ffmpeg's summaries of an error already logged above
// them; they never name the cause.
func isGeneric(l string) bool {
	for _, g := range []string{
		"Conversion failed!",
		"Error while processing the decoded data",
		"Error reinitializing filters!",
		"Failed to inject frame into filter network",
		"Error splitting the argument list",
		"Exiting normally, received signal",
	} {
		if strings.Contains(l, g) {
			return true
		}
	}
	return false
}

// looksLikeError picks the cause line when no rule matched: ffmpeg logs the
// cause first and its consequences after, so the first such line wins.
func looksLikeError(l string) bool {
	if isGeneric(l) {
		return false
	}
	low := strings.ToLower(l)
	for _, k := range []string{
		"error", "invalid", "unknown", "unrecognized", "no such", "not found",
		"failed", "cannot", "can't", "could not", "unable", "not supported",
		"unsupported", "incorrect", "not divisible", "out of memory", "too many",
		"mismatch", "must be", "does not",
	} {
		if strings.Contains(low, k) {
			return true
		}
	}
	return false
}

// logLines splits a log into trimmed, non-empty lines. ffmpeg ends progress
// lines with \r, so both separators count.
func logLines(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	out := f[:0]
	for _, l := range f {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// maxMessage bounds an error message: it is shown to people and stored.
const maxMessage = 300

// absPath is an absolute path in a log line, optionally as a file: URL,
// where a word starts (not the "/2" of "1/2"); it ends at white space, a
// colon or a quote.
var absPath = regexp.MustCompile(`(^|[\s'"=(\[])(?:file:)?(/[^\s:'"]+)`)

// cleanLine turns "[libx264 @ 0x55d1c0] width not divisible by 2" into
// "libx264: width not divisible by 2": the pointer is noise to a reader.
// Absolute paths become their base names: in the service they are the
// server's, which users must not see.
func cleanLine(l string) string {
	l = absPath.ReplaceAllStringFunc(l, func(m string) string {
		sub := absPath.FindStringSubmatch(m)
		return sub[1] + filepath.Base(sub[2])
	})
	if strings.HasPrefix(l, "[") {
		if end := strings.Index(l, "] "); end > 0 {
			name := l[1:end]
			if at := strings.Index(name, " @ "); at >= 0 {
				name = name[:at]
			}
			l = name + ": " + l[end+2:]
		}
	}
	l = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, l)
	if len(l) > maxMessage {
		l = strings.ToValidUTF8(l[:maxMessage], "") + "…"
	}
	return l
}
