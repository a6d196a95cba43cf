package media

import (
	"fmt"
	"strings"
	"testing"
)

func TestLogTail(t *testing.T) {
	t.Parallel()
	tail := newLogTail(100)
	for i := range 1000 {
		fmt.Fprintf(tail, "line %d\n", i)
	}
	got := tail.String()
	if len(got) > 100 || !strings.HasPrefix(got, "line ") || !strings.HasSuffix(got, "line 999\n") {
		t.Errorf("tail = %q", got)
	}
	if cap(tail.buf) > 1000 {
		t.Errorf("buffer grew to %d", cap(tail.buf))
	}
	if tail.writeFailure != "" {
		t.Errorf("writeFailure = %q", tail.writeFailure)
	}
}

func TestLogTail_short(t *testing.T) {
	t.Parallel()
	tail := newLogTail(100)
	fmt.Fprint(tail, "one\ntwo")
	if got := tail.String(); got != "one\ntwo" {
		t.Errorf("tail = %q", got)
	}
}

// The write-failure line is found even when split across writes and long
// since pushed out of the tail.
func TestLogTail_writeFailure(t *testing.T) {
	t.Parallel()
	tail := newLogTail(64)
	for _, chunk := range []string{"frame=1\r", "Error writing tr", "ailer of /dev/full: No space ", "left on device\n", "Error closing file /dev/full\n"} {
		if n, err := tail.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	fmt.Fprint(tail, strings.Repeat("[libx264 @ 0x1] stats\n", 20))
	if want := "Error writing trailer of /dev/full: No space left on device"; tail.writeFailure != want {
		t.Errorf("writeFailure = %q, want %q", tail.writeFailure, want)
	}
	if strings.Contains(tail.String(), "trailer") {
		t.Errorf("tail should have lost the line: %q", tail.String())
	}
}
