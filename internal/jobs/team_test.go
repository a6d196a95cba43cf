package jobs_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/authz"
	"outpost/internal/connect"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/notify"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/testsmtp"
	"outpost/internal/waitfor"
)

// email is a message the test SMTP server received, decoded.
type email struct {
	to      string
	subject string
	text    string
}

func emails(t *testing.T, srv *testsmtp.Server) []email {
	t.Helper()
	var out []email
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("read message: %v", err)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		out = append(out, email{to: strings.Join(m.To, ","), subject: subj, text: plainText(t, msg)})
	}
	return out
}

// plainText is the text/plain part of a multipart/alternative message,
// decoded (quoted-printable).
func plainText(t *testing.T, msg *mail.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(part)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// TestNotifications_email: every kind of notice goes through a real SMTP
// server to each member who has it on, in the transaction of what it is
// about: an export ready (a real render) or failed (an unreadable source),
// a post failed, a connection expiring and expired, and an invite by
// email. A member who turned a kind off, and members of other workspaces,
// get nothing. On both engines.
func TestNotifications_email(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		ctx := t.Context()
		srv := testsmtp.Start(t, testsmtp.Options{})
		mailer, err := notify.NewMailer(srv.URL(), "Outpost <outpost@example.com>", notify.Options{TLSConfig: srv.ClientTLS()})
		if err != nil {
			t.Fatal(err)
		}
		const base = "https://outpost.example.com"
		e := newEnv(t, eng, envOptions{workers: 1, configure: func(s *store.Store, o *jobs.Options) {
			o.Mailer, o.PublicURL = mailer, base
			var err error
			if o.Connect, err = connect.New(connect.Options{Store: s, Key: []byte("0123456789abcdef0123456789abcdef"), PublicURL: base}); err != nil {
				t.Fatal(err)
			}
		}})
		ada, err := e.store.CreateUser(ctx, store.User{WorkspaceID: e.ws.ID, Email: "ada@example.com", PasswordHash: "x", Role: authz.Owner})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateUser(ctx, store.User{WorkspaceID: e.ws.ID, Email: "bob@example.com", PasswordHash: "x", Role: authz.Member}); err != nil {
			t.Fatal(err)
		}
		bob, _ := e.store.GetUserByEmail(ctx, "bob@example.com")
		if err := e.store.SetNotificationPref(ctx, bob.ID, string(notify.ExportSucceeded), false); err != nil {
			t.Fatal(err)
		}
		other, _ := e.store.CreateWorkspace(ctx, store.Workspace{Slug: "other", Name: "Other"})
		if _, err := e.store.CreateUser(ctx, store.User{WorkspaceID: other.ID, Email: "eve@example.com", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		// received returns the emails so far whose subject starts with prefix,
		// by recipient, once n of them arrived.
		received := func(prefix string, n int) map[string]email {
			t.Helper()
			return waitfor.Value(t, 60*time.Second, func() (map[string]email, error) {
				got := map[string]email{}
				for _, m := range emails(t, srv) {
					if strings.HasPrefix(m.subject, prefix) {
						got[m.to] = m
					}
				}
				if len(got) < n {
					return nil, fmt.Errorf("%d of %d emails %q", len(got), n, prefix)
				}
				return got, nil
			}, "emails %q", prefix)
		}

		// An export is ready: Ada gets it, Bob turned it off.
		prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 1, Audio: true})
		x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID,
			Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}}})
		if err != nil {
			t.Fatal(err)
		}
		if x = e.waitFinal(t, x.ID); x.Status != store.ExportSucceeded {
			t.Fatalf("export %s: %s", x.Status, x.ErrorMessage)
		}
		got := received("Export ready: clip", 1)
		m, ok := got["ada@example.com"]
		if len(got) != 1 || !ok || !strings.Contains(m.text, base+"/exports/"+x.ID) || !strings.Contains(m.text, base+"/settings/notifications") {
			t.Errorf("export ready emails %+v", got)
		}

		// An export fails (its source is not a video): both get it, with
		// the code and its remedy.
		bad := prj
		bad.ID, bad.Name, bad.SourceKey = "", "broken", "sources/broken.mp4"
		if _, err := e.blob.Put(ctx, bad.SourceKey, strings.NewReader("not a video at all"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		if bad, err = e.store.CreateProject(ctx, bad); err != nil {
			t.Fatal(err)
		}
		y, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: bad.ID,
			Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}}})
		if err != nil {
			t.Fatal(err)
		}
		if y = e.waitFinal(t, y.ID); y.Status != store.ExportFailed {
			t.Fatalf("broken export %s", y.Status)
		}
		got = received("Export failed: broken", 2)
		if m := got["bob@example.com"]; !strings.Contains(m.text, string(y.ErrorCode)) || !strings.Contains(m.text, "What to do:") {
			t.Errorf("export failed email: %+v", m)
		}

		// A post fails.
		c, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: e.ws.ID, Platform: "tiktok", AccountID: "tt",
			AccountName: "Acme on TikTok", AccessToken: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := e.store.ListRenditions(ctx, x.ID)
		p, err := e.store.CreatePublication(ctx, store.Publication{WorkspaceID: e.ws.ID, ExportID: x.ID, RenditionID: rs[0].ID,
			ConnectionID: c.ID, Platform: "tiktok", Metadata: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.WithTx(ctx, func(tx *sql.Tx) error {
			_, err := e.runner.Queue().FailPublication(ctx, tx, p, errcode.PlatformRejected, "the video is too short")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		got = received("Post to TikTok failed: clip", 2)
		if m := got["ada@example.com"]; !strings.Contains(m.text, "Acme on TikTok") || !strings.Contains(m.text, "too short") {
			t.Errorf("post failed email: %+v", m)
		}

		// A connection's grant ends in two days (the refresh job warns),
		// then it is found dead.
		ends := time.Now().Add(48 * time.Hour)
		c2, err := e.store.UpsertConnection(ctx, store.Connection{WorkspaceID: e.ws.ID, Platform: "linkedin", AccountID: "li",
			AccountName: "Acme on LinkedIn", AccessToken: []byte("x"), TokenExpiresAt: &ends})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := e.runner.RefreshConnections(ctx, time.Now()); res.Warned != 1 {
			t.Fatalf("RefreshConnections = %+v, %v", res, err)
		}
		got = received("Reconnect LinkedIn (Acme on LinkedIn)", 2)
		if m := got["ada@example.com"]; !strings.Contains(m.text, base+"/connections") {
			t.Errorf("expiring email: %+v", m)
		}
		if _, err := e.runner.Queue().ExpireConnection(ctx, c2, fmt.Errorf("invalid_grant")); err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, 60*time.Second, func() bool {
			n := 0
			for _, m := range emails(t, srv) {
				if strings.Contains(m.subject, "LinkedIn") && !strings.HasPrefix(m.subject, "Reconnect") {
					n++
				}
			}
			return n == 2
		}, "connection expired emails")

		// An invite by email goes to the invitee only, with the link.
		inv, err := e.svc.Members.Invite(ctx, outpost.Caller{WorkspaceID: e.ws.ID, UserID: ada.ID, Name: ada.Email, Role: authz.Owner},
			outpost.InviteRequest{Email: "zoe@example.com", Role: authz.Member, SendEmail: true})
		if err != nil || !inv.Emailed {
			t.Fatalf("invite %+v, %v", inv, err)
		}
		got = received("ada@example.com invited you", 1)
		if m, ok := got["zoe@example.com"]; !ok || !strings.Contains(m.text, inv.Link) || strings.Contains(m.text, "/settings/notifications") {
			t.Errorf("invite email %+v", got)
		}

		// Nobody outside the workspace got anything, and Bob no export
		// ready.
		for _, m := range emails(t, srv) {
			if m.to == "eve@example.com" || (m.to == "bob@example.com" && strings.HasPrefix(m.subject, "Export ready")) {
				t.Errorf("unexpected email to %s: %s", m.to, m.subject)
			}
		}
		if n := len(srv.Messages()); n != 10 {
			t.Errorf("%d emails, want 10 (1 ready, 2 failed, 2 post, 2 expiring, 2 expired, 1 invite)", n)
		}
	})
}

// TestNotifications_notConfigured: without SMTP settings no email job is
// queued, and inviting by email is refused before anything is made.
func TestNotifications_notConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, store.SQLite, envOptions{})
	ctx := t.Context()
	_, err := e.svc.Members.Invite(ctx, outpost.Caller{WorkspaceID: e.ws.ID, UserID: "usr_x", Role: authz.Owner},
		outpost.InviteRequest{Email: "zoe@example.com", SendEmail: true})
	if errcode.Of(err) != errcode.EmailNotConfigured {
		t.Fatalf("invite by email without SMTP: %v", err)
	}
	if is, _ := e.store.ListInvites(ctx, e.ws.ID, time.Now()); len(is) != 0 {
		t.Errorf("an invite was made: %+v", is)
	}
	if err := e.store.WithTx(ctx, func(tx *sql.Tx) error {
		return e.runner.Queue().InsertEmail(ctx, tx, "a@example.com", notify.Notice{Kind: notify.ExportSucceeded})
	}); err != nil {
		t.Fatal(err)
	}
	res, err := e.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(jobs.KindEmail))
	if err != nil || len(res.Jobs) != 0 {
		t.Errorf("email jobs without SMTP: %+v, %v", res, err)
	}
}

// TestDeletions_files: deleting an export removes its files, thumbnails
// and caption sidecars from storage except a file another export's
// rendition still holds, which goes with the last holder; a project goes
// with its source and poster. The queued job deletes what the request
// could not. On both engines, with file and S3 (versitygw) storage.
func TestDeletions_files(t *testing.T) {
	t.Parallel()
	for _, eng := range engines {
		for _, s3 := range []bool{false, true} {
			name := string(eng) + "/file"
			if s3 {
				name = string(eng) + "/s3"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, eng, envOptions{workers: 1, noStart: true, s3: s3})
				ctx := t.Context()
				put := func(keys ...string) {
					t.Helper()
					for _, k := range keys {
						if _, err := e.blob.Put(ctx, k, strings.NewReader("bytes of "+k), ""); err != nil {
							t.Fatal(err)
						}
					}
				}
				stored := func(k string) bool {
					t.Helper()
					ok, err := e.blob.Exists(ctx, k)
					if err != nil {
						t.Fatal(err)
					}
					return ok
				}
				prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "Master", Kind: store.ProjectUpload,
					SourceKey: "projects/p1/source.mp4", ThumbnailKey: "projects/p1/poster.jpg", Status: store.ProjectReady})
				if err != nil {
					t.Fatal(err)
				}
				put(prj.SourceKey, prj.ThumbnailKey)
				// e1's reel and tiktok targets share one file (one encode);
				// e2's rendition holds that same file too.
				shared := "renditions/e1/instagram-reel+tiktok.mp4"
				mk := func(rends ...store.Rendition) (store.Export, []store.Rendition) {
					t.Helper()
					x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: store.ExportSucceeded})
					if err != nil {
						t.Fatal(err)
					}
					var out []store.Rendition
					for i, r := range rends {
						r.ExportID, r.TargetIndex, r.Status = x.ID, i, store.RenditionSucceeded
						if r, err = e.store.CreateRendition(ctx, r); err != nil {
							t.Fatal(err)
						}
						put(r.BlobKey, r.ThumbnailKey)
						if r.CaptionsKey != "" {
							put(r.CaptionsKey)
						}
						out = append(out, r)
					}
					return x, out
				}
				e1, r1 := mk(
					store.Rendition{PresetID: "instagram-reel", BlobKey: shared, ThumbnailKey: "renditions/e1/instagram-reel.jpg"},
					store.Rendition{PresetID: "tiktok", BlobKey: shared, ThumbnailKey: "renditions/e1/tiktok.jpg"},
					store.Rendition{PresetID: "youtube-1080p", BlobKey: "renditions/e1/youtube-1080p.mp4",
						ThumbnailKey: "renditions/e1/youtube-1080p.jpg", CaptionsKey: "renditions/e1/youtube-1080p.srt"})
				e2, _ := mk(store.Rendition{PresetID: "instagram-reel", BlobKey: shared, ThumbnailKey: "renditions/e2/instagram-reel.jpg"})

				owner := outpost.Caller{WorkspaceID: e.ws.ID, UserID: "usr_owner", Name: "owner@example.com", Role: authz.Owner}
				member := owner
				member.Role = authz.Member
				if _, err := e.svc.Deletions.Export(ctx, member, e1.ID, false); errcode.Of(err) != errcode.Forbidden {
					t.Fatalf("a member deleted an export: %v", err)
				}
				res, err := e.svc.Deletions.Export(ctx, owner, e1.ID, false)
				if err != nil {
					t.Fatal(err)
				}
				if res != (outpost.DeleteResult{Exports: 1, FilesDeleted: 5, FilesKept: 1}) {
					t.Errorf("delete e1 = %+v", res)
				}
				for _, r := range r1 {
					for _, k := range []string{r.ThumbnailKey, r.CaptionsKey} {
						if k != "" && stored(k) {
							t.Errorf("%s still stored", k)
						}
					}
				}
				if stored(r1[2].BlobKey) || !stored(shared) {
					t.Errorf("after e1: own file stored %v, shared file stored %v; want false, true", stored(r1[2].BlobKey), stored(shared))
				}
				// Pretend the request could not delete a file: the queued job
				// deletes it when the workers run.
				put(r1[2].BlobKey)
				e.start(t)
				waitfor.True(t, 30*time.Second, func() bool { return !stored(r1[2].BlobKey) }, "the delete-files job deletes what was left")

				if res, err = e.svc.Deletions.Export(ctx, owner, e2.ID, false); err != nil || res.FilesDeleted != 2 || res.FilesKept != 0 {
					t.Errorf("delete e2 = %+v, %v", res, err)
				}
				if stored(shared) {
					t.Error("the shared file outlived its last holder")
				}
				if res, err = e.svc.Deletions.Project(ctx, owner, prj.ID, false); err != nil || res.Projects != 1 || res.FilesDeleted != 2 {
					t.Errorf("delete project = %+v, %v", res, err)
				}
				if stored(prj.SourceKey) || stored(prj.ThumbnailKey) {
					t.Error("the project's source or poster is still stored")
				}
				if _, err := e.svc.Deletions.Project(ctx, owner, prj.ID, false); errcode.Of(err) != errcode.NotFound {
					t.Errorf("deleting again: %v", err)
				}
				page, err := e.store.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: e.ws.ID})
				if err != nil {
					t.Fatal(err)
				}
				var acts []string
				for _, ev := range page.Events {
					acts = append(acts, string(ev.Action))
				}
				if !slices.Equal(acts, []string{"project.deleted", "export.deleted", "export.deleted"}) {
					t.Errorf("audit %v", acts)
				}
			})
		}
	}
}

// TestCleanup_historyAndThrottle: the periodic cleanup deletes finished
// exports older than OUTPOST_HISTORY_RETENTION once their files are gone
// (audited in the instance's log), keeps the others, and purges
// throttling records past every window. On both engines.
func TestCleanup_historyAndThrottle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng store.Engine) {
		e := newEnv(t, eng, envOptions{configure: func(_ *store.Store, o *jobs.Options) { o.HistoryRetention = 30 * 24 * time.Hour }})
		ctx := t.Context()
		prj, err := e.store.CreateProject(ctx, store.Project{WorkspaceID: e.ws.ID, Name: "Master", Kind: store.ProjectUpload, Status: store.ProjectReady})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		mk := func(age time.Duration, status store.ExportStatus, fileGone bool) store.Export {
			t.Helper()
			x, err := e.store.CreateExport(ctx, store.Export{WorkspaceID: e.ws.ID, ProjectID: prj.ID, Status: status, CreatedAt: now.Add(-age)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.store.CreateRendition(ctx, store.Rendition{ExportID: x.ID, PresetID: "tiktok", Status: store.RenditionSucceeded,
				BlobKey: "renditions/" + x.ID + "/tiktok.mp4"})
			if err != nil {
				t.Fatal(err)
			}
			if fileGone {
				if err := e.store.MarkRenditionDeleted(ctx, r.ID, now); err != nil {
					t.Fatal(err)
				}
			}
			return x
		}
		old := mk(40*24*time.Hour, store.ExportSucceeded, true)
		kept := mk(40*24*time.Hour, store.ExportSucceeded, false) // its file is still stored (saved)
		recent := mk(2*24*time.Hour, store.ExportFailed, true)
		for _, at := range []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Minute)} {
			if err := e.store.RecordAuthFailure(ctx, store.AuthFailure{Kind: store.FailedSignIn, IP: "203.0.113.9", Account: "a@example.com", At: at}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.runner.Cleanup(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.HistoryDeleted != 1 || res.AuthFailures != 1 {
			t.Errorf("cleanup %+v: want 1 history row and 1 old failure deleted", res)
		}
		if _, err := e.store.GetExport(ctx, old.ID); err == nil {
			t.Error("the old export is still in the history")
		}
		for _, x := range []store.Export{kept, recent} {
			if _, err := e.store.GetExport(ctx, x.ID); err != nil {
				t.Errorf("export %s was deleted: %v", x.ID, err)
			}
		}
		if n, _, _ := e.store.FailuresByAccount(ctx, store.FailedSignIn, "a@example.com", now.Add(-time.Hour)); n != 1 {
			t.Errorf("recent failures left: %d, want 1", n)
		}
		pg, err := e.store.ListAuditEvents(ctx, store.AuditFilter{WorkspaceID: "", Action: store.AuditHistoryRetentionRan})
		var d struct{ Exports int }
		if err != nil || len(pg.Events) != 1 || json.Unmarshal(pg.Events[0].Details, &d) != nil || d.Exports != 1 {
			t.Errorf("history audit %+v, %v", pg.Events, err)
		}
	})
}
