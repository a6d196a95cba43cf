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
	b.WriteString("Every failure Outpost reports — on the CLI (`outpost: CODE: message` plus a remedy line,\n")
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
		SecretKeyMismatch, SecretKeyRequired}
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
