package config

import (
	"io"
	"log/slog"
	"net/url"
	"strings"
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
func (c *Config) LogValue() slog.Value {
	secret := "not set"
	if c.SecretKey != nil {
		secret = "from " + c.secretKeySource
	}
	return slog.GroupValue(
		slog.String("listen", c.Listen),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("blob_url", redactURL(c.BlobURL)),
		slog.String("secret_key", secret),
		slog.Int("token_keys", len(c.TokenKeys)),
		slog.Bool("bootstrap_api_key", c.BootstrapAPIKey != ""),
		slog.Int("render_concurrency", c.RenderConcurrency),
		slog.Int("render_threads", c.RenderThreads),
		slog.Int("render_nice", c.RenderNice),
		slog.Int("workers", c.Workers),
		slog.Duration("retention", c.Retention),
		slog.String("public_url", c.PublicURL),
		slog.Int64("max_upload_bytes", c.MaxUploadBytes),
		slog.String("ffmpeg", c.FFmpegPath),
		slog.String("ffprobe", c.FFprobePath),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Bool("sandbox", c.Sandbox),
		slog.String("platforms", c.platformsLog()),
		slog.String("admin_email", c.AdminEmail),
	)
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
	for _, name := range PlatformNames {
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
