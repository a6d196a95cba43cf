package jobs

import (
	"testing"
	"time"

	"outpost/internal/store"
)

// TestSegmentsDone: the export's progress over its parts weighs each
// part's percent by its length; the parts were queued when the first was.
func TestSegmentsDone(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	// A part of sec seconds queued sec seconds after t0.
	seg := func(sec, pct float64) store.Segment {
		return store.Segment{Seconds: sec, Percent: pct, CreatedAt: at(sec)}
	}
	for _, tc := range []struct {
		name            string
		segs            []store.Segment
		wantDone, total float64
		queued          time.Time
	}{
		{"none", nil, 0, 0, time.Time{}},
		{"not started", []store.Segment{seg(10, 0), seg(10, 0)}, 0, 20, at(10)},
		{"equal halves", []store.Segment{seg(10, 100), seg(10, 0)}, 10, 20, at(10)},
		{"weighed by length", []store.Segment{seg(30, 50), seg(10, 100)}, 25, 40, at(10)},
		{"all done", []store.Segment{seg(5, 100), seg(5, 100), seg(2.5, 100)}, 12.5, 12.5, at(2.5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done, total, queued := segmentsDone(tc.segs)
			if done != tc.wantDone || total != tc.total || !queued.Equal(tc.queued) {
				t.Errorf("segmentsDone = %v of %v s, queued %v; want %v of %v, %v", done, total, queued, tc.wantDone, tc.total, tc.queued)
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
