// Package eta estimates the time left of a render from its progress
// reports, early on too.
//
// ffmpeg's own estimate divides what is left by its speed since the start.
// Early in a render that speed is mostly start-up: measured here, a 1080p
// render to three targets wrote its first second of output in under two
// seconds, then went on at a fifth of real time, so at 10 % ffmpeg promised
// a quarter of the time it took. Estimator instead measures the speed after
// a warm-up, over the part rendered since, and blends it with the speed
// similar renders had on this node (History): the prior weighs most at
// first, the measurement takes over as the wall time it covers grows.
//
// It is pure: times come in with the reports, and History is a value the
// caller loads and saves (Load, Save).
package eta

import (
	"math"
	"time"
)

// Defaults of an Estimator's zero fields.
const (
	// DefaultWarmup is the share of the media after which the speed is
	// measured; what comes before it, and before MinWarmup of wall time,
	// is start-up.
	DefaultWarmup = 0.03
	// DefaultPriorWeight is how much of the render the prior counts for,
	// as a share of the wall time it predicts for the whole render: once
	// the measurement covers that much time, the two weigh the same.
	DefaultPriorWeight = 0.15
	// MinWarmup is the wall time the warm-up lasts at least.
	MinWarmup = 2 * time.Second
	// minMeasure is how much wall time after the warm-up a measured speed
	// needs before it is trusted.
	minMeasure = time.Second
)

// Estimator estimates one render's time left. Set Total (and Prior when
// History has one), then call Observe with each progress report.
type Estimator struct {
	// Total is the media duration the render writes, in seconds.
	Total float64
	// Prior is the speed (media seconds per wall second) similar renders
	// had on this node, 0 when unknown.
	Prior float64
	// Warmup is the share of Total after which the speed is measured;
	// 0 takes DefaultWarmup.
	Warmup float64
	// PriorWeight is the share of progress at which the measurement
	// weighs as much as Prior; 0 takes DefaultPriorWeight.
	PriorWeight float64

	start      time.Time
	warmAt     time.Time // when the warm-up ended
	warmOut    float64   // output time then
	lastOut    float64
	lastAt     time.Time
	haveReport bool
}

// Observe takes a progress report (output time written so far, in seconds,
// and when it was reported) and returns the estimated time left; ok is
// false while there is nothing to go on (no prior, warm-up not over).
func (e *Estimator) Observe(outTime float64, at time.Time) (left time.Duration, ok bool) {
	if !e.haveReport {
		e.start, e.haveReport = at, true
	}
	e.lastOut, e.lastAt = outTime, at
	if e.Total <= 0 {
		return 0, false
	}
	warm := e.Warmup
	if warm <= 0 {
		warm = DefaultWarmup
	}
	if e.warmAt.IsZero() && outTime >= warm*e.Total && at.Sub(e.start) >= MinWarmup {
		e.warmAt, e.warmOut = at, outTime
	}
	speed, ok := e.speed(outTime, at)
	if !ok {
		return 0, false
	}
	remaining := math.Max(0, e.Total-outTime)
	return time.Duration(remaining / speed * float64(time.Second)), true
}

// speed is the blended speed estimate.
func (e *Estimator) speed(outTime float64, at time.Time) (float64, bool) {
	var measured, span float64
	if !e.warmAt.IsZero() && at.Sub(e.warmAt) >= minMeasure && outTime > e.warmOut {
		span = at.Sub(e.warmAt).Seconds()
		measured = (outTime - e.warmOut) / span
	}
	switch {
	case measured > 0 && e.Prior > 0:
		pw := e.PriorWeight
		if pw <= 0 {
			pw = DefaultPriorWeight
		}
		// The prior counts for a share of the wall time it predicts.
		tau := pw * e.Total / e.Prior
		w := span / (span + tau)
		return w*measured + (1-w)*e.Prior, true
	case measured > 0:
		return measured, true
	case e.Prior > 0:
		return e.Prior, true
	}
	return 0, false
}

// Speed is the render's speed after its warm-up (media seconds per wall
// second; the average from the start when the warm-up never ended): what
// History records once the render is done, and what Prior stands for.
func (e *Estimator) Speed() float64 {
	from, out := e.start, 0.0
	if !e.warmAt.IsZero() && e.lastAt.After(e.warmAt) {
		from, out = e.warmAt, e.warmOut
	}
	d := e.lastAt.Sub(from).Seconds()
	if !e.haveReport || d <= 0 || e.lastOut <= out {
		return 0
	}
	return (e.lastOut - out) / d
}
