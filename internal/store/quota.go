package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Quota is one day of a platform project's unit quota (YouTube Data API
// units per OAuth client per Pacific day).
type Quota struct {
	Platform string
	Project  string
	// Day is the quota day, YYYY-MM-DD in the platform's quota time zone.
	Day string
}

// ensureQuota creates the day's row at 0 units.
func (q *Queries) ensureQuota(ctx context.Context, k Quota) error {
	_, err := q.exec(ctx, `INSERT INTO quota_usage (platform, project, day, units, updated_at)
		VALUES ($1, $2, $3, 0, $4) ON CONFLICT (platform, project, day) DO NOTHING`,
		k.Platform, k.Project, k.Day, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("create quota day %s %s: %w", k.Project, k.Day, err)
	}
	return nil
}

// ReserveQuota adds units to the day's spend if the total stays within
// limit, in one statement (concurrent reservations cannot both pass the
// check); it reports whether it did.
func (q *Queries) ReserveQuota(ctx context.Context, k Quota, units, limit int64) (bool, error) {
	if err := q.ensureQuota(ctx, k); err != nil {
		return false, err
	}
	res, err := q.exec(ctx, `UPDATE quota_usage SET units = units + $4, updated_at = $6
		WHERE platform = $1 AND project = $2 AND day = $3 AND units + $4 <= $5`,
		k.Platform, k.Project, k.Day, units, limit, now(time.Time{}))
	if err != nil {
		return false, fmt.Errorf("reserve quota %s %s: %w", k.Project, k.Day, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("reserve quota %s %s: %w", k.Project, k.Day, err)
	}
	return n == 1, nil
}

// AddQuota adds units (negative: gives back part of a reservation) to the
// day's spend, never below zero.
func (q *Queries) AddQuota(ctx context.Context, k Quota, units int64) error {
	if err := q.ensureQuota(ctx, k); err != nil {
		return err
	}
	_, err := q.exec(ctx, `UPDATE quota_usage SET units = CASE WHEN units + $4 < 0 THEN 0 ELSE units + $4 END,
		updated_at = $5 WHERE platform = $1 AND project = $2 AND day = $3`,
		k.Platform, k.Project, k.Day, units, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("add quota %s %s: %w", k.Project, k.Day, err)
	}
	return nil
}

// ExhaustQuota records that the platform said the day's quota is used up:
// the spend becomes at least limit.
func (q *Queries) ExhaustQuota(ctx context.Context, k Quota, limit int64) error {
	if err := q.ensureQuota(ctx, k); err != nil {
		return err
	}
	_, err := q.exec(ctx, `UPDATE quota_usage SET units = CASE WHEN units < $4 THEN $4 ELSE units END,
		updated_at = $5 WHERE platform = $1 AND project = $2 AND day = $3`,
		k.Platform, k.Project, k.Day, limit, now(time.Time{}))
	if err != nil {
		return fmt.Errorf("exhaust quota %s %s: %w", k.Project, k.Day, err)
	}
	return nil
}

// QuotaUsed returns the units spent on the day (0 for a day not seen).
func (q *Queries) QuotaUsed(ctx context.Context, k Quota) (int64, error) {
	var n int64
	err := q.queryRow(ctx, `SELECT units FROM quota_usage WHERE platform = $1 AND project = $2 AND day = $3`,
		k.Platform, k.Project, k.Day).Scan(&n)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return 0, fmt.Errorf("quota used %s %s: %w", k.Project, k.Day, err)
	}
	return n, nil
}
