package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"outpost/internal/blob"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/caarlos0/env/v11"
)

// readFileVar moves the content of the file named by NAME_FILE into NAME.
func readFileVar(vars map[string]string, name string) error {
	path, ok := vars[name+"_FILE"]
	if !ok {
		return nil
	}
	if _, set := vars[name]; set {
		return fmt.Errorf("%s and %s_FILE are both set: set one", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s_FILE: %w", name, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return fmt.Errorf("%s_FILE: %s is empty", name, path)
	}
	vars[name] = v
	return nil
}

// envErrors rewrites the env library's errors to name the variable rather
// than the Go field.
func envErrors(err error) []error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []error{err}
	}
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			inner := pe.Err
			var pve env.ParseValueError
			if errors.As(inner, &pve) && pve.Err != nil {
				inner = pve.Err
			}
			out = append(out, fmt.Errorf("%s: %w", varName(pe.Name), inner))
			continue
		}
		out = append(out, e)
	}
	return out
}

// varName returns the variable of spec's field.
func varName(field string) string {
	f, ok := reflect.TypeFor[spec]().FieldByName(field)
	if !ok {
		return field
	}
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return EnvPrefix + name
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, e.g. 127.0.0.1:8080 or :8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("host %q is not a host name or IP address", host)
	}
	return nil
}

func checkDatabaseURL(raw string) error {
	if raw == "" {
		return errors.New("empty")
	}
	scheme, _, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		return nil // sqlite:PATH, file:PATH or a plain path
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil {
			return fmt.Errorf("not a valid URL: %w", err)
		}
		return nil
	case "sqlite", "file":
		return nil
	}
	return fmt.Errorf("scheme %q is not supported: use postgres://… or sqlite:PATH", scheme)
}

// checkBlobURL accepts what blob storage can open (blob.CheckURL): a URL
// that passes here never fails at start for its scheme.
func checkBlobURL(raw string) error { return blob.CheckURL(raw) }

// defaultPublicURL is http://LISTEN, naming localhost when the listen host
// is empty or a wildcard.
func defaultPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// checkPublicURL validates a base URL and returns it without a trailing
// slash.
func checkPublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("not a valid URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q: want an absolute http(s) URL such as https://outpost.example.com", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: no query, fragment or user info allowed", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// parseCount parses a non-negative integer.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return n, nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// checkSMTPURL validates a mail server URL: smtp:// (STARTTLS) or smtps://
// (implicit TLS), with a host.
func checkSMTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return fmt.Errorf("%s: want smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465", redactURL(raw))
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%s: no host", redactURL(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s: bad port %q", redactURL(raw), p)
		}
	}
	return nil
}

// parseRetention parses a retention period: "keep" (or "") for for ever, a
// number of days ("90d"), or a Go duration ("2160h") of at least an hour.
func parseRetention(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "keep" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 36500 {
			return 0, fmt.Errorf("want keep, days such as 90d, or a duration such as 2160h")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("want keep, days such as 90d, or a duration such as 2160h")
		}
	}
	if d < time.Hour {
		return 0, fmt.Errorf("want at least 1h (or keep)")
	}
	return d, nil
}
