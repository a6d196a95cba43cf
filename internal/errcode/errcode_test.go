package errcode

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"outpost/internal/golden"
)

const docPath = "../../docs/errors.md"

// doc renders docs/errors.md from Remedies, so the two never drift.
func doc() []byte {
	var b strings.Builder
	b.WriteString("# Error codes\n\n")
	b.WriteString("Every failure Outpost reports — on the CLI (one line, `outpost: CODE: message — remedy: …`,\n")
	b.WriteString("and `error.code` in `--json`), in the API (`{\"error\":{\"code\",\"message\"}}`) and in the UI — carries\n")
	b.WriteString("one of these stable codes. Codes are never renamed. Platform rule failures also name the rule\n")
	b.WriteString("(`max_duration`, `max_size`, `aspect_ratio`, …; see `outpost presets show ID`).\n\n")
	b.WriteString("Generated from `internal/errcode` by `go test ./internal/errcode -update`.\n\n")
	b.WriteString("| code | HTTP status | what to do |\n|---|---|---|\n")
	codes := make([]string, 0, len(Remedies))
	for c := range Remedies {
		codes = append(codes, string(c))
	}
	slices.Sort(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", c, Status(Code(c)), strings.ReplaceAll(Remedies[Code(c)], "|", "\\\\|"))
	}
	return []byte(b.String())
}

func TestDocs(t *testing.T) {
	golden.Check(t, docPath, doc(), "run go test ./internal/errcode -update")
	for c, r := range Remedies {
		if r == "" {
			t.Errorf("%s has no remedy", c)
		}
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	base := New(SourceTruncated, "moov atom not found")
	wrapped := fmt.Errorf("probe: %w", base)
	for _, tc := range []struct {
		err  error
		want Code
	}{
		{nil, ""},
		{base, SourceTruncated},
		{wrapped, SourceTruncated},
		{errors.New("boom"), Internal},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if e := As(wrapped); e.RemedyText() != Remedies[SourceTruncated] {
		t.Errorf("RemedyText = %q", e.RemedyText())
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	// Every code has a status, so none falls through to 500 by accident,
	// except those that are server failures.
	server := []Code{Internal, RenderFailed, OutputWriteFailed, CheckFailed, ConfigInvalid, MigrationFailed,
		SecretKeyMismatch, SecretKeyRequired, HWEncoderFailed}
	for c := range Remedies {
		if st := Status(c); st >= 500 && !slices.Contains(server, c) && statuses[c] == 0 {
			t.Errorf("code %s maps to %d", c, st)
		}
	}
	for c := range statuses {
		if _, ok := Remedies[c]; !ok {
			t.Errorf("status for %s, which has no remedy", c)
		}
	}
	if Status(InvalidOption) != 400 || Status("no_such_code") != 500 {
		t.Errorf("invalid_option %d, unknown %d", Status(InvalidOption), Status("no_such_code"))
	}
}

func TestLine(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 127.0.0.1:1:\n\tconnect: connection refused")
	for _, tc := range []struct {
		name      string
		err       error
		withCause bool
		want      string
	}{
		{"message only", New(SourceEmpty, "a.mp4 is empty"), false,
			"source_empty: a.mp4 is empty — remedy: " + Remedies[SourceEmpty]},
		{"cause hidden", Wrap(DBUnavailable, cause, "open postgres database"), false,
			"database_unavailable: open postgres database — remedy: " + Remedies[DBUnavailable]},
		{"cause on one line", Wrap(DBUnavailable, cause, "open postgres database"), true,
			"database_unavailable: open postgres database: dial tcp 127.0.0.1:1: connect: connection refused — remedy: " + Remedies[DBUnavailable]},
		{"no message: the cause", &Error{Code: ConfigInvalid, Err: cause}, false,
			"config_invalid: dial tcp 127.0.0.1:1: connect: connection refused — remedy: " + Remedies[ConfigInvalid]},
		{"own remedy", &Error{Code: ConfigInvalid, Message: "port 80 is taken", Remedy: "Pick another port."}, false,
			"config_invalid: port 80 is taken — remedy: Pick another port."},
		{"plain error", fmt.Errorf("boom"), true, "internal: boom — remedy: " + Remedies[Internal]},
	} {
		if got := Line(tc.err, tc.withCause); got != tc.want {
			t.Errorf("%s: Line = %q, want %q", tc.name, got, tc.want)
		}
	}
}
