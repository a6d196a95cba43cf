// Package sandbox serves protocol-faithful emulators of the OAuth and
// upload/publish APIs of YouTube, Facebook Pages, Instagram, LinkedIn and
// TikTok, following docs reference/platforms.md: same paths, headers, chunk
// rules, status codes, error envelopes and processing states.
//
// Every platform is served at its real paths from the root of one origin
// (the five platforms' paths do not collide), so a client, or a platform's
// own SDK, works against it by changing only its base URL(s). The sandbox's
// own endpoints live under /_sandbox/ (also /sandbox/):
//
//	GET    /_sandbox/          HTML list of what was posted
//	GET    /_sandbox/state     the same as JSON
//	GET    /_sandbox/faults    queued faults
//	POST   /_sandbox/faults    {"platform","kind","count","op","retry_after","delay_ms","reason"}
//	DELETE /_sandbox/faults    clear them
//
// State is kept in memory, and in a file too after Persist (persist.go);
// uploaded bytes go to files in Options.Dir and are hashed and deleted when
// an upload completes.
package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/internal/config"
	"outpost/internal/publish/platforms"
)

// Platform names.
const (
	YouTube   = "youtube"
	Facebook  = "facebook"
	Instagram = "instagram"
	LinkedIn  = "linkedin"
	TikTok    = "tiktok"
)

// The seeded accounts: every authorization is granted as this one user.
const (
	YouTubeChannelID   = "UCsandboxChannel00000001"
	YouTubeChannelName = "Sandbox Channel"
	FacebookUserID     = "100000000000010"
	FacebookUserName   = "Sandbox User"
	FacebookPageID     = "200000000000020"
	FacebookPageName   = "Sandbox Page"
	InstagramUserID    = "17841400000000030"
	InstagramUsername  = "sandbox.creator"
	LinkedInPersonID   = "sAnDbOx040"
	LinkedInPersonURN  = "urn:li:person:" + LinkedInPersonID
	LinkedInName       = "Sandbox Member"
	TikTokOpenID       = "-000sandboxOpenId050"
	TikTokUsername     = "sandbox.creator"
	TikTokNickname     = "Sandbox Creator"
)

// GraphVersion is the Graph API version the sandbox hands out in URLs; any
// vNN.N is accepted.
const GraphVersion = "v24.0"

// Client is a registered OAuth client (app).
type Client struct {
	Platform string
	ID       string
	Secret   string
	// RedirectURIs that authorize and token accept exactly; empty accepts
	// any http(s) URI.
	RedirectURIs []string
}

// DefaultClient returns the OAuth client the sandbox registers for a
// platform when Options.Clients names none. Facebook and Instagram client
// ids are numeric, like Meta app ids.
func DefaultClient(platform string) Client {
	id := "sandbox-" + platform + "-client"
	switch platform {
	case Facebook:
		id = "100000000000001"
	case Instagram:
		id = "100000000000002"
	}
	return Client{Platform: platform, ID: id, Secret: "sandbox-" + platform + "-secret"}
}

// PlatformSettings returns the settings that point every platform at a
// sandbox served at base, with the OAuth clients it registers by default.
func PlatformSettings(base string) map[string]config.Platform {
	out := map[string]config.Platform{}
	for _, p := range platforms.IDs() {
		c := DefaultClient(p)
		out[p] = config.Platform{ClientID: c.ID, ClientSecret: c.Secret, BaseURL: base}
	}
	return out
}

// Options configure a Server. The zero value is usable: consent page on,
// instant processing, real limits.
type Options struct {
	// BaseURL is the origin put in URLs the sandbox hands out (session
	// URIs, upload URLs, post links); empty uses the request's Host.
	BaseURL string
	// Dir receives uploads in progress; empty uses a new temporary folder
	// removed by Close.
	Dir string
	// AutoApprove skips the consent page: authorize redirects at once.
	AutoApprove bool
	// Clients are the registered OAuth clients; platforms without one get
	// DefaultClient.
	Clients []Client
	// ProcessingDelay is how long an upload stays processing; zero makes
	// media ready at the first poll.
	ProcessingDelay time.Duration
	Limits          Limits
	// Faults are queued at start, as if posted to /_sandbox/faults.
	Faults []Fault
	Logger *slog.Logger
	// Now replaces the clock (token expiry, quotas, processing).
	Now func() time.Time
}

// Limits are the platforms' limits; zero fields take the documented
// defaults (DefaultLimits).
type Limits struct {
	// AccessTTL and RefreshTTL override every platform's token lifetimes.
	AccessTTL  time.Duration
	RefreshTTL time.Duration

	YouTubeQuotaPerDay int // units per project (OAuth client) per Pacific day; 10 000
	// YouTubeInsertBucket switches videos.insert to the newer model: its
	// own bucket of 100 calls/day at 1 unit, instead of 1600 units.
	YouTubeInsertBucket  bool
	YouTubeInsertCost    int  // 1600
	YouTubeUnaudited     bool // force every upload to private
	YouTubeNoThumbnails  bool // channel may not set custom thumbnails: 403
	YouTubeSessionTTL    time.Duration
	YouTubeUploadsPerDay int // per channel; 0 = no cap (uploadLimitExceeded)

	FacebookChunkSize   int64         // server-chosen chunk of the legacy flow; 4 MiB
	FacebookReelsPerDay int           // per Page per rolling 24 h; 30
	FacebookMaxSchedule time.Duration // scheduled_publish_time upper bound; 30 days

	InstagramPostsPerDay int           // per rolling 24 h; 50
	InstagramContainers  int           // per rolling 24 h; 400
	InstagramContainerTT time.Duration // unpublished container expiry; 24 h

	LinkedInPartSize     int64  // 4 MiB
	LinkedInPostsPerDay  int    // per member per UTC day; 150
	LinkedInMinVersion   string // oldest active LinkedIn-Version; "202507"
	LinkedInShuffleParts bool   // hand out upload instructions out of order

	TikTokInitPerMin        int   // 6
	TikTokCreatorInfoPerMin int   // 20
	TikTokStatusPerMin      int   // 30
	TikTokPostsPerDay       int   // per creator per rolling 24 h; 15
	TikTokInboxPending      int   // 5
	TikTokMinChunk          int64 // 5 000 000
	TikTokMaxChunk          int64 // 64 MiB
	TikTokMaxLastChunk      int64 // 128 MiB
	TikTokMaxDurationSec    int   // creator_info max_video_post_duration_sec; 600
	TikTokUnaudited         bool  // only SELF_ONLY; private accounts only
	// TikTokOAuthErrors200 answers OAuth errors with HTTP 200, as TikTok's
	// sandbox was seen to do.
	TikTokOAuthErrors200 bool
}

// DefaultLimits returns the documented limits.
func DefaultLimits() Limits {
	return Limits{
		YouTubeQuotaPerDay: 10000, YouTubeInsertCost: 1600, YouTubeSessionTTL: 7 * 24 * time.Hour,
		FacebookChunkSize: 4 << 20, FacebookReelsPerDay: 30, FacebookMaxSchedule: 30 * 24 * time.Hour,
		InstagramPostsPerDay: 50, InstagramContainers: 400, InstagramContainerTT: 24 * time.Hour,
		LinkedInPartSize: 4 << 20, LinkedInPostsPerDay: 150, LinkedInMinVersion: "202507",
		TikTokInitPerMin: 6, TikTokCreatorInfoPerMin: 20, TikTokStatusPerMin: 30, TikTokPostsPerDay: 15,
		TikTokInboxPending: 5, TikTokMinChunk: 5_000_000, TikTokMaxChunk: 64 << 20, TikTokMaxLastChunk: 128 << 20,
		TikTokMaxDurationSec: 600,
	}
}

func (l *Limits) fill() {
	d := DefaultLimits()
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setI64 := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setI(&l.YouTubeQuotaPerDay, d.YouTubeQuotaPerDay)
	setI(&l.YouTubeInsertCost, d.YouTubeInsertCost)
	setD(&l.YouTubeSessionTTL, d.YouTubeSessionTTL)
	setI64(&l.FacebookChunkSize, d.FacebookChunkSize)
	setI(&l.FacebookReelsPerDay, d.FacebookReelsPerDay)
	setD(&l.FacebookMaxSchedule, d.FacebookMaxSchedule)
	setI(&l.InstagramPostsPerDay, d.InstagramPostsPerDay)
	setI(&l.InstagramContainers, d.InstagramContainers)
	setD(&l.InstagramContainerTT, d.InstagramContainerTT)
	setI64(&l.LinkedInPartSize, d.LinkedInPartSize)
	setI(&l.LinkedInPostsPerDay, d.LinkedInPostsPerDay)
	if l.LinkedInMinVersion == "" {
		l.LinkedInMinVersion = d.LinkedInMinVersion
	}
	setI(&l.TikTokInitPerMin, d.TikTokInitPerMin)
	setI(&l.TikTokCreatorInfoPerMin, d.TikTokCreatorInfoPerMin)
	setI(&l.TikTokStatusPerMin, d.TikTokStatusPerMin)
	setI(&l.TikTokPostsPerDay, d.TikTokPostsPerDay)
	setI(&l.TikTokInboxPending, d.TikTokInboxPending)
	setI64(&l.TikTokMinChunk, d.TikTokMinChunk)
	setI64(&l.TikTokMaxChunk, d.TikTokMaxChunk)
	setI64(&l.TikTokMaxLastChunk, d.TikTokMaxLastChunk)
	setI(&l.TikTokMaxDurationSec, d.TikTokMaxDurationSec)
}

// Post is one thing the sandbox published (or holds scheduled, processing
// or rejected), as listed by /_sandbox/state.
type Post struct {
	Platform    string     `json:"platform"`
	ID          string     `json:"id"`
	URL         string     `json:"url"`
	Account     string     `json:"account"`
	Kind        string     `json:"kind"` // video, reel, share
	Title       string     `json:"title,omitempty"`
	Text        string     `json:"text,omitempty"`
	Privacy     string     `json:"privacy,omitempty"`
	Status      string     `json:"status"` // processing, published, scheduled, draft, rejected, inbox
	Reason      string     `json:"reason,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256,omitempty"`
	Thumbnail   bool       `json:"thumbnail,omitempty"`
	Captions    []string   `json:"captions,omitempty"`
	MediaID     string     `json:"media_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`

	proc     *processing
	origin   string // request origin when BaseURL is unset
	baseStat string // status once processing is done
}

// processing is the clock of one upload's remote processing.
type processing struct {
	readyAt time.Time
	reject  string // rejection reason once ready; empty when accepted
}

func (p *processing) state(now time.Time) string {
	switch {
	case p == nil:
		return "ready"
	case now.Before(p.readyAt):
		return "processing"
	case p.reject != "":
		return "rejected"
	}
	return "ready"
}

// Server is the emulator; it is an http.Handler.
type Server struct {
	opts   Options
	lim    Limits
	log    *slog.Logger
	mux    *http.ServeMux
	dir    string
	ownDir bool

	mu      sync.Mutex
	seq     int64
	clients map[string]Client // by client id
	codes   map[string]*authCode
	tokens  map[string]*token // access and refresh tokens by value
	faults  []*Fault
	posts   []*Post
	rates   map[string][]time.Time
	quota   map[string]int // YouTube units by project|day

	yt     ytState
	ytOnce sync.Mutex // serialises video creation at upload completion
	fb     fbState
	ig     igState
	li     liState
	tt     ttState

	// Persist's file, and the bytes last written there (persist.go).
	saveMu    sync.Mutex
	statePath string
	saved     []byte
}

// New returns a Server. Close it to remove its temporary files.
func New(opts Options) *Server {
	s := &Server{
		opts:    opts,
		lim:     opts.Limits,
		log:     opts.Logger,
		clients: map[string]Client{},
		codes:   map[string]*authCode{},
		tokens:  map[string]*token{},
		rates:   map[string][]time.Time{},
		quota:   map[string]int{},
	}
	s.lim.fill()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Dir != "" {
		s.dir = opts.Dir
	} else {
		dir, err := os.MkdirTemp("", "outpost-sandbox-*")
		if err != nil {
			dir = os.TempDir()
		} else {
			s.ownDir = true
		}
		s.dir = dir
	}
	have := map[string]bool{}
	for _, c := range opts.Clients {
		s.clients[c.ID] = c
		have[c.Platform] = true
	}
	for _, p := range platforms.IDs() {
		if !have[p] {
			c := DefaultClient(p)
			s.clients[c.ID] = c
		}
	}
	for _, f := range opts.Faults {
		s.Inject(f)
	}
	s.yt.init()
	s.fb.init()
	s.ig.init()
	s.li.init()
	s.tt.init()
	s.routes()
	return s
}

// Close removes the sandbox's temporary folder.
func (s *Server) Close() error {
	if s.ownDir {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// ServeHTTP serves the platforms' APIs and the sandbox's own pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer s.persist()
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	for _, pre := range []string{"/_sandbox", "/sandbox"} {
		m.HandleFunc("GET "+pre+"/{$}", s.handleIndex)
		m.HandleFunc("GET "+pre+"/state", s.handleState)
		m.HandleFunc("GET "+pre+"/faults", s.handleFaultsList)
		m.HandleFunc("POST "+pre+"/faults", s.handleFaultsAdd)
		m.HandleFunc("DELETE "+pre+"/faults", s.handleFaultsClear)
		m.HandleFunc("GET "+pre+"/avatar.png", handleAvatar)
		m.HandleFunc("GET "+pre+"/avatar/{account}", handleAvatar)
	}
	s.youtubeRoutes(m)
	s.graphRoutes(m)
	s.linkedinRoutes(m)
	s.tiktokRoutes(m)
	m.HandleFunc("/", s.handleFallback)
	s.mux = m
}

// handleFallback serves the Graph API (/vNN.N/…) and the post pages whose
// paths start with a variable segment.
func (s *Server) handleFallback(w http.ResponseWriter, r *http.Request) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(seg) > 0 && isGraphVersion(seg[0]) {
		s.handleGraph(w, r, seg)
		return
	}
	if r.Method == http.MethodGet {
		switch {
		case len(seg) == 2 && seg[0] == "reel",
			len(seg) == 3 && seg[1] == "videos",
			len(seg) == 3 && strings.HasPrefix(seg[0], "@") && seg[1] == "video":
			s.handlePostPage(w, r, seg[len(seg)-1])
			return
		case len(seg) == 1 && seg[0] == "":
			http.Redirect(w, r, "/_sandbox/", http.StatusFound)
			return
		}
	}
	http.NotFound(w, r)
}

// --- clock, ids, origin -------------------------------------------------

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// nextID returns a process-unique number; callers hold s.mu.
func (s *Server) nextID() int64 {
	s.seq++
	return s.seq
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Server) origin(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return strings.TrimRight(s.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- JSON ----------------------------------------------------------------

// writeJSON writes v compactly, without a trailing newline, as the
// platforms do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func readJSON(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v)
}

// --- rate limits ---------------------------------------------------------

// allow records a call under key and reports whether fewer than n calls
// were made in the window before it; callers hold s.mu.
func (s *Server) allow(key string, n int, window time.Duration) bool {
	now := s.now()
	cut := now.Add(-window)
	ts := s.rates[key]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= n {
		s.rates[key] = ts
		return false
	}
	s.rates[key] = append(ts, now)
	return true
}

// countSince counts calls recorded under key since t; callers hold s.mu.
func (s *Server) countSince(key string, t time.Time) int {
	n := 0
	for _, ts := range s.rates[key] {
		if ts.After(t) {
			n++
		}
	}
	return n
}

// --- uploads on disk -----------------------------------------------------

// blob is one upload's bytes in a temporary file.
type blob struct {
	mu   sync.Mutex
	f    *os.File
	have int64 // contiguous bytes stored from offset 0
	done bool
	size int64
	sum  string
}

var errBlobDone = errors.New("upload already complete")

func (s *Server) newBlob() (*blob, error) {
	f, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("create upload file: %w", err)
	}
	return &blob{f: f}, nil
}

// write copies at most n bytes from r to offset off and returns how many
// were copied. It does not move have; commit does.
func (b *blob) write(off int64, r io.Reader, n int64) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errBlobDone
	}
	return io.CopyN(io.NewOffsetWriter(b.f, off), r, n)
}

// commit records that [off, off+n) is stored and returns the contiguous
// length.
func (b *blob) commit(off, n int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off <= b.have && off+n > b.have {
		b.have = off + n
	}
	return b.have
}

// stored returns the contiguous length.
func (b *blob) stored() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return b.size
	}
	return b.have
}

// finish hashes the first size bytes and deletes the file.
func (b *blob) finish(size int64) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return b.sum, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(b.f, 0, size)); err != nil {
		return "", fmt.Errorf("hash upload: %w", err)
	}
	name := b.f.Name()
	_ = b.f.Close()
	_ = os.Remove(name)
	b.done, b.size, b.sum = true, size, hex.EncodeToString(h.Sum(nil))
	return b.sum, nil
}

// abortConn drops the client's connection without a response, as a network
// failure mid-request would: hijack and reset when possible.
func abortConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// --- processing and posts ------------------------------------------------

// startProcessing returns the processing clock of an upload that just
// completed, applying queued slow_processing and reject faults.
func (s *Server) startProcessing(platform string) *processing {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &processing{readyAt: s.now().Add(s.opts.ProcessingDelay)}
	if f := s.takeFaultLocked(platform, "processing", FaultSlowProcessing); f != nil {
		d := time.Duration(f.DelayMS) * time.Millisecond
		if d == 0 {
			d = time.Hour
		}
		p.readyAt = s.now().Add(d)
	}
	if f := s.takeFaultLocked(platform, "processing", FaultReject); f != nil {
		p.reject = f.Reason
		if p.reject == "" {
			p.reject = defaultRejectReason[platform]
		}
	}
	return p
}

var defaultRejectReason = map[string]string{
	YouTube:   "inappropriate",
	Facebook:  "Your video could not be processed. The file format is not supported.",
	Instagram: "2207026",
	LinkedIn:  "VIDEO_FORMAT_NOT_SUPPORTED",
	TikTok:    "file_format_check_failed",
}

// addPost records a post; callers hold s.mu.
func (s *Server) addPost(p *Post) {
	p.CreatedAt = s.now()
	s.posts = append(s.posts, p)
	s.log.Info("sandbox post", "platform", p.Platform, "post_id", p.ID, "url", p.URL, "size", p.Size, "status", p.baseStat)
}

// view returns a copy of p with its status as of now; callers hold s.mu.
func (s *Server) view(p *Post) Post {
	v := *p
	now := s.now()
	switch p.proc.state(now) {
	case "processing":
		v.Status = "processing"
	case "rejected":
		v.Status, v.Reason = "rejected", p.proc.reject
	default:
		v.Status = p.baseStat
		if v.Status == "scheduled" && p.ScheduledAt != nil && !now.Before(*p.ScheduledAt) {
			v.Status = "published"
		}
	}
	v.Captions = slices.Clone(p.Captions)
	v.proc = nil
	return v
}

// Posts returns the posts of one platform (all when platform is empty) in
// creation order.
func (s *Server) Posts(platform string) []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, p := range s.posts {
		if platform == "" || p.Platform == platform {
			out = append(out, s.view(p))
		}
	}
	return out
}

// State is the JSON of GET /_sandbox/state.
type State struct {
	Posts  map[string][]Post `json:"posts"`
	Faults []Fault           `json:"faults"`
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	st := State{Posts: map[string][]Post{}, Faults: s.Faults()}
	for _, p := range platforms.IDs() {
		st.Posts[p] = []Post{}
	}
	for _, p := range s.Posts("") {
		st.Posts[p.Platform] = append(st.Posts[p.Platform], p)
	}
	writeJSON(w, http.StatusOK, st)
}

// bearer returns the token of an "Authorization: Bearer" (or "OAuth")
// header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "OAuth "} {
		if v, ok := strings.CutPrefix(h, p); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func atoi64(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}
