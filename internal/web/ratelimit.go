package web

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyLimiter gives each API key a token bucket: rate requests a second on
// average, burst at once. The buckets of keys idle for longer than it
// takes to refill are dropped, so the map stays as small as the set of
// keys in use.
type keyLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newKeyLimiter returns nil (no limit) when perSecond is not positive.
func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &keyLimiter{rate: rate.Limit(perSecond), burst: max(burst, 1), buckets: make(map[string]*bucket)}
}

// allow takes a token from key's bucket at now. When there is none it
// returns false and how long until there is one.
func (l *keyLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	l.sweep(now)
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops full buckets, at most once per refill period.
func (l *keyLimiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	if now.Sub(l.swept) < refill {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= refill {
			delete(l.buckets, k)
		}
	}
}

// retryAfterSeconds is d rounded up to whole seconds, at least 1: the
// Retry-After header's unit.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
