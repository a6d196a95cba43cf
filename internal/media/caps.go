package media

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"outpost/internal/errcode"
)

// MinMajor and MinMinor are the oldest ffmpeg Outpost runs on: 5.1 is
// Debian 12's, and the first with -fps_mode.
const (
	MinMajor = 5
	MinMinor = 1
)

// Caps is what an ffmpeg binary can do, probed once at start.
type Caps struct {
	// Version is ffmpeg's own version string, e.g. "5.1.9-0+deb12u1" or
	// "N-112233-gabcdef" for a git build.
	Version string
	// Major and Minor are parsed from Version; both 0 for a git build, whose
	// version says nothing about its age.
	Major, Minor int
	// Encoders and Filters are the names ffmpeg -encoders and -filters list.
	Encoders map[string]bool
	Filters  map[string]bool
}

// HasEncoder reports whether ffmpeg has the encoder (e.g. "libx264").
func (c Caps) HasEncoder(name string) bool { return c.Encoders[name] }

// HasFilter reports whether ffmpeg has the filter (e.g. "loudnorm").
func (c Caps) HasFilter(name string) bool { return c.Filters[name] }

// Require returns an EncoderMissing error naming every encoder ffmpeg lacks,
// or nil when it has them all.
func (c Caps) Require(encoders ...string) error {
	var missing []string
	for _, e := range encoders {
		if !c.HasEncoder(e) && !slices.Contains(missing, e) {
			missing = append(missing, e)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errcode.New(errcode.EncoderMissing, "ffmpeg %s has no encoder %s", c.Version, strings.Join(missing, ", "))
}

// Capabilities asks ffmpeg for its version, encoders and filters (three
// short runs). A missing binary, or one older than 5.1, is FFmpegMissing; for
// an old one the Caps are returned along with the error.
func (r *Runner) Capabilities(ctx context.Context) (Caps, error) {
	var c Caps
	out, err := r.output(ctx, "-version")
	if err != nil {
		return c, err
	}
	c.Version, c.Major, c.Minor, err = ParseVersion(string(out))
	if err != nil {
		return c, errcode.Wrap(errcode.FFmpegMissing, err, fmt.Sprintf("%s is not a usable ffmpeg", r.bin()))
	}
	if out, err = r.output(ctx, "-encoders"); err != nil {
		return c, err
	}
	c.Encoders = parseCodecList(string(out))
	if out, err = r.output(ctx, "-filters"); err != nil {
		return c, err
	}
	c.Filters = parseFilterList(string(out))
	return c, c.checkVersion()
}

// checkVersion refuses releases older than MinMajor.MinMinor. Git builds
// (Major 0) pass: they are built from recent sources far more often than not.
func (c Caps) checkVersion() error {
	if c.Major != 0 && (c.Major < MinMajor || c.Major == MinMajor && c.Minor < MinMinor) {
		return errcode.New(errcode.FFmpegMissing, "ffmpeg %s is too old: Outpost needs %d.%d or newer", c.Version, MinMajor, MinMinor)
	}
	return nil
}

// output runs ffmpeg -hide_banner with args and returns its stdout.
func (r *Runner) output(ctx context.Context, args ...string) ([]byte, error) {
	bin := r.bin()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-hide_banner", "-nostdin"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = CancelGrace
	var stdout bytes.Buffer
	stderr := newLogTail(tailSize)
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	startErr, err := r.Children.run(cmd)
	if startErr != nil {
		return nil, startError(ctx, "ffmpeg", bin, startErr)
	}
	if err != nil {
		code := exitCode(err)
		if ctx.Err() != nil {
			return nil, canceled(ctx, "ffmpeg", code, stderr, err)
		}
		return nil, &errcode.Error{
			Code:    errcode.FFmpegMissing,
			Message: fmt.Sprintf("ffmpeg %s failed (%s)", strings.Join(args, " "), bin),
			Err:     &ExitError{Program: "ffmpeg", ExitCode: code, Stderr: stderr.String(), Err: err},
		}
	}
	return stdout.Bytes(), nil
}

// ParseVersion reads the first line of "ffmpeg -version", e.g.
// "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg
// developers". Release builds give major and minor ("n6.1.1" too); git
// builds ("N-112233-g…", "git-2024-…") give 0, 0 and no error.
func ParseVersion(out string) (version string, major, minor int, err error) {
	line, _, _ := strings.Cut(out, "\n")
	f := strings.Fields(line)
	if len(f) < 3 || f[1] != "version" {
		return "", 0, 0, fmt.Errorf("parse ffmpeg version: unexpected first line %q", truncate(line, 80))
	}
	version = f[2]
	v := strings.TrimPrefix(version, "n")
	majorStr, rest, _ := strings.Cut(v, ".")
	major, err1 := strconv.Atoi(majorStr)
	if err1 != nil || major < 0 {
		return version, 0, 0, nil
	}
	i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if i >= 0 {
		rest = rest[:i]
	}
	minor, _ = strconv.Atoi(rest) // "7" is 7.0
	return version, major, minor, nil
}

// parseCodecList reads "ffmpeg -encoders": a legend, a " ------" line, then
// " V....D libx264   description".
func parseCodecList(out string) map[string]bool {
	names := map[string]bool{}
	_, list, ok := strings.Cut(out, "------")
	if !ok {
		return names
	}
	for _, l := range strings.Split(list, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && len(f[0]) == 6 {
			names[f[1]] = true
		}
	}
	return names
}

// parseFilterList reads "ffmpeg -filters": a legend, then
// " ..C scale   V->V   description".
func parseFilterList(out string) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && isFilterFlags(f[0]) && strings.Contains(f[2], "->") {
			names[f[1]] = true
		}
	}
	return names
}

func isFilterFlags(s string) bool {
	return len(s) == 3 &&
		(s[0] == 'T' || s[0] == '.') &&
		(s[1] == 'S' || s[1] == '.') &&
		(s[2] == 'C' || s[2] == '.')
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
