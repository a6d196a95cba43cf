package fetch

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"outpost/internal/errcode"
)

// blocked are the address ranges a fetch may never reach: private networks,
// the cloud metadata service (link-local), and every special-purpose block
// that is not the public internet. IPv4-mapped, NAT64 and 6to4 IPv6
// addresses are judged by the IPv4 address they carry (see embeddedIPv4).
var blocked = prefixes(
	// IPv4
	"0.0.0.0/8",       // "this network"; 0.0.0.0 reaches the local host
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local (cloud metadata at 169.254.169.254)
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay anycast
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
	// IPv6
	"::/96",           // unspecified, loopback, IPv4-compatible (deprecated)
	"::ffff:0:0:0/96", // IPv4-translated (SIIT)
	"100::/64",        // discard
	"2001::/32",       // Teredo: tunnels to an address we cannot see
	"2001:db8::/32",   // documentation
	"64:ff9b:1::/48",  // local-use NAT64
	"fc00::/7",        // unique local (ULA)
	"fe80::/10",       // link-local
	"fec0::/10",       // site-local (deprecated, still routed by some stacks)
	"ff00::/8",        // multicast
)

var loopback = prefixes("127.0.0.0/8", "::1/128")

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for, when
// it is one of the forms that route to IPv4: IPv4-mapped (::ffff:a.b.c.d),
// NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	b := ip.As16()
	var v4 [4]byte
	switch {
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && isZero(b[4:12]): // 64:ff9b::/96
		copy(v4[:], b[12:])
	case b[0] == 0x20 && b[1] == 0x02: // 2002::/16
		copy(v4[:], b[2:6])
	default:
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(v4), true
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Guard says which addresses a fetch may reach: public ones; loopback
// with AllowLoopback (tests only); and those in Allow, private networks an
// operator named (OUTPOST_WEBHOOK_ALLOW_NETS).
type Guard struct {
	AllowLoopback bool
	Allow         []netip.Prefix
	// LookupFunc resolves host names; nil uses net.DefaultResolver.
	LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)
}

// CheckIP is the package's CheckIP with g's allowances.
func (g Guard) CheckIP(ip netip.Addr) error {
	if ip.IsValid() && ip.Zone() == "" && inAny(ip.Unmap(), g.Allow) {
		return nil
	}
	return CheckIP(ip, g.AllowLoopback)
}

// CheckURL is the package's CheckURL with g's allowances.
func (g Guard) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errcode.New(errcode.URLNotAllowed, "the URL is not valid")
	}
	if err := g.checkParsedURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckURLResolved is CheckURL with the host name resolved and each of its
// addresses checked, for a URL kept now and fetched later (a webhook): a
// name of a private address (localhost) is refused when it is given. The
// addresses are checked again when dialing, as they may change.
func (g Guard) CheckURLResolved(ctx context.Context, raw string) (*url.URL, error) {
	u, err := g.CheckURL(raw)
	if err != nil {
		return nil, err
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return u, nil // checked by CheckURL
	}
	ips, err := g.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return nil, errcode.New(errcode.URLNotAllowed, "URL host %s could not be resolved", host)
	}
	for _, ip := range ips {
		if g.CheckIP(ip) != nil {
			// The address stays unsaid: it may be of a network the user
			// cannot see.
			return nil, errcode.New(errcode.URLNotAllowed, "URL host %s resolves to an address that is not public", host)
		}
	}
	return u, nil
}

func (g Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if g.LookupFunc != nil {
		return g.LookupFunc(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckIP reports whether a fetch may connect to ip: nil for a public
// unicast address, else a URLNotAllowed error. allowLoopback lets
// 127.0.0.0/8 and ::1 through; it exists for tests against a local server
// and must never be set from user input or configuration.
func CheckIP(ip netip.Addr, allowLoopback bool) error {
	if !ip.IsValid() {
		return errcode.New(errcode.URLNotAllowed, "invalid IP address")
	}
	if ip.Zone() != "" {
		return errcode.New(errcode.URLNotAllowed, "address %s has a zone: link-local addresses are not allowed", ip)
	}
	if v4, ok := embeddedIPv4(ip); ok {
		if err := CheckIP(v4, allowLoopback); err != nil {
			return errcode.New(errcode.URLNotAllowed, "address %s (%s) is not a public address", ip, v4)
		}
		return nil
	}
	if allowLoopback && inAny(ip, loopback) {
		return nil
	}
	if inAny(ip, blocked) || !ip.IsGlobalUnicast() {
		return errcode.New(errcode.URLNotAllowed, "address %s is not a public address", ip)
	}
	return nil
}

func inAny(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckURL parses raw and reports whether it may be fetched, before any DNS
// lookup: an absolute http or https URL with a host name or a public IP
// address, no user info, and a valid port. Host names that a C resolver
// might read as an IP address in a legacy form ("2130706433", "0x7f.1",
// "127.1", "0177.0.0.1") are refused: a real domain never ends in a number.
// The addresses a name resolves to are checked when dialing (Client).
func CheckURL(raw string, allowLoopback bool) (*url.URL, error) {
	return Guard{AllowLoopback: allowLoopback}.CheckURL(raw)
}

func (g Guard) checkParsedURL(u *url.URL) error {
	switch u.Scheme {
	case "http", "https":
	default:
		return errcode.New(errcode.URLNotAllowed, "URL scheme %q is not allowed: use http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return errcode.New(errcode.URLNotAllowed, "URL has no host")
	}
	if u.User != nil {
		return errcode.New(errcode.URLNotAllowed, "URL must not contain a user name or password")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return errcode.New(errcode.URLNotAllowed, "URL port %q is not valid", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return errcode.New(errcode.URLNotAllowed, "URL port is empty")
	}
	host := u.Hostname()
	if host == "" {
		return errcode.New(errcode.URLNotAllowed, "URL has no host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.CheckIP(ip)
	}
	if strings.HasPrefix(u.Host, "[") {
		return errcode.New(errcode.URLNotAllowed, "URL host %q is not a valid IPv6 address", host)
	}
	return checkHostname(host)
}

// checkHostname accepts DNS names: letters, digits, hyphens and
// underscores in dot-separated labels, not ending in an all-numeric or
// hex ("0x…") label.
func checkHostname(host string) error {
	name := strings.TrimSuffix(host, ".")
	if name == "" || len(name) > 253 {
		return errcode.New(errcode.URLNotAllowed, "URL host %q is not a valid host name", host)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errcode.New(errcode.URLNotAllowed, "URL host %q is not a valid host name", host)
		}
		for _, c := range l {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return errcode.New(errcode.URLNotAllowed, "URL host %q is not a valid host name", host)
			}
		}
	}
	last := strings.ToLower(labels[len(labels)-1])
	if isNumeric(last) || strings.HasPrefix(last, "0x") {
		return errcode.New(errcode.URLNotAllowed, "URL host %q looks like an IP address in a non-standard form: write it as a.b.c.d", host)
	}
	return nil
}

func isNumeric(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
