package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// LinkedIn Videos API and Posts API (platforms.md §6).

type liState struct {
	videos map[string]*liVideo // by URN
	posts  []*liPost
}

func (l *liState) init() { l.videos = map[string]*liVideo{} }

type liPart struct {
	first, last int64
	etag        string
}

type liVideo struct {
	urn, owner, token string
	size              int64
	parts             []liPart // byte order
	blob              *blob
	finalized         bool
	partIDs           []string
	sum               string
	proc              *processing
	created           time.Time
}

type liPost struct {
	urn, author, commentary, visibility, state, media, title string
	created                                                  time.Time
	post                                                     *Post
}

func (s *Server) linkedinRoutes(m *http.ServeMux) {
	m.HandleFunc("/oauth/v2/authorization", s.authorize(LinkedIn))
	m.HandleFunc("POST /oauth/v2/accessToken", s.liToken)
	m.HandleFunc("GET /v2/userinfo", s.liUserinfo)
	m.HandleFunc("POST /rest/videos", s.liVideosAction)
	m.HandleFunc("GET /rest/videos/{urn}", s.liVideoGet)
	m.HandleFunc("PUT /dms-uploads/sp/v2/{id}/uploadedVideo", s.liPartPut)
	m.HandleFunc("POST /rest/posts", s.liPostCreate)
	m.HandleFunc("GET /rest/posts", s.liPostFind)
	page := func(w http.ResponseWriter, r *http.Request) { s.handlePostPage(w, r, r.PathValue("urn")) }
	m.HandleFunc("GET /feed/update/{urn}", page)
	m.HandleFunc("GET /feed/update/{urn}/{$}", page)
}

func (s *Server) liToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error(), false)
		return
	}
	if s.apiFault(w, LinkedIn, "token") {
		return
	}
	c, ge := s.checkClient(r, LinkedIn, "client_id")
	if ge != nil {
		oauthError(w, ge.status, ge.code, "Client authentication failed", false)
		return
	}
	now := s.now()
	var scopes []string
	var rt *token
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		ac, ge := s.redeemCode(LinkedIn, c, r.Form.Get("code"), r.Form.Get("redirect_uri"), r.Form.Get("code_verifier"))
		if ge != nil {
			oauthError(w, ge.status, ge.code, "The provided authorization grant or refresh token is invalid, expired or revoked.", false)
			return
		}
		scopes = ac.scopes
		s.mu.Lock()
		rt = s.issueLocked(LinkedIn, c.ID, kindRefresh, scopes, s.refreshTTL(LinkedIn))
		s.mu.Unlock()
	case "refresh_token":
		// A refresh mints a new access token; the refresh token keeps its
		// original expiry (programmatic refresh tokens, 365 days).
		var ge *grantError
		rt, ge = s.useRefresh(LinkedIn, c, r.Form.Get("refresh_token"), false)
		if ge != nil {
			oauthError(w, ge.status, ge.code, "The provided authorization grant or refresh token is invalid, expired or revoked.", false)
			return
		}
		scopes = rt.scopes
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "A valid grant_type is required", false)
		return
	}
	s.mu.Lock()
	at := s.issueLocked(LinkedIn, c.ID, kindAccess, scopes, s.accessTTL(LinkedIn, false))
	at.parent = rt
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at.value, "expires_in": secondsUntil(now, at.expires),
		"refresh_token": rt.value, "refresh_token_expires_in": secondsUntil(now, rt.expires), "scope": strings.Join(scopes, ",")})
}

// liAuth checks the token, the REST headers (on /rest/ paths) and faults.
func (s *Server) liAuth(w http.ResponseWriter, r *http.Request, op string) *token {
	t, why := s.lookupToken(bearer(r), LinkedIn)
	if t == nil {
		switch why {
		case "expired":
			linkedinError(w, http.StatusUnauthorized, 65601, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
		case "revoked":
			linkedinError(w, http.StatusUnauthorized, 65602, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user")
		default:
			linkedinError(w, http.StatusUnauthorized, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
		}
		return nil
	}
	if strings.HasPrefix(r.URL.Path, "/rest/") {
		v := r.Header.Get("LinkedIn-Version")
		switch {
		case v == "":
			linkedinError(w, http.StatusBadRequest, 0, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
			return nil
		case !liVersionRE.MatchString(v) || v < s.lim.LinkedInMinVersion || v > s.now().UTC().Format("200601"):
			linkedinError(w, http.StatusUpgradeRequired, 0, "NONEXISTENT_VERSION", "Requested version "+v+" is not active")
			return nil
		case r.Header.Get("X-Restli-Protocol-Version") != "2.0.0":
			linkedinError(w, http.StatusBadRequest, 0, "", "X-Restli-Protocol-Version 2.0.0 is required")
			return nil
		}
	}
	if s.apiFault(w, LinkedIn, op) {
		return nil
	}
	return t
}

var liVersionRE = regexp.MustCompile(`^20[0-9]{2}(0[1-9]|1[0-2])(\.[0-9]+)?$`)

func (s *Server) liUserinfo(w http.ResponseWriter, r *http.Request) {
	if s.liAuth(w, r, "info") == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": LinkedInPersonID, "email_verified": true, "name": LinkedInName,
		"locale": map[string]any{"country": "US", "language": "en"}, "given_name": "Sandbox", "family_name": "Member",
		"picture": s.avatarURL(r, LinkedInPersonID)})
}

func (s *Server) liVideosAction(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("action") {
	case "initializeUpload":
		s.liInit(w, r)
	case "finalizeUpload":
		s.liFinalize(w, r)
	default:
		linkedinError(w, http.StatusBadRequest, 100, "", "Unsupported action "+r.URL.Query().Get("action"))
	}
}

func (s *Server) liInit(w http.ResponseWriter, r *http.Request) {
	t := s.liAuth(w, r, "init")
	if t == nil {
		return
	}
	var req struct {
		In struct {
			Owner           string `json:"owner"`
			FileSizeBytes   int64  `json:"fileSizeBytes"`
			UploadCaptions  bool   `json:"uploadCaptions"`
			UploadThumbnail bool   `json:"uploadThumbnail"`
		} `json:"initializeUploadRequest"`
	}
	if err := readJSON(r, &req); err != nil {
		linkedinError(w, http.StatusBadRequest, 100, "", "Malformed request body: "+err.Error())
		return
	}
	in := req.In
	switch {
	case in.Owner != LinkedInPersonURN:
		linkedinError(w, http.StatusForbidden, 100, "ACCESS_DENIED", "Not enough permissions to access: owner "+in.Owner)
		return
	case !t.has("w_member_social"):
		linkedinError(w, http.StatusForbidden, 100, "ACCESS_DENIED", "Not enough permissions to access: partnerApiVideos.ACTION.initializeUpload")
		return
	case in.FileSizeBytes <= 0:
		linkedinError(w, http.StatusBadRequest, 100, "", "fileSizeBytes must be positive")
		return
	}
	b, err := s.newBlob()
	if err != nil {
		linkedinError(w, http.StatusInternalServerError, 0, "", err.Error())
		return
	}
	s.mu.Lock()
	v := &liVideo{urn: "urn:li:video:D5" + randToken(14), owner: in.Owner, size: in.FileSizeBytes, blob: b, created: s.now()}
	for off := int64(0); off < v.size; off += s.lim.LinkedInPartSize {
		v.parts = append(v.parts, liPart{first: off, last: min(off+s.lim.LinkedInPartSize, v.size) - 1})
	}
	if len(v.parts) > 1 {
		v.token = randToken(60)
	}
	s.li.videos[v.urn] = v
	s.mu.Unlock()
	id := strings.TrimPrefix(v.urn, "urn:li:video:")
	ins := make([]map[string]any, len(v.parts))
	for i, p := range v.parts {
		ins[i] = map[string]any{"uploadUrl": fmt.Sprintf("%s/dms-uploads/sp/v2/%s/uploadedVideo?part=%d&ut=%s", s.origin(r), id, i, randToken(12)),
			"firstByte": p.first, "lastByte": p.last}
	}
	if s.lim.LinkedInShuffleParts {
		rand.Shuffle(len(ins), func(i, j int) { ins[i], ins[j] = ins[j], ins[i] })
	}
	value := map[string]any{"uploadUrlsExpireAt": s.now().Add(24 * time.Hour).UnixMilli(), "video": v.urn,
		"uploadInstructions": ins, "uploadToken": v.token}
	if in.UploadCaptions {
		value["captionsUploadUrl"] = s.origin(r) + "/dms-uploads/sp/v2/" + id + "/captions"
	}
	if in.UploadThumbnail {
		value["thumbnailUploadUrl"] = s.origin(r) + "/dms-uploads/sp/v2/" + id + "/thumbnail"
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) liPartPut(w http.ResponseWriter, r *http.Request) {
	if t, _ := s.lookupToken(bearer(r), LinkedIn); t == nil {
		linkedinError(w, http.StatusUnauthorized, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
		return
	}
	urn := "urn:li:video:" + r.PathValue("id")
	i, err := strconv.Atoi(r.URL.Query().Get("part"))
	s.mu.Lock()
	v := s.li.videos[urn]
	s.mu.Unlock()
	if v == nil || err != nil || i < 0 || i >= len(v.parts) {
		linkedinError(w, http.StatusNotFound, 0, "", "Upload URL not found")
		return
	}
	if s.apiFault(w, LinkedIn, "upload") {
		return
	}
	s.mu.Lock()
	p := v.parts[i]
	s.mu.Unlock()
	n := p.last - p.first + 1
	if r.ContentLength >= 0 && r.ContentLength != n {
		linkedinError(w, http.StatusBadRequest, 0, "", fmt.Sprintf("part %d must be %d bytes, got %d", i, n, r.ContentLength))
		return
	}
	if s.resetFault(LinkedIn) {
		_, _ = io.CopyN(io.Discard, r.Body, n/2)
		abortConn(w)
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s/%d/", v.urn, p.first) // ETags differ per part even for equal bytes
	got, err := v.blob.write(p.first, io.TeeReader(r.Body, h), n)
	if err != nil || got != n {
		linkedinError(w, http.StatusBadRequest, 0, "", "incomplete part body")
		return
	}
	etag := "/ambry-video/signedId/" + hex.EncodeToString(h.Sum(nil))[:40]
	s.mu.Lock()
	v.parts[i].etag = etag
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) liFinalize(w http.ResponseWriter, r *http.Request) {
	if s.liAuth(w, r, "finish") == nil {
		return
	}
	var req struct {
		In struct {
			Video           string   `json:"video"`
			UploadToken     string   `json:"uploadToken"`
			UploadedPartIDs []string `json:"uploadedPartIds"`
		} `json:"finalizeUploadRequest"`
	}
	if err := readJSON(r, &req); err != nil {
		linkedinError(w, http.StatusBadRequest, 100, "", "Malformed request body: "+err.Error())
		return
	}
	s.mu.Lock()
	v := s.li.videos[req.In.Video]
	var want []string
	var finalized bool
	if v != nil {
		for _, p := range v.parts {
			want = append(want, p.etag)
		}
		finalized = v.finalized
	}
	s.mu.Unlock()
	switch {
	case v == nil:
		linkedinError(w, http.StatusNotFound, 0, "", "Video "+req.In.Video+" not found")
		return
	case req.In.UploadToken != v.token:
		linkedinError(w, http.StatusBadRequest, 0, "", "uploadToken does not match initializeUpload")
		return
	case slices.Contains(want, ""):
		linkedinError(w, http.StatusBadRequest, 0, "", "Not all parts have been uploaded")
		return
	case !slices.Equal(req.In.UploadedPartIDs, want):
		linkedinError(w, http.StatusBadRequest, 0, "", "uploadedPartIds must list every part's ETag in byte order")
		return
	}
	if !finalized {
		v.blob.commit(0, v.size)
		sum, _ := v.blob.finish(v.size)
		proc := s.startProcessing(LinkedIn)
		s.mu.Lock()
		if !v.finalized {
			v.finalized, v.partIDs, v.sum, v.proc = true, req.In.UploadedPartIDs, sum, proc
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// liVideoStatus returns a video's status; callers hold s.mu.
func (s *Server) liVideoStatus(v *liVideo) string {
	if !v.finalized {
		return "WAITING_UPLOAD"
	}
	switch v.proc.state(s.now()) {
	case "processing":
		return "PROCESSING"
	case "rejected":
		return "PROCESSING_FAILED"
	}
	return "AVAILABLE"
}

func (s *Server) liVideoGet(w http.ResponseWriter, r *http.Request) {
	if s.liAuth(w, r, "status") == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.li.videos[r.PathValue("urn")]
	if v == nil {
		linkedinError(w, http.StatusNotFound, 0, "", "Not Found")
		return
	}
	out := map[string]any{"id": v.urn, "owner": v.owner, "status": s.liVideoStatus(v)}
	if out["status"] == "PROCESSING_FAILED" {
		out["processingFailureReason"] = v.proc.reject
	}
	if out["status"] == "AVAILABLE" {
		out["downloadUrl"] = s.origin(r) + "/dms-downloads/" + v.urn
		out["downloadUrlExpiresAt"] = s.now().Add(time.Hour).UnixMilli()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) liPostCreate(w http.ResponseWriter, r *http.Request) {
	if s.liAuth(w, r, "finish") == nil {
		return
	}
	var req struct {
		Author       string `json:"author"`
		Commentary   string `json:"commentary"`
		Visibility   string `json:"visibility"`
		Distribution struct {
			FeedDistribution string `json:"feedDistribution"`
		} `json:"distribution"`
		Content struct {
			Media struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"media"`
		} `json:"content"`
		LifecycleState string `json:"lifecycleState"`
	}
	if err := readJSON(r, &req); err != nil {
		linkedinError(w, http.StatusBadRequest, 100, "", "Malformed request body: "+err.Error())
		return
	}
	switch {
	case req.Author != LinkedInPersonURN:
		linkedinError(w, http.StatusForbidden, 100, "ACCESS_DENIED", "Not enough permissions to access: author "+req.Author)
		return
	case utf8.RuneCountInString(req.Commentary) > 3000:
		linkedinError(w, http.StatusUnprocessableEntity, 0, "", "/commentary :: length must be at most 3000 characters")
		return
	case !slices.Contains([]string{"PUBLIC", "CONNECTIONS", "LOGGED_IN"}, req.Visibility):
		linkedinError(w, http.StatusUnprocessableEntity, 0, "", "/visibility :: invalid enum value "+strconv.Quote(req.Visibility))
		return
	case req.LifecycleState != "PUBLISHED" && req.LifecycleState != "DRAFT":
		linkedinError(w, http.StatusUnprocessableEntity, 0, "", "/lifecycleState :: must be PUBLISHED or DRAFT")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.li.videos[req.Content.Media.ID]
	if req.Content.Media.ID != "" {
		if v == nil || v.owner != req.Author {
			linkedinError(w, http.StatusBadRequest, 0, "", "Media "+req.Content.Media.ID+" not found")
			return
		}
		if st := s.liVideoStatus(v); st != "AVAILABLE" {
			linkedinError(w, http.StatusBadRequest, 0, "", fmt.Sprintf("Cannot create the post: video %s is %s, not AVAILABLE", v.urn, st))
			return
		}
	}
	if !s.allow("li-posts|"+req.Author+"|"+s.now().UTC().Format(time.DateOnly), s.lim.LinkedInPostsPerDay, 24*time.Hour) {
		linkedinError(w, http.StatusTooManyRequests, 0, "", "Resource level throttle MEMBER DAY limit for calls to this resource is reached.")
		return
	}
	p := &liPost{urn: fmt.Sprintf("urn:li:share:%d", 7_300_000_000_000_000_000+s.nextID()), author: req.Author,
		commentary: req.Commentary, visibility: req.Visibility, state: req.LifecycleState,
		media: req.Content.Media.ID, title: req.Content.Media.Title, created: s.now()}
	p.post = &Post{Platform: LinkedIn, ID: p.urn, URL: s.origin(r) + "/feed/update/" + p.urn + "/", Account: req.Author,
		Kind: "share", Title: p.title, Text: unescapeLittle(p.commentary), Privacy: strings.ToLower(req.Visibility),
		MediaID: p.media, baseStat: map[string]string{"PUBLISHED": "published", "DRAFT": "draft"}[p.state]}
	if v != nil {
		p.post.Size, p.post.SHA256 = v.size, v.sum
	}
	s.li.posts = append(s.li.posts, p)
	s.addPost(p.post)
	w.Header().Set("x-restli-id", p.urn)
	w.WriteHeader(http.StatusCreated)
}

// liPostFind serves GET /rest/posts?q=author&author=URN, which LinkedIn
// only grants with r_member_social (members) or r_organization_social.
func (s *Server) liPostFind(w http.ResponseWriter, r *http.Request) {
	t := s.liAuth(w, r, "status")
	if t == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("q") != "author" {
		linkedinError(w, http.StatusBadRequest, 0, "", "Unsupported finder "+q.Get("q"))
		return
	}
	if !t.has("r_member_social") && !t.has("r_organization_social") {
		linkedinError(w, http.StatusForbidden, 100, "ACCESS_DENIED", "Not enough permissions to access: posts.FINDER-author")
		return
	}
	count := 10
	if n, err := strconv.Atoi(q.Get("count")); err == nil && n > 0 {
		count = min(n, 100)
	}
	els := []any{}
	s.mu.Lock()
	for i := len(s.li.posts) - 1; i >= 0 && len(els) < count; i-- {
		p := s.li.posts[i]
		if p.author != q.Get("author") {
			continue
		}
		el := map[string]any{"id": p.urn, "author": p.author, "commentary": p.commentary, "visibility": p.visibility,
			"lifecycleState": p.state, "createdAt": p.created.UnixMilli(), "publishedAt": p.created.UnixMilli(),
			"distribution": map[string]any{"feedDistribution": "MAIN_FEED"}}
		if p.media != "" {
			el["content"] = map[string]any{"media": map[string]any{"id": p.media, "title": p.title}}
		}
		els = append(els, el)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"elements": els, "paging": map[string]any{"start": 0, "count": count, "links": []any{}}})
}

// unescapeLittle undoes the "little text" backslash escapes for display.
func unescapeLittle(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\|{}@[]()<>#*_~`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
