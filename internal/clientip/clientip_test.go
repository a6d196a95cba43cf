package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestResolver_IP(t *testing.T) {
	t.Parallel()
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.168.1.5 fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted bool
		remote  string
		xff     []string
		want    string
	}{
		{"no proxy trusted: the peer", false, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"untrusted peer's header is ignored", true, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy: the forwarded client", true, "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed entries before the real one are skipped", true, "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted hops", true, "10.1.2.3:80", []string{"198.51.100.1, 192.168.1.5"}, "198.51.100.1"},
		{"repeated headers in order", true, "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},
		{"all trusted: the first", true, "10.1.2.3:80", []string{"10.9.9.9"}, "10.9.9.9"},
		{"trusted proxy without header", true, "10.1.2.3:80", nil, "10.1.2.3"},
		{"garbled nearest entry: the proxy", true, "10.1.2.3:80", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"IPv6 peer", false, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv6 trusted proxy", true, "[fd00::1]:443", []string{"[2001:db8::9]"}, "2001:db8::9"},
		{"IPv4-mapped peer", false, "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var res Resolver
			if tt.trusted {
				res = New(trusted)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := res.IP(r); got != tt.want {
				t.Errorf("IP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.0/8,x"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) = nil error", bad)
		}
	}
	ps, err := ParsePrefixes("")
	if err != nil || len(ps) != 0 {
		t.Errorf("ParsePrefixes(\"\") = %v, %v", ps, err)
	}
}
