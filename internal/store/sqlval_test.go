package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCursor_roundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	c, err := decodeCursor(encodeCursor(at, "exp_abc"))
	if err != nil || !c.at.Equal(at) || c.id != "exp_abc" {
		t.Errorf("round trip = %+v, %v", c, err)
	}
	for _, bad := range []string{"", "%%%", "MTIz", "eC5leHA"} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("decodeCursor(%q) err = %v, want ErrInvalidCursor", bad, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(time.Unix(1, 2000), "exp_x"))
	f.Add("MTIz")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("error %v is not ErrInvalidCursor", err)
			}
			return
		}
		if c.id == "" {
			t.Fatal("decoded a cursor without id")
		}
	})
}

// TestSQLiteTimeLayout checks that stored SQLite times sort as text in time
// order, which keyset pagination and expiry queries rely on.
func TestSQLiteTimeLayout(t *testing.T) {
	t.Parallel()
	q := &Queries{engine: SQLite}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", -5*3600))
	var times []time.Time
	var texts []string
	for _, d := range []time.Duration{0, time.Microsecond, 10 * time.Microsecond, time.Millisecond,
		100 * time.Millisecond, time.Second, time.Second + time.Microsecond, time.Hour, 24 * time.Hour} {
		times = append(times, base.Add(d))
		texts = append(texts, q.timeArg(base.Add(d)).(string))
	}
	if !slices.IsSorted(texts) {
		t.Errorf("texts not in time order: %q", texts)
	}
	for i, s := range texts {
		got, err := parseTimeText(s)
		if err != nil || !got.Equal(times[i]) || got.Location() != time.UTC {
			t.Errorf("parse %q = %v, %v; want %v UTC", s, got, err, times[i])
		}
		if !strings.HasSuffix(s, "+00:00") || len(s) != len(texts[0]) {
			t.Errorf("%q: want fixed width UTC", s)
		}
	}
	if q.timeArg(time.Time{}) != nil {
		t.Error("zero time is not NULL")
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := NewID(PrefixExport)
		if !HasPrefix(id, PrefixExport) || len(id) != len("exp_")+24 || strings.ContainsAny(id, "+/=") || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestLikeContains(t *testing.T) {
	t.Parallel()
	if got := likeContains(`50%_OFF\x`); got != `%50\%\_off\\x%` {
		t.Errorf("likeContains = %q", got)
	}
}
