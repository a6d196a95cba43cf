package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/errcode"
	"outpost/internal/notify"
	"outpost/internal/outpost"
	"outpost/internal/publish/platforms"
	"outpost/internal/store"
)

// KindEmail is the job kind that sends one email.
const KindEmail = "outpost.email"

// EmailArgs are one email's: its recipient and what it says. A job sends
// one email, so a failure retries that recipient alone.
type EmailArgs struct {
	To     string        `json:"to"`
	Notice notify.Notice `json:"notice"`
}

// Kind implements river.JobArgs.
func (EmailArgs) Kind() string { return KindEmail }

// InsertOpts implements river.JobArgsWithInsertOpts: retried with River's
// backoff for about a day and a half, then given up.
func (EmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 12}
}

type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	mailer *notify.Mailer
}

func (w *emailWorker) Timeout(*river.Job[EmailArgs]) time.Duration { return 2 * time.Minute }

func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	err := w.mailer.Send(ctx, job.Args.To, job.Args.Notice)
	if errors.Is(err, notify.ErrNotConfigured) {
		// SMTP settings were removed after the job was queued: sending
		// will not work by retrying.
		return river.JobCancel(err)
	}
	return err
}

// EmailConfigured reports whether this server sends email.
func (q *Queue) EmailConfigured() bool { return q.mailer.Configured() }

// InsertEmail queues an email to one address in tx. Without SMTP settings
// it queues nothing.
func (q *Queue) InsertEmail(ctx context.Context, tx *sql.Tx, to string, n notify.Notice) error {
	if !q.EmailConfigured() {
		return nil
	}
	if _, err := q.client.InsertTx(ctx, tx, EmailArgs{To: to, Notice: n}, nil); err != nil {
		return fmt.Errorf("insert email job: %w", err)
	}
	return nil
}

// Link returns the absolute URL of a page of the web UI.
func (q *Queue) Link(path string) string { return strings.TrimSuffix(q.publicURL, "/") + path }

// notifyMembers queues in tx the notice to each member of the workspace
// who has its kind on (the preference as it is now, when the event
// happens).
func (q *Queue) notifyMembers(ctx context.Context, tx *sql.Tx, workspaceID string, n notify.Notice) error {
	db := q.store.Using(tx)
	ws, err := db.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return err
	}
	n.Workspace, n.PrefsLink = ws.Name, q.Link("/settings/notifications")
	rs, err := db.ListNotificationRecipients(ctx, workspaceID, string(n.Kind))
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := q.InsertEmail(ctx, tx, r.Email, n); err != nil {
			return err
		}
	}
	return nil
}

// notice returns the email notice of a tracking event, when its type is
// one members are emailed about (false otherwise).
func (q *Queue) notice(ctx context.Context, db *store.Queries, ev store.Event, data any) (notify.Notice, bool, error) {
	switch d := data.(type) {
	case ExportPayload:
		if ev.Type != outpost.EventExportCompleted && ev.Type != outpost.EventExportFailed {
			return notify.Notice{}, false, nil
		}
		n := notify.Notice{Kind: notify.ExportSucceeded, Link: q.Link("/exports/" + d.ID), Targets: d.Presets}
		if ev.Type == outpost.EventExportFailed {
			n.Kind = notify.ExportFailed
			if d.Error != nil {
				n.ErrorCode, n.Error, n.Remedy = string(d.Error.Code), d.Error.Message, errcode.Remedies[d.Error.Code]
			}
		}
		p, err := db.GetProject(ctx, d.ProjectID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, false, err
		}
		n.Project = p.Name
		return n, true, nil
	case publicationPayload:
		if ev.Type != outpost.EventPublicationFailed {
			return notify.Notice{}, false, nil
		}
		n := notify.Notice{Kind: notify.PublicationFailed, Link: q.Link("/exports/" + d.ExportID), Platform: platforms.Name(d.Platform)}
		if d.Error != nil {
			n.ErrorCode, n.Error, n.Remedy = string(d.Error.Code), d.Error.Message, errcode.Remedies[d.Error.Code]
		}
		if c, err := db.GetConnection(ctx, d.ConnectionID); err == nil {
			n.Account = c.AccountName
		} else if !errors.Is(err, store.ErrNotFound) {
			return n, false, err
		}
		if e, err := db.GetExport(ctx, d.ExportID); err == nil {
			if p, err := db.GetProject(ctx, e.ProjectID); err == nil {
				n.Project = p.Name
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return n, false, err
		}
		return n, true, nil
	case connectionPayload:
		n := notify.Notice{Kind: notify.ConnectionExpiring, Link: q.Link("/connections"), Platform: platforms.Name(d.Platform),
			Account: d.AccountName}
		switch ev.Type {
		case outpost.EventConnectionExpiring:
			if d.ExpiresAt != nil {
				n.ExpiresAt = *d.ExpiresAt
			}
		case outpost.EventConnectionExpired:
			n.Kind = notify.ConnectionExpired
		default:
			return notify.Notice{}, false, nil
		}
		return n, true, nil
	}
	return notify.Notice{}, false, nil
}
