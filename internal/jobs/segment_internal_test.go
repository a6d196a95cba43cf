package jobs

import (
	"testing"
	"time"

	"outpost/internal/store"
)

// TestSegmentsDone: the export's progress over its parts weighs each
// part's percent by its length, with one ETA at the pace since the parts
// were queued.
func TestSegmentsDone(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(sec, pct float64) store.Segment { return store.Segment{Seconds: sec, Percent: pct, CreatedAt: t0} }
	for _, tc := range []struct {
		name    string
		segs    []store.Segment
		now     time.Duration
		wantPct float64
		wantETA time.Duration
	}{
		{"none", nil, time.Minute, 0, 0},
		{"not started", []store.Segment{seg(10, 0), seg(10, 0)}, time.Minute, 0, 0},
		{"equal halves", []store.Segment{seg(10, 100), seg(10, 0)}, time.Minute, 50, time.Minute},
		{"weighed by length", []store.Segment{seg(30, 50), seg(10, 100)}, 10 * time.Second, 62.5, 6 * time.Second},
		{"all done", []store.Segment{seg(5, 100), seg(5, 100), seg(2.5, 100)}, time.Minute, 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pct, eta := segmentsDone(tc.segs, t0.Add(tc.now))
			if pct != tc.wantPct || eta != tc.wantETA {
				t.Errorf("segmentsDone = %v %%, ETA %v; want %v %%, %v", pct, eta, tc.wantPct, tc.wantETA)
			}
		})
	}
}

// TestLiveNodes counts the nodes heard from since a time.
func TestLiveNodes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nodes := []store.Node{{ID: "a", HeartbeatAt: t0.Add(-3 * time.Minute)}, {ID: "b", HeartbeatAt: t0.Add(-time.Second)},
		{ID: "c", HeartbeatAt: t0}}
	if n := liveNodes(nodes, t0.Add(-2*time.Minute)); n != 2 {
		t.Errorf("liveNodes = %d, want 2", n)
	}
}
