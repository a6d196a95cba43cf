// Package clientip finds the address a request came from, for throttling
// and the audit log: the connection's peer, unless that peer is a proxy the
// operator trusts (OUTPOST_TRUSTED_PROXIES), in which case the last address
// in X-Forwarded-For that is not itself a trusted proxy. A header from an
// untrusted peer is ignored, so a client cannot choose its own address.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds requests' client addresses. The zero Resolver trusts no
// proxy: the peer's address is the client's.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that trusts the proxies in the given CIDR
// prefixes (a bare address is its own /32 or /128).
func New(trusted []netip.Prefix) Resolver {
	return Resolver{trusted: trusted}
}

// ParsePrefixes parses a comma- or space-separated list of CIDR prefixes or
// addresses (OUTPOST_TRUSTED_PROXIES).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q: not a CIDR prefix (e.g. 10.0.0.0/8)", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q: not an address or CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// IP returns the client address of r, as text ("" when the peer's address
// cannot be read).
func (res Resolver) IP(r *http.Request) string {
	peer, ok := parseHostPort(r.RemoteAddr)
	if !ok {
		return ""
	}
	if !res.isTrusted(peer) {
		return peer.String()
	}
	// From the nearest hop outwards: the first address that is not one of
	// our proxies is the client. Earlier entries were written by the
	// client itself and prove nothing.
	hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a garbled entry: stop at the last address we can trust
		}
		client = a.Unmap()
		if !res.isTrusted(client) {
			break
		}
	}
	return client.String()
}

func (res Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parseHostPort(s string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// forwardedFor splits X-Forwarded-For header values into addresses, in
// order (a header may repeat).
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, strings.Trim(f, "[]"))
			}
		}
	}
	return out
}
