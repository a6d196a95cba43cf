package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // quota days are Pacific days
	"unicode/utf8"

	"outpost/internal/publish"
)

// YouTube Data API v3 (platforms.md §3).

const ytAlign = 256 << 10

var pacific = mustLoc("America/Los_Angeles")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return l
}

type ytState struct {
	sessions map[string]*ytSession
	videos   map[string]*ytVideo
	uploads  map[string][]time.Time // per channel, for uploadLimitExceeded
}

func (y *ytState) init() {
	y.sessions = map[string]*ytSession{}
	y.videos = map[string]*ytVideo{}
	y.uploads = map[string][]time.Time{}
}

type ytSession struct {
	id      string
	project string
	meta    ytVideoIn
	total   int64 // -1 until known
	blob    *blob
	created time.Time
	videoID string // set when complete
}

// ytVideoIn is the writable part of a video resource.
type ytVideoIn struct {
	Snippet struct {
		Title                string   `json:"title"`
		Description          string   `json:"description"`
		Tags                 []string `json:"tags"`
		CategoryID           string   `json:"categoryId"`
		DefaultLanguage      string   `json:"defaultLanguage"`
		DefaultAudioLanguage string   `json:"defaultAudioLanguage"`
	} `json:"snippet"`
	Status struct {
		PrivacyStatus           string `json:"privacyStatus"`
		PublishAt               string `json:"publishAt"`
		Embeddable              *bool  `json:"embeddable"`
		License                 string `json:"license"`
		PublicStatsViewable     *bool  `json:"publicStatsViewable"`
		SelfDeclaredMadeForKids *bool  `json:"selfDeclaredMadeForKids"`
		ContainsSyntheticMedia  *bool  `json:"containsSyntheticMedia"`
	} `json:"status"`
}

type ytVideo struct {
	id        string
	meta      ytVideoIn
	published time.Time
	size      int64
	sum       string
	proc      *processing
	thumbnail bool
	captions  []string
	post      *Post
}

func (s *Server) youtubeRoutes(m *http.ServeMux) {
	m.HandleFunc("/o/oauth2/v2/auth", s.authorize(YouTube))
	m.HandleFunc("POST /token", s.googleToken)
	m.HandleFunc("/upload/youtube/v3/videos", s.ytUpload)
	m.HandleFunc("/resumable/upload/youtube/v3/videos", s.ytUpload)
	m.HandleFunc("GET /youtube/v3/videos", s.ytList)
	m.HandleFunc("POST /upload/youtube/v3/thumbnails/set", s.ytThumbnail)
	m.HandleFunc("POST /upload/youtube/v3/captions", s.ytCaption)
	m.HandleFunc("GET /youtube/v3/channels", s.ytChannels)
	m.HandleFunc("GET /watch", func(w http.ResponseWriter, r *http.Request) { s.handlePostPage(w, r, r.URL.Query().Get("v")) })
}

// --- OAuth -----------------------------------------------------------------

func (s *Server) googleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error(), false)
		return
	}
	if s.apiFault(w, YouTube, "token") {
		return
	}
	c, ge := s.checkClient(r, YouTube, "client_id")
	if ge != nil {
		oauthError(w, ge.status, ge.code, "Unauthorized", false)
		return
	}
	now := s.now()
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		ac, ge := s.redeemCode(YouTube, c, r.Form.Get("code"), r.Form.Get("redirect_uri"), r.Form.Get("code_verifier"))
		if ge != nil {
			oauthError(w, ge.status, ge.code, ge.desc, false)
			return
		}
		s.mu.Lock()
		at := s.issueLocked(YouTube, c.ID, kindAccess, ac.scopes, s.accessTTL(YouTube, false))
		body := map[string]any{"access_token": at.value, "expires_in": secondsUntil(now, at.expires),
			"scope": strings.Join(ac.scopes, " "), "token_type": "Bearer"}
		if ac.offline {
			rt := s.issueLocked(YouTube, c.ID, kindRefresh, ac.scopes, 0)
			body["refresh_token"] = rt.value
			at.parent = rt
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, body)
	case "refresh_token":
		rt, ge := s.useRefresh(YouTube, c, r.Form.Get("refresh_token"), false)
		if ge != nil {
			oauthError(w, ge.status, ge.code, ge.desc, false)
			return
		}
		s.mu.Lock()
		at := s.issueLocked(YouTube, c.ID, kindAccess, rt.scopes, s.accessTTL(YouTube, false))
		at.parent = rt
		s.mu.Unlock()
		// Google omits refresh_token on refresh.
		writeJSON(w, http.StatusOK, map[string]any{"access_token": at.value, "expires_in": secondsUntil(now, at.expires),
			"scope": strings.Join(rt.scopes, " "), "token_type": "Bearer"})
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.Form.Get("grant_type"), false)
	}
}

// ytAuth checks the bearer token and charges quota; it writes the error
// and returns nil on failure.
func (s *Server) ytAuth(w http.ResponseWriter, r *http.Request, op string, cost int) *token {
	t, why := s.lookupToken(bearer(r), YouTube)
	if t == nil {
		_ = why
		googleError(w, http.StatusUnauthorized, "global", "authError",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
		return nil
	}
	if s.apiFault(w, YouTube, op) {
		return nil
	}
	if !s.chargeQuota(t.clientID, cost) {
		googleError(w, http.StatusForbidden, "youtube.quota", "quotaExceeded", quotaMessage)
		return nil
	}
	return t
}

// chargeQuota spends units of the project's daily quota; every request
// costs at least 1.
func (s *Server) chargeQuota(project string, units int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := project + "|" + s.now().In(pacific).Format(time.DateOnly)
	if s.quota[key]+units > s.lim.YouTubeQuotaPerDay {
		return false
	}
	s.quota[key] += units
	return true
}

// QuotaUsed returns the YouTube units a project (OAuth client id) spent
// today, Pacific time.
func (s *Server) QuotaUsed(project string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quota[project+"|"+s.now().In(pacific).Format(time.DateOnly)]
}

func (s *Server) insertCost(project string) (units int, ok bool) {
	if !s.lim.YouTubeInsertBucket {
		return s.lim.YouTubeInsertCost, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	day := s.now().In(pacific)
	key := "yt-insert|" + project
	midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, pacific)
	if s.countSince(key, midnight.Add(-1)) >= 100 {
		return 0, false
	}
	s.rates[key] = append(s.rates[key], s.now())
	return 1, true
}

// --- videos.insert ---------------------------------------------------------

func (s *Server) ytUpload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			googleError(w, http.StatusMethodNotAllowed, "global", "methodNotAllowed", "Method not allowed")
			return
		}
		s.ytChunk(w, r, id)
		return
	}
	if r.Method != http.MethodPost {
		googleError(w, http.StatusMethodNotAllowed, "global", "methodNotAllowed", "Method not allowed")
		return
	}
	switch q.Get("uploadType") {
	case "resumable":
		s.ytInitiate(w, r)
	case "multipart", "media":
		s.ytSimple(w, r)
	default:
		googleError(w, http.StatusBadRequest, "global", "invalidParameter", "Invalid value for uploadType: "+q.Get("uploadType"))
	}
}

var categoryRE = regexp.MustCompile(`^[0-9]+$`)

// checkVideo validates the writable video fields as videos.insert does.
func (s *Server) checkVideo(m *ytVideoIn) (reason, msg string) {
	sn, st := &m.Snippet, &m.Status
	switch {
	case strings.TrimSpace(sn.Title) == "":
		return "invalidTitle", "The request metadata specifies an invalid or empty video title."
	case utf8.RuneCountInString(sn.Title) > 100 || strings.ContainsAny(sn.Title, "<>"):
		return "invalidTitle", "The request metadata specifies an invalid video title."
	case len(sn.Description) > 5000 || strings.ContainsAny(sn.Description, "<>"):
		return "invalidDescription", "The request metadata specifies an invalid video description."
	case publish.CountTags.TagsLen(sn.Tags) > 500:
		return "invalidTags", "The request metadata specifies invalid video keywords."
	case sn.CategoryID != "" && !categoryRE.MatchString(sn.CategoryID):
		return "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID."
	}
	if st.PrivacyStatus == "" {
		st.PrivacyStatus = "public"
	}
	if !slices.Contains([]string{"public", "unlisted", "private"}, st.PrivacyStatus) {
		return "invalidVideoMetadata", "The request metadata is invalid: status.privacyStatus."
	}
	if st.License != "" && st.License != "youtube" && st.License != "creativeCommon" {
		return "invalidVideoMetadata", "The request metadata is invalid: status.license."
	}
	if st.PublishAt != "" {
		if _, err := time.Parse(time.RFC3339, st.PublishAt); err != nil || st.PrivacyStatus != "private" {
			return "invalidPublishAt", "The request metadata specifies an invalid scheduled publishing time."
		}
	}
	if s.lim.YouTubeUnaudited {
		st.PrivacyStatus = "private"
	}
	return "", ""
}

func (s *Server) ytInsertAllowed(w http.ResponseWriter, t *token) bool {
	cost, ok := s.insertCost(t.clientID)
	if !ok || !s.chargeQuota(t.clientID, cost) {
		googleError(w, http.StatusForbidden, "youtube.quota", "quotaExceeded", quotaMessage)
		return false
	}
	if n := s.lim.YouTubeUploadsPerDay; n > 0 {
		s.mu.Lock()
		ok := s.allow("yt-uploads|"+YouTubeChannelID, n, 24*time.Hour)
		s.mu.Unlock()
		if !ok {
			googleError(w, http.StatusBadRequest, "youtube.video", "uploadLimitExceeded", "The user has exceeded the number of videos they may upload.")
			return false
		}
	}
	return true
}

func (s *Server) ytInitiate(w http.ResponseWriter, r *http.Request) {
	t := s.ytAuth(w, r, "init", 0)
	if t == nil {
		return
	}
	var meta ytVideoIn
	if body, _ := readAll(r); len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &meta); err != nil {
			googleError(w, http.StatusBadRequest, "global", "parseError", "Parse Error")
			return
		}
	}
	if reason, msg := s.checkVideo(&meta); reason != "" {
		s.chargeQuota(t.clientID, 1)
		googleError(w, http.StatusBadRequest, "youtube.video", reason, msg)
		return
	}
	if ct := r.Header.Get("X-Upload-Content-Type"); ct != "" && !strings.HasPrefix(ct, "video/") && ct != "application/octet-stream" {
		googleError(w, http.StatusBadRequest, "global", "badContent", "Media type '"+ct+"' is not supported.")
		return
	}
	if !s.ytInsertAllowed(w, t) {
		return
	}
	b, err := s.newBlob()
	if err != nil {
		googleError(w, http.StatusInternalServerError, "global", "backendError", err.Error())
		return
	}
	sess := &ytSession{id: "ADPyc" + randToken(60), project: t.clientID, meta: meta, total: -1, blob: b, created: s.now()}
	if n, ok := atoi64(r.Header.Get("X-Upload-Content-Length")); ok {
		sess.total = n
	}
	s.mu.Lock()
	s.yt.sessions[sess.id] = sess
	s.mu.Unlock()
	loc := s.origin(r) + r.URL.Path + "?" + url.Values{
		"uploadType": {"resumable"}, "part": {partsOf(r.URL.Query())}, "upload_id": {sess.id},
	}.Encode()
	w.Header().Set("Location", loc)
	w.Header().Set("X-GUploader-UploadID", sess.id)
	w.WriteHeader(http.StatusOK)
}

// contentRange is a parsed "bytes A-B/TOTAL", "bytes A-B/*" or "bytes */TOTAL".
type contentRange struct {
	first, last, total int64 // first == -1 for "*"; total == -1 for "*"
}

func parseContentRange(v string) (contentRange, bool) {
	cr := contentRange{first: -1, last: -1, total: -1}
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return cr, false
	}
	rng, tot, ok := strings.Cut(strings.TrimSpace(rest), "/")
	if !ok {
		return cr, false
	}
	if tot != "*" {
		n, ok := atoi64(tot)
		if !ok || n < 0 {
			return cr, false
		}
		cr.total = n
	}
	if rng == "*" {
		return cr, true
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return cr, false
	}
	first, ok1 := atoi64(a)
	last, ok2 := atoi64(b)
	if !ok1 || !ok2 || first < 0 || last < first || (cr.total >= 0 && last >= cr.total) {
		return cr, false
	}
	cr.first, cr.last = first, last
	return cr, true
}

func (s *Server) ytChunk(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	sess := s.yt.sessions[id]
	var videoID string
	var created time.Time
	if sess != nil {
		videoID, created = sess.videoID, sess.created
	}
	s.mu.Unlock()
	if sess == nil {
		googleError(w, http.StatusNotFound, "global", "notFound", "Upload session not found.")
		return
	}
	if videoID == "" && s.now().Sub(created) > s.lim.YouTubeSessionTTL {
		googleError(w, http.StatusGone, "global", "gone", "Upload session has expired.")
		return
	}
	if s.apiFault(w, YouTube, "upload") {
		return
	}
	if videoID != "" {
		_, _ = io.Copy(io.Discard, r.Body)
		s.ytWriteVideo(w, r, videoID, http.StatusOK, "snippet,status")
		return
	}
	cr := contentRange{first: 0, total: r.ContentLength}
	if r.ContentLength > 0 {
		cr.last = r.ContentLength - 1
	} else {
		cr.first, cr.total = -1, -1 // an empty PUT asks for the status
	}
	if v := r.Header.Get("Content-Range"); v != "" {
		var ok bool
		if cr, ok = parseContentRange(v); !ok {
			googleError(w, http.StatusBadRequest, "global", "badRequest", "Failed to parse Content-Range header.")
			return
		}
	}
	s.mu.Lock()
	if cr.total >= 0 && sess.total >= 0 && sess.total != cr.total {
		s.mu.Unlock()
		googleError(w, http.StatusBadRequest, "global", "badRequest", "Content-Range total does not match the upload size.")
		return
	}
	if cr.total >= 0 {
		sess.total = cr.total
	}
	total := sess.total
	s.mu.Unlock()
	have := sess.blob.stored()
	if cr.first < 0 { // status query, or an empty final request
		if total >= 0 && have == total {
			s.ytComplete(w, r, sess, total)
			return
		}
		s.yt308(w, r, have)
		return
	}
	n := cr.last - cr.first + 1
	if r.ContentLength >= 0 && r.ContentLength != n {
		googleError(w, http.StatusBadRequest, "global", "badRequest", "Content-Length does not match Content-Range.")
		return
	}
	if cr.first > have {
		// A gap: tell the client what is stored so it resends from there.
		_, _ = io.Copy(io.Discard, r.Body)
		s.yt308(w, r, have)
		return
	}
	final := total >= 0 && cr.last+1 == total
	if !final && n%ytAlign != 0 {
		_, _ = io.Copy(io.Discard, r.Body)
		googleError(w, http.StatusBadRequest, "global", "badRequest", fmt.Sprintf(
			"Invalid request. The number of bytes uploaded is required to be equal or greater than 262144, except for the final request (it's recommended to be the exact multiple of 262144). The received request contained %d bytes, which does not meet this requirement.", n))
		return
	}
	if s.resetFault(YouTube) {
		got, _ := sess.blob.write(cr.first, r.Body, n/2)
		sess.blob.commit(cr.first, got/ytAlign*ytAlign)
		abortConn(w)
		return
	}
	got, err := sess.blob.write(cr.first, r.Body, n)
	if err != nil || got != n {
		// Keep what arrived in whole 256 KiB units, as the server may.
		sess.blob.commit(cr.first, got/ytAlign*ytAlign)
		googleError(w, http.StatusBadRequest, "global", "badRequest", "Incomplete chunk body.")
		return
	}
	have = sess.blob.commit(cr.first, n)
	if total >= 0 && have == total {
		s.ytComplete(w, r, sess, total)
		return
	}
	s.yt308(w, r, have)
}

// yt308 answers "resume incomplete": 308 with Range, or, for clients that
// send X-GUploader-No-308, 200 with X-HTTP-Status-Code-Override: 308.
func (s *Server) yt308(w http.ResponseWriter, r *http.Request, have int64) {
	if have > 0 {
		w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", have-1))
	}
	w.Header().Set("Content-Length", "0")
	if strings.EqualFold(r.Header.Get("X-GUploader-No-308"), "yes") {
		w.Header().Set("X-HTTP-Status-Code-Override", "308")
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusPermanentRedirect)
}

func (s *Server) ytComplete(w http.ResponseWriter, r *http.Request, sess *ytSession, total int64) {
	sum, err := sess.blob.finish(total)
	if err != nil {
		googleError(w, http.StatusInternalServerError, "global", "backendError", err.Error())
		return
	}
	s.ytOnce.Lock()
	defer s.ytOnce.Unlock()
	s.mu.Lock()
	id := sess.videoID
	s.mu.Unlock()
	if id == "" {
		v := s.ytCreate(r, sess.meta, total, sum)
		s.mu.Lock()
		sess.videoID, id = v.id, v.id
		s.mu.Unlock()
	}
	s.ytWriteVideo(w, r, id, http.StatusOK, "snippet,status")
}

// ytCreate records a finished upload as a video and a post.
func (s *Server) ytCreate(r *http.Request, meta ytVideoIn, size int64, sum string) *ytVideo {
	proc := s.startProcessing(YouTube)
	s.mu.Lock()
	defer s.mu.Unlock()
	v := &ytVideo{id: randToken(11), meta: meta, published: s.now(), size: size, sum: sum, proc: proc}
	p := &Post{Platform: YouTube, ID: v.id, URL: s.origin(r) + "/watch?v=" + v.id, Account: YouTubeChannelID,
		Kind: "video", Title: meta.Snippet.Title, Text: meta.Snippet.Description, Privacy: meta.Status.PrivacyStatus,
		Size: size, SHA256: sum, proc: proc, baseStat: "published"}
	if meta.Status.PrivacyStatus == "private" {
		p.baseStat = "private"
	}
	if at, err := time.Parse(time.RFC3339, meta.Status.PublishAt); err == nil {
		p.ScheduledAt, p.baseStat = &at, "scheduled"
	}
	v.post = p
	s.addPost(p)
	s.yt.videos[v.id] = v
	return v
}

// ytSimple serves uploadType=multipart (metadata + media in one
// multipart/related body) and uploadType=media (media only).
func (s *Server) ytSimple(w http.ResponseWriter, r *http.Request) {
	t := s.ytAuth(w, r, "init", 0)
	if t == nil {
		return
	}
	var meta ytVideoIn
	var media io.Reader = r.Body
	if r.URL.Query().Get("uploadType") == "multipart" {
		mr, err := multipartRelated(r)
		if err != nil {
			googleError(w, http.StatusBadRequest, "global", "badContent", err.Error())
			return
		}
		part, err := mr.NextPart()
		if err != nil {
			googleError(w, http.StatusBadRequest, "global", "badContent", "missing metadata part")
			return
		}
		if err := json.NewDecoder(io.LimitReader(part, 1<<20)).Decode(&meta); err != nil && err != io.EOF {
			googleError(w, http.StatusBadRequest, "global", "parseError", "Parse Error")
			return
		}
		if media, err = mr.NextPart(); err != nil {
			googleError(w, http.StatusBadRequest, "youtube.video", "mediaBodyRequired", "The request does not include the video content.")
			return
		}
	} else {
		meta.Snippet.Title = "unknown"
	}
	if reason, msg := s.checkVideo(&meta); reason != "" {
		googleError(w, http.StatusBadRequest, "youtube.video", reason, msg)
		return
	}
	if !s.ytInsertAllowed(w, t) {
		return
	}
	b, err := s.newBlob()
	if err != nil {
		googleError(w, http.StatusInternalServerError, "global", "backendError", err.Error())
		return
	}
	n, err := b.write(0, media, 1<<62)
	if err != nil && err != io.EOF {
		googleError(w, http.StatusBadRequest, "global", "badContent", "read media: "+err.Error())
		return
	}
	if n == 0 {
		googleError(w, http.StatusBadRequest, "youtube.video", "mediaBodyRequired", "The request does not include the video content.")
		return
	}
	b.commit(0, n)
	sum, err := b.finish(n)
	if err != nil {
		googleError(w, http.StatusInternalServerError, "global", "backendError", err.Error())
		return
	}
	v := s.ytCreate(r, meta, n, sum)
	s.ytWriteVideo(w, r, v.id, http.StatusOK, "snippet,status")
}

func multipartRelated(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, fmt.Errorf("expected a multipart/related body")
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// --- video resource ------------------------------------------------------------

func (s *Server) ytResource(origin string, v *ytVideo, parts string) map[string]any {
	now := s.now()
	want := func(p string) bool { return slices.Contains(strings.Split(parts, ","), p) }
	out := map[string]any{"kind": "youtube#video", "etag": randToken(27), "id": v.id}
	m := v.meta
	if want("snippet") {
		thumb := func(q string, wd, ht int) map[string]any {
			return map[string]any{"url": origin + "/vi/" + v.id + "/" + q + ".jpg", "width": wd, "height": ht}
		}
		sn := map[string]any{
			"publishedAt": v.published.UTC().Format(time.RFC3339), "channelId": YouTubeChannelID,
			"title": m.Snippet.Title, "description": m.Snippet.Description,
			"thumbnails":   map[string]any{"default": thumb("default", 120, 90), "medium": thumb("mqdefault", 320, 180), "high": thumb("hqdefault", 480, 360)},
			"channelTitle": YouTubeChannelName, "categoryId": cmp(m.Snippet.CategoryID, "22"),
			"liveBroadcastContent": "none",
			"localized":            map[string]any{"title": m.Snippet.Title, "description": m.Snippet.Description},
		}
		if len(m.Snippet.Tags) > 0 {
			sn["tags"] = m.Snippet.Tags
		}
		out["snippet"] = sn
	}
	state := v.proc.state(now)
	if want("status") {
		st := map[string]any{
			"uploadStatus": "uploaded", "privacyStatus": m.Status.PrivacyStatus, "license": cmp(m.Status.License, "youtube"),
			"embeddable": boolOr(m.Status.Embeddable, true), "publicStatsViewable": boolOr(m.Status.PublicStatsViewable, true),
			"madeForKids": boolOr(m.Status.SelfDeclaredMadeForKids, false),
		}
		if m.Status.SelfDeclaredMadeForKids != nil {
			st["selfDeclaredMadeForKids"] = *m.Status.SelfDeclaredMadeForKids
		}
		if m.Status.ContainsSyntheticMedia != nil {
			st["containsSyntheticMedia"] = *m.Status.ContainsSyntheticMedia
		}
		if m.Status.PublishAt != "" {
			st["publishAt"] = m.Status.PublishAt
		}
		switch state {
		case "ready":
			st["uploadStatus"] = "processed"
		case "rejected":
			st["uploadStatus"], st["rejectionReason"] = "rejected", v.proc.reject
		}
		out["status"] = st
	}
	if want("processingDetails") {
		pd := map[string]any{"processingStatus": "succeeded"}
		switch state {
		case "processing":
			total := v.proc.readyAt.Sub(v.published)
			left := v.proc.readyAt.Sub(now)
			done := int64(1000)
			if total > 0 {
				done = int64(1000 * (total - left) / total)
			}
			pd = map[string]any{"processingStatus": "processing", "processingProgress": map[string]any{
				"partsTotal": "1000", "partsProcessed": strconv.FormatInt(done, 10), "timeLeftMs": strconv.FormatInt(left.Milliseconds(), 10),
			}}
		case "rejected":
			pd = map[string]any{"processingStatus": "terminated"}
		}
		out["processingDetails"] = pd
	}
	return out
}

// partsOf joins the part parameter, given as a comma list or repeated
// (the Go client repeats it).
func partsOf(q url.Values) string { return strings.Join(q["part"], ",") }

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func (s *Server) ytWriteVideo(w http.ResponseWriter, r *http.Request, id string, status int, parts string) {
	s.mu.Lock()
	res := s.ytResource(s.origin(r), s.yt.videos[id], parts)
	s.mu.Unlock()
	writeJSON(w, status, res)
}

func (s *Server) ytList(w http.ResponseWriter, r *http.Request) {
	if s.ytAuth(w, r, "status", 1) == nil {
		return
	}
	q := r.URL.Query()
	parts := partsOf(q)
	if parts == "" {
		googleError(w, http.StatusBadRequest, "global", "required", "Required parameter: part")
		return
	}
	items := []any{}
	s.mu.Lock()
	for _, id := range strings.Split(strings.Join(q["id"], ","), ",") {
		if v := s.yt.videos[id]; v != nil {
			items = append(items, s.ytResource(s.origin(r), v, parts))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"kind": "youtube#videoListResponse", "etag": randToken(27),
		"items": items, "pageInfo": map[string]any{"totalResults": len(items), "resultsPerPage": len(items)}})
}

func (s *Server) ytChannels(w http.ResponseWriter, r *http.Request) {
	if s.ytAuth(w, r, "info", 1) == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "youtube#channelListResponse", "etag": randToken(27),
		"pageInfo": map[string]any{"totalResults": 1, "resultsPerPage": 5},
		"items": []any{map[string]any{"kind": "youtube#channel", "etag": randToken(27), "id": YouTubeChannelID,
			"snippet": map[string]any{"title": YouTubeChannelName, "description": "Outpost sandbox channel", "customUrl": "@sandboxchannel",
				"thumbnails": map[string]any{"default": map[string]any{"url": s.avatarURL(r, YouTubeChannelID), "width": 88, "height": 88}}}}}})
}

// --- thumbnails.set, captions.insert -------------------------------------------------

// mediaBody returns the media of an upload request: the body, or the
// second part of a multipart/related body.
func mediaBody(r *http.Request) (io.Reader, []byte, string, error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/") {
		mr, err := multipartRelated(r)
		if err != nil {
			return nil, nil, "", err
		}
		meta, err := mr.NextPart()
		if err != nil {
			return nil, nil, "", fmt.Errorf("missing metadata part")
		}
		mb, _ := io.ReadAll(io.LimitReader(meta, 1<<20))
		media, err := mr.NextPart()
		if err != nil {
			return nil, nil, "", fmt.Errorf("missing media part")
		}
		return media, mb, media.Header.Get("Content-Type"), nil
	}
	return r.Body, nil, ct, nil
}

func (s *Server) ytOwnVideo(w http.ResponseWriter, id string) *ytVideo {
	s.mu.Lock()
	v := s.yt.videos[id]
	s.mu.Unlock()
	if v == nil {
		googleError(w, http.StatusNotFound, "youtube.video", "videoNotFound", "The video identified by the <code>videoId</code> parameter could not be found.")
	}
	return v
}

func (s *Server) ytThumbnail(w http.ResponseWriter, r *http.Request) {
	if s.ytAuth(w, r, "finish", 50) == nil {
		return
	}
	v := s.ytOwnVideo(w, r.URL.Query().Get("videoId"))
	if v == nil {
		return
	}
	if s.lim.YouTubeNoThumbnails {
		googleError(w, http.StatusForbidden, "youtube.thumbnail", "forbidden", "The authenticated user doesnt have permissions to upload and set custom video thumbnails.")
		return
	}
	media, _, ct, err := mediaBody(r)
	if err != nil {
		googleError(w, http.StatusBadRequest, "global", "badContent", err.Error())
		return
	}
	img, _ := io.ReadAll(io.LimitReader(media, 2<<20+1))
	switch {
	case len(img) > 2<<20:
		googleError(w, http.StatusRequestEntityTooLarge, "global", "uploadTooLarge", "Media larger than 2097152 bytes.")
		return
	case ct != "" && ct != "image/jpeg" && ct != "image/png" && ct != "application/octet-stream":
		googleError(w, http.StatusBadRequest, "global", "badContent", "Media type '"+ct+"' is not supported.")
		return
	case !bytes.HasPrefix(img, []byte{0xff, 0xd8, 0xff}) && !bytes.HasPrefix(img, []byte("\x89PNG")):
		googleError(w, http.StatusBadRequest, "youtube.thumbnail", "imageFormatUnsupported", "The image provided is in an unsupported format.")
		return
	}
	s.mu.Lock()
	v.thumbnail, v.post.Thumbnail = true, true
	s.mu.Unlock()
	base := s.origin(r) + "/vi/" + v.id + "/"
	size := func(q string, wd, ht int) map[string]any {
		return map[string]any{"url": base + q + ".jpg", "width": wd, "height": ht}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "youtube#thumbnailSetResponse", "etag": randToken(27),
		"items": []any{map[string]any{"default": size("default", 120, 90), "medium": size("mqdefault", 320, 180),
			"high": size("hqdefault", 480, 360), "standard": size("sddefault", 640, 480), "maxres": size("maxresdefault", 1280, 720)}}})
}

func (s *Server) ytCaption(w http.ResponseWriter, r *http.Request) {
	t := s.ytAuth(w, r, "finish", 400)
	if t == nil {
		return
	}
	if !t.has("https://www.googleapis.com/auth/youtube.force-ssl") && !t.has("https://www.googleapis.com/auth/youtubepartner") {
		googleError(w, http.StatusForbidden, "global", "insufficientPermissions", "Request had insufficient authentication scopes.")
		return
	}
	media, metaJSON, _, err := mediaBody(r)
	if err != nil || metaJSON == nil {
		googleError(w, http.StatusBadRequest, "global", "badContent", "captions.insert needs multipart/related metadata and media")
		return
	}
	var meta struct {
		Snippet struct {
			VideoID  string `json:"videoId"`
			Language string `json:"language"`
			Name     string `json:"name"`
			IsDraft  bool   `json:"isDraft"`
		} `json:"snippet"`
	}
	if err := json.Unmarshal(metaJSON, &meta); err != nil {
		googleError(w, http.StatusBadRequest, "global", "parseError", "Parse Error")
		return
	}
	v := s.ytOwnVideo(w, meta.Snippet.VideoID)
	if v == nil {
		return
	}
	if meta.Snippet.Language == "" {
		googleError(w, http.StatusBadRequest, "youtube.caption", "invalidMetadata", "The request contains invalid metadata values: snippet.language.")
		return
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(media, 100<<20+1))
	if n > 100<<20 {
		googleError(w, http.StatusRequestEntityTooLarge, "global", "uploadTooLarge", "Media larger than 104857600 bytes.")
		return
	}
	if n == 0 {
		googleError(w, http.StatusBadRequest, "youtube.caption", "contentRequired", "The request does not contain the caption track contents.")
		return
	}
	id := "AUieDa" + randToken(30)
	s.mu.Lock()
	v.captions = append(v.captions, meta.Snippet.Language)
	v.post.Captions = append(v.post.Captions, meta.Snippet.Language)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"kind": "youtube#caption", "etag": randToken(27), "id": id,
		"snippet": map[string]any{"videoId": v.id, "lastUpdated": s.now().UTC().Format(time.RFC3339), "trackKind": "standard",
			"language": meta.Snippet.Language, "name": meta.Snippet.Name, "audioTrackType": "unknown", "isCC": false,
			"isLarge": false, "isEasyReader": false, "isDraft": meta.Snippet.IsDraft, "isAutoSynced": false, "status": "serving"}})
}
