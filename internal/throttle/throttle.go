// Package throttle slows password and API key guessing, from failure
// records in the database: the limits hold across restarts and for every
// node at once.
//
// Sign-in: failures are limited per client address (a lockout with
// Retry-After) and per account, where they only slow: each failure past a
// few adds a growing delay, applied only to addresses that have failed
// themselves. So the owner cannot be locked out by someone else's guesses
// alone: a correct password from an address without failures passes, and
// even a slowed address waits at most MaxAccountDelay.
//
// API keys: after a number of bad keys in a minute from one address, that
// address gets 429 with Retry-After until the oldest failure ages out.
//
// The decisions are pure functions of the recent failures (Policy's
// methods); Throttle reads and writes them through the store.
package throttle

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

// Window allows Limit failures per sliding Per.
type Window struct {
	Limit int
	Per   time.Duration
}

// Wait returns how long until one more failure is allowed, given the
// newest failures (newest first, at most Limit of them, within Per): 0
// when allowed now.
func (w Window) Wait(recent []time.Time, now time.Time) time.Duration {
	if w.Limit <= 0 || len(recent) < w.Limit {
		return 0
	}
	// The Limit-th newest failure must age out of the window.
	return max(0, recent[w.Limit-1].Add(w.Per).Sub(now))
}

// Policy is the throttling rules.
type Policy struct {
	// SignInPerIP limits failed sign-ins from one address.
	SignInPerIP Window
	// FreeAccountFailures are the failures an account may have within
	// AccountWindow before its sign-ins are slowed.
	FreeAccountFailures int
	AccountWindow       time.Duration
	// AccountDelay is the first delay; each further failure doubles it, up
	// to MaxAccountDelay.
	AccountDelay    time.Duration
	MaxAccountDelay time.Duration
	// APIKeyPerIP limits bad API keys from one address.
	APIKeyPerIP Window
}

// DefaultAPIKeyGuessLimit is how many bad API keys a minute one address
// may send before it gets 429 (OUTPOST_API_KEY_GUESS_LIMIT).
const DefaultAPIKeyGuessLimit = 20

// DefaultPolicy returns the default rules, with apiKeyGuessLimit bad API
// keys a minute per address.
func DefaultPolicy(apiKeyGuessLimit int) Policy {
	return Policy{
		SignInPerIP:         Window{Limit: 10, Per: 15 * time.Minute},
		FreeAccountFailures: 5,
		AccountWindow:       15 * time.Minute,
		AccountDelay:        time.Second,
		MaxAccountDelay:     time.Minute,
		APIKeyPerIP:         Window{Limit: apiKeyGuessLimit, Per: time.Minute},
	}
}

// Reason says why a request was refused.
type Reason string

// Reasons.
const (
	SignInAddressLocked Reason = "signin_address_locked"
	SignInAccountSlowed Reason = "signin_account_slowed"
	APIKeyAddressLocked Reason = "api_key_address_locked"
)

// Decision is whether an attempt may go ahead.
type Decision struct {
	// RetryAfter is 0 when the attempt may go ahead, else how long to wait.
	RetryAfter time.Duration
	Reason     Reason
}

// Allowed reports whether the attempt may go ahead.
func (d Decision) Allowed() bool { return d.RetryAfter <= 0 }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1),
// for the Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(d.RetryAfter.Seconds())))
}

// Err returns nil for an allowed attempt, else a rate_limited error saying
// why and for how long.
func (d Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	var why string
	switch d.Reason {
	case SignInAddressLocked:
		why = "too many failed sign-ins from this address"
	case SignInAccountSlowed:
		why = "sign-ins to this account are slowed after failed attempts"
	default:
		why = "too many bad API keys from this address"
	}
	e := errcode.New(errcode.RateLimited, "%s: retry after %d s", why, d.RetryAfterSeconds())
	e.RetryAfter = d.RetryAfter
	return e
}

// SignIn decides a sign-in attempt from the address's newest failures
// (newest first, at most SignInPerIP.Limit, within SignInPerIP.Per) and
// the account's failure count and last failure within AccountWindow.
func (p Policy) SignIn(ipRecent []time.Time, accountFailures int, accountLast, now time.Time) Decision {
	if w := p.SignInPerIP.Wait(ipRecent, now); w > 0 {
		return Decision{RetryAfter: w, Reason: SignInAddressLocked}
	}
	// An address without failures is never slowed for the account's sake.
	if len(ipRecent) == 0 || accountFailures < p.FreeAccountFailures {
		return Decision{}
	}
	if w := accountLast.Add(p.accountDelay(accountFailures)).Sub(now); w > 0 {
		return Decision{RetryAfter: w, Reason: SignInAccountSlowed}
	}
	return Decision{}
}

// accountDelay is the delay after n failures (n >= FreeAccountFailures).
func (p Policy) accountDelay(n int) time.Duration {
	d := p.AccountDelay
	for i := p.FreeAccountFailures; i < n && d < p.MaxAccountDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxAccountDelay)
}

// APIKey decides a request with an API key from the address's newest bad
// keys (newest first, at most APIKeyPerIP.Limit, within APIKeyPerIP.Per).
func (p Policy) APIKey(ipRecent []time.Time, now time.Time) Decision {
	if w := p.APIKeyPerIP.Wait(ipRecent, now); w > 0 {
		return Decision{RetryAfter: w, Reason: APIKeyAddressLocked}
	}
	return Decision{}
}

// Address returns the key a client address is throttled by: an IPv4
// address as it is, an IPv6 address as its /64 (one host usually holds a
// whole /64). Anything else is kept trimmed, so that it still counts.
func Address(ip string) string {
	ip = strings.TrimSpace(ip)
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// Store is what Throttle needs of the database (*store.Store and
// *store.Queries have it).
type Store interface {
	RecordAuthFailure(ctx context.Context, f store.AuthFailure) error
	RecentFailuresByIP(ctx context.Context, kind store.AuthFailureKind, ip string, since time.Time, limit int) ([]time.Time, error)
	FailuresByAccount(ctx context.Context, kind store.AuthFailureKind, account string, since time.Time) (int, time.Time, error)
	ClearAuthFailures(ctx context.Context, kind store.AuthFailureKind, ip, account string) (int64, error)
	DeleteAuthFailuresBefore(ctx context.Context, t time.Time) (int64, error)
}

// Throttle applies a Policy to the failures recorded in a Store.
type Throttle struct {
	db     Store
	policy Policy
	now    func() time.Time
}

// New returns a Throttle over db. now is the clock (time.Now when nil).
func New(db Store, p Policy, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{db: db, policy: p, now: now}
}

// Policy returns the throttle's rules.
func (t *Throttle) Policy() Policy { return t.policy }

// CheckSignIn decides whether a sign-in for email from ip may be tried.
// Call it before checking the password, and refuse with Decision.Err (and
// its Retry-After) when it is not allowed.
func (t *Throttle) CheckSignIn(ctx context.Context, ip, email string) (Decision, error) {
	now := t.now()
	recent, err := t.db.RecentFailuresByIP(ctx, store.FailedSignIn, Address(ip), now.Add(-t.policy.SignInPerIP.Per),
		max(t.policy.SignInPerIP.Limit, 1))
	if err != nil {
		return Decision{}, fmt.Errorf("check sign-in throttle: %w", err)
	}
	n, last, err := t.db.FailuresByAccount(ctx, store.FailedSignIn, email, now.Add(-t.policy.AccountWindow))
	if err != nil {
		return Decision{}, fmt.Errorf("check sign-in throttle: %w", err)
	}
	return t.policy.SignIn(recent, n, last, now), nil
}

// SignInFailed records a failed sign-in (wrong password or unknown email)
// and reports whether it locked the address out: the caller audits that
// once per burst.
func (t *Throttle) SignInFailed(ctx context.Context, ip, email string) (locked bool, err error) {
	return t.fail(ctx, store.FailedSignIn, t.policy.SignInPerIP, ip, email)
}

// SignInSucceeded forgets the address's failures for the account, so that
// a user's own typos do not count against them later. Others' failures
// for the account stay.
func (t *Throttle) SignInSucceeded(ctx context.Context, ip, email string) error {
	if _, err := t.db.ClearAuthFailures(ctx, store.FailedSignIn, Address(ip), email); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

// CheckAPIKey decides whether a request with an API key from ip may be
// looked at. Call it before looking the key up.
func (t *Throttle) CheckAPIKey(ctx context.Context, ip string) (Decision, error) {
	now := t.now()
	recent, err := t.db.RecentFailuresByIP(ctx, store.FailedAPIKey, Address(ip), now.Add(-t.policy.APIKeyPerIP.Per),
		max(t.policy.APIKeyPerIP.Limit, 1))
	if err != nil {
		return Decision{}, fmt.Errorf("check api key throttle: %w", err)
	}
	return t.policy.APIKey(recent, now), nil
}

// APIKeyFailed records a bad API key from ip and reports whether it locked
// the address out.
func (t *Throttle) APIKeyFailed(ctx context.Context, ip string) (locked bool, err error) {
	return t.fail(ctx, store.FailedAPIKey, t.policy.APIKeyPerIP, ip, "")
}

func (t *Throttle) fail(ctx context.Context, kind store.AuthFailureKind, w Window, ip, account string) (bool, error) {
	now := t.now()
	addr := Address(ip)
	if err := t.db.RecordAuthFailure(ctx, store.AuthFailure{Kind: kind, IP: addr, Account: account, At: now}); err != nil {
		return false, err
	}
	recent, err := t.db.RecentFailuresByIP(ctx, kind, addr, now.Add(-w.Per), max(w.Limit+1, 1))
	if err != nil {
		return false, fmt.Errorf("count %s failures: %w", kind, err)
	}
	// Exactly at the limit: this failure is the one that locked it.
	return w.Limit > 0 && len(recent) == w.Limit, nil
}

// Purge deletes failures older than every window, and returns how many
// (a periodic job calls it).
func (t *Throttle) Purge(ctx context.Context) (int64, error) {
	longest := max(t.policy.SignInPerIP.Per, t.policy.AccountWindow, t.policy.APIKeyPerIP.Per)
	return t.db.DeleteAuthFailuresBefore(ctx, t.now().Add(-longest))
}
