package eta

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// timeline reports a render of total media seconds that writes at speed
// after a start-up of startup wall seconds during which it writes nothing
// but the first frame, every 100 ms.
func timeline(total, speed, startup float64) (outs []float64, ats []time.Time) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for w := 0.0; ; w += 0.1 {
		out := 0.04
		if w > startup {
			out = math.Min(total, 0.04+(w-startup)*speed)
		}
		outs, ats = append(outs, out), append(ats, t0.Add(time.Duration(w*float64(time.Second))))
		if out >= total {
			return outs, ats
		}
	}
}

// at returns the report index where the output first reaches share of total.
func at(outs []float64, total, share float64) int {
	for i, o := range outs {
		if o >= share*total {
			return i
		}
	}
	return len(outs) - 1
}

func TestEstimator_Observe(t *testing.T) {
	t.Parallel()
	const total, speed = 60.0, 0.5 // 120 s of rendering after 6 s of start-up
	outs, ats := timeline(total, speed, 6)
	truth := func(i int) float64 { return ats[len(ats)-1].Sub(ats[i]).Seconds() }
	for _, tc := range []struct {
		name  string
		prior float64
		share float64
		// the estimate must be within tol of the truth (relative)
		tol float64
	}{
		{"no prior, 10 %: the measured speed", 0, 0.10, 0.02},
		{"no prior, 50 %", 0, 0.50, 0.02},
		{"right prior, 10 %", speed, 0.10, 0.02},
		{"prior 40 % fast, 10 %: blended toward the measurement", speed * 1.4, 0.10, 0.30},
		{"prior 40 % fast, 50 %: the measurement dominates", speed * 1.4, 0.50, 0.12},
	} {
		e := &Estimator{Total: total, Prior: tc.prior}
		i := at(outs, total, tc.share)
		var got time.Duration
		var ok bool
		for k := 0; k <= i; k++ {
			got, ok = e.Observe(outs[k], ats[k])
		}
		if !ok {
			t.Errorf("%s: no estimate", tc.name)
			continue
		}
		if err := got.Seconds()/truth(i) - 1; math.Abs(err) > tc.tol {
			t.Errorf("%s: estimate %.1f s, truth %.1f s (error %+.0f %%, tolerance %.0f %%)", tc.name, got.Seconds(), truth(i), 100*err, 100*tc.tol)
		}
	}
	// ffmpeg's estimate (speed since the start) at 10 % is the one this
	// package replaces: 6 s of start-up in 18 s make it 50 % too long.
	i := at(outs, total, 0.10)
	naive := (total - outs[i]) / (outs[i] / ats[i].Sub(ats[0]).Seconds())
	if err := naive/truth(i) - 1; err < 0.3 {
		t.Errorf("the timeline does not show the start-up problem: naive error %+.0f %%", 100*err)
	}
}

func TestEstimator_beforeWarmup(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	e := &Estimator{Total: 100}
	if _, ok := e.Observe(0.5, t0); ok {
		t.Error("an estimate with nothing to go on")
	}
	e = &Estimator{Total: 100, Prior: 2}
	if left, ok := e.Observe(0.5, t0); !ok || left != time.Duration(99.5/2*float64(time.Second)) {
		t.Errorf("with a prior only: %v, %v; want 49.75 s", left, ok)
	}
	if _, ok := (&Estimator{}).Observe(1, t0); ok {
		t.Error("an estimate without a total")
	}
}

func TestEstimator_Speed(t *testing.T) {
	t.Parallel()
	outs, ats := timeline(30, 2, 3)
	e := &Estimator{Total: 30}
	for i := range outs {
		e.Observe(outs[i], ats[i])
	}
	if s := e.Speed(); math.Abs(s-2) > 0.05 {
		t.Errorf("Speed = %.3f, want 2 (after the warm-up)", s)
	}
	if s := (&Estimator{}).Speed(); s != 0 {
		t.Errorf("Speed of no reports = %v", s)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "history.json")
	h, err := Load(path)
	if err != nil || h.Prior("k") != 0 {
		t.Fatalf("Load of no file = %v, %v", h, err)
	}
	k := Key("1920x1080@30", "tiktok:hd")
	h.Record(k, 2)
	h.Record(k, 1) // 0.3·1 + 0.7·2
	h.Record(k, 0) // ignored
	if p := h.Prior(k); math.Abs(p-1.7) > 1e-9 {
		t.Errorf("Prior = %v, want 1.7", p)
	}
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, %v; want mode 0600", st, err)
	}
	h2, err := Load(path)
	if err != nil || math.Abs(h2.Prior(k)-1.7) > 1e-9 || h2.Prior("other") != 0 {
		t.Errorf("after Save and Load: %v, %v", h2, err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Error("Load of a damaged file: no error")
	}
	// The least used kind goes when the file is full.
	var full History
	full.Record("often", 1)
	full.Record("often", 1)
	for i := range maxKinds {
		full.Record(Key("k", string(rune('a'+i%26)), time.Duration(i).String()), 1)
	}
	if full.Prior("often") == 0 || len(full.kinds) > maxKinds {
		t.Errorf("%d kinds kept, the most used one kept: %v", len(full.kinds), full.Prior("often") != 0)
	}
}
