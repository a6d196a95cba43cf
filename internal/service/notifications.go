package service

import (
	"context"
	"database/sql"
	"slices"

	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/notify"
	"outpost/internal/outpost"
	"outpost/internal/store"
)

// Notifications are a user's email preferences: one switch per kind of
// email (on until turned off).
type Notifications struct {
	store *store.Store
	queue *jobs.Queue
}

var _ outpost.Notifications = (*Notifications)(nil)

// Get returns the caller's preferences, and whether this server sends
// email at all.
func (s *Notifications) Get(ctx context.Context, c outpost.Caller) (outpost.NotificationPrefs, error) {
	if err := c.User(); err != nil {
		return outpost.NotificationPrefs{}, err
	}
	u, err := s.store.GetUser(ctx, c.UserID)
	if err != nil {
		return outpost.NotificationPrefs{}, coded(err, "user", c.UserID)
	}
	stored, err := s.store.NotificationPrefs(ctx, c.UserID)
	if err != nil {
		return outpost.NotificationPrefs{}, err
	}
	out := outpost.NotificationPrefs{EmailConfigured: s.queue.EmailConfigured(), Email: u.Email}
	for _, k := range notify.PreferenceKinds {
		on, set := stored[string(k)]
		out.Prefs = append(out.Prefs, outpost.NotificationPref{Kind: string(k), Label: k.Label(), Email: on || !set})
	}
	return out, nil
}

// Set turns the given kinds on or off.
func (s *Notifications) Set(ctx context.Context, c outpost.Caller, email map[string]bool) (outpost.NotificationPrefs, error) {
	if err := c.User(); err != nil {
		return outpost.NotificationPrefs{}, err
	}
	kinds := make([]string, 0, len(email))
	for k := range email {
		if !slices.Contains(notify.PreferenceKinds, notify.Kind(k)) {
			return outpost.NotificationPrefs{}, errcode.New(errcode.InvalidOption, "notification kind %q: want one of %v", k, notify.PreferenceKinds)
		}
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	err := inTx(ctx, s.store, func(q *store.Queries, _ *sql.Tx) error {
		for _, k := range kinds {
			if err := q.SetNotificationPref(ctx, c.UserID, k, email[k]); err != nil {
				return err
			}
		}
		return audit(ctx, q, c, store.AuditNotificationPrefs, "user", c.UserID, email)
	})
	if err != nil {
		return outpost.NotificationPrefs{}, err
	}
	return s.Get(ctx, c)
}
