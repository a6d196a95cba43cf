package config

import (
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"outpost/internal/publish/platforms"
)

// NewLogger returns a logger writing to w in the configured format and
// level.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// LogValue shows the configuration without its secrets, for the start-up
// log line.
func (c *Config) LogValue() slog.Value { return slog.GroupValue(c.logAttrs(true)...) }

// ForWorker shows, for `outpost worker`'s start-up line, only the settings
// a worker uses: it serves no HTTP, so no listen address, public URL, API
// key, upload limit, emulators or admin account.
func (c *Config) ForWorker() slog.LogValuer { return workerView{c} }

type workerView struct{ c *Config }

func (w workerView) LogValue() slog.Value { return slog.GroupValue(w.c.logAttrs(false)...) }

// logAttrs are the settings to log; http adds those only the API uses.
func (c *Config) logAttrs(http bool) []slog.Attr {
	secret := "not set"
	if c.SecretKey != nil {
		secret = "from " + c.secretKeySource
	}
	attrs := []slog.Attr{
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("blob_url", redactURL(c.BlobURL)),
		slog.String("secret_key", secret),
		slog.Int("token_keys", len(c.TokenKeys)),
		slog.Int("render_concurrency", c.RenderConcurrency),
		slog.Int("render_threads", c.RenderThreads),
		slog.Int("render_nice", c.RenderNice),
		slog.Int("workers", c.Workers),
		slog.Duration("retention", c.Retention),
		slog.String("ffmpeg", c.FFmpegPath),
		slog.String("ffprobe", c.FFprobePath),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.String("platforms", c.platformsLog()),
		slog.String("smtp", c.smtpLog()),
		slog.String("history_retention", retentionLog(c.HistoryRetention)),
	}
	if http {
		attrs = append(attrs,
			slog.String("listen", c.Listen),
			slog.String("public_url", c.PublicURL),
			slog.Bool("bootstrap_api_key", c.BootstrapAPIKey != ""),
			slog.Int64("max_upload_bytes", c.MaxUploadBytes),
			slog.Bool("sandbox", c.Sandbox),
			slog.String("admin_email", c.AdminEmail),
			slog.Int("api_key_guess_limit", c.APIKeyGuessLimit),
		)
	}
	return attrs
}

// redactURL hides a URL's password and any secret-looking query values.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "password", "secret_key_path", "secret", "access_key", "secret_key", "sas_token":
			q.Set(k, "xxxxx")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// platformsLog lists the configured platforms, and their origins when not
// the real ones, without secrets.
func (c *Config) platformsLog() string {
	var out []string
	for _, name := range platforms.IDs() {
		p, ok := c.Platforms[name]
		if !ok || !p.Configured() {
			continue
		}
		if p.BaseURL != "" {
			name += "@" + redactURL(p.BaseURL)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// smtpLog shows the mail server without its password.
func (c *Config) smtpLog() string {
	if c.SMTPURL == "" {
		return "not configured"
	}
	return redactURL(c.SMTPURL) + " from " + c.SMTPFrom
}

func retentionLog(d time.Duration) string {
	if d == 0 {
		return "keep"
	}
	return d.String()
}
