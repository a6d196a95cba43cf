// Package meta holds what the Facebook and Instagram clients share: Graph
// API calls, error classification (platforms.md §2, §4.4, §5.3) and
// rupload transfers.
package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/publish"
	"outpost/internal/publish/internal/wire"
)

// DefaultVersion is the Graph API version used in paths.
const DefaultVersion = "v24.0"

// Graph is a Graph API endpoint for one platform's client.
type Graph struct {
	Platform string
	BaseURL  string // https://graph.facebook.com
	Version  string
	HTTP     *http.Client
}

// URL returns BaseURL/Version/path.
func (g *Graph) URL(path string) string {
	return g.BaseURL + "/" + g.Version + "/" + strings.TrimPrefix(path, "/")
}

// Get calls GET path?q&access_token=token and decodes into v.
func (g *Graph) Get(ctx context.Context, token, path string, q url.Values, v any) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("access_token", token)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL(path)+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	return g.do(req, "GET "+path, v)
}

// PostForm calls POST path with a form body (Graph drops fields from JSON
// bodies) and decodes into v.
func (g *Graph) PostForm(ctx context.Context, token, path string, f url.Values, v any) error {
	f.Set("access_token", token)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL(path), strings.NewReader(f.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return g.do(req, "POST "+path, v)
}

// Do sends req and decodes a 2xx JSON body into v.
func (g *Graph) Do(req *http.Request, op string, v any) error { return g.do(req, op, v) }

func (g *Graph) do(req *http.Request, op string, v any) error {
	resp, err := g.HTTP.Do(req)
	if err != nil {
		return publish.NetError(g.Platform, op, err)
	}
	if resp.StatusCode/100 != 2 {
		return Error(g.Platform, resp)
	}
	if v == nil {
		wire.Discard(resp)
		return nil
	}
	return wire.DecodeJSON(g.Platform, resp, v)
}

// Err is the Graph error object.
type Err struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	Transient bool   `json:"is_transient"`
	UserTitle string `json:"error_user_title"`
	UserMsg   string `json:"error_user_msg"`
	TraceID   string `json:"fbtrace_id"`
}

// Error classifies a Graph (or rupload) error response.
func Error(platform string, resp *http.Response) *publish.Error {
	body := wire.ReadBody(resp)
	var env struct {
		Error     *Err `json:"error"`
		DebugInfo *struct {
			Retriable bool   `json:"retriable"`
			Type      string `json:"type"`
			Message   string `json:"message"`
		} `json:"debug_info"`
	}
	_ = json.Unmarshal(body, &env)
	if env.DebugInfo != nil { // rupload
		e := publish.HTTPError(platform, resp, env.DebugInfo.Type, env.DebugInfo.Message)
		if env.DebugInfo.Retriable {
			e.Class = publish.Transient
		}
		return e
	}
	if env.Error == nil {
		e := publish.HTTPError(platform, resp, "", fmt.Sprintf("%s: %.200q", resp.Status, body))
		if e.Class == publish.Permanent {
			e.Class = publish.Transient // a non-JSON body is an outage page
		}
		return e
	}
	return Classify(platform, resp, env.Error)
}

// Classify maps a Graph error code to a class.
func Classify(platform string, resp *http.Response, ge *Err) *publish.Error {
	raw := strconv.Itoa(ge.Code)
	if ge.Subcode != 0 {
		raw += "/" + strconv.Itoa(ge.Subcode)
	}
	msg := ge.Message
	if ge.UserMsg != "" {
		msg += " (" + ge.UserMsg + ")"
	}
	e := publish.HTTPError(platform, resp, raw, msg)
	switch c := ge.Code; {
	case c == 190 || c == 102:
		e.Class = publish.AuthExpired
	case c == 10 || (c >= 200 && c <= 299):
		// A permission the user did not grant: reconnecting fixes it.
		e.Class = publish.AuthExpired
	case c == 4 || c == 17 || c == 32 || c == 613 || c == 341 || (c >= 80000 && c <= 80014):
		e.Class = publish.RateLimited
		e.RetryAfter = regainAccess(resp.Header)
		if e.RetryAfter == 0 {
			e.RetryAfter = 5 * time.Minute
		}
	case c == 368:
		e.Class, e.RetryAfter = publish.RateLimited, time.Hour
	case c == 9 && ge.Subcode == 2207042:
		e.Class, e.RetryAfter = publish.RateLimited, 24*time.Hour
	case c == 1 || c == 2 || ge.Transient || c == 6000 || c == 6001 || c == 9007 ||
		ge.Subcode == 2207003 || ge.Subcode == 2207032 || ge.Subcode == 2207053:
		e.Class = publish.Transient
	case resp.StatusCode >= 500:
		e.Class = publish.Transient
	default:
		e.Class = publish.Permanent
		if c == 100 {
			e.Code = errcode.PostInvalid
		}
	}
	return e
}

// regainAccess reads the longest estimated_time_to_regain_access (minutes)
// of X-Business-Use-Case-Usage.
func regainAccess(h http.Header) time.Duration {
	v := h.Get("X-Business-Use-Case-Usage")
	if v == "" {
		return 0
	}
	var usage map[string][]struct {
		Minutes int `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(v), &usage) != nil {
		return 0
	}
	var most int
	for _, list := range usage {
		for _, u := range list {
			most = max(most, u.Minutes)
		}
	}
	return time.Duration(most) * time.Minute
}

// Rupload POSTs bytes [offset, size) of f to a rupload URI
// (rupload.facebook.com) with the OAuth header.
func Rupload(ctx context.Context, g *Graph, uri, token string, f *os.File, offset, size int64, prog *wire.Progress) error {
	body := prog.Reader(io.NewSectionReader(f, offset, size-offset), offset)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, body)
	if err != nil {
		return err
	}
	req.ContentLength = size - offset
	req.Header.Set("Authorization", "OAuth "+token)
	req.Header.Set("offset", strconv.FormatInt(offset, 10))
	req.Header.Set("file_size", strconv.FormatInt(size, 10))
	req.Header.Set("Content-Type", "application/octet-stream")
	var out struct {
		Success bool `json:"success"`
	}
	if err := g.do(req, "rupload", &out); err != nil {
		return err
	}
	if !out.Success {
		return &publish.Error{Platform: g.Platform, Class: publish.Transient, Message: "rupload did not report success"}
	}
	prog.Report(size)
	return nil
}

// RuploadOffset asks a rupload URI how many bytes it holds.
func RuploadOffset(ctx context.Context, g *Graph, uri, token string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "OAuth "+token)
	var out struct {
		Offset json.Number `json:"offset"`
	}
	if err := g.do(req, "rupload offset", &out); err != nil {
		return 0, err
	}
	n, _ := out.Offset.Int64()
	return n, nil
}

// CheckUploadHost accepts an upload URL on rupload.facebook.com or on the
// client's own (sandbox) origin, and nothing else: the token travels with
// the bytes.
func CheckUploadHost(platform, uploadURL, base string) error {
	u, err := url.Parse(uploadURL)
	b, _ := url.Parse(base)
	if err == nil && ((u.Host == "rupload.facebook.com" && u.Scheme == "https") || (b != nil && u.Host == b.Host && u.Scheme == b.Scheme)) {
		return nil
	}
	return &publish.Error{Platform: platform, Class: publish.Permanent, Message: "refusing upload URL on an unexpected host: " + uploadURL}
}
