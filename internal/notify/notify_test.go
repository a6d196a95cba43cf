package notify_test

import (
	"errors"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/notify"
	"outpost/internal/testsmtp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// notices are one example of each kind, as the jobs will fill them in.
func notices() []notify.Notice {
	exp := time.Date(2026, 6, 3, 9, 30, 0, 0, time.UTC)
	prefs := "https://outpost.example.com/settings/notifications"
	return []notify.Notice{
		{Kind: notify.ExportSucceeded, Workspace: "Acme Agency", Project: "Spring <launch> & teaser",
			Targets: []string{"youtube-1080p", "tiktok"}, Link: "https://outpost.example.com/exports/exp_1", PrefsLink: prefs},
		{Kind: notify.ExportFailed, Workspace: "Acme Agency", Project: "Spring launch", ErrorCode: "source_unreadable",
			Error: "The file is not a video ffmpeg can read", Remedy: "Export the master again as MP4 or MOV.",
			Link: "https://outpost.example.com/exports/exp_2", PrefsLink: prefs},
		{Kind: notify.PublicationFailed, Workspace: "Acme Agency", Project: "Spring launch", Platform: "YouTube",
			Account: "Acme Channel", ErrorCode: "platform_rejected", Error: "YouTube refused the video: duplicate upload",
			Link: "https://outpost.example.com/exports/exp_3#pub_1", PrefsLink: prefs},
		{Kind: notify.ConnectionExpiring, Workspace: "Acme Agency", Platform: "TikTok", Account: "@acme",
			ExpiresAt: exp, Link: "https://outpost.example.com/connections", PrefsLink: prefs},
		{Kind: notify.ConnectionExpired, Workspace: "Acme Agency", Platform: "LinkedIn", Account: "Acme Inc.",
			Link: "https://outpost.example.com/connections", PrefsLink: prefs},
		{Kind: notify.Invite, Workspace: "Acme Agency", InvitedBy: "Ada Lovelace", Role: "member", ExpiresAt: exp,
			Link: "https://outpost.example.com/invite/tok123"},
	}
}

func TestRender_golden(t *testing.T) {
	t.Parallel()
	for _, n := range notices() {
		t.Run(string(n.Kind), func(t *testing.T) {
			t.Parallel()
			m, err := notify.Render(n)
			if err != nil {
				t.Fatal(err)
			}
			got := "Subject: " + m.Subject + "\n\n--- text ---\n" + m.Text + "\n--- html ---\n" + m.HTML
			path := filepath.Join("testdata", string(n.Kind)+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("rendered %s differs from %s (go test ./internal/notify -update):\n%s", n.Kind, path, got)
			}
			if !strings.Contains(m.Text, n.Link) || !strings.Contains(m.HTML, `href="`+n.Link+`"`) {
				t.Errorf("the link is missing from the text or the HTML")
			}
		})
	}
	if _, err := notify.Render(notify.Notice{Kind: "party"}); err == nil {
		t.Error("an unknown kind rendered")
	}
	// Names are escaped in HTML, kept as they are in text.
	m, _ := notify.Render(notices()[0])
	if strings.Contains(m.HTML, "<launch>") || !strings.Contains(m.HTML, "Spring &lt;launch&gt; &amp; teaser") ||
		!strings.Contains(m.Text, `"Spring <launch> & teaser"`) {
		t.Errorf("escaping: %s", m.HTML)
	}
}

// received is a message as the server got it, parsed.
type received struct {
	from, to, subject, autoSubmitted string
	text, html                       string
}

func parse(t *testing.T, raw []byte) received {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	r := received{from: msg.Header.Get("From"), to: msg.Header.Get("To"), subject: subject,
		autoSubmitted: msg.Header.Get("Auto-Submitted")}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v); want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			r.text = string(b)
		case "text/html":
			r.html = string(b)
		}
	}
	return r
}

func TestMailer_Send(t *testing.T) {
	t.Parallel()
	for _, implicit := range []bool{false, true} {
		name := "starttls"
		if implicit {
			name = "implicit-tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := testsmtp.Start(t, testsmtp.Options{ImplicitTLS: implicit})
			if implicit != strings.HasPrefix(srv.URL(), "smtps://") {
				t.Fatalf("URL %s", srv.URL())
			}
			m, err := notify.NewMailer(srv.URL(), "Outpost <outpost@example.com>", notify.Options{TLSConfig: srv.ClientTLS()})
			if err != nil {
				t.Fatal(err)
			}
			if !m.Configured() {
				t.Fatal("not configured")
			}
			ns := notices()
			for i, n := range ns {
				if err := m.Send(t.Context(), "member"+string(rune('a'+i))+"@example.com", n); err != nil {
					t.Fatalf("Send(%s): %v", n.Kind, err)
				}
			}
			msgs := srv.Messages()
			if len(msgs) != len(ns) {
				t.Fatalf("server got %d messages, want %d", len(msgs), len(ns))
			}
			for i, n := range ns {
				to := "member" + string(rune('a'+i)) + "@example.com"
				want, _ := notify.Render(n)
				got := parse(t, msgs[i].Data)
				if msgs[i].From != "outpost@example.com" || len(msgs[i].To) != 1 || msgs[i].To[0] != to {
					t.Errorf("%s: envelope from %q to %v", n.Kind, msgs[i].From, msgs[i].To)
				}
				if got.to != "<"+to+">" || got.from != `"Outpost" <outpost@example.com>` || got.subject != want.Subject ||
					got.autoSubmitted != "auto-generated" {
					t.Errorf("%s: headers from %q to %q subject %q", n.Kind, got.from, got.to, got.subject)
				}
				if got.text != want.Text || got.html != want.HTML {
					t.Errorf("%s: bodies differ from the rendered ones:\n%q\n%q", n.Kind, got.text, got.html)
				}
				if !strings.Contains(got.text, n.Link) || !strings.Contains(got.html, `href="`+n.Link+`"`) {
					t.Errorf("%s: link %s missing", n.Kind, n.Link)
				}
			}
		})
	}
}

func TestMailer_wrongPassword(t *testing.T) {
	t.Parallel()
	srv := testsmtp.Start(t, testsmtp.Options{})
	bad := strings.Replace(srv.URL(), testsmtp.Password, "wrong", 1)
	m, err := notify.NewMailer(bad, "outpost@example.com", notify.Options{TLSConfig: srv.ClientTLS(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), "a@example.com", notices()[0]); err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages", n)
	}
}

func TestMailer_untrustedCertificate(t *testing.T) {
	t.Parallel()
	// STARTTLS is mandatory and the certificate is checked: a server whose
	// certificate the client does not trust gets nothing.
	srv := testsmtp.Start(t, testsmtp.Options{})
	m, err := notify.NewMailer(srv.URL(), "outpost@example.com", notify.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), "a@example.com", notices()[0]); err == nil {
		t.Fatal("Send to an untrusted server succeeded")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages", n)
	}
}

func TestMailer_notConfigured(t *testing.T) {
	t.Parallel()
	m, err := notify.NewMailer("", "", notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var zero *notify.Mailer
	for _, m := range []*notify.Mailer{m, zero} {
		if m.Configured() {
			t.Error("configured without a URL")
		}
		if err := m.Send(t.Context(), "a@example.com", notices()[0]); errcode.Of(err) != errcode.EmailNotConfigured {
			t.Errorf("Send = %v, want email_not_configured", err)
		}
	}
	for _, bad := range []string{"http://mail.example.com", "smtp://mail.example.com:port"} {
		if _, err := notify.NewMailer(bad, "a@example.com", notify.Options{}); errcode.Of(err) != errcode.ConfigInvalid {
			t.Errorf("NewMailer(%q) = %v, want config_invalid", bad, err)
		}
	}
	if _, err := notify.NewMailer("smtp://mail.example.com", "not an address", notify.Options{}); errcode.Of(err) != errcode.ConfigInvalid {
		t.Errorf("bad From: %v", err)
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	for _, k := range notify.Kinds {
		if k.Label() == string(k) {
			t.Errorf("%s has no label", k)
		}
	}
}
