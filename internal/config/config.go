// Package config loads Outpost's one typed Config: defaults, then OUTPOST_*
// environment variables (secrets also from OUTPOST_*_FILE), then flags, then
// validation with errors that name the variable and the flag to fix.
//
// With nothing set, `outpost serve` works: data under ./data (SQLite
// database, file blobs, a generated secret key), listening on
// 127.0.0.1:8080.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"outpost/internal/clientip"
	"outpost/internal/errcode"
)

// EnvPrefix starts every environment variable Outpost reads.
const EnvPrefix = "OUTPOST_"

// Config is Outpost's configuration, resolved and validated.
type Config struct {
	// Listen is the HTTP listen address (host:port).
	Listen string
	// DataDir holds the SQLite database, file blobs and the generated
	// secret key.
	DataDir string
	// DatabaseURL is postgres://… or postgresql://… for PostgreSQL, or
	// sqlite:PATH (or a path) for SQLite. Default: sqlite:DATA_DIR/outpost.db.
	DatabaseURL string
	// BlobURL is a gocloud.dev/blob URL of a scheme blob.Open supports
	// (file:///…, s3://…). Default: file://ABS_DATA_DIR/blobs.
	BlobURL string
	// SecretKey is the 32-byte key that seals OAuth tokens and signs
	// links. Nil until EnsureSecretKey when it was not configured.
	SecretKey []byte
	// TokenKeys are more keys that seal connection tokens, by key id
	// (2…255; the secret key is id 1): the highest id seals new tokens,
	// every listed one still opens what it sealed. Rotate by adding a key
	// with a higher id; once the refresh job has sealed every token again,
	// the older one can go. OUTPOST_TOKEN_KEYS="2:HEXKEY,3:HEXKEY".
	TokenKeys map[byte][]byte
	// BootstrapAPIKey, when set, is an API key ensured to exist for the
	// default workspace at start.
	BootstrapAPIKey string
	// RenderConcurrency is how many renders one worker process runs at once.
	RenderConcurrency int
	// Workers is how many job workers this process runs (River's
	// MaxWorkers for the render queue); 0 runs none (scale-out API nodes).
	// Default: RenderConcurrency.
	Workers int
	// RenderThreads caps ffmpeg's threads in a render: the decoder's, the
	// filter graph's and each encoder's. Default: the machine's cores.
	RenderThreads int
	// RenderNice is the nice value ffmpeg runs at (0 to 19; higher yields
	// the CPU sooner), so that a render does not starve the API. Default
	// 19, the lowest: it kept the API's p99 within 2× of idle during a
	// render where 10 did not (README, Benchmarks). The one-shot CLI uses
	// 0: see RenderFromEnv.
	RenderNice int
	// SegmentThreshold is the source length in seconds above which an
	// export may be rendered in segments over several workers;
	// SegmentMinSeconds is the shortest segment (see render.PlanSegments).
	SegmentThreshold  float64
	SegmentMinSeconds float64
	// Encoder is OUTPOST_ENCODER: "auto" (default), "software", "nvenc",
	// "vaapi" or "qsv" (EncoderChoices); engine.UseEncoder probes it.
	Encoder string
	// Retention is how long renditions are kept unless saved or pinned.
	Retention time.Duration
	// PublicURL is the base URL users reach this server at, for signed
	// links and OAuth callbacks, without a trailing slash. Default:
	// http://LISTEN.
	PublicURL string
	// MaxUploadBytes caps one upload.
	MaxUploadBytes int64
	// FFmpegPath and FFprobePath are the binaries to run (looked up on
	// PATH when not absolute).
	FFmpegPath  string
	FFprobePath string
	// LogLevel and LogFormat ("text" or "json") configure the logger.
	LogLevel  slog.Level
	LogFormat string
	// Sandbox starts the platform emulators in-process and points the
	// publishers at them.
	Sandbox bool
	// SandboxAddr is where `serve --sandbox` serves the emulators
	// (host:port; port 0 picks a free one).
	SandboxAddr string
	// Platforms are the publishing platforms' OAuth apps and origins, by
	// platform id (platforms.IDs). With Sandbox, the app replaces them
	// with the emulators' at start.
	Platforms map[string]Platform
	// ConnectionWarning is how long before a connection's grant ends
	// (a token that cannot be refreshed, or the refresh token itself) the
	// connection.expiring webhook is sent.
	ConnectionWarning time.Duration
	// YouTubeQuotaPerDay is the YouTube Data API units the project (the
	// OAuth client) may spend per Pacific day (10 000 unless Google granted
	// more); publications wait for the reset rather than pass it.
	YouTubeQuotaPerDay int
	// AdminEmail and AdminPassword, when both set, are the web UI's first
	// user, created at start if no user exists yet. Without them the UI
	// logs a one-time setup link instead.
	AdminEmail    string
	AdminPassword string
	// APIRateLimit is how many API requests a second each API key may make
	// on average, APIRateBurst how many at once; more get 429 rate_limited
	// with Retry-After. 0 turns the limit off.
	APIRateLimit float64
	APIRateBurst int
	// AcceptConcurrency is how many export accepts (POST /api/v1/exports
	// and /exports/batch) are worked on at once; the rest wait their turn
	// in arrival order. 0 lets the store choose (store.BurstConcurrency).
	AcceptConcurrency int
	// APIKeyGuessLimit is how many bad API keys a minute one client
	// address may send before it gets 429 rate_limited with Retry-After;
	// 0 turns the limit off.
	APIKeyGuessLimit int
	// SMTPURL is the mail server notifications are sent through:
	// smtp://user:pass@host:587 (STARTTLS required) or
	// smtps://user:pass@host:465 (implicit TLS). "" sends no email.
	SMTPURL string
	// SMTPFrom is the From address of notifications ("Outpost
	// <outpost@example.com>"); required with SMTPURL.
	SMTPFrom string
	// HistoryRetention is how long history rows (finished exports whose
	// files are gone) are kept; 0 keeps them for ever.
	HistoryRetention time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for sign-in throttling and the audit log); empty: the
	// connection's peer is the client.
	TrustedProxies []netip.Prefix
	// WebhookAllowNets are private networks webhook endpoints may be on
	// (CIDR prefixes); empty: only public addresses.
	WebhookAllowNets []netip.Prefix

	// secretKeySource says where SecretKey came from, for LogValue.
	secretKeySource string
}

// spec is what env and flags fill in, before resolution: empty strings
// mean "derive the default".
type spec struct {
	Listen            string        `env:"LISTEN" envDefault:"127.0.0.1:8080"`
	DataDir           string        `env:"DATA_DIR" envDefault:"./data"`
	DatabaseURL       string        `env:"DATABASE_URL"`
	BlobURL           string        `env:"BLOB_URL"`
	SecretKey         string        `env:"SECRET_KEY"`
	TokenKeys         string        `env:"TOKEN_KEYS"`
	BootstrapAPIKey   string        `env:"BOOTSTRAP_API_KEY"`
	RenderConcurrency int           `env:"RENDER_CONCURRENCY" envDefault:"1"`
	Workers           string        `env:"WORKERS"`
	RenderThreads     int           `env:"RENDER_THREADS"`
	RenderNice        int           `env:"RENDER_NICE" envDefault:"19"`
	SegmentThreshold  float64       `env:"SEGMENT_THRESHOLD" envDefault:"45"`
	SegmentMinSeconds float64       `env:"SEGMENT_MIN_SECONDS" envDefault:"10"`
	Encoder           string        `env:"ENCODER" envDefault:"auto"`
	Retention         time.Duration `env:"RETENTION" envDefault:"48h"`
	PublicURL         string        `env:"PUBLIC_URL"`
	MaxUploadBytes    ByteSize      `env:"MAX_UPLOAD_BYTES" envDefault:"20GiB"`
	FFmpegPath        string        `env:"FFMPEG" envDefault:"ffmpeg"`
	FFprobePath       string        `env:"FFPROBE" envDefault:"ffprobe"`
	LogLevel          slog.Level    `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat         string        `env:"LOG_FORMAT" envDefault:"text"`
	Sandbox           bool          `env:"SANDBOX"`
	SandboxAddr       string        `env:"SANDBOX_ADDR" envDefault:"127.0.0.1:0"`
	ConnectionWarning time.Duration `env:"CONNECTION_WARNING" envDefault:"168h"`
	YouTubeQuota      int           `env:"YOUTUBE_QUOTA_PER_DAY" envDefault:"10000"`
	AdminEmail        string        `env:"ADMIN_EMAIL"`
	AdminPassword     string        `env:"ADMIN_PASSWORD"`
	APIRateLimit      float64       `env:"API_RATE_LIMIT" envDefault:"20"`
	APIRateBurst      int           `env:"API_RATE_BURST" envDefault:"100"`
	AcceptConcurrency int           `env:"ACCEPT_CONCURRENCY" envDefault:"0"`
	APIKeyGuessLimit  int           `env:"API_KEY_GUESS_LIMIT" envDefault:"20"`
	SMTPURL           string        `env:"SMTP_URL"`
	SMTPFrom          string        `env:"SMTP_FROM"`
	HistoryRetention  string        `env:"HISTORY_RETENTION" envDefault:"keep"`
	TrustedProxies    string        `env:"TRUSTED_PROXIES"`
	WebhookAllowNets  string        `env:"WEBHOOK_ALLOW_NETS"`
	// Platforms are OUTPOST_<PLATFORM>_CLIENT_ID, _CLIENT_SECRET, _BASE_URL
	// by platform id, read by parsePlatforms.
	Platforms map[string]platformSpec `env:"-"`
}

// fileVars are the variables that may instead be read from the file named
// by NAME_FILE (Docker and Kubernetes secrets).
var fileVars = append([]string{"SECRET_KEY", "TOKEN_KEYS", "BOOTSTRAP_API_KEY", "DATABASE_URL", "ADMIN_PASSWORD", "SMTP_URL"}, platformFileVars()...)

// Load builds the configuration from environ (os.Environ's form) and the
// flags in args. When fs is non-nil, Load adds its flags to fs (showing the
// environment's values as defaults) and parses args with it, so a flag
// overrides its variable; the caller may add its own flags to fs first and
// reads the rest with fs.Args. Errors carry errcode.ConfigInvalid.
//
// Load touches no files except those named by *_FILE variables: the secret
// key is read or generated by EnsureSecretKey.
func Load(environ []string, fs *flag.FlagSet, args []string) (*Config, error) {
	sp, err := parseEnv(environ)
	if err != nil {
		return nil, invalid(err)
	}
	if fs != nil {
		sp.register(fs)
		if err := fs.Parse(args); err != nil {
			return nil, invalid(err)
		}
	}
	c, err := sp.resolve()
	if err != nil {
		return nil, invalid(err)
	}
	return c, nil
}

func invalid(err error) error {
	return errcode.Wrap(errcode.ConfigInvalid, err, "invalid configuration")
}

// parseEnv reads the variables into a spec, with their defaults.
func parseEnv(environ []string) (spec, error) {
	vars := env.ToMap(environ)
	var errs []error
	for _, name := range fileVars {
		if err := readFileVar(vars, EnvPrefix+name); err != nil {
			errs = append(errs, err)
		}
	}
	var sp spec
	if err := env.ParseWithOptions(&sp, env.Options{Environment: vars, Prefix: EnvPrefix}); err != nil {
		errs = append(errs, envErrors(err)...)
	}
	var err error
	if sp.Platforms, err = parsePlatforms(vars); err != nil {
		errs = append(errs, err)
	}
	return sp, errors.Join(errs...)
}

// register adds a flag per setting to fs, defaulting to sp's values. Secrets
// have no flags: command lines are visible to every user of the machine.
func (sp *spec) register(fs *flag.FlagSet) {
	fs.StringVar(&sp.Listen, "listen", sp.Listen, "HTTP listen address, host:port ($OUTPOST_LISTEN)")
	fs.StringVar(&sp.DataDir, "data-dir", sp.DataDir, "data directory: SQLite database, file blobs, secret key ($OUTPOST_DATA_DIR)")
	fs.StringVar(&sp.DatabaseURL, "database-url", sp.DatabaseURL, "database: postgres://… or sqlite:PATH (default sqlite:DATA_DIR/outpost.db) ($OUTPOST_DATABASE_URL)")
	fs.StringVar(&sp.BlobURL, "blob-url", sp.BlobURL, "blob storage: file:///… or s3://… (default file://DATA_DIR/blobs) ($OUTPOST_BLOB_URL)")
	fs.IntVar(&sp.RenderConcurrency, "render-concurrency", sp.RenderConcurrency, "renders run at once by this process ($OUTPOST_RENDER_CONCURRENCY)")
	fs.StringVar(&sp.Workers, "workers", sp.Workers, "job workers in this process; 0 for none (default: render concurrency) ($OUTPOST_WORKERS)")
	fs.IntVar(&sp.RenderThreads, "render-threads", sp.RenderThreads, "ffmpeg threads per render: decoder, filters, each encoder (default: all cores) ($OUTPOST_RENDER_THREADS)")
	fs.IntVar(&sp.RenderNice, "render-nice", sp.RenderNice, "CPU priority of ffmpeg, a nice value from 0 to 19 ($OUTPOST_RENDER_NICE)")
	fs.Float64Var(&sp.SegmentThreshold, "segment-threshold", sp.SegmentThreshold, "source length in seconds above which an export may render in segments ($OUTPOST_SEGMENT_THRESHOLD)")
	fs.Float64Var(&sp.SegmentMinSeconds, "segment-min-seconds", sp.SegmentMinSeconds, "shortest segment of a segmented render, in seconds ($OUTPOST_SEGMENT_MIN_SECONDS)")
	fs.StringVar(&sp.Encoder, "encoder", sp.Encoder, "H.264 encoder: auto (hardware when its test encode works, else x264), software, nvenc, vaapi or qsv ($OUTPOST_ENCODER)")
	fs.DurationVar(&sp.Retention, "retention", sp.Retention, "how long renditions are kept unless saved ($OUTPOST_RETENTION)")
	fs.StringVar(&sp.PublicURL, "public-url", sp.PublicURL, "base URL users reach this server at (default http://LISTEN) ($OUTPOST_PUBLIC_URL)")
	fs.Var(&sp.MaxUploadBytes, "max-upload-bytes", "largest accepted upload, e.g. 20GiB ($OUTPOST_MAX_UPLOAD_BYTES)")
	fs.StringVar(&sp.FFmpegPath, "ffmpeg", sp.FFmpegPath, "ffmpeg binary ($OUTPOST_FFMPEG)")
	fs.StringVar(&sp.FFprobePath, "ffprobe", sp.FFprobePath, "ffprobe binary ($OUTPOST_FFPROBE)")
	fs.TextVar(&sp.LogLevel, "log-level", sp.LogLevel, "log level: debug, info, warn, error ($OUTPOST_LOG_LEVEL)")
	fs.StringVar(&sp.LogFormat, "log-format", sp.LogFormat, "log format: text or json ($OUTPOST_LOG_FORMAT)")
	fs.BoolVar(&sp.Sandbox, "sandbox", sp.Sandbox, "run the platform emulators in-process and publish to them ($OUTPOST_SANDBOX)")
	fs.StringVar(&sp.SandboxAddr, "sandbox-addr", sp.SandboxAddr, "where --sandbox serves the emulators, host:port ($OUTPOST_SANDBOX_ADDR)")
	fs.Float64Var(&sp.APIRateLimit, "api-rate-limit", sp.APIRateLimit, "API requests a second per API key, on average; 0 for no limit ($OUTPOST_API_RATE_LIMIT)")
	fs.IntVar(&sp.APIRateBurst, "api-rate-burst", sp.APIRateBurst, "API requests per API key at once ($OUTPOST_API_RATE_BURST)")
	fs.IntVar(&sp.AcceptConcurrency, "accept-concurrency", sp.AcceptConcurrency, "export accepts worked on at once, the rest in arrival order; 0: chosen by the database ($OUTPOST_ACCEPT_CONCURRENCY)")
	fs.IntVar(&sp.APIKeyGuessLimit, "api-key-guess-limit", sp.APIKeyGuessLimit, "bad API keys a minute per client address before 429; 0 for no limit ($OUTPOST_API_KEY_GUESS_LIMIT)")
	fs.StringVar(&sp.WebhookAllowNets, "webhook-allow-nets", sp.WebhookAllowNets, "private networks (CIDR prefixes) webhook endpoints may be on ($OUTPOST_WEBHOOK_ALLOW_NETS)")
	fs.StringVar(&sp.TrustedProxies, "trusted-proxies", sp.TrustedProxies, "reverse proxies (CIDR prefixes) whose X-Forwarded-For names the client ($OUTPOST_TRUSTED_PROXIES)")
	fs.StringVar(&sp.HistoryRetention, "history-retention", sp.HistoryRetention, "how long finished exports stay in the history once their files are gone, e.g. 90d; keep: for ever ($OUTPOST_HISTORY_RETENTION)")
}

// resolve derives the defaults that depend on other settings and validates.
func (sp spec) resolve() (*Config, error) {
	var errs []error
	bad := func(name, flagName, format string, args ...any) {
		where := EnvPrefix + name
		if flagName != "" {
			where += " (--" + flagName + ")"
		}
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	c := &Config{
		Listen:             strings.TrimSpace(sp.Listen),
		DataDir:            strings.TrimSpace(sp.DataDir),
		DatabaseURL:        strings.TrimSpace(sp.DatabaseURL),
		BlobURL:            strings.TrimSpace(sp.BlobURL),
		BootstrapAPIKey:    sp.BootstrapAPIKey,
		RenderConcurrency:  sp.RenderConcurrency,
		Retention:          sp.Retention,
		PublicURL:          strings.TrimSpace(sp.PublicURL),
		MaxUploadBytes:     int64(sp.MaxUploadBytes),
		FFmpegPath:         strings.TrimSpace(sp.FFmpegPath),
		FFprobePath:        strings.TrimSpace(sp.FFprobePath),
		LogLevel:           sp.LogLevel,
		LogFormat:          strings.ToLower(strings.TrimSpace(sp.LogFormat)),
		Sandbox:            sp.Sandbox,
		SandboxAddr:        strings.TrimSpace(sp.SandboxAddr),
		ConnectionWarning:  sp.ConnectionWarning,
		YouTubeQuotaPerDay: sp.YouTubeQuota,
		AdminEmail:         strings.TrimSpace(sp.AdminEmail),
		AdminPassword:      sp.AdminPassword,
		APIRateLimit:       sp.APIRateLimit,
		APIRateBurst:       sp.APIRateBurst,
		AcceptConcurrency:  sp.AcceptConcurrency,
		APIKeyGuessLimit:   sp.APIKeyGuessLimit,
		SMTPURL:            strings.TrimSpace(sp.SMTPURL),
		SMTPFrom:           strings.TrimSpace(sp.SMTPFrom),
	}

	if err := checkListen(c.Listen); err != nil {
		bad("LISTEN", "listen", "%q: %v", c.Listen, err)
	}
	if c.DataDir == "" {
		bad("DATA_DIR", "data-dir", "empty")
	}

	if c.DatabaseURL == "" && c.DataDir != "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "outpost.db")
	} else if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		bad("DATABASE_URL", "database-url", "%v", err)
	}

	if c.BlobURL == "" && c.DataDir != "" {
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			bad("DATA_DIR", "data-dir", "%v", err)
		}
		c.BlobURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(abs, "blobs"))}).String()
	} else if err := checkBlobURL(c.BlobURL); err != nil {
		bad("BLOB_URL", "blob-url", "%v", err)
	}

	if sp.SecretKey != "" {
		key, err := ParseSecretKey(sp.SecretKey)
		if err != nil {
			bad("SECRET_KEY", "", "%v", err)
		}
		c.SecretKey, c.secretKeySource = key, "env"
	}
	if sp.TokenKeys != "" {
		keys, err := ParseTokenKeys(sp.TokenKeys)
		if err != nil {
			bad("TOKEN_KEYS", "", "%v", err)
		}
		c.TokenKeys = keys
	}
	if k := c.BootstrapAPIKey; k != "" && (len(k) < minAPIKeyLen || strings.ContainsFunc(k, isSpaceOrControl)) {
		bad("BOOTSTRAP_API_KEY", "", "want at least %d characters and no spaces (e.g. `openssl rand -hex 24`)", minAPIKeyLen)
	}

	switch {
	case c.AdminEmail != "" && c.AdminPassword == "":
		bad("ADMIN_PASSWORD", "", "required with OUTPOST_ADMIN_EMAIL (or OUTPOST_ADMIN_PASSWORD_FILE)")
	case c.AdminEmail == "" && c.AdminPassword != "":
		bad("ADMIN_EMAIL", "", "required with OUTPOST_ADMIN_PASSWORD")
	case c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@"):
		bad("ADMIN_EMAIL", "", "%q is not an email address", c.AdminEmail)
	case c.AdminPassword != "" && len(c.AdminPassword) < MinAdminPasswordLen:
		bad("ADMIN_PASSWORD", "", "want at least %d characters", MinAdminPasswordLen)
	}

	if c.APIRateLimit < 0 || math.IsNaN(c.APIRateLimit) || math.IsInf(c.APIRateLimit, 0) {
		bad("API_RATE_LIMIT", "api-rate-limit", "%g: want 0 (no limit) or more", c.APIRateLimit)
	}
	if c.APIRateLimit > 0 && c.APIRateBurst < 1 {
		bad("API_RATE_BURST", "api-rate-burst", "%d: want 1 or more", c.APIRateBurst)
	}

	if c.AcceptConcurrency < 0 {
		bad("ACCEPT_CONCURRENCY", "accept-concurrency", "%d: want 0 (chosen by the database) or more", c.AcceptConcurrency)
	}

	if c.APIKeyGuessLimit < 0 {
		bad("API_KEY_GUESS_LIMIT", "api-key-guess-limit", "%d: want 0 (no limit) or more", c.APIKeyGuessLimit)
	}
	if c.SMTPURL != "" {
		if err := checkSMTPURL(c.SMTPURL); err != nil {
			bad("SMTP_URL", "", "%v", err)
		}
		if c.SMTPFrom == "" {
			bad("SMTP_FROM", "", "required with OUTPOST_SMTP_URL: the notifications' From address, e.g. Outpost <outpost@example.com>")
		}
	}
	if c.SMTPFrom != "" {
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			bad("SMTP_FROM", "", "%q: %v", c.SMTPFrom, err)
		}
	}
	if ps, err := clientip.ParsePrefixes(sp.TrustedProxies); err != nil {
		bad("TRUSTED_PROXIES", "trusted-proxies", "%v", err)
	} else {
		c.TrustedProxies = ps
	}
	if ps, err := clientip.ParsePrefixes(sp.WebhookAllowNets); err != nil {
		bad("WEBHOOK_ALLOW_NETS", "webhook-allow-nets", "%v", err)
	} else {
		c.WebhookAllowNets = ps
	}
	if d, err := parseRetention(sp.HistoryRetention); err != nil {
		bad("HISTORY_RETENTION", "history-retention", "%q: %v", sp.HistoryRetention, err)
	} else {
		c.HistoryRetention = d
	}

	if c.RenderConcurrency < 1 || c.RenderConcurrency > 256 {
		bad("RENDER_CONCURRENCY", "render-concurrency", "%d: want 1 to 256", c.RenderConcurrency)
	}
	c.Workers = c.RenderConcurrency
	if w := strings.TrimSpace(sp.Workers); w != "" {
		n, err := parseCount(w)
		if err != nil || n > 1024 {
			bad("WORKERS", "workers", "%q: want a number from 0 (no workers) to 1024", w)
		}
		c.Workers = n
	}
	var err error
	if c.RenderThreads, err = renderThreads(sp.RenderThreads); err != nil {
		bad("RENDER_THREADS", "render-threads", "%v", err)
	}
	if c.RenderNice, err = renderNice(sp.RenderNice); err != nil {
		bad("RENDER_NICE", "render-nice", "%v", err)
	}
	if c.SegmentThreshold, err = segmentSeconds(sp.SegmentThreshold); err != nil {
		bad("SEGMENT_THRESHOLD", "segment-threshold", "%v", err)
	}
	if c.SegmentMinSeconds, err = segmentSeconds(sp.SegmentMinSeconds); err != nil {
		bad("SEGMENT_MIN_SECONDS", "segment-min-seconds", "%v", err)
	}
	if c.Encoder, err = encoderChoice(sp.Encoder); err != nil {
		bad("ENCODER", "encoder", "%v", err)
	}
	if c.Retention < time.Minute {
		bad("RETENTION", "retention", "%v: want at least 1m (e.g. 48h)", c.Retention)
	}

	if c.PublicURL == "" && c.Listen != "" {
		c.PublicURL = defaultPublicURL(c.Listen)
	} else {
		u, err := checkPublicURL(c.PublicURL)
		if err != nil {
			bad("PUBLIC_URL", "public-url", "%v", err)
		}
		c.PublicURL = u
	}

	if c.MaxUploadBytes <= 0 {
		bad("MAX_UPLOAD_BYTES", "max-upload-bytes", "%d: want a positive size such as 20GiB", c.MaxUploadBytes)
	}
	if c.FFmpegPath == "" {
		bad("FFMPEG", "ffmpeg", "empty")
	}
	if c.FFprobePath == "" {
		bad("FFPROBE", "ffprobe", "empty")
	}
	c.Platforms = resolvePlatforms(sp.Platforms, bad)
	if c.Sandbox {
		if err := checkAddr(c.SandboxAddr); err != nil {
			bad("SANDBOX_ADDR", "sandbox-addr", "%q: %v", c.SandboxAddr, err)
		}
	}
	if c.YouTubeQuotaPerDay <= 0 {
		bad("YOUTUBE_QUOTA_PER_DAY", "", "%d: want the project's daily units, e.g. 10000", c.YouTubeQuotaPerDay)
	}
	if c.ConnectionWarning < 0 {
		bad("CONNECTION_WARNING", "", "%v: want a positive duration such as 168h", c.ConnectionWarning)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "log-format", "%q: want text or json", sp.LogFormat)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// MinAdminPasswordLen is the shortest admin password accepted.
const MinAdminPasswordLen = 10

// minAPIKeyLen is the shortest bootstrap API key accepted.
const minAPIKeyLen = 16
