package fetch

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"outpost/internal/errcode"
)

func TestCheckIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip            string
		allowLoopback bool
		ok            bool
	}{
		{"93.184.216.34", false, true},
		{"8.8.8.8", false, true},
		{"2606:4700:4700::1111", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"127.255.255.254", false, false},
		{"::1", false, false},
		{"::1", true, true},
		{"::ffff:127.0.0.1", false, false},
		{"::ffff:127.0.0.1", true, true},
		{"0.0.0.0", false, false},
		{"0.0.0.0", true, false},
		{"::", true, false},
		{"10.0.0.1", false, false},
		{"10.0.0.1", true, false},
		{"172.16.5.4", false, false},
		{"172.32.0.1", false, true},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false},
		{"169.254.169.254", true, false},
		{"::ffff:169.254.169.254", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:8.8.8.8", false, true},
		{"100.64.0.1", false, false},
		{"100.127.255.255", false, false},
		{"100.128.0.1", false, true},
		{"224.0.0.1", false, false},
		{"239.255.255.250", false, false},
		{"255.255.255.255", false, false},
		{"240.0.0.1", false, false},
		{"192.0.2.1", false, false},
		{"198.18.0.1", false, false},
		{"fc00::1", false, false},
		{"fd12:3456:789a::1", false, false},
		{"fe80::1", false, false},
		{"fe80::1%eth0", true, false},
		{"ff02::1", false, false},
		{"::127.0.0.1", true, false}, // IPv4-compatible: deprecated, refused
		{"::a00:1", false, false},
		{"64:ff9b::a00:1", false, false},      // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", false, true},     // NAT64 of 8.8.8.8
		{"2002:a00:1::1", false, false},       // 6to4 of 10.0.0.1
		{"2002:808:808::1", false, true},      // 6to4 of 8.8.8.8
		{"2001:db8::1", false, false},         // documentation
		{"2001:0:4136:e378::1", false, false}, // Teredo
	} {
		ip := netip.MustParseAddr(tc.ip)
		err := CheckIP(ip, tc.allowLoopback)
		if (err == nil) != tc.ok {
			t.Errorf("CheckIP(%s, loopback=%v) = %v, want ok=%v", tc.ip, tc.allowLoopback, err, tc.ok)
		}
		if err != nil && errcode.Of(err) != errcode.URLNotAllowed {
			t.Errorf("CheckIP(%s) code = %s", tc.ip, errcode.Of(err))
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://example.com/video.mp4", true},
		{"http://example.com:8080/a?b=c", true},
		{"https://cdn.example.co.uk./v.mov", true},
		{"https://93.184.216.34/v.mp4", true},
		{"https://[2606:4700:4700::1111]/v.mp4", true},
		{"ftp://example.com/v.mp4", false},
		{"file:///etc/passwd", false},
		{"gopher://example.com", false},
		{"javascript:alert(1)", false},
		{"//example.com/v.mp4", false},
		{"/v.mp4", false},
		{"https://", false},
		{"https://user:pw@example.com/", false},
		{"https://user@example.com/", false},
		{"http://127.0.0.1/", false},
		{"http://127.0.0.1:8080/", false},
		{"http://10.1.2.3/", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"http://[::1]/", false},
		{"http://[::ffff:127.0.0.1]/", false},
		{"http://[::ffff:7f00:1]/", false},
		{"http://[fe80::1%25eth0]/", false},
		{"http://0.0.0.0/", false},
		{"http://2130706433/", false},
		{"http://0x7f000001/", false},
		{"http://0x7f.0.0.1/", false},
		{"http://0177.0.0.1/", false},
		{"http://127.1/", false},
		{"http://017700000001/", false},
		{"http://example.com:0/", false},
		{"http://example.com:99999/", false},
		{"http://example.com:/", false},
		{"http://exa mple.com/", false},
		{"http://exa%2fmple.com/", false},
		{"http://example..com/", false},
	} {
		_, err := CheckURL(tc.url, false)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && errcode.Of(err) != errcode.URLNotAllowed {
			t.Errorf("CheckURL(%q) code = %s", tc.url, errcode.Of(err))
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/v.mp4", "http://127.0.0.1/", "http://[::ffff:10.0.0.1]:80/",
		"http://0x7f.1/", "http://user@host/", "https://[fe80::1%25en0]/", "http://2130706433",
		"http://169.254.169.254./", "HTTP://EXAMPLE.COM", "http://a.b.c.d.e:65535/x",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, allowLoopback bool) {
		u, err := CheckURL(raw, allowLoopback)
		if err != nil {
			if errcode.Of(err) != errcode.URLNotAllowed {
				t.Fatalf("CheckURL(%q) error code %s", raw, errcode.Of(err))
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("CheckURL(%q) accepted scheme %q", raw, u.Scheme)
		}
		if u.User != nil || u.Hostname() == "" {
			t.Fatalf("CheckURL(%q) accepted user info or empty host", raw)
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			if CheckIP(ip, allowLoopback) != nil {
				t.Fatalf("CheckURL(%q) accepted blocked address %s", raw, ip)
			}
		}
		// What the HTTP client sends must be what was checked.
		again, err := url.Parse(u.String())
		if err != nil {
			t.Fatalf("CheckURL(%q) accepted a URL that does not reparse: %v", raw, err)
		}
		if again.Hostname() != u.Hostname() || again.Port() != u.Port() {
			t.Fatalf("CheckURL(%q): host %q:%q reparses as %q:%q", raw, u.Hostname(), u.Port(), again.Hostname(), again.Port())
		}
	})
}

func TestClient_Fetch(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /video.mp4", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write([]byte("0123456789"))
	})
	mux.HandleFunc("GET /named", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="../master.mov"`)
		_, _ = w.Write([]byte("abc"))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("x"), 100))
	})
	mux.HandleFunc("GET /big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			_, _ = w.Write(bytes.Repeat([]byte("x"), 10))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("GET /missing", http.NotFound)
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("GET /to-private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.0.0.1/video.mp4", http.StatusFound)
	})
	mux.HandleFunc("GET /to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("GET /to-rebind", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://rebind.test:"+r.URL.Query().Get("port")+"/video.mp4", http.StatusFound)
	})
	mux.HandleFunc("GET /to-self", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/video.mp4", http.StatusFound)
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	// rebind.test resolves to a private address: the dialer must refuse it
	// even though the redirect URL itself names no IP.
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "rebind.test":
			return []netip.Addr{netip.MustParseAddr("10.9.9.9")}, nil
		case "mixed.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.168.0.10")}, nil
		case "local.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, &netError{host}
	}
	allow := New(Options{AllowLoopback: true, MaxBytes: 50, LookupFunc: lookup})
	strict := New(Options{MaxBytes: 50, LookupFunc: lookup})
	realDNS := New(Options{MaxBytes: 50})

	for _, tc := range []struct {
		name   string
		client *Client
		url    string
		code   errcode.Code // "" for success
		body   string
		file   string
	}{
		{"happy path", allow, srv.URL + "/video.mp4", "", "0123456789", "video.mp4"},
		{"redirect on same host", allow, srv.URL + "/to-self", "", "0123456789", "video.mp4"},
		{"content-disposition name", allow, srv.URL + "/named", "", "abc", "master.mov"},
		{"loopback refused", strict, srv.URL + "/video.mp4", errcode.URLNotAllowed, "", ""},
		{"localhost refused", realDNS, "http://localhost:" + port + "/video.mp4", errcode.URLNotAllowed, "", ""},
		{"name resolving to loopback refused", strict, "http://local.test:" + port + "/video.mp4", errcode.URLNotAllowed, "", ""},
		{"any private answer refuses the name", allow, "http://mixed.test:" + port + "/video.mp4", errcode.URLNotAllowed, "", ""},
		{"redirect to metadata refused", allow, srv.URL + "/to-metadata", errcode.URLNotAllowed, "", ""},
		{"redirect to private refused", allow, srv.URL + "/to-private", errcode.URLNotAllowed, "", ""},
		{"redirect to file refused", allow, srv.URL + "/to-file", errcode.URLNotAllowed, "", ""},
		{"redirect to name resolving private refused", allow, srv.URL + "/to-rebind?port=" + port, errcode.URLNotAllowed, "", ""},
		{"redirect loop", allow, srv.URL + "/loop", errcode.SourceFetchFailed, "", ""},
		{"too large by length", allow, srv.URL + "/big", errcode.PayloadTooLarge, "", ""},
		{"too large chunked", allow, srv.URL + "/big-chunked", errcode.PayloadTooLarge, "", ""},
		{"404", allow, srv.URL + "/missing", errcode.SourceNotFound, "", ""},
		{"500", allow, srv.URL + "/boom", errcode.SourceFetchFailed, "", ""},
		{"unresolvable", allow, "http://nowhere.test/x", errcode.SourceFetchFailed, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			before := hits.Load()
			res, err := tc.client.Fetch(t.Context(), tc.url, &buf)
			if tc.code != "" {
				if errcode.Of(err) != tc.code {
					t.Fatalf("Fetch(%s) = %v, want code %s", tc.url, err, tc.code)
				}
				if tc.code == errcode.URLNotAllowed && hits.Load() != before {
					t.Errorf("a refused fetch reached the server")
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch(%s): %v", tc.url, err)
			}
			if buf.String() != tc.body || res.Size != int64(len(tc.body)) || res.Filename != tc.file {
				t.Errorf("Fetch(%s) = %+v %q, want body %q file %q", tc.url, res, buf.String(), tc.body, tc.file)
			}
		})
	}
}

type netError struct{ host string }

func (e *netError) Error() string { return "no such host " + e.host }

// TestGuard_CheckURLResolved: names are resolved when a URL is given, so
// localhost is refused like 127.0.0.1; the networks in Allow pass, every
// other private one still does not.
func TestGuard_CheckURLResolved(t *testing.T) {
	t.Parallel()
	hosts := map[string][]netip.Addr{
		"localhost":         {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"hooks.example.com": {netip.MustParseAddr("93.184.216.34")},
		"receiver.lan":      {netip.MustParseAddr("192.168.1.20")},
		"mixed.example.com": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.1.2.3")},
	}
	lookup := func(_ context.Context, host string) ([]netip.Addr, error) { return hosts[host], nil }
	lan := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		url   string
		allow []netip.Prefix
		ok    bool
	}{
		{"http://localhost:8080/hook", nil, false},
		{"http://127.0.0.1:8080/hook", nil, false},
		{"https://hooks.example.com/in", nil, true},
		{"http://receiver.lan/in", nil, false},
		{"http://receiver.lan/in", lan, true},
		{"http://192.168.1.20/in", lan, true},
		{"http://[::ffff:192.168.1.20]/in", lan, true},
		{"http://192.168.2.20/in", lan, false},
		{"http://mixed.example.com/in", nil, false},
		{"http://mixed.example.com/in", lan, true},
		{"http://localhost:8080/hook", lan, false},
		{"http://unknown.example.com/in", nil, false},
		{"http://169.254.169.254/latest", lan, false},
	} {
		g := Guard{Allow: tc.allow, LookupFunc: lookup}
		_, err := g.CheckURLResolved(t.Context(), tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURLResolved(%s, allow %v) = %v, want ok %v", tc.url, tc.allow, err, tc.ok)
		}
		if err != nil && (errcode.Of(err) != errcode.URLNotAllowed || strings.Contains(err.Error(), "10.1.2.3")) {
			t.Errorf("%s: error %v, want url_not_allowed that names no address", tc.url, err)
		}
	}
}

// TestClient_Do_allow: a delivery reaches a network named in Allow (here
// loopback, the one a test can listen on), and is refused without it.
func TestClient_Do_allow(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	for _, allow := range [][]netip.Prefix{nil, {netip.MustParsePrefix("127.0.0.0/8")}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, nil)
		res, err := New(Options{Allow: allow}).Do(req)
		if err == nil {
			res.Body.Close()
		}
		if (err == nil) != (allow != nil) || (err != nil && errcode.Of(err) != errcode.URLNotAllowed) {
			t.Errorf("allow %v: %v", allow, err)
		}
	}
}
