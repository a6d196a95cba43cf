package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"outpost/internal/errcode"
	"outpost/internal/outpost"
)

type ctxKey int

const (
	ctxInfo ctxKey = iota
	ctxCaller
)

// reqInfo is filled in as a request goes down the pipeline, for the log
// line and metrics written on the way back up.
type reqInfo struct {
	id          string
	route       string // the matched pattern, "" when none matched
	workspaceID string
}

func infoOf(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(ctxInfo).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// routeOf is the matched route pattern, or "unmatched": a bounded label.
func routeOf(r *http.Request) string {
	if rt := infoOf(r).route; rt != "" {
		return rt
	}
	return "unmatched"
}

// callerOf returns who the request was authenticated as.
func callerOf(r *http.Request) outpost.Caller {
	c, _ := r.Context().Value(ctxCaller).(outpost.Caller)
	return c
}

// workspaceOf returns the caller's workspace id: every query is scoped to it.
func workspaceOf(r *http.Request) string { return callerOf(r).WorkspaceID }

// statusWriter records the status and size of a response. Unwrap lets
// http.ResponseController reach the connection (Flush for SSE, deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanics turns a handler panic into a 500 internal error (when
// nothing was written yet) and a logged stack.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as net/http does
				panic(v)
			}
			s.logger.ErrorContext(r.Context(), "handler panic", slog.Any("panic", v),
				slog.String("route", routeOf(r)), slog.String("stack", string(debug.Stack())))
			if sw.status == 0 {
				s.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequests gives each request an id (X-Request-ID), logs one line when it
// ends, and records the HTTP metrics by route pattern.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		info := &reqInfo{id: requestID(r)}
		w.Header().Set("X-Request-ID", info.id)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), ctxInfo, info))
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := s.now().Sub(start)
			s.metrics.observe(r.Method, routeOf(r), status, d)
			level := slog.LevelInfo
			switch route := routeOf(r); {
			case status >= 500:
				level = slog.LevelWarn
			case route == "GET /healthz" || route == "GET /metrics":
				level = slog.LevelDebug // probes and scrapes every few seconds
			}
			attrs := []slog.Attr{
				slog.String("request_id", info.id),
				slog.String("method", r.Method),
				slog.String("route", routeOf(r)),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", sw.bytes),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			}
			if info.workspaceID != "" {
				attrs = append(attrs, slog.String("workspace_id", info.workspaceID))
			}
			s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestID keeps a sane X-Request-ID from a proxy, else makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 64 && isPrintableASCII(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// JSON is never a document: nothing may load or frame it.
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// wrap builds a route's handler: route label, body limit, API key,
// idempotency, then the handler, whose error is written by writeError.
func (s *Server) wrap(rt route) http.Handler {
	if rt.Raw != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			infoOf(r).route = rt.pattern()
			rt.Raw.ServeHTTP(w, r)
		})
	}
	h := rt.Handler
	if rt.Idempotent {
		h = s.idempotent(h)
	}
	maxBody := rt.MaxBody
	if maxBody == 0 {
		maxBody = maxJSONBody
	}
	admit := s.admit
	if !rt.Burst {
		admit = nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if admit != nil {
			// semaphore.Weighted serves its waiters first come, first served.
			if err := admit.Acquire(r.Context(), 1); err != nil {
				return // the client went away while waiting
			}
			defer admit.Release(1)
		}
		infoOf(r).route = rt.pattern()
		w.Header().Set("Cache-Control", "no-store")
		if maxBody > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if !rt.Public {
			c, err := s.authenticate(r)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="outpost"`)
				s.writeError(w, r, err)
				return
			}
			infoOf(r).workspaceID = c.WorkspaceID
			if ok, wait := s.limiter.allow(limiterKey(c), s.now()); !ok {
				w.Header().Set("Retry-After", retryAfterSeconds(wait))
				s.writeError(w, r, errcode.New(errcode.RateLimited,
					"this API key made more than %g requests a second (bursts of %d): retry after %s s",
					s.cfg.APIRateLimit, s.cfg.APIRateBurst, retryAfterSeconds(wait)))
				return
			}
			if err := s.authorize(rt, c); err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), ctxCaller, c))
		}
		if err := checkQuery(r, rt.Query); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate returns who makes the request: the bearer API key, else
// the web UI's session cookie (for the browser's own calls; a
// state-changing one must come from this site). Bad keys are throttled per
// client address by the service.
func (s *Server) authenticate(r *http.Request) (outpost.Caller, error) {
	ip := s.ips.IP(r)
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return outpost.Caller{}, errcode.New(errcode.Unauthorized, "malformed Authorization header: send Authorization: Bearer <key>")
		}
		key, err := s.svc.Accounts.AuthenticateKey(r.Context(), token, ip)
		if err != nil {
			return outpost.Caller{}, err
		}
		return key.Caller(ip), nil
	}
	ses, ok, err := s.session(r)
	switch {
	case err != nil:
		return outpost.Caller{}, err
	case !ok:
		return outpost.Caller{}, errcode.New(errcode.Unauthorized, "missing API key: send Authorization: Bearer <key>")
	}
	if err := s.cop.Check(r); err != nil {
		return outpost.Caller{}, errcode.New(errcode.Forbidden, "a signed-in browser's request from another site is refused")
	}
	return ses.Caller(ip), nil
}

// session returns the web UI's session of the request's cookie, if any.
func (s *Server) session(r *http.Request) (outpost.Session, bool, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return outpost.Session{}, false, nil
	}
	ses, err := s.svc.Accounts.Session(r.Context(), ck.Value)
	if errcode.Of(err) == errcode.Unauthorized {
		return outpost.Session{}, false, nil
	}
	return ses, err == nil, err
}

// authorize checks that c may call the route (routeActions).
func (s *Server) authorize(rt route, c outpost.Caller) error {
	a, err := routeAction(rt.pattern())
	if err != nil || a == anyCaller {
		return err
	}
	return c.Check(a)
}

// limiterKey is whose requests the rate limit counts: the key's, or the
// signed-in user's.
func limiterKey(c outpost.Caller) string {
	if c.KeyID != "" {
		return c.KeyID
	}
	return "user:" + c.UserID
}

// muxErrorWriter replaces the mux's plain-text 404 and 405 with JSON errors.
type muxErrorWriter struct {
	http.ResponseWriter
	s        *Server
	r        *http.Request
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		w.replaced = true
		w.s.writeError(w.ResponseWriter, w.r, errcode.New(errcode.NotFound, "no route for %s %s", w.r.Method, w.r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.replaced = true
		w.s.writeError(w.ResponseWriter, w.r, errcode.New(errcode.MethodNotAllowed, "%s is not allowed on %s (allowed: %s)",
			w.r.Method, w.r.URL.Path, w.Header().Get("Allow")))
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *muxErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// keyLocks serialises requests that share an idempotency key in this
// process.
type keyLocks struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

func (l *keyLocks) tryLock(key string) (unlock func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, busy := l.keys[key]; busy {
		return nil, false
	}
	if l.keys == nil {
		l.keys = make(map[string]struct{})
	}
	l.keys[key] = struct{}{}
	return func() {
		l.mu.Lock()
		delete(l.keys, key)
		l.mu.Unlock()
	}, true
}
