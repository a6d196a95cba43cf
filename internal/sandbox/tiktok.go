package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/internal/publish"
)

// TikTok Content Posting API v2 (platforms.md §7).

type ttState struct {
	publishes map[string]*ttPublish // by publish_id
	uploads   map[string]*ttPublish // by upload_id
}

func (t *ttState) init() {
	t.publishes = map[string]*ttPublish{}
	t.uploads = map[string]*ttPublish{}
}

type ttPublish struct {
	id, uploadID, uploadToken string
	inbox                     bool
	title, privacy            string
	size, chunk               int64
	count                     int64
	blob                      *blob
	uploaded                  bool
	sum                       string
	proc                      *processing
	postID                    string
	post                      *Post
	created                   time.Time
}

var ttPrivacy = []string{"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}

func (s *Server) tiktokRoutes(m *http.ServeMux) {
	m.HandleFunc("/v2/auth/authorize/{$}", s.authorize(TikTok))
	m.HandleFunc("POST /v2/oauth/token/{$}", s.ttToken)
	m.HandleFunc("POST /v2/oauth/revoke/{$}", s.ttRevoke)
	m.HandleFunc("GET /v2/user/info/{$}", s.ttUserInfo)
	m.HandleFunc("POST /v2/post/publish/creator_info/query/{$}", s.ttCreatorInfo)
	m.HandleFunc("POST /v2/post/publish/video/init/{$}", func(w http.ResponseWriter, r *http.Request) { s.ttInit(w, r, false) })
	m.HandleFunc("POST /v2/post/publish/inbox/video/init/{$}", func(w http.ResponseWriter, r *http.Request) { s.ttInit(w, r, true) })
	m.HandleFunc("POST /v2/post/publish/status/fetch/{$}", s.ttStatus)
	m.HandleFunc("PUT /video/{$}", s.ttTransfer)
}

// --- OAuth -----------------------------------------------------------------

func (s *Server) ttOAuthError(w http.ResponseWriter, ge *grantError) {
	status := ge.status
	if s.lim.TikTokOAuthErrors200 {
		status = http.StatusOK
	}
	oauthError(w, status, ge.code, ge.desc, true)
}

func (s *Server) ttToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.ttOAuthError(w, &grantError{status: http.StatusBadRequest, code: "invalid_request", desc: err.Error()})
		return
	}
	if s.apiFault(w, TikTok, "token") {
		return
	}
	c, ge := s.checkClient(r, TikTok, "client_key")
	if ge != nil {
		s.ttOAuthError(w, ge)
		return
	}
	var scopes []string
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		ac, ge := s.redeemCode(TikTok, c, r.Form.Get("code"), r.Form.Get("redirect_uri"), r.Form.Get("code_verifier"))
		if ge != nil {
			s.ttOAuthError(w, ge)
			return
		}
		scopes = ac.scopes
	case "refresh_token":
		// Refreshing rotates the refresh token: the old one stops working.
		rt, ge := s.useRefresh(TikTok, c, r.Form.Get("refresh_token"), true)
		if ge != nil {
			s.ttOAuthError(w, ge)
			return
		}
		scopes = rt.scopes
	default:
		s.ttOAuthError(w, &grantError{status: http.StatusBadRequest, code: "unsupported_grant_type", desc: "grant_type is not supported"})
		return
	}
	now := s.now()
	s.mu.Lock()
	rt := s.issueLocked(TikTok, c.ID, kindRefresh, scopes, s.refreshTTL(TikTok))
	at := s.issueLocked(TikTok, c.ID, kindAccess, scopes, s.accessTTL(TikTok, false))
	at.parent = rt
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at.value, "expires_in": secondsUntil(now, at.expires),
		"open_id": TikTokOpenID, "refresh_expires_in": secondsUntil(now, rt.expires), "refresh_token": rt.value,
		"scope": strings.Join(scopes, ","), "token_type": "Bearer"})
}

// ttRevoke serves POST /v2/oauth/revoke/ (path unconfirmed, §7.1): it
// revokes the access token and its refresh token.
func (s *Server) ttRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.ttOAuthError(w, &grantError{status: http.StatusBadRequest, code: "invalid_request", desc: err.Error()})
		return
	}
	if _, ge := s.checkClient(r, TikTok, "client_key"); ge != nil {
		s.ttOAuthError(w, ge)
		return
	}
	s.mu.Lock()
	if t := s.tokens[r.Form.Get("token")]; t != nil && t.platform == TikTok {
		t.revoked = true
		if t.parent != nil {
			t.parent.revoked = true
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// ttAuth checks the token, a scope and queued faults.
func (s *Server) ttAuth(w http.ResponseWriter, r *http.Request, op string, scopes ...string) *token {
	t, _ := s.lookupToken(bearer(r), TikTok)
	if t == nil {
		tiktokError(w, http.StatusUnauthorized, "access_token_invalid", "The access token is invalid or not found in the request.")
		return nil
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, t.has) {
		tiktokError(w, http.StatusUnauthorized, "scope_not_authorized", "The user did not authorize the scope required for completing this request.")
		return nil
	}
	if s.apiFault(w, TikTok, op) {
		return nil
	}
	return t
}

// ttRate applies a per-token per-minute limit.
func (s *Server) ttRate(w http.ResponseWriter, t *token, name string, n int) bool {
	s.mu.Lock()
	ok := s.allow("tt-"+name+"|"+t.value, n, time.Minute)
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", "60")
		tiktokError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")
	}
	return ok
}

func (s *Server) ttUserInfo(w http.ResponseWriter, r *http.Request) {
	if s.ttAuth(w, r, "info", "user.info.basic") == nil {
		return
	}
	user := map[string]any{}
	all := map[string]any{"open_id": TikTokOpenID, "union_id": "sandbox-union-050", "display_name": TikTokNickname,
		"avatar_url": s.avatarURL(r, TikTokUsername), "username": TikTokUsername}
	for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
		if v, ok := all[f]; ok {
			user[f] = v
		}
	}
	tiktokOK(w, map[string]any{"user": user})
}

func (s *Server) privacyOptions() []string {
	if s.lim.TikTokUnaudited {
		return []string{"SELF_ONLY"}
	}
	return ttPrivacy
}

func (s *Server) ttCreatorInfo(w http.ResponseWriter, r *http.Request) {
	t := s.ttAuth(w, r, "info", "video.publish", "video.upload")
	if t == nil || !s.ttRate(w, t, "creator_info", s.lim.TikTokCreatorInfoPerMin) {
		return
	}
	tiktokOK(w, map[string]any{"creator_avatar_url": s.avatarURL(r, TikTokUsername), "creator_username": TikTokUsername,
		"creator_nickname": TikTokNickname, "privacy_level_options": s.privacyOptions(), "comment_disabled": false,
		"duet_disabled": false, "stitch_disabled": true, "max_video_post_duration_sec": s.lim.TikTokMaxDurationSec})
}

// checkChunks validates a FILE_UPLOAD chunk plan (§7.3).
func (s *Server) checkChunks(size, chunk, count int64) string {
	switch {
	case size <= 0 || chunk <= 0 || count <= 0:
		return "video_size, chunk_size and total_chunk_count must be positive"
	case count > 1000:
		return "total_chunk_count must be at most 1000"
	case chunk > size:
		return "chunk_size must not exceed video_size"
	case size < s.lim.TikTokMinChunk && (chunk != size || count != 1):
		return fmt.Sprintf("videos under %d bytes must be uploaded whole: chunk_size = video_size, total_chunk_count = 1", s.lim.TikTokMinChunk)
	case size > s.lim.TikTokMaxChunk && chunk == size:
		return fmt.Sprintf("videos over %d bytes must be uploaded in chunks", s.lim.TikTokMaxChunk)
	case chunk != size && (chunk < s.lim.TikTokMinChunk || chunk > s.lim.TikTokMaxChunk):
		return fmt.Sprintf("chunk_size must be between %d and %d bytes", s.lim.TikTokMinChunk, s.lim.TikTokMaxChunk)
	case count != size/chunk:
		return fmt.Sprintf("total_chunk_count must be floor(video_size / chunk_size) = %d", size/chunk)
	case size-(count-1)*chunk > s.lim.TikTokMaxLastChunk:
		return fmt.Sprintf("the last chunk must be at most %d bytes", s.lim.TikTokMaxLastChunk)
	}
	return ""
}

func (s *Server) ttInit(w http.ResponseWriter, r *http.Request, inbox bool) {
	scope := "video.publish"
	if inbox {
		scope = "video.upload"
	}
	t := s.ttAuth(w, r, "init", scope)
	if t == nil || !s.ttRate(w, t, "init", s.lim.TikTokInitPerMin) {
		return
	}
	var req struct {
		PostInfo struct {
			Title        string `json:"title"`
			PrivacyLevel string `json:"privacy_level"`
		} `json:"post_info"`
		SourceInfo struct {
			Source          string `json:"source"`
			VideoSize       int64  `json:"video_size"`
			ChunkSize       int64  `json:"chunk_size"`
			TotalChunkCount int64  `json:"total_chunk_count"`
			VideoURL        string `json:"video_url"`
		} `json:"source_info"`
	}
	if err := readJSON(r, &req); err != nil {
		tiktokError(w, http.StatusBadRequest, "invalid_params", "The request body is not valid JSON: "+err.Error())
		return
	}
	pi, si := req.PostInfo, req.SourceInfo
	if n := publish.CountUTF16.Len(pi.Title); n > 2200 {
		tiktokError(w, http.StatusBadRequest, "invalid_params", fmt.Sprintf("post_info.title is %d UTF-16 code units; the limit is 2200.", n))
		return
	}
	if !inbox {
		switch {
		case !slices.Contains(ttPrivacy, pi.PrivacyLevel):
			tiktokError(w, http.StatusBadRequest, "invalid_params", "post_info.privacy_level is required.")
			return
		case s.lim.TikTokUnaudited && pi.PrivacyLevel != "SELF_ONLY":
			tiktokError(w, http.StatusForbidden, "unaudited_client_can_only_post_to_private_accounts", "Unaudited clients can only post with SELF_ONLY privacy to private accounts.")
			return
		case !slices.Contains(s.privacyOptions(), pi.PrivacyLevel):
			tiktokError(w, http.StatusForbidden, "privacy_level_option_mismatch", "privacy_level is not one of the creator's privacy_level_options.")
			return
		}
	}
	switch si.Source {
	case "FILE_UPLOAD":
		if msg := s.checkChunks(si.VideoSize, si.ChunkSize, si.TotalChunkCount); msg != "" {
			tiktokError(w, http.StatusBadRequest, "invalid_params", msg)
			return
		}
	case "PULL_FROM_URL":
		tiktokError(w, http.StatusForbidden, "url_ownership_unverified", "The domain or URL prefix of video_url is not verified for this app.")
		return
	default:
		tiktokError(w, http.StatusBadRequest, "invalid_params", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
		return
	}
	s.mu.Lock()
	capKey, capN, capCode := "tt-posts|"+TikTokOpenID, s.lim.TikTokPostsPerDay, "spam_risk_too_many_posts"
	if inbox {
		capKey, capN, capCode = "tt-inbox|"+TikTokOpenID, s.lim.TikTokInboxPending, "spam_risk_too_many_pending_share"
	}
	ok := s.allow(capKey, capN, 24*time.Hour)
	s.mu.Unlock()
	if !ok {
		tiktokError(w, http.StatusForbidden, capCode, "The creator has reached today's posting limit.")
		return
	}
	b, err := s.newBlob()
	if err != nil {
		tiktokError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	s.mu.Lock()
	p := &ttPublish{id: fmt.Sprintf("v_pub_file~v2-1.%d", 7_400_000_000_000_000_000+s.nextID()), uploadID: randToken(24),
		uploadToken: randToken(32), inbox: inbox, title: pi.Title, privacy: pi.PrivacyLevel, size: si.VideoSize,
		chunk: si.ChunkSize, count: si.TotalChunkCount, blob: b, created: s.now()}
	s.tt.publishes[p.id], s.tt.uploads[p.uploadID] = p, p
	s.mu.Unlock()
	tiktokOK(w, map[string]any{"publish_id": p.id, "upload_url": s.origin(r) + "/video/?" +
		url.Values{"upload_id": {p.uploadID}, "upload_token": {p.uploadToken}}.Encode()})
}

func (s *Server) ttTransfer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	p := s.tt.uploads[q.Get("upload_id")]
	s.mu.Unlock()
	if p == nil || p.uploadToken != q.Get("upload_token") {
		tiktokError(w, http.StatusNotFound, "invalid_params", "The upload_url is invalid.")
		return
	}
	if s.now().Sub(p.created) > time.Hour {
		tiktokError(w, http.StatusForbidden, "invalid_params", "The upload_url has expired (1 hour).")
		return
	}
	if s.apiFault(w, TikTok, "upload") {
		return
	}
	if ct := r.Header.Get("Content-Type"); !slices.Contains([]string{"video/mp4", "video/quicktime", "video/webm"}, ct) {
		tiktokError(w, http.StatusBadRequest, "invalid_file_upload", "Content-Type must be video/mp4, video/quicktime or video/webm.")
		return
	}
	cr, ok := parseContentRange(r.Header.Get("Content-Range"))
	if !ok || cr.first < 0 || cr.total != p.size {
		tiktokError(w, http.StatusBadRequest, "invalid_params", "Content-Range must be bytes FIRST-LAST/TOTAL with TOTAL = video_size.")
		return
	}
	idx := cr.first / p.chunk
	want := p.chunk
	if idx >= p.count-1 {
		idx, want = p.count-1, p.size-(p.count-1)*p.chunk
	}
	n := cr.last - cr.first + 1
	if cr.first != idx*p.chunk || n != want || (r.ContentLength >= 0 && r.ContentLength != n) {
		tiktokError(w, http.StatusBadRequest, "invalid_params", fmt.Sprintf("chunk %d must cover bytes %d-%d", idx, idx*p.chunk, idx*p.chunk+want-1))
		return
	}
	have := p.blob.stored()
	switch {
	case cr.first > have:
		tiktokError(w, http.StatusBadRequest, "invalid_params", fmt.Sprintf("chunks must be sent in order: the next chunk starts at byte %d", have))
		return
	case cr.last < have: // already stored: acknowledge again
		_, _ = io.Copy(io.Discard, r.Body)
	default:
		if s.resetFault(TikTok) {
			_, _ = io.CopyN(io.Discard, r.Body, n/2)
			abortConn(w)
			return
		}
		got, err := p.blob.write(cr.first, r.Body, n)
		if err != nil || got != n {
			tiktokError(w, http.StatusBadRequest, "invalid_file_upload", "The chunk body is shorter than its Content-Range.")
			return
		}
		have = p.blob.commit(cr.first, n)
	}
	if have < p.size {
		w.WriteHeader(http.StatusPartialContent)
		return
	}
	s.ttUploaded(r, p)
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) ttUploaded(r *http.Request, p *ttPublish) {
	sum, _ := p.blob.finish(p.size)
	proc := s.startProcessing(TikTok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.uploaded {
		return
	}
	p.uploaded, p.sum, p.proc = true, sum, proc
	p.postID = strconv.FormatInt(7_500_000_000_000_000_000+s.nextID(), 10)
	base := "published"
	if p.inbox {
		base = "inbox"
	}
	p.post = &Post{Platform: TikTok, ID: p.postID, URL: s.origin(r) + "/@" + TikTokUsername + "/video/" + p.postID,
		Account: TikTokOpenID, Kind: "video", Text: p.title, Privacy: p.privacy, Size: p.size, SHA256: sum,
		MediaID: p.id, proc: proc, baseStat: base}
	s.addPost(p.post)
}

func (s *Server) ttStatus(w http.ResponseWriter, r *http.Request) {
	t := s.ttAuth(w, r, "status", "video.publish", "video.upload")
	if t == nil || !s.ttRate(w, t, "status", s.lim.TikTokStatusPerMin) {
		return
	}
	var req struct {
		PublishID string `json:"publish_id"`
	}
	if err := readJSON(r, &req); err != nil {
		tiktokError(w, http.StatusBadRequest, "invalid_params", "The request body is not valid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.tt.publishes[req.PublishID]
	if p == nil {
		tiktokError(w, http.StatusBadRequest, "invalid_publish_id", "publish_id does not exist.")
		return
	}
	data := map[string]any{"status": "PROCESSING_UPLOAD", "uploaded_bytes": p.blob.stored()}
	if p.uploaded {
		switch p.proc.state(s.now()) {
		case "rejected":
			data["status"], data["fail_reason"] = "FAILED", p.proc.reject
		case "ready":
			if p.inbox {
				data["status"] = "SEND_TO_USER_INBOX"
			} else {
				data["status"] = "PUBLISH_COMPLETE"
				ids := []int64{}
				if p.privacy == "PUBLIC_TO_EVERYONE" {
					id, _ := strconv.ParseInt(p.postID, 10, 64)
					ids = append(ids, id)
				}
				data["publicaly_available_post_id"] = ids
			}
		}
	}
	tiktokOK(w, data)
}
