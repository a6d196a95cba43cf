// Package fetch downloads a user-supplied URL without letting it reach the
// server's own network: an SSRF guard for "import from URL".
//
// Every connection, the first and each redirect's, goes through one dialer
// that resolves the host itself, refuses the whole answer if any address is
// not public (CheckIP), and then dials the checked address; the dialer's
// Control hook checks the socket's address once more just before connect. A
// name that resolves to a public address for the check and to a private one
// for the connection (DNS rebinding) therefore cannot get through: there is
// only one resolution, and the connection uses its result.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"syscall"
	"time"

	"outpost/internal/errcode"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "Outpost-Fetch/1"
)

// Options configures a Client.
type Options struct {
	// MaxBytes caps the download; a larger body is PayloadTooLarge.
	// Zero or less means no limit.
	MaxBytes int64
	// Timeout bounds the whole fetch, body included. Default 10 min.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed. Default 5.
	MaxRedirects int
	// UserAgent is sent with every request. Default "Outpost-Fetch/1".
	UserAgent string
	// LookupFunc resolves host names; nil uses net.DefaultResolver. Tests
	// use it to return chosen addresses.
	LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

	// AllowLoopback lets 127.0.0.0/8 and ::1 through, so that tests can
	// fetch from an httptest server. Never set it from user input or
	// configuration: the loopback interface is exactly what the guard is
	// for. Every other blocked range stays blocked.
	AllowLoopback bool
	// Allow are private networks the fetch may reach all the same
	// (OUTPOST_WEBHOOK_ALLOW_NETS, for webhooks).
	Allow []netip.Prefix
}

// Client fetches URLs through the guard. It is safe for concurrent use.
type Client struct {
	opts  Options
	guard Guard
	http  *http.Client
	// direct is http without redirects, for Do.
	direct *http.Client
}

// Result describes a fetched body.
type Result struct {
	// Size is the number of bytes written.
	Size int64
	// ContentType is the response's Content-Type header.
	ContentType string
	// Filename is the name from Content-Disposition, else the last element
	// of the final URL's path; empty when neither has one.
	Filename string
	// FinalURL is the URL the body came from, after redirects.
	FinalURL string
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	c := &Client{opts: opts, guard: Guard{AllowLoopback: opts.AllowLoopback, Allow: opts.Allow, LookupFunc: opts.LookupFunc}}
	transport := &http.Transport{
		// No proxy: a proxy would connect on our behalf, past the guard.
		Proxy:                 nil,
		DialContext:           c.dialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConns:          4,
	}
	c.http = &http.Client{
		Transport:     transport,
		CheckRedirect: c.checkRedirect,
	}
	c.direct = &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       c.opts.Timeout,
	}
	return c
}

// Do sends req through the guard, for callers that POST to user-supplied
// URLs (webhooks): the URL is checked, every address dialed is checked,
// redirects are not followed (the 3xx response is returned) and the whole
// exchange is bounded by Options.Timeout. The caller closes the body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := c.guard.checkParsedURL(req.URL); err != nil {
		return nil, err
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	return c.direct.Do(req)
}

// Fetch downloads rawURL into w. Errors carry codes: URLNotAllowed for a
// URL or address the guard refuses (also after a redirect),
// PayloadTooLarge past MaxBytes, SourceNotFound for a 404 or 410, and
// SourceFetchFailed for other HTTP errors, network errors and timeouts.
func (c *Client) Fetch(ctx context.Context, rawURL string, w io.Writer) (Result, error) {
	u, err := c.guard.CheckURL(rawURL)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, errcode.Wrap(errcode.URLNotAllowed, err, "source_url is not a valid URL")
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "video/*, application/octet-stream;q=0.9, */*;q=0.5")
	resp, err := c.http.Do(req)
	if err != nil {
		return Result{}, classify(ctx, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return Result{}, errcode.New(errcode.SourceNotFound, "source URL answered %s", resp.Status)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return Result{}, errcode.New(errcode.SourceFetchFailed, "source URL answered %s", resp.Status)
	}
	max := c.opts.MaxBytes
	if max > 0 && resp.ContentLength > max {
		return Result{}, errcode.New(errcode.PayloadTooLarge, "source is %d bytes, more than the limit of %d", resp.ContentLength, max)
	}
	body := io.Reader(resp.Body)
	if max > 0 {
		body = io.LimitReader(resp.Body, max+1)
	}
	n, err := io.Copy(writerOf{w}, body)
	if err != nil {
		if werr := (*writeError)(nil); errors.As(err, &werr) {
			return Result{}, fmt.Errorf("write fetched body: %w", werr.err)
		}
		return Result{}, classify(ctx, err)
	}
	if max > 0 && n > max {
		return Result{}, errcode.New(errcode.PayloadTooLarge, "source is more than the limit of %d bytes", max)
	}
	return Result{
		Size:        n,
		ContentType: resp.Header.Get("Content-Type"),
		Filename:    filename(resp),
		FinalURL:    resp.Request.URL.String(),
	}, nil
}

// writerOf marks the destination's write errors (disk full), so that they
// are not blamed on the remote.
type writerOf struct{ w io.Writer }

func (w writerOf) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		return n, &writeError{err: err}
	}
	return n, nil
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// classify turns a transport error into a coded one, keeping the guard's
// code when the dialer refused an address.
func classify(ctx context.Context, err error) error {
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errcode.Wrap(errcode.SourceFetchFailed, err, "source URL timed out")
	}
	if ctx.Err() != nil {
		return errcode.Wrap(errcode.Canceled, err, "fetch canceled")
	}
	return errcode.Wrap(errcode.SourceFetchFailed, err, "source URL could not be fetched")
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.opts.MaxRedirects {
		return errcode.New(errcode.SourceFetchFailed, "source URL redirected more than %d times", c.opts.MaxRedirects)
	}
	if err := c.guard.checkParsedURL(req.URL); err != nil {
		return err
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	return nil
}

// dialContext resolves addr's host once, refuses it unless every address is
// allowed, and dials the checked addresses themselves, never the name.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, errcode.Wrap(errcode.URLNotAllowed, err, "bad address")
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = c.guard.lookup(ctx, host)
		if err != nil {
			return nil, errcode.Wrap(errcode.SourceFetchFailed, err, fmt.Sprintf("could not resolve %s", host))
		}
		if len(ips) == 0 {
			return nil, errcode.New(errcode.SourceFetchFailed, "%s has no addresses", host)
		}
	}
	for _, ip := range ips {
		if err := c.guard.CheckIP(ip); err != nil {
			return nil, errcode.Wrap(errcode.URLNotAllowed, err, fmt.Sprintf("%s resolves to %s, which is not a public address", host, ip.Unmap()))
		}
	}
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Control: c.control}
	var firstErr error
	for _, ip := range ips {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// control checks the address the socket is about to connect to: a second
// line of defence should a future change dial a name instead of an IP.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errcode.Wrap(errcode.URLNotAllowed, err, "bad socket address")
	}
	return c.guard.CheckIP(ap.Addr())
}

// filename picks a file name for the fetched body.
func filename(resp *http.Response) string {
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil && params["filename"] != "" {
			return path.Base(params["filename"])
		}
	}
	if resp.Request != nil && resp.Request.URL != nil {
		if name := path.Base(resp.Request.URL.Path); name != "/" && name != "." {
			if u, err := url.PathUnescape(name); err == nil {
				return u
			}
			return name
		}
	}
	return ""
}
