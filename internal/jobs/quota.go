package jobs

import (
	"context"
	"fmt"
	"time"

	"outpost/internal/publish"
	"outpost/internal/store"
)

// quotaResetMargin is waited past a quota reset, so that a publication
// snoozed until then does not arrive a moment before the platform resets.
const quotaResetMargin = time.Minute

// unitQuota is a publisher whose calls spend a daily unit quota per
// project (YouTube).
type unitQuota interface {
	// QuotaDay returns the quota day of t and the time until it resets.
	QuotaDay(t time.Time) (string, time.Duration)
	// QuotaEstimate returns the most units one Publish call may spend.
	QuotaEstimate(p publish.Post, st publish.State) int
}

// quotaHold is units reserved in the ledger for one Publish call.
type quotaHold struct {
	key      store.Quota
	reserved int64
	limit    int64
}

// quotaWaitError says the day's quota cannot cover the next call: the
// publication waits until the reset.
type quotaWaitError struct {
	platform string
	wait     time.Duration
}

func (e *quotaWaitError) Error() string {
	return fmt.Sprintf("%s: the project's daily quota would be exceeded; waiting %s for the reset", e.platform, e.wait.Round(time.Second))
}

// reserveQuota reserves in the ledger what the next Publish call may spend
// of the platform project's daily quota. It returns a nil hold for
// platforms without a unit quota, and a *quotaWaitError when the day's
// remaining quota is too small: the caller snoozes until the reset without
// calling the platform.
func (s *Service) reserveQuota(ctx context.Context, pub publish.Publisher, pj *publish.Job) (*quotaHold, error) {
	uq, ok := pub.(unitQuota)
	platform := pub.Platform()
	limit := s.quotaPerDay[platform]
	if !ok || limit <= 0 || s.connect == nil {
		return nil, nil
	}
	day, reset := uq.QuotaDay(time.Now())
	h := &quotaHold{key: store.Quota{Platform: platform, Project: s.connect.ClientID(platform), Day: day},
		reserved: int64(uq.QuotaEstimate(pj.Post, *pj.State)), limit: limit}
	granted, err := s.store.ReserveQuota(ctx, h.key, h.reserved, limit)
	if err != nil {
		return nil, err
	}
	if !granted {
		return nil, &quotaWaitError{platform: platform, wait: reset + quotaResetMargin}
	}
	return h, nil
}

// settleQuota books what the call really spent in place of the
// reservation; when the platform said the quota is used up (another client
// of the project spent it), the day is marked used up, so that other
// publications wait without asking.
func (s *Service) settleQuota(ctx context.Context, h *quotaHold, spent int, callErr error) {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.store.AddQuota(ctx, h.key, int64(spent)-h.reserved)
	if err == nil && quotaExceeded(callErr) {
		err = s.store.ExhaustQuota(ctx, h.key, h.limit)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "settle quota", "platform", h.key.Platform, "day", h.key.Day, "error", err)
	}
}

// quotaExceeded reports whether err is the platform's "daily quota used
// up" (YouTube's 403 quotaExceeded).
func quotaExceeded(err error) bool {
	pe, ok := publish.AsError(err)
	return ok && pe.Raw == "quotaExceeded"
}
