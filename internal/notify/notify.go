// Package notify emails the members of a workspace about what happened
// while they were not watching (an export finished or failed, a post
// failed, a connection is expiring or expired) and sends invites. Messages
// are plain text with an HTML alternative, rendered from templates; they
// go out over SMTP with github.com/wneessen/go-mail (STARTTLS required on
// smtp://, implicit TLS on smtps://).
//
// Without OUTPOST_SMTP_URL a Mailer is not configured: Configured reports
// it (the UI says so) and Send sends nothing, returning an
// email_not_configured error. Delivery belongs in a River job: the job
// calls Mailer.Send, and its retries are the only ones.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/wneessen/go-mail"

	"outpost/internal/errcode"
)

// Kind is what a notice is about.
type Kind string

// Kinds.
const (
	ExportSucceeded    Kind = "export_succeeded"
	ExportFailed       Kind = "export_failed"
	PublicationFailed  Kind = "publication_failed"
	ConnectionExpiring Kind = "connection_expiring"
	ConnectionExpired  Kind = "connection_expired"
	Invite             Kind = "invite"
)

// Kinds lists every kind.
var Kinds = []Kind{ExportSucceeded, ExportFailed, PublicationFailed, ConnectionExpiring, ConnectionExpired, Invite}

// PreferenceKinds are the kinds a member may turn on or off (each is on
// until they do). Invites go to people who are not members yet.
var PreferenceKinds = []Kind{ExportSucceeded, ExportFailed, PublicationFailed, ConnectionExpiring, ConnectionExpired}

// Label describes a kind for the preferences page.
func (k Kind) Label() string {
	switch k {
	case ExportSucceeded:
		return "An export is ready"
	case ExportFailed:
		return "An export failed"
	case PublicationFailed:
		return "A post to a platform failed"
	case ConnectionExpiring:
		return "A connected account is about to stop working"
	case ConnectionExpired:
		return "A connected account stopped working"
	case Invite:
		return "An invite to a workspace"
	}
	return string(k)
}

// Notice is what one email says. It is JSON, so a job can carry it; each
// kind's template uses the fields it needs.
type Notice struct {
	Kind Kind `json:"kind"`
	// Workspace is the workspace's name.
	Workspace string `json:"workspace"`
	// Link is the absolute URL the email points to: the export, the post,
	// the connections page, the invite.
	Link string `json:"link"`
	// PrefsLink is the notification preferences page ("" for invites).
	PrefsLink string `json:"prefs_link,omitempty"`
	// Project is the project's name.
	Project string `json:"project,omitempty"`
	// Targets are the preset ids an export rendered.
	Targets []string `json:"targets,omitempty"`
	// Platform is the platform's display name ("YouTube"), Account the
	// connected account's name.
	Platform string `json:"platform,omitempty"`
	Account  string `json:"account,omitempty"`
	// ErrorCode, Error and Remedy are the user-facing failure.
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
	Remedy    string `json:"remedy,omitempty"`
	// ExpiresAt is when a connection stops working, or an invite.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// InvitedBy and Role are an invite's sender and role.
	InvitedBy string `json:"invited_by,omitempty"`
	Role      string `json:"role,omitempty"`
}

// Message is a rendered email.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

//go:embed templates
var templateFS embed.FS

var funcs = map[string]any{
	"join": strings.Join,
	"date": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 UTC") },
}

// templates holds each kind's text set ("subject", "text") and HTML set
// ("html"), parsed once.
var templates = func() map[Kind]struct {
	text *texttemplate.Template
	html *htmltemplate.Template
} {
	out := map[Kind]struct {
		text *texttemplate.Template
		html *htmltemplate.Template
	}{}
	for _, k := range Kinds {
		t := texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.txt", "templates/"+string(k)+".txt"))
		h := htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+string(k)+".html"))
		out[k] = struct {
			text *texttemplate.Template
			html *htmltemplate.Template
		}{t, h}
	}
	return out
}()

// Render renders a notice's subject, text and HTML.
func Render(n Notice) (Message, error) {
	set, ok := templates[n.Kind]
	if !ok {
		return Message{}, fmt.Errorf("render notice: unknown kind %q", n.Kind)
	}
	var subject, text, html bytes.Buffer
	if err := set.text.ExecuteTemplate(&subject, "subject", n); err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", n.Kind, err)
	}
	if err := set.text.ExecuteTemplate(&text, "text", n); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", n.Kind, err)
	}
	view := struct {
		Notice
		Subject string
	}{n, subject.String()}
	if err := set.html.ExecuteTemplate(&html, "html", view); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", n.Kind, err)
	}
	// A subject is one line, whatever the names in it hold.
	subj := strings.Join(strings.Fields(subject.String()), " ")
	return Message{Subject: subj, Text: strings.TrimRight(text.String(), "\n") + "\n", HTML: html.String()}, nil
}

// Options tune a Mailer.
type Options struct {
	// TLSConfig replaces the system's TLS settings (a private CA's
	// roots); nil uses the defaults with the server's host name.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command (default 30 s).
	Timeout time.Duration
}

// Mailer sends notices through one SMTP server. The zero Mailer, and one
// made from an empty URL, is not configured.
type Mailer struct {
	host string // "" when not configured
	from string
	opts []mail.Option
}

// NewMailer returns a Mailer for smtpURL (config.SMTPURL:
// smtp://user:pass@host:587 with STARTTLS required, or smtps://…:465 with
// implicit TLS) sending from from. An empty smtpURL gives a Mailer that is
// not configured.
func NewMailer(smtpURL, from string, o Options) (*Mailer, error) {
	if smtpURL == "" {
		return &Mailer{}, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, errcode.Wrap(errcode.ConfigInvalid, err, "OUTPOST_SMTP_URL")
	}
	port := 587
	opts := []mail.Option{mail.WithTLSPolicy(mail.TLSMandatory)}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		port = 465
		opts = append(opts, mail.WithSSL())
	default:
		return nil, errcode.New(errcode.ConfigInvalid, "OUTPOST_SMTP_URL: scheme %q: want smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, errcode.New(errcode.ConfigInvalid, "OUTPOST_SMTP_URL: bad port %q", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user), mail.WithPassword(pass))
	} else {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthNoAuth))
	}
	tlsConfig := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if o.TLSConfig != nil {
		tlsConfig = o.TLSConfig.Clone()
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts = append(opts, mail.WithTLSConfig(tlsConfig), mail.WithTimeout(timeout))
	m := &Mailer{host: u.Hostname(), from: from, opts: opts}
	if _, err := m.client(); err != nil {
		return nil, errcode.Wrap(errcode.ConfigInvalid, err, "OUTPOST_SMTP_URL")
	}
	if err := mail.NewMsg().From(from); err != nil {
		return nil, errcode.Wrap(errcode.ConfigInvalid, err, "OUTPOST_SMTP_FROM")
	}
	return m, nil
}

func (m *Mailer) client() (*mail.Client, error) {
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return c, nil
}

// Configured reports whether the Mailer sends email.
func (m *Mailer) Configured() bool { return m != nil && m.host != "" }

// ErrNotConfigured is Send's error without SMTP settings.
var ErrNotConfigured = errcode.New(errcode.EmailNotConfigured, "no SMTP server is configured: nothing was sent")

// Send renders the notice and sends it to one address (one email per
// recipient, so nobody sees the others' addresses). Each call makes its
// own connection; a job retries a failure.
func (m *Mailer) Send(ctx context.Context, to string, n Notice) error {
	if !m.Configured() {
		return ErrNotConfigured
	}
	msg, err := Render(n)
	if err != nil {
		return err
	}
	em := mail.NewMsg()
	if err := em.From(m.from); err != nil {
		return fmt.Errorf("send %s: from: %w", n.Kind, err)
	}
	if err := em.To(to); err != nil {
		return fmt.Errorf("send %s: to: %w", n.Kind, err)
	}
	em.Subject(msg.Subject)
	em.SetDate()
	em.SetMessageID()
	em.SetGenHeader("Auto-Submitted", "auto-generated")
	em.SetBodyString(mail.TypeTextPlain, msg.Text)
	em.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	c, err := m.client()
	if err != nil {
		return err
	}
	if err := c.DialAndSendWithContext(ctx, em); err != nil {
		return fmt.Errorf("send %s email: %w", n.Kind, err)
	}
	return nil
}
