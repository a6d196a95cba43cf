package throttle_test

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
	"outpost/internal/storetest"
	"outpost/internal/testpg"
	"outpost/internal/throttle"
)

var pg testpg.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// ago returns times before t0, newest first.
func ago(ds ...time.Duration) []time.Time {
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = t0.Add(-d)
	}
	return out
}

func TestWindow_Wait(t *testing.T) {
	t.Parallel()
	w := throttle.Window{Limit: 3, Per: time.Minute}
	tests := []struct {
		name   string
		w      throttle.Window
		recent []time.Time
		want   time.Duration
	}{
		{"none", w, nil, 0},
		{"under the limit", w, ago(time.Second, 2*time.Second), 0},
		{"at the limit", w, ago(time.Second, 2*time.Second, 40*time.Second), 20 * time.Second},
		{"oldest just aged out", w, ago(time.Second, 2*time.Second, time.Minute), 0},
		{"no limit", throttle.Window{}, ago(0, 0, 0, 0), 0},
	}
	for _, tc := range tests {
		if got := tc.w.Wait(tc.recent, t0); got != tc.want {
			t.Errorf("%s: Wait = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPolicy_SignIn(t *testing.T) {
	t.Parallel()
	p := throttle.DefaultPolicy(20) // 10 per address per 15 min; 5 free per account, then 1 s doubling to 1 min
	tenFailures := ago(1*time.Minute, 2*time.Minute, 3*time.Minute, 4*time.Minute, 5*time.Minute,
		6*time.Minute, 7*time.Minute, 8*time.Minute, 9*time.Minute, 10*time.Minute)
	tests := []struct {
		name        string
		ip          []time.Time
		accountN    int
		accountLast time.Time
		want        throttle.Decision
	}{
		{"clean", nil, 0, time.Time{}, throttle.Decision{}},
		{"address locked", tenFailures, 0, time.Time{}, throttle.Decision{RetryAfter: 5 * time.Minute, Reason: throttle.SignInAddressLocked}},
		{"address under its limit", tenFailures[:9], 0, time.Time{}, throttle.Decision{}},
		// Someone else sprays the account: a clean address passes, however
		// many failures the account has and however recent.
		{"clean address, sprayed account", nil, 5000, t0, throttle.Decision{}},
		{"dirty address, account under free", ago(time.Minute), 4, t0, throttle.Decision{}},
		{"dirty address, 5 account failures: 1 s", ago(time.Minute), 5, t0.Add(-300 * time.Millisecond),
			throttle.Decision{RetryAfter: 700 * time.Millisecond, Reason: throttle.SignInAccountSlowed}},
		{"6 failures: 2 s", ago(time.Minute), 6, t0, throttle.Decision{RetryAfter: 2 * time.Second, Reason: throttle.SignInAccountSlowed}},
		{"8 failures: 8 s", ago(time.Minute), 8, t0, throttle.Decision{RetryAfter: 8 * time.Second, Reason: throttle.SignInAccountSlowed}},
		{"capped at 1 min", ago(time.Minute), 500, t0, throttle.Decision{RetryAfter: time.Minute, Reason: throttle.SignInAccountSlowed}},
		{"delay passed", ago(time.Minute), 500, t0.Add(-time.Minute), throttle.Decision{}},
	}
	for _, tc := range tests {
		got := p.SignIn(tc.ip, tc.accountN, tc.accountLast, t0)
		if got != tc.want {
			t.Errorf("%s: SignIn = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPolicy_APIKey(t *testing.T) {
	t.Parallel()
	p := throttle.DefaultPolicy(3)
	if d := p.APIKey(ago(time.Second, time.Second), t0); !d.Allowed() {
		t.Errorf("2 bad keys: %+v", d)
	}
	d := p.APIKey(ago(time.Second, 2*time.Second, 45*time.Second), t0)
	if d.Allowed() || d.RetryAfter != 15*time.Second || d.Reason != throttle.APIKeyAddressLocked {
		t.Errorf("3 bad keys: %+v", d)
	}
}

func TestDecision_Err(t *testing.T) {
	t.Parallel()
	if err := (throttle.Decision{}).Err(); err != nil {
		t.Errorf("allowed: %v", err)
	}
	tests := []struct {
		d    throttle.Decision
		want string
		secs int
	}{
		{throttle.Decision{RetryAfter: 300 * time.Millisecond, Reason: throttle.SignInAccountSlowed},
			"rate_limited: sign-ins to this account are slowed after failed attempts: retry after 1 s", 1},
		{throttle.Decision{RetryAfter: 4*time.Minute + 100*time.Millisecond, Reason: throttle.SignInAddressLocked},
			"rate_limited: too many failed sign-ins from this address: retry after 241 s", 241},
		{throttle.Decision{RetryAfter: 15 * time.Second, Reason: throttle.APIKeyAddressLocked},
			"rate_limited: too many bad API keys from this address: retry after 15 s", 15},
	}
	for _, tc := range tests {
		err := tc.d.Err()
		if errcode.Of(err) != errcode.RateLimited || err.Error() != tc.want || tc.d.RetryAfterSeconds() != tc.secs {
			t.Errorf("Err = %v (%d s), want %q (%d s)", err, tc.d.RetryAfterSeconds(), tc.want, tc.secs)
		}
	}
}

func TestAddress(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		" 203.0.113.7 ":        "203.0.113.7",
		"::ffff:203.0.113.7":   "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not-an-ip":            "not-an-ip",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
	} {
		if got := throttle.Address(in); got != want {
			t.Errorf("Address(%q) = %q, want %q", in, got, want)
		}
	}
}

// clock is a test clock the throttle reads; tests move it forward.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

func TestThrottle_SignIn(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, &pg, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		c := newClock(time.Now())
		th := throttle.New(s, throttle.DefaultPolicy(20), c.now)
		const owner = "owner@example.com"
		attacker := "203.0.113.66"

		// Someone sprays the owner's account from a handful of addresses
		// (9 failures each, under the per-address limit) and many
		// accounts from one more, until it is locked out.
		for i := range 5 {
			ip := fmt.Sprint("198.51.100.", i)
			for range 9 {
				d, err := th.CheckSignIn(ctx, ip, owner)
				if err != nil {
					t.Fatal(err)
				}
				if !d.Allowed() {
					break // slowed: a real client waits; the spray moves on
				}
				if locked, err := th.SignInFailed(ctx, ip, owner); err != nil || locked {
					t.Fatalf("SignInFailed = %v, %v", locked, err)
				}
			}
		}
		lockedAt := -1
		for i := range 15 {
			d, err := th.CheckSignIn(ctx, attacker, fmt.Sprint("user", i, "@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed() {
				if d.Reason != throttle.SignInAddressLocked || d.RetryAfter <= 0 || d.RetryAfter > 15*time.Minute {
					t.Fatalf("attacker refused with %+v", d)
				}
				break
			}
			locked, err := th.SignInFailed(ctx, attacker, fmt.Sprint("user", i, "@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			if locked {
				lockedAt = i
			}
		}
		if lockedAt != 9 {
			t.Errorf("the address locked at failure %d, want the 10th", lockedAt+1)
		}

		// The owner, from a clean address, passes during the spraying.
		home := "192.0.2.10"
		if d, err := th.CheckSignIn(ctx, home, owner); err != nil || !d.Allowed() {
			t.Fatalf("owner from a clean address: %+v, %v; want allowed", d, err)
		}
		// From an address that failed once (a typo), the owner is slowed,
		// never locked: the delay is capped.
		if _, err := th.SignInFailed(ctx, home, owner); err != nil {
			t.Fatal(err)
		}
		d, err := th.CheckSignIn(ctx, home, owner)
		if err != nil || d.Allowed() || d.Reason != throttle.SignInAccountSlowed || d.RetryAfter > time.Minute {
			t.Fatalf("owner after a typo during spraying: %+v, %v; want slowed by at most a minute", d, err)
		}
		if d2, _ := th.CheckSignIn(ctx, "198.51.100.0", owner); d2.Allowed() {
			t.Errorf("a sprayer's address is not slowed: %+v", d2)
		}
		c.add(d.RetryAfter)
		if d, err := th.CheckSignIn(ctx, home, owner); err != nil || !d.Allowed() {
			t.Fatalf("owner after waiting Retry-After: %+v, %v", d, err)
		}
		// Signing in forgets the owner's own failure there, not the spray.
		if err := th.SignInSucceeded(ctx, home, owner); err != nil {
			t.Fatal(err)
		}
		if d, err := th.CheckSignIn(ctx, home, owner); err != nil || !d.Allowed() {
			t.Errorf("owner's address after success: %+v, %v", d, err)
		}

		// A restart (a new Throttle, another node) sees the same lockout.
		th2 := throttle.New(s, throttle.DefaultPolicy(20), c.now)
		if d, err := th2.CheckSignIn(ctx, attacker, "anyone@example.com"); err != nil || d.Reason != throttle.SignInAddressLocked {
			t.Errorf("after restart: %+v, %v; want the address still locked", d, err)
		}
		// The lockout ends when the failures age out.
		c.add(15 * time.Minute)
		if d, err := th2.CheckSignIn(ctx, attacker, "anyone@example.com"); err != nil || !d.Allowed() {
			t.Errorf("after the window: %+v, %v", d, err)
		}
		if n, err := th2.Purge(ctx); err != nil || n == 0 {
			t.Errorf("Purge = %d, %v; want old failures deleted", n, err)
		}
	})
}

func TestThrottle_APIKey(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, &pg, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		c := newClock(time.Now())
		th := throttle.New(s, throttle.DefaultPolicy(5), c.now)
		ip := "2001:db8:7:7::1"
		for i := range 5 {
			if d, err := th.CheckAPIKey(ctx, ip); err != nil || !d.Allowed() {
				t.Fatalf("bad key %d refused early: %+v, %v", i+1, d, err)
			}
			locked, err := th.APIKeyFailed(ctx, ip)
			if err != nil || locked != (i == 4) {
				t.Fatalf("APIKeyFailed #%d = %v, %v", i+1, locked, err)
			}
			c.add(time.Second)
		}
		// Another host of the same /64 is the same client.
		d, err := th.CheckAPIKey(ctx, "2001:db8:7:7::2")
		if err != nil || d.Allowed() || d.RetryAfterSeconds() != 55 || !strings.Contains(d.Err().Error(), "retry after 55 s") {
			t.Fatalf("6th key: %+v, %v; want 429 for 55 s", d, err)
		}
		if d, _ := th.CheckAPIKey(ctx, "203.0.113.1"); !d.Allowed() {
			t.Errorf("another address is throttled: %+v", d)
		}
		c.add(d.RetryAfter)
		if d, _ := th.CheckAPIKey(ctx, ip); !d.Allowed() {
			t.Errorf("after Retry-After: %+v", d)
		}
	})
}
