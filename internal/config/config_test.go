package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"outpost/internal/errcode"
)

func TestLoad_defaults(t *testing.T) {
	t.Parallel()
	c, err := Load(nil, nil, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	abs, err := filepath.Abs("data")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen:            "127.0.0.1:8080",
		DataDir:           "./data",
		DatabaseURL:       "sqlite:data/outpost.db",
		BlobURL:           "file://" + abs + "/blobs",
		RenderConcurrency: 1,
		Workers:           1,
		RenderThreads:     runtime.NumCPU(),
		RenderNice:        19,
		SegmentThreshold:  45,
		SegmentMinSeconds: 10,
		Encoder:           "auto",
		Retention:         48 * time.Hour,
		PublicURL:         "http://127.0.0.1:8080",
		MaxUploadBytes:    20 << 30,
		FFmpegPath:        "ffmpeg",
		FFprobePath:       "ffprobe",
		LogLevel:          slog.LevelInfo,
		LogFormat:         "text",
	}
	if !configsEqual(*c, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", *c, want)
	}
	if c.APIKeyGuessLimit != 20 || c.HistoryRetention != 0 || c.SMTPURL != "" {
		t.Errorf("APIKeyGuessLimit = %d, HistoryRetention = %v, SMTPURL = %q; want 20, keep, none",
			c.APIKeyGuessLimit, c.HistoryRetention, c.SMTPURL)
	}
}

func configsEqual(a, b Config) bool {
	return a.Listen == b.Listen && a.DataDir == b.DataDir && a.DatabaseURL == b.DatabaseURL &&
		a.BlobURL == b.BlobURL && string(a.SecretKey) == string(b.SecretKey) &&
		a.BootstrapAPIKey == b.BootstrapAPIKey && a.RenderConcurrency == b.RenderConcurrency &&
		a.Workers == b.Workers && a.RenderThreads == b.RenderThreads && a.RenderNice == b.RenderNice &&
		a.SegmentThreshold == b.SegmentThreshold && a.SegmentMinSeconds == b.SegmentMinSeconds && a.Encoder == b.Encoder && a.Retention == b.Retention && a.PublicURL == b.PublicURL &&
		a.MaxUploadBytes == b.MaxUploadBytes && a.FFmpegPath == b.FFmpegPath &&
		a.FFprobePath == b.FFprobePath && a.LogLevel == b.LogLevel && a.LogFormat == b.LogFormat &&
		a.Sandbox == b.Sandbox
}

func TestLoad(t *testing.T) {
	t.Parallel()
	hexKey := strings.Repeat("ab", 32)
	secrets := t.TempDir()
	keyFile := filepath.Join(secrets, "key")
	if err := os.WriteFile(keyFile, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiKeyFile := filepath.Join(secrets, "api")
	if err := os.WriteFile(apiKeyFile, []byte("  file-api-key-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(secrets, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		env   []string
		args  []string
		check func(t *testing.T, c *Config)
		// wantErr lists substrings of the error; empty: no error.
		wantErr []string
	}{
		{
			name: "environment",
			env: []string{
				"OUTPOST_LISTEN=0.0.0.0:9000", "OUTPOST_DATA_DIR=/var/lib/outpost",
				"OUTPOST_DATABASE_URL=postgres://u:p@db/outpost", "OUTPOST_BLOB_URL=s3://media?region=eu-west-1",
				"OUTPOST_SECRET_KEY=" + hexKey, "OUTPOST_BOOTSTRAP_API_KEY=opk_bootstrap_0123456789",
				"OUTPOST_RENDER_CONCURRENCY=4", "OUTPOST_RETENTION=72h", "OUTPOST_PUBLIC_URL=https://outpost.example.com/",
				"OUTPOST_MAX_UPLOAD_BYTES=5GB", "OUTPOST_FFMPEG=/opt/ffmpeg/bin/ffmpeg", "OUTPOST_FFPROBE=/opt/ffmpeg/bin/ffprobe",
				"OUTPOST_LOG_LEVEL=debug", "OUTPOST_LOG_FORMAT=JSON", "OUTPOST_SANDBOX=true", "UNRELATED=1",
				"OUTPOST_RENDER_THREADS=3", "OUTPOST_RENDER_NICE=15",
				"OUTPOST_SEGMENT_THRESHOLD=90", "OUTPOST_SEGMENT_MIN_SECONDS=20.5", "OUTPOST_ENCODER=NVENC",
			},
			check: func(t *testing.T, c *Config) {
				want := Config{
					Listen: "0.0.0.0:9000", DataDir: "/var/lib/outpost", DatabaseURL: "postgres://u:p@db/outpost",
					BlobURL: "s3://media?region=eu-west-1", SecretKey: []byte(strings.Repeat("\xab", 32)),
					BootstrapAPIKey: "opk_bootstrap_0123456789", RenderConcurrency: 4, Workers: 4,
					RenderThreads: 3, RenderNice: 15, SegmentThreshold: 90, SegmentMinSeconds: 20.5, Encoder: "nvenc", Retention: 72 * time.Hour, PublicURL: "https://outpost.example.com", MaxUploadBytes: 5e9,
					FFmpegPath: "/opt/ffmpeg/bin/ffmpeg", FFprobePath: "/opt/ffmpeg/bin/ffprobe",
					LogLevel: slog.LevelDebug, LogFormat: "json", Sandbox: true,
				}
				if !configsEqual(*c, want) {
					t.Errorf("got\n%+v\nwant\n%+v", *c, want)
				}
			},
		},
		{
			name: "flags override the environment",
			env:  []string{"OUTPOST_LISTEN=:9000", "OUTPOST_WORKERS=3", "OUTPOST_DATA_DIR=/env"},
			args: []string{"--listen", "127.0.0.1:7000", "--workers=0", "--data-dir", "/flag", "--max-upload-bytes", "512MiB",
				"--log-level", "warn", "--retention", "1h", "--sandbox", "rest"},
			check: func(t *testing.T, c *Config) {
				if c.Listen != "127.0.0.1:7000" || c.Workers != 0 || c.MaxUploadBytes != 512<<20 ||
					c.LogLevel != slog.LevelWarn || c.Retention != time.Hour || !c.Sandbox {
					t.Errorf("got %+v", *c)
				}
				// Derived defaults follow the flags, not the environment.
				if c.DatabaseURL != "sqlite:/flag/outpost.db" || c.BlobURL != "file:///flag/blobs" || c.PublicURL != "http://127.0.0.1:7000" {
					t.Errorf("derived = %q, %q, %q", c.DatabaseURL, c.BlobURL, c.PublicURL)
				}
			},
		},
		{
			name: "workers default to render concurrency; 0 means none",
			env:  []string{"OUTPOST_RENDER_CONCURRENCY=3"},
			check: func(t *testing.T, c *Config) {
				if c.Workers != 3 {
					t.Errorf("Workers = %d, want 3", c.Workers)
				}
			},
		},
		{
			name: "workers 0",
			env:  []string{"OUTPOST_WORKERS=0", "OUTPOST_RENDER_CONCURRENCY=2"},
			check: func(t *testing.T, c *Config) {
				if c.Workers != 0 || c.RenderConcurrency != 2 {
					t.Errorf("Workers = %d, RenderConcurrency = %d", c.Workers, c.RenderConcurrency)
				}
			},
		},
		{
			name: "wildcard listen gives a localhost public URL",
			env:  []string{"OUTPOST_LISTEN=:8080"},
			check: func(t *testing.T, c *Config) {
				if c.PublicURL != "http://localhost:8080" {
					t.Errorf("PublicURL = %q", c.PublicURL)
				}
			},
		},
		{
			name: "IPv6 wildcard",
			env:  []string{"OUTPOST_LISTEN=[::]:8080"},
			check: func(t *testing.T, c *Config) {
				if c.PublicURL != "http://localhost:8080" {
					t.Errorf("PublicURL = %q", c.PublicURL)
				}
			},
		},
		{
			name: "secrets from files",
			env:  []string{"OUTPOST_SECRET_KEY_FILE=" + keyFile, "OUTPOST_BOOTSTRAP_API_KEY_FILE=" + apiKeyFile},
			check: func(t *testing.T, c *Config) {
				if string(c.SecretKey) != strings.Repeat("\xab", 32) || c.BootstrapAPIKey != "file-api-key-0123456789" {
					t.Errorf("SecretKey = %x, BootstrapAPIKey = %q", c.SecretKey, c.BootstrapAPIKey)
				}
			},
		},
		{
			name: "base64 secret key",
			env:  []string{"OUTPOST_SECRET_KEY=q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="},
			check: func(t *testing.T, c *Config) {
				if string(c.SecretKey) != strings.Repeat("\xab", 32) {
					t.Errorf("SecretKey = %x", c.SecretKey)
				}
			},
		},
		{
			name: "sqlite database URL",
			env:  []string{"OUTPOST_DATABASE_URL=sqlite:///srv/outpost.db"},
			check: func(t *testing.T, c *Config) {
				if c.DatabaseURL != "sqlite:///srv/outpost.db" {
					t.Errorf("DatabaseURL = %q", c.DatabaseURL)
				}
			},
		},
		{name: "both value and file", env: []string{"OUTPOST_SECRET_KEY=" + hexKey, "OUTPOST_SECRET_KEY_FILE=" + keyFile},
			wantErr: []string{"OUTPOST_SECRET_KEY and OUTPOST_SECRET_KEY_FILE are both set"}},
		{name: "missing file", env: []string{"OUTPOST_DATABASE_URL_FILE=" + filepath.Join(secrets, "nope")},
			wantErr: []string{"OUTPOST_DATABASE_URL_FILE", "no such file"}},
		{name: "empty file", env: []string{"OUTPOST_BOOTSTRAP_API_KEY_FILE=" + emptyFile}, wantErr: []string{"is empty"}},
		{name: "short secret key", env: []string{"OUTPOST_SECRET_KEY=abcd"}, wantErr: []string{"OUTPOST_SECRET_KEY", "3 bytes, want 32", "64 hex"}},
		{name: "16-byte base64 key", env: []string{"OUTPOST_SECRET_KEY=q6urq6urq6urq6urq6urqw=="}, wantErr: []string{"16 bytes, want 32"}},
		{
			name: "admin from env",
			env:  []string{"OUTPOST_ADMIN_EMAIL= admin@example.com ", "OUTPOST_ADMIN_PASSWORD=correct horse battery"},
			check: func(t *testing.T, c *Config) {
				if c.AdminEmail != "admin@example.com" || c.AdminPassword != "correct horse battery" {
					t.Errorf("AdminEmail = %q, AdminPassword = %q", c.AdminEmail, c.AdminPassword)
				}
			},
		},
		{name: "admin email without password", env: []string{"OUTPOST_ADMIN_EMAIL=admin@example.com"}, wantErr: []string{"OUTPOST_ADMIN_PASSWORD", "required"}},
		{name: "short admin password", env: []string{"OUTPOST_ADMIN_EMAIL=admin@example.com", "OUTPOST_ADMIN_PASSWORD=short"}, wantErr: []string{"OUTPOST_ADMIN_PASSWORD", "at least 10"}},
		{name: "weak bootstrap key", env: []string{"OUTPOST_BOOTSTRAP_API_KEY=secret"}, wantErr: []string{"OUTPOST_BOOTSTRAP_API_KEY", "at least 16"}},
		{name: "bad listen", env: []string{"OUTPOST_LISTEN=8080"}, wantErr: []string{"OUTPOST_LISTEN (--listen)", "host:port"}},
		{name: "bad port", env: []string{"OUTPOST_LISTEN=:http"}, wantErr: []string{"OUTPOST_LISTEN", "port"}},
		{name: "bad number", env: []string{"OUTPOST_RENDER_CONCURRENCY=two"}, wantErr: []string{"OUTPOST_RENDER_CONCURRENCY", `"two"`}},
		{name: "zero concurrency", env: []string{"OUTPOST_RENDER_CONCURRENCY=0"}, wantErr: []string{"OUTPOST_RENDER_CONCURRENCY (--render-concurrency)", "1 to 256"}},
		{name: "negative workers", args: []string{"--workers", "-1"}, wantErr: []string{"OUTPOST_WORKERS (--workers)"}},
		{name: "negative threads", env: []string{"OUTPOST_RENDER_THREADS=-2"}, wantErr: []string{"OUTPOST_RENDER_THREADS (--render-threads)", "1 to 256"}},
		{name: "nice out of range", args: []string{"--render-nice", "20"}, wantErr: []string{"OUTPOST_RENDER_NICE (--render-nice)", "0 (the caller's priority) to 19"}},
		{name: "segment minimum zero", args: []string{"--segment-min-seconds", "0"}, wantErr: []string{"OUTPOST_SEGMENT_MIN_SECONDS (--segment-min-seconds)", "above 0"}},
		{name: "segment threshold negative", args: []string{"--segment-threshold", "-1"}, wantErr: []string{"OUTPOST_SEGMENT_THRESHOLD (--segment-threshold)", "above 0"}},
		{name: "unknown encoder", env: []string{"OUTPOST_ENCODER=cuda"}, wantErr: []string{"OUTPOST_ENCODER (--encoder)", "auto, software, nvenc, vaapi, qsv"}},
		{name: "bad duration", env: []string{"OUTPOST_RETENTION=2 days"}, wantErr: []string{"OUTPOST_RETENTION", `unknown unit " days"`}},
		{name: "tiny retention", env: []string{"OUTPOST_RETENTION=1s"}, wantErr: []string{"OUTPOST_RETENTION (--retention)", "at least 1m"}},
		{name: "bad size", env: []string{"OUTPOST_MAX_UPLOAD_BYTES=lots"}, wantErr: []string{"OUTPOST_MAX_UPLOAD_BYTES", "20GiB"}},
		{name: "zero size", args: []string{"--max-upload-bytes", "0"}, wantErr: []string{"OUTPOST_MAX_UPLOAD_BYTES (--max-upload-bytes)"}},
		{name: "bad log level", env: []string{"OUTPOST_LOG_LEVEL=loud"}, wantErr: []string{"OUTPOST_LOG_LEVEL"}},
		{name: "bad log format", env: []string{"OUTPOST_LOG_FORMAT=xml"}, wantErr: []string{"OUTPOST_LOG_FORMAT (--log-format)", "text or json"}},
		{name: "bad bool", env: []string{"OUTPOST_SANDBOX=maybe"}, wantErr: []string{"OUTPOST_SANDBOX"}},
		{name: "mysql", env: []string{"OUTPOST_DATABASE_URL=mysql://db/outpost"}, wantErr: []string{"OUTPOST_DATABASE_URL (--database-url)", `"mysql"`}},
		{name: "relative file blob URL", env: []string{"OUTPOST_BLOB_URL=file://blobs"}, wantErr: []string{"OUTPOST_BLOB_URL", "absolute path"}},
		{name: "unknown blob scheme", env: []string{"OUTPOST_BLOB_URL=ftp://x/y"}, wantErr: []string{"OUTPOST_BLOB_URL", "scheme must be"}},
		{name: "blob scheme the build lacks", env: []string{"OUTPOST_BLOB_URL=gs://bucket"}, wantErr: []string{"OUTPOST_BLOB_URL", "scheme must be one of file, s3"}},
		{name: "s3 without bucket", env: []string{"OUTPOST_BLOB_URL=s3://"}, wantErr: []string{"no bucket"}},
		{name: "relative public URL", env: []string{"OUTPOST_PUBLIC_URL=outpost.example.com"}, wantErr: []string{"OUTPOST_PUBLIC_URL", "absolute http(s)"}},
		{name: "public URL with query", env: []string{"OUTPOST_PUBLIC_URL=https://x.example.com/?a=1"}, wantErr: []string{"no query"}},
		{name: "empty ffmpeg", env: []string{"OUTPOST_FFMPEG= "}, wantErr: []string{"OUTPOST_FFMPEG (--ffmpeg): empty"}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: []string{"flag provided but not defined"}},
		{
			name: "teams settings",
			env: []string{"OUTPOST_SMTP_URL=smtps://mailer:p%40ss@mail.example.com:465", "OUTPOST_SMTP_FROM=Outpost <outpost@example.com>",
				"OUTPOST_API_KEY_GUESS_LIMIT=50", "OUTPOST_HISTORY_RETENTION=90d"},
			check: func(t *testing.T, c *Config) {
				if c.SMTPURL != "smtps://mailer:p%40ss@mail.example.com:465" || c.SMTPFrom != "Outpost <outpost@example.com>" ||
					c.APIKeyGuessLimit != 50 || c.HistoryRetention != 90*24*time.Hour {
					t.Errorf("got %+v", *c)
				}
			},
		},
		{
			name: "history retention as a duration, by flag",
			args: []string{"--history-retention", "36h", "--api-key-guess-limit", "0"},
			check: func(t *testing.T, c *Config) {
				if c.HistoryRetention != 36*time.Hour || c.APIKeyGuessLimit != 0 {
					t.Errorf("HistoryRetention = %v, APIKeyGuessLimit = %d", c.HistoryRetention, c.APIKeyGuessLimit)
				}
			},
		},
		{name: "smtp scheme", env: []string{"OUTPOST_SMTP_URL=http://mail.example.com", "OUTPOST_SMTP_FROM=a@example.com"},
			wantErr: []string{"OUTPOST_SMTP_URL", "want smtp://"}},
		{name: "smtp without host", env: []string{"OUTPOST_SMTP_URL=smtp://", "OUTPOST_SMTP_FROM=a@example.com"}, wantErr: []string{"no host"}},
		{name: "smtp password not echoed", env: []string{"OUTPOST_SMTP_URL=ftp://u:hunter22@mail.example.com", "OUTPOST_SMTP_FROM=a@example.com"},
			wantErr: []string{"u:xxxxx@mail.example.com"}},
		{name: "smtp without from", env: []string{"OUTPOST_SMTP_URL=smtp://mail.example.com:587"}, wantErr: []string{"OUTPOST_SMTP_FROM", "required"}},
		{name: "bad from", env: []string{"OUTPOST_SMTP_URL=smtp://mail.example.com", "OUTPOST_SMTP_FROM=outpost"}, wantErr: []string{"OUTPOST_SMTP_FROM", `"outpost"`}},
		{name: "negative guess limit", env: []string{"OUTPOST_API_KEY_GUESS_LIMIT=-1"}, wantErr: []string{"OUTPOST_API_KEY_GUESS_LIMIT (--api-key-guess-limit)"}},
		{name: "bad history retention", env: []string{"OUTPOST_HISTORY_RETENTION=forever"}, wantErr: []string{"OUTPOST_HISTORY_RETENTION (--history-retention)", "keep, days"}},
		{
			name: "trusted proxies",
			env:  []string{"OUTPOST_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.5"},
			check: func(t *testing.T, c *Config) {
				if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "10.0.0.0/8" || c.TrustedProxies[1].String() != "192.168.1.5/32" {
					t.Errorf("TrustedProxies = %v", c.TrustedProxies)
				}
			},
		},
		{
			name: "webhook allow nets",
			env:  []string{"OUTPOST_WEBHOOK_ALLOW_NETS=10.20.0.0/16 192.168.1.9"},
			check: func(t *testing.T, c *Config) {
				if len(c.WebhookAllowNets) != 2 || c.WebhookAllowNets[0].String() != "10.20.0.0/16" || c.WebhookAllowNets[1].String() != "192.168.1.9/32" {
					t.Errorf("WebhookAllowNets = %v", c.WebhookAllowNets)
				}
			},
		},
		{name: "bad webhook allow net", env: []string{"OUTPOST_WEBHOOK_ALLOW_NETS=localhost"}, wantErr: []string{"OUTPOST_WEBHOOK_ALLOW_NETS (--webhook-allow-nets)", "CIDR"}},
		{name: "bad trusted proxy", env: []string{"OUTPOST_TRUSTED_PROXIES=10.0.0.0/40"}, wantErr: []string{"OUTPOST_TRUSTED_PROXIES (--trusted-proxies)", "CIDR"}},
		{name: "tiny history retention", env: []string{"OUTPOST_HISTORY_RETENTION=5m"}, wantErr: []string{"at least 1h"}},
		{
			name:    "every problem at once",
			env:     []string{"OUTPOST_LISTEN=x", "OUTPOST_LOG_FORMAT=xml", "OUTPOST_RETENTION=0s"},
			wantErr: []string{"OUTPOST_LISTEN", "OUTPOST_LOG_FORMAT", "OUTPOST_RETENTION"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c, err := Load(tt.env, fs, tt.args)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load succeeded: %+v", c)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if errcode.Of(err) != errcode.ConfigInvalid {
					t.Errorf("code = %q, want %q", errcode.Of(err), errcode.ConfigInvalid)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoad_flagSet(t *testing.T) {
	t.Parallel()
	// The caller's own flags and positional arguments survive.
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	own := fs.Bool("open", false, "open a browser")
	c, err := Load([]string{"OUTPOST_LISTEN=:9999"}, fs, []string{"--open", "--workers", "2", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !*own || c.Workers != 2 || strings.Join(fs.Args(), " ") != "a b" {
		t.Errorf("own flag %v, workers %d, args %q", *own, c.Workers, fs.Args())
	}
	// Help shows the environment's value as the default.
	var usage strings.Builder
	fs.SetOutput(&usage)
	fs.PrintDefaults()
	for _, want := range []string{`-listen string`, `(default ":9999")`, `$OUTPOST_LISTEN`, `(default 20GiB)`, `-max-upload-bytes value`} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, usage.String())
		}
	}
	// -h is reported as flag.ErrHelp.
	fs2 := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs2.SetOutput(io.Discard)
	if _, err := Load(nil, fs2, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		str  string
	}{
		{"21474836480", 20 << 30, "20GiB"},
		{"20GiB", 20 << 30, "20GiB"},
		{"20 gib", 20 << 30, "20GiB"},
		{"5GB", 5e9, "5000000000"},
		{"512MiB", 512 << 20, "512MiB"},
		{"1.5KiB", 1536, "1536"},
		{"1TiB", 1 << 40, "1TiB"},
		{"0", 0, "0"},
	}
	for _, tt := range tests {
		var b ByteSize
		if err := b.Set(tt.in); err != nil || int64(b) != tt.want || b.String() != tt.str {
			t.Errorf("Set(%q) = %d (%s), %v; want %d (%s)", tt.in, b, b.String(), err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "20 parsecs", "99999999999999999999"} {
		var b ByteSize
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, b)
		}
	}
}

func TestRenderFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env           map[string]string
		threads, nice int
		wantErr       string
	}{
		{env: nil, threads: runtime.NumCPU(), nice: 0},
		{env: map[string]string{"OUTPOST_RENDER_THREADS": "3", "OUTPOST_RENDER_NICE": " 12 "}, threads: 3, nice: 12},
		{env: map[string]string{"OUTPOST_RENDER_THREADS": "all"}, wantErr: `OUTPOST_RENDER_THREADS: "all" is not a whole number`},
		{env: map[string]string{"OUTPOST_RENDER_NICE": "-5"}, wantErr: "OUTPOST_RENDER_NICE: -5: want a nice value"},
	} {
		threads, nice, err := RenderFromEnv(func(k string) string { return tc.env[k] })
		switch {
		case tc.wantErr != "":
			if errcode.Of(err) != errcode.ConfigInvalid || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.wantErr)
			}
		case err != nil || threads != tc.threads || nice != tc.nice:
			t.Errorf("%v: %d, %d, %v; want %d, %d", tc.env, threads, nice, err, tc.threads, tc.nice)
		}
	}
}

func TestConfig_ForWorker(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]string{"OUTPOST_DATA_DIR=" + t.TempDir(), "OUTPOST_PUBLIC_URL=https://outpost.example.com"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := func(v slog.LogValuer) string {
		var b strings.Builder
		slog.New(slog.NewTextHandler(&b, nil)).Info("start", "config", v)
		return b.String()
	}
	serve, worker := line(cfg), line(cfg.ForWorker())
	for _, k := range []string{"config.listen=", "config.public_url=", "config.max_upload_bytes=", "config.sandbox="} {
		if !strings.Contains(serve, k) {
			t.Errorf("serve's line lacks %s: %s", k, serve)
		}
		if strings.Contains(worker, k) {
			t.Errorf("worker's line shows %s, a setting it does not use: %s", k, worker)
		}
	}
	for _, k := range []string{"config.database_url=", "config.blob_url=", "config.render_concurrency=", "config.secret_key=",
		"config.smtp=\"not configured\"", "config.history_retention=keep"} {
		if !strings.Contains(worker, k) {
			t.Errorf("worker's line lacks %s: %s", k, worker)
		}
	}
}

func TestConfig_LogValueHidesSMTPPassword(t *testing.T) {
	t.Parallel()
	cfg, err := Load([]string{"OUTPOST_DATA_DIR=" + t.TempDir(), "OUTPOST_SMTP_URL=smtp://mailer:hunter22@mail.example.com:587",
		"OUTPOST_SMTP_FROM=outpost@example.com"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("start", "config", cfg)
	if strings.Contains(b.String(), "hunter22") || !strings.Contains(b.String(), "mailer:xxxxx@mail.example.com:587 from outpost@example.com") {
		t.Errorf("log line: %s", b.String())
	}
}
