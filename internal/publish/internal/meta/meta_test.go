package meta

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"outpost/internal/publish"
)

func resp(status int, body string, h ...string) *http.Response {
	r := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Set(h[i], h[i+1])
	}
	return r
}

func TestError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		r     *http.Response
		class publish.Class
		raw   string
		retry time.Duration
	}{
		{"expired token", resp(400, `{"error":{"message":"x","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A"}}`), publish.AuthExpired, "190/463", 0},
		{"page throttle", resp(400, `{"error":{"message":"x","type":"OAuthException","code":80001,"fbtrace_id":"A"}}`,
			"X-Business-Use-Case-Usage", `{"1":[{"type":"pages","estimated_time_to_regain_access":7}]}`), publish.RateLimited, "80001", 7 * time.Minute},
		{"app throttle", resp(400, `{"error":{"message":"x","type":"OAuthException","code":4,"fbtrace_id":"A"}}`), publish.RateLimited, "4", 5 * time.Minute},
		{"not ready", resp(400, `{"error":{"message":"x","type":"OAuthException","code":9007,"error_subcode":2207027,"fbtrace_id":"A"}}`), publish.Transient, "9007/2207027", 0},
		{"daily cap", resp(400, `{"error":{"message":"x","type":"OAuthException","code":9,"error_subcode":2207042,"fbtrace_id":"A"}}`), publish.RateLimited, "9/2207042", 24 * time.Hour},
		{"permission", resp(403, `{"error":{"message":"x","type":"OAuthException","code":200,"fbtrace_id":"A"}}`), publish.AuthExpired, "200", 0},
		{"bad param", resp(400, `{"error":{"message":"x","type":"OAuthException","code":100,"fbtrace_id":"A"}}`), publish.Permanent, "100", 0},
		{"unknown", resp(500, `{"error":{"message":"x","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"A"}}`), publish.Transient, "2", 0},
		{"html outage", resp(502, `<html>bad gateway</html>`), publish.Transient, "", 0},
		{"rupload", resp(400, `{"debug_info":{"retriable":true,"type":"PartialRequestError","message":"x"}}`), publish.Transient, "PartialRequestError", 0},
	}
	for _, tt := range tests {
		e := Error("facebook", tt.r)
		if e.Class != tt.class || e.Raw != tt.raw || e.RetryAfter != tt.retry {
			t.Errorf("%s: class %v raw %q retry %v", tt.name, e.Class, e.Raw, e.RetryAfter)
		}
	}
}

func TestCheckUploadHost(t *testing.T) {
	t.Parallel()
	for u, ok := range map[string]bool{
		"https://rupload.facebook.com/video-upload/v24.0/1": true,
		"http://127.0.0.1:8080/video-upload/v24.0/1":        true,
		"https://evil.example/video-upload/v24.0/1":         false,
		"http://rupload.facebook.com/x":                     false,
	} {
		if err := CheckUploadHost("facebook", u, "http://127.0.0.1:8080"); (err == nil) != ok {
			t.Errorf("%s: %v", u, err)
		}
	}
}
