package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/connect"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// KindRefresh is the periodic connection refresh job's kind.
const KindRefresh = "connection.refresh"

// Refresh policy.
const (
	// refreshLongLived: tokens that live at least this long are renewed
	// ahead by the periodic job (TikTok's day, LinkedIn's and Meta's 60
	// days); shorter ones (Google's hour) are renewed when used.
	refreshLongLived = 12 * time.Hour
	// refreshWindow: the periodic job looks at tokens ending within it.
	refreshWindow = 16 * 24 * time.Hour
	refreshBatch  = 500
)

// RefreshArgs are the periodic refresh job's arguments.
type RefreshArgs struct{}

// Kind implements river.JobArgs.
func (RefreshArgs) Kind() string { return KindRefresh }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RefreshArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 3}
}

type refreshWorker struct {
	river.WorkerDefaults[RefreshArgs]
	store   *store.Store
	queue   *Queue
	connect *connect.Service
	// warning is how long before a grant ends connection.expiring is sent.
	warning time.Duration
	logger  *slog.Logger
}

func (w *refreshWorker) Timeout(*river.Job[RefreshArgs]) time.Duration { return 10 * time.Minute }

func (w *refreshWorker) Work(ctx context.Context, _ *river.Job[RefreshArgs]) error {
	res, err := w.run(ctx, time.Now())
	if res != (RefreshResult{}) {
		w.logger.InfoContext(ctx, "connections checked", "refreshed", res.Refreshed, "expired", res.Expired,
			"warned", res.Warned, "failed", res.Failed, "resealed", res.Resealed)
	}
	return err
}

// RefreshResult counts what RefreshConnections did.
type RefreshResult struct {
	Refreshed int // tokens renewed ahead of their end
	Expired   int // grants found dead: the connection needs the user
	Warned    int // connection.expiring sent
	Failed    int // refreshes that failed for now (retried next round)
	Resealed  int // tokens sealed again under the newest token key
}

// run renews, as of now, the long-lived tokens that have
// used three quarters of their life, marks connections whose grant is dead
// expired (connection.expired), and sends connection.expiring once per
// grant that will end within the warning time and cannot be renewed (an
// access token without a refresh token, or the refresh token itself).
func (w *refreshWorker) run(ctx context.Context, now time.Time) (RefreshResult, error) {
	var res RefreshResult
	if w.connect == nil {
		return res, nil
	}
	cs, err := w.store.ListConnectionsDue(ctx, now.Add(refreshWindow), now.Add(w.warning), refreshBatch)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		if due(c, now) && connect.Refreshable(c) && w.connect.Configured(c.Platform) {
			nc, err := w.connect.Refresh(ctx, c)
			switch {
			case errors.Is(err, connect.ErrExpired):
				res.Expired++
				errs = append(errs, w.queue.NotifyExpired(ctx, nc, err))
				continue
			case err != nil:
				res.Failed++
				w.logger.WarnContext(ctx, "refresh connection", "connection_id", c.ID, "platform", c.Platform, "error", err)
				continue
			}
			res.Refreshed++
			c = nc
		}
		if ends, ok := grantEnd(c); ok && c.ExpiryWarnedAt == nil && ends.Sub(now) < w.warning {
			if err := w.warnExpiring(ctx, c, ends, now); err != nil {
				errs = append(errs, err)
				continue
			}
			res.Warned++
		}
	}
	n, err := w.resealConnections(ctx)
	res.Resealed = n
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("refresh connections: %w", err)
	}
	return res, nil
}

// resealConnections seals again, under the newest token key, the tokens of
// every connection still sealed under an older one (a key rotation), so
// that the older key can be removed from the configuration.
func (w *refreshWorker) resealConnections(ctx context.Context) (int, error) {
	n, after := 0, ""
	for ctx.Err() == nil {
		cs, err := w.store.ListConnectionsAfter(ctx, after, refreshBatch)
		if err != nil || len(cs) == 0 {
			return n, err
		}
		for _, c := range cs {
			after = c.ID
			ok, err := w.connect.ResealTokens(ctx, c)
			if err != nil {
				// A token no configured key opens: the connection needs
				// the user (or the key back); the others go on.
				w.logger.WarnContext(ctx, "reseal connection tokens", "connection_id", c.ID, "platform", c.Platform, "error", err)
				continue
			}
			if ok {
				n++
			}
		}
	}
	return n, ctx.Err()
}

// due reports whether a long-lived access token has used three quarters of
// its life (measured from when the tokens were last stored).
func due(c store.Connection, now time.Time) bool {
	if c.TokenExpiresAt == nil {
		return false
	}
	life := c.TokenExpiresAt.Sub(c.UpdatedAt)
	if life < refreshLongLived {
		return false
	}
	return c.TokenExpiresAt.Sub(now) < life/4
}

// grantEnd is when the connection stops working unless the user connects
// again: its refresh token's end, or its access token's when it cannot be
// renewed.
func grantEnd(c store.Connection) (time.Time, bool) {
	if c.RefreshExpiresAt != nil {
		return *c.RefreshExpiresAt, true
	}
	if !connect.Refreshable(c) && c.TokenExpiresAt != nil {
		return *c.TokenExpiresAt, true
	}
	return time.Time{}, false
}

func (w *refreshWorker) warnExpiring(ctx context.Context, c store.Connection, ends, now time.Time) error {
	// One warning per grant end (to the hour: platforms round expiries).
	err := w.queue.Emit(ctx, store.Event{ID: eventID(c.ID, outpost.EventConnectionExpiring, ends.UTC().Truncate(time.Hour).Format(time.RFC3339)),
		WorkspaceID: c.WorkspaceID, Type: outpost.EventConnectionExpiring, SubjectID: c.ID},
		connectionPayload{ID: c.ID, Platform: c.Platform, AccountID: c.AccountID, AccountName: c.AccountName,
			Status: string(c.Status), ExpiresAt: &ends})
	if err != nil {
		return err
	}
	return w.store.MarkConnectionWarned(ctx, c.ID, now)
}
