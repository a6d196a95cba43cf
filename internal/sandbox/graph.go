package sandbox

import (
	"crypto/subtle"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Meta Graph API: Facebook Pages (platforms.md §4) and Instagram (§5).

var graphVersionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

func isGraphVersion(s string) bool { return graphVersionRE.MatchString(s) }

type fbState struct {
	videos     map[string]*fbVideo
	sessions   map[string]*fbVideo // legacy upload_session_id
	uploads    map[string]*fbUpload
	handles    map[string]*fbUpload
	pageTokens map[string]string // user token → Page token
}

func (f *fbState) init() {
	f.videos = map[string]*fbVideo{}
	f.sessions = map[string]*fbVideo{}
	f.uploads = map[string]*fbUpload{}
	f.handles = map[string]*fbUpload{}
	f.pageTokens = map[string]string{}
}

// fbVideo is a Page video or Reel.
type fbVideo struct {
	id, page, kind string // kind: video, reel
	session        string
	blob           *blob
	size           int64
	uploaded       bool
	sum            string
	proc           *processing
	finished       bool
	state          string // PUBLISHED, SCHEDULED, DRAFT
	scheduled      *time.Time
	title, desc    string
	post           *Post
	created        time.Time
}

// fbUpload is a Resumable Upload API session (flow A).
type fbUpload struct {
	id     string
	length int64
	blob   *blob
	handle string
	name   string
}

type igState struct {
	containers map[string]*igContainer
	media      map[string]*igMedia
	order      []*igMedia
}

func (g *igState) init() {
	g.containers = map[string]*igContainer{}
	g.media = map[string]*igMedia{}
}

type igContainer struct {
	id, user, caption string
	resumable         bool
	blob              *blob
	size              int64
	uploaded          bool
	sum               string
	proc              *processing
	created           time.Time
	mediaID           string
	videoURL          string
}

type igMedia struct {
	id, shortcode, container, caption string
	created                           time.Time
	post                              *Post
}

func (s *Server) graphRoutes(m *http.ServeMux) {
	m.HandleFunc("/video-upload/{v}/{id}", func(w http.ResponseWriter, r *http.Request) { s.rupload(w, r, Facebook) })
	m.HandleFunc("/ig-api-upload/{v}/{id}", func(w http.ResponseWriter, r *http.Request) { s.rupload(w, r, Instagram) })
}

func (s *Server) handleGraph(w http.ResponseWriter, r *http.Request, seg []string) {
	rest := seg[1:]
	// Usage headers on every answer; clients slow down above ~90 %.
	w.Header().Set("X-App-Usage", `{"call_count":1,"total_cputime":1,"total_time":1}`)
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Could not parse the multipart body: " + err.Error()})
			return
		}
	} else if !strings.HasPrefix(rest0(rest), "upload:") {
		if err := r.ParseForm(); err != nil {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) " + err.Error()})
			return
		}
	}
	switch {
	case len(rest) == 2 && rest[0] == "dialog" && rest[1] == "oauth":
		s.authorize("")(w, r)
	case len(rest) == 2 && rest[0] == "oauth" && rest[1] == "access_token":
		s.graphToken(w, r)
	case len(rest) >= 1 && rest[0] == "me":
		s.graphMe(w, r, rest[1:])
	case len(rest) == 1 && strings.HasPrefix(rest[0], "upload:"):
		s.fbResumable(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "uploads" && r.Method == http.MethodPost:
		s.fbUploadStart(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "videos" && r.Method == http.MethodPost:
		s.fbVideos(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "video_reels" && r.Method == http.MethodPost:
		s.fbReels(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "media":
		s.igMediaEdge(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "media_publish" && r.Method == http.MethodPost:
		s.igPublish(w, r, rest[0])
	case len(rest) == 2 && rest[1] == "content_publishing_limit" && r.Method == http.MethodGet:
		s.igLimit(w, r, rest[0])
	case len(rest) == 1 && r.Method == http.MethodGet:
		s.graphNode(w, r, rest[0])
	default:
		unsupported(w, r, strings.Join(rest, "/"))
	}
}

func rest0(rest []string) string {
	if len(rest) == 0 {
		return ""
	}
	return rest[0]
}

func unsupported(w http.ResponseWriter, r *http.Request, id string) {
	metaError(w, http.StatusBadRequest, metaErr{Type: "GraphMethodException", Code: 100, Subcode: 33,
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
			strings.ToLower(r.Method), id)})
}

// graphAuth checks the token (access_token parameter, or an
// "Authorization: OAuth|Bearer" header) and queued faults of platform.
func (s *Server) graphAuth(w http.ResponseWriter, r *http.Request, platform, op string) *token {
	v := r.Form.Get("access_token")
	if v == "" {
		v = bearer(r)
	}
	t, why := s.lookupToken(v, Facebook, Instagram)
	if t == nil {
		graphTokenError(w, why)
		return nil
	}
	if s.apiFault(w, platform, op) {
		return nil
	}
	return t
}

func graphTokenError(w http.ResponseWriter, why string) {
	switch why {
	case "missing":
		metaError(w, http.StatusBadRequest, metaErr{Code: 104, Message: "An access token is required to request this resource."})
	case "expired":
		metaError(w, http.StatusBadRequest, metaErr{Code: 190, Subcode: 463,
			Message: "Error validating access token: Session has expired. The current time is later than the token's expiry."})
	case "revoked":
		metaError(w, http.StatusBadRequest, metaErr{Code: 190, Subcode: 460,
			Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."})
	default:
		metaError(w, http.StatusBadRequest, metaErr{Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"})
	}
}

// pageAuth requires a Page token of page with pages_manage_posts.
func (s *Server) pageAuth(w http.ResponseWriter, r *http.Request, page, op string) *token {
	t := s.graphAuth(w, r, Facebook, op)
	if t == nil {
		return nil
	}
	if page != FacebookPageID {
		unsupported(w, r, page)
		return nil
	}
	if t.kind != kindPage || t.pageID != page {
		metaError(w, http.StatusBadRequest, metaErr{Code: 210, Message: "(#210) A page access token is required to request this resource."})
		return nil
	}
	if !t.has("pages_manage_posts") && !t.has("publish_video") {
		metaError(w, http.StatusForbidden, metaErr{Code: 200, Message: "(#200) The user hasn't authorized the application to perform this action"})
		return nil
	}
	return t
}

// igAuth requires a token that may publish to Instagram user ig.
func (s *Server) igAuth(w http.ResponseWriter, r *http.Request, ig, op string) *token {
	t := s.graphAuth(w, r, Instagram, op)
	if t == nil {
		return nil
	}
	if ig != InstagramUserID {
		unsupported(w, r, ig)
		return nil
	}
	if op != "info" && op != "status" && !t.has("instagram_content_publish") {
		metaError(w, http.StatusForbidden, metaErr{Code: 10, Message: "(#10) Application does not have permission for this action"})
		return nil
	}
	return t
}

// --- OAuth ------------------------------------------------------------------

func (s *Server) graphToken(w http.ResponseWriter, r *http.Request) {
	f := r.Form
	s.mu.Lock()
	c, ok := s.clients[f.Get("client_id")]
	s.mu.Unlock()
	if !ok || (c.Platform != Facebook && c.Platform != Instagram) {
		metaError(w, http.StatusBadRequest, metaErr{Code: 101, Message: "Error validating application. Invalid application ID."})
		return
	}
	if s.apiFault(w, c.Platform, "token") {
		return
	}
	if subtle.ConstantTimeCompare([]byte(c.Secret), []byte(f.Get("client_secret"))) != 1 {
		metaError(w, http.StatusBadRequest, metaErr{Code: 1, Message: "Error validating client secret."})
		return
	}
	if f.Get("grant_type") == "fb_exchange_token" {
		old, why := s.lookupToken(f.Get("fb_exchange_token"), c.Platform)
		if old == nil || old.kind != kindAccess {
			graphTokenError(w, why)
			return
		}
		s.mu.Lock()
		t := s.issueLocked(c.Platform, c.ID, kindAccess, old.scopes, s.accessTTL(c.Platform, true))
		t.long = true
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"access_token": t.value, "token_type": "bearer",
			"expires_in": secondsUntil(s.now(), t.expires)})
		return
	}
	ac, ge := s.redeemCode(c.Platform, c, f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"))
	if ge != nil {
		switch ge.why {
		case "used":
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Subcode: 36009, Message: "This authorization code has been used."})
		case "redirect":
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Subcode: 36008, Message: "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"})
		case "verifier":
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "Invalid code verifier."})
		default:
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Subcode: 36007, Message: "This authorization code has expired."})
		}
		return
	}
	s.mu.Lock()
	t := s.issueLocked(c.Platform, c.ID, kindAccess, ac.scopes, s.accessTTL(c.Platform, false))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t.value, "token_type": "bearer",
		"expires_in": secondsUntil(s.now(), t.expires)})
}

func fieldsOf(r *http.Request) []string { return strings.Split(r.Form.Get("fields"), ",") }

func (s *Server) graphMe(w http.ResponseWriter, r *http.Request, rest []string) {
	t := s.graphAuth(w, r, Facebook, "info")
	if t == nil {
		return
	}
	if t.kind == kindPage {
		if len(rest) == 0 {
			writeJSON(w, http.StatusOK, map[string]any{"id": FacebookPageID, "name": FacebookPageName})
			return
		}
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"})
		return
	}
	switch {
	case len(rest) == 0:
		writeJSON(w, http.StatusOK, map[string]any{"id": FacebookUserID, "name": FacebookUserName})
	case len(rest) == 1 && rest[0] == "accounts":
		s.mu.Lock()
		pv, ok := s.fb.pageTokens[t.value]
		if !ok {
			var ttl time.Duration
			if !t.long {
				ttl = t.expires.Sub(s.now())
			}
			p := s.issueLocked(t.platform, t.clientID, kindPage, t.scopes, ttl)
			p.pageID, p.parent, pv = FacebookPageID, t, p.value
			s.fb.pageTokens[t.value] = pv
		}
		s.mu.Unlock()
		page := map[string]any{"access_token": pv, "category": "Media", "name": FacebookPageName, "id": FacebookPageID,
			"tasks": []string{"ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"}}
		if slices.Contains(fieldsOf(r), "instagram_business_account") {
			page["instagram_business_account"] = map[string]any{"id": InstagramUserID}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": []any{page},
			"paging": map[string]any{"cursors": map[string]any{"before": "QVFIUk", "after": "QVFIUk"}}})
	default:
		unsupported(w, r, "me/"+strings.Join(rest, "/"))
	}
}

// --- Page videos: legacy start/transfer/finish, publish by handle, hosted ---------

func (s *Server) newVideoID() string { return strconv.FormatInt(1_200_000_000_000_000+s.nextID(), 10) }

func formFile(r *http.Request, name string) (multipart.File, int64, bool) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0 {
		return nil, 0, false
	}
	fh := r.MultipartForm.File[name][0]
	f, err := fh.Open()
	if err != nil {
		return nil, 0, false
	}
	return f, fh.Size, true
}

func (s *Server) fbVideos(w http.ResponseWriter, r *http.Request, page string) {
	f := r.Form
	op := map[string]string{"start": "init", "transfer": "upload", "finish": "finish"}[f.Get("upload_phase")]
	if op == "" {
		op = "finish"
	}
	if s.pageAuth(w, r, page, op) == nil {
		return
	}
	switch f.Get("upload_phase") {
	case "start":
		size, ok := atoi64(f.Get("file_size"))
		if !ok || size <= 0 {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param file_size must be a positive integer"})
			return
		}
		b, err := s.newBlob()
		if err != nil {
			metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: err.Error()})
			return
		}
		s.mu.Lock()
		v := &fbVideo{id: s.newVideoID(), page: page, kind: "video", blob: b, size: size, created: s.now(),
			session: strconv.FormatInt(3_300_000_000_000_000+s.nextID(), 10)}
		s.fb.videos[v.id], s.fb.sessions[v.session] = v, v
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"video_id": v.id, "upload_session_id": v.session,
			"start_offset": "0", "end_offset": strconv.FormatInt(min(s.lim.FacebookChunkSize, size), 10)})
	case "transfer":
		s.fbTransfer(w, r)
	case "finish":
		s.fbFinish(w, r, "video")
	case "":
		s.fbPublishDirect(w, r, page)
	default:
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param upload_phase must be one of {START, TRANSFER, FINISH, CANCEL}"})
	}
}

func (s *Server) fbTransfer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v := s.fb.sessions[r.Form.Get("upload_session_id")]
	s.mu.Unlock()
	if v == nil {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Invalid upload_session_id"})
		return
	}
	start, ok := atoi64(r.Form.Get("start_offset"))
	file, n, okf := formFile(r, "video_file_chunk")
	if !ok || !okf {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) start_offset and video_file_chunk are required"})
		return
	}
	defer file.Close()
	if s.resetFault(Facebook) {
		abortConn(w)
		return
	}
	have := v.blob.stored()
	switch {
	case start > have || start+n > v.size:
		metaError(w, http.StatusBadRequest, metaErr{Code: 6001, Subcode: 1363037, Message: "There was a problem uploading your video file. Please try again.",
			UserTitle: "Upload failed", UserMsg: fmt.Sprintf("start_offset %d does not match the %d bytes received.", start, have)})
		return
	case start+n > have:
		if _, err := io.CopyN(io.Discard, file, have-start); err != nil {
			metaError(w, http.StatusBadRequest, metaErr{Code: 6001, Message: "There was a problem uploading your video file. Please try again."})
			return
		}
		got, _ := v.blob.write(have, file, start+n-have)
		have = v.blob.commit(have, got)
	}
	if have == v.size {
		s.fbUploaded(v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"start_offset": strconv.FormatInt(have, 10),
		"end_offset": strconv.FormatInt(min(have+s.lim.FacebookChunkSize, v.size), 10)})
}

// fbUploaded marks a video's bytes complete and starts processing.
func (s *Server) fbUploaded(v *fbVideo) {
	s.mu.Lock()
	size := v.size
	s.mu.Unlock()
	sum, _ := v.blob.finish(size)
	proc := s.startProcessing(Facebook)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !v.uploaded {
		v.uploaded, v.sum, v.proc = true, sum, proc
	}
}

// parseSchedule reads scheduled_publish_time: UNIX seconds or RFC 3339.
func parseSchedule(v string) (time.Time, bool) {
	if n, ok := atoi64(v); ok {
		return time.Unix(n, 0), true
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// fbFinish finishes a legacy upload (kind video) or a Reel.
func (s *Server) fbFinish(w http.ResponseWriter, r *http.Request, kind string) {
	f := r.Form
	s.mu.Lock()
	var v *fbVideo
	if kind == "video" {
		v = s.fb.sessions[f.Get("upload_session_id")]
	} else if v = s.fb.videos[f.Get("video_id")]; v != nil && v.kind != "reel" {
		v = nil
	}
	var uploaded, finished bool
	if v != nil {
		uploaded, finished = v.uploaded, v.finished
	}
	s.mu.Unlock()
	if v == nil {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Invalid upload_session_id or video_id"})
		return
	}
	if !uploaded {
		metaError(w, http.StatusBadRequest, metaErr{Code: 6000, Message: "There was a problem uploading your video file. Please try again with another file.",
			UserTitle: "Video Upload Is Missing", UserMsg: "The video was not uploaded."})
		return
	}
	if finished {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "post_id": v.id})
		return
	}
	state := "PUBLISHED"
	var when *time.Time
	if kind == "video" {
		if f.Get("published") == "false" {
			state = "DRAFT"
		}
	} else if st := strings.ToUpper(f.Get("video_state")); st != "" {
		state = st
	}
	if v := f.Get("scheduled_publish_time"); v != "" {
		t, ok := parseSchedule(v)
		now := s.now()
		if !ok || t.Before(now.Add(10*time.Minute)) || t.After(now.Add(s.lim.FacebookMaxSchedule)) {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The specified scheduled publish time is invalid.",
				UserTitle: "Invalid Scheduled Publish Time", UserMsg: fmt.Sprintf("Choose a time between 10 minutes and %d days from now.", int(s.lim.FacebookMaxSchedule.Hours()/24))})
			return
		}
		when, state = &t, "SCHEDULED"
	} else if state == "SCHEDULED" {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) scheduled_publish_time is required for video_state SCHEDULED"})
		return
	}
	if !slices.Contains([]string{"PUBLISHED", "DRAFT", "SCHEDULED"}, state) {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param video_state must be one of {PUBLISHED, DRAFT, SCHEDULED}"})
		return
	}
	_, _, thumb := formFile(r, "thumb")
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.finished {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "post_id": v.id})
		return
	}
	if kind == "reel" && state == "PUBLISHED" && !s.allow("fb-reels|"+v.page, s.lim.FacebookReelsPerDay, 24*time.Hour) {
		metaError(w, http.StatusBadRequest, metaErr{Code: 4, Subcode: 1363120, Message: "(#4) Application request limit reached",
			UserTitle: "Reels limit reached", UserMsg: fmt.Sprintf("This Page has published %d reels through the API in the last 24 hours.", s.lim.FacebookReelsPerDay)})
		return
	}
	v.finished, v.state, v.scheduled = true, state, when
	v.title, v.desc = f.Get("title"), f.Get("description")
	s.fbAddPost(r, v, thumb)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "post_id": v.id})
}

// fbAddPost records a finished video; callers hold s.mu.
func (s *Server) fbAddPost(r *http.Request, v *fbVideo, thumb bool) {
	url := fmt.Sprintf("%s/%s/videos/%s/", s.origin(r), v.page, v.id)
	if v.kind == "reel" {
		url = s.origin(r) + "/reel/" + v.id
	}
	p := &Post{Platform: Facebook, ID: v.id, URL: url, Account: v.page, Kind: v.kind, Title: v.title, Text: v.desc,
		Privacy: "public", Size: v.size, SHA256: v.sum, Thumbnail: thumb, proc: v.proc,
		baseStat:    map[string]string{"PUBLISHED": "published", "DRAFT": "draft", "SCHEDULED": "scheduled"}[v.state],
		ScheduledAt: v.scheduled}
	v.post = p
	s.addPost(p)
}

// fbPublishDirect serves POST /{page}/videos without upload_phase: publish
// by Resumable Upload API handle (flow A), hosted file_url (flow C) or a
// "source" file.
func (s *Server) fbPublishDirect(w http.ResponseWriter, r *http.Request, page string) {
	f := r.Form
	v := &fbVideo{page: page, kind: "video", state: "PUBLISHED", title: f.Get("title"), desc: f.Get("description")}
	switch {
	case f.Get("fbuploader_video_file_chunk") != "":
		s.mu.Lock()
		up := s.fb.handles[f.Get("fbuploader_video_file_chunk")]
		s.mu.Unlock()
		if up == nil {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Invalid file handle"})
			return
		}
		v.size, v.sum = up.length, up.blob.sum
	case f.Get("file_url") != "":
		// The sandbox does not fetch hosted files.
	default:
		file, n, ok := formFile(r, "source")
		if !ok {
			metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) One of fbuploader_video_file_chunk, file_url or source is required"})
			return
		}
		defer file.Close()
		b, err := s.newBlob()
		if err != nil {
			metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: err.Error()})
			return
		}
		got, _ := b.write(0, file, n)
		b.commit(0, got)
		v.size = got
		v.sum, _ = b.finish(got)
	}
	if f.Get("published") == "false" {
		v.state = "DRAFT"
		if st := f.Get("scheduled_publish_time"); st != "" {
			t, ok := parseSchedule(st)
			if !ok || t.Before(s.now().Add(10*time.Minute)) || t.After(s.now().Add(s.lim.FacebookMaxSchedule)) {
				metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The specified scheduled publish time is invalid."})
				return
			}
			v.state, v.scheduled = "SCHEDULED", &t
		}
	}
	proc := s.startProcessing(Facebook)
	_, _, thumb := formFile(r, "thumb")
	s.mu.Lock()
	v.id, v.created, v.uploaded, v.finished, v.proc = s.newVideoID(), s.now(), true, true, proc
	s.fb.videos[v.id] = v
	s.fbAddPost(r, v, thumb)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": v.id})
}

// --- Resumable Upload API (flow A) ------------------------------------------------

var uploadTypes = map[string]bool{"video/mp4": true, "image/jpeg": true, "image/jpg": true, "image/png": true, "application/pdf": true}

func (s *Server) fbUploadStart(w http.ResponseWriter, r *http.Request, app string) {
	if s.graphAuth(w, r, Facebook, "init") == nil {
		return
	}
	s.mu.Lock()
	c, ok := s.clients[app]
	s.mu.Unlock()
	if !ok || (c.Platform != Facebook && c.Platform != Instagram) {
		unsupported(w, r, app)
		return
	}
	length, ok := atoi64(r.Form.Get("file_length"))
	if !ok || length <= 0 {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param file_length must be a positive integer"})
		return
	}
	if !uploadTypes[r.Form.Get("file_type")] {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param file_type must be one of pdf, jpeg, jpg, png, mp4"})
		return
	}
	b, err := s.newBlob()
	if err != nil {
		metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: err.Error()})
		return
	}
	up := &fbUpload{id: "upload:" + randToken(40), length: length, blob: b, name: r.Form.Get("file_name")}
	s.mu.Lock()
	s.fb.uploads[up.id] = up
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": up.id})
}

func (s *Server) fbResumable(w http.ResponseWriter, r *http.Request, id string) {
	// The header carries the user token; there is no form to parse.
	t, why := s.lookupToken(bearer(r), Facebook, Instagram)
	if t == nil {
		graphTokenError(w, why)
		return
	}
	s.mu.Lock()
	up := s.fb.uploads[id]
	s.mu.Unlock()
	if up == nil {
		unsupported(w, r, id)
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"id": up.id, "file_offset": strconv.FormatInt(up.blob.stored(), 10)})
		return
	}
	if s.apiFault(w, Facebook, "upload") {
		return
	}
	off, ok := atoi64(r.Header.Get("file_offset"))
	have := up.blob.stored()
	if !ok || off != have {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: fmt.Sprintf("(#100) file_offset must be %d", have)})
		return
	}
	if s.resetFault(Facebook) {
		got, _ := up.blob.write(off, r.Body, (up.length-off)/2)
		up.blob.commit(off, got)
		abortConn(w)
		return
	}
	got, _ := up.blob.write(off, r.Body, up.length-off)
	have = up.blob.commit(off, got)
	if have < up.length {
		metaError(w, http.StatusBadRequest, metaErr{Code: 1, Transient: true, Message: fmt.Sprintf("Partial upload: %d of %d bytes; resume at file_offset %d", have, up.length, have)})
		return
	}
	_, _ = up.blob.finish(up.length)
	s.mu.Lock()
	if up.handle == "" {
		up.handle = "4:" + randToken(48)
		s.fb.handles[up.handle] = up
	}
	h := up.handle
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"h": h})
}

// --- Reels ----------------------------------------------------------------------

func (s *Server) fbReels(w http.ResponseWriter, r *http.Request, page string) {
	phase := r.Form.Get("upload_phase")
	op := map[string]string{"start": "init", "finish": "finish"}[phase]
	if s.pageAuth(w, r, page, op) == nil {
		return
	}
	switch phase {
	case "start":
		b, err := s.newBlob()
		if err != nil {
			metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: err.Error()})
			return
		}
		s.mu.Lock()
		full := s.countSince("fb-reels|"+page, s.now().Add(-24*time.Hour)) >= s.lim.FacebookReelsPerDay
		var v *fbVideo
		if !full {
			v = &fbVideo{id: s.newVideoID(), page: page, kind: "reel", blob: b, size: -1, created: s.now()}
			s.fb.videos[v.id] = v
		}
		s.mu.Unlock()
		if full {
			metaError(w, http.StatusBadRequest, metaErr{Code: 4, Subcode: 1363120, Message: "(#4) Application request limit reached",
				UserTitle: "Reels limit reached", UserMsg: fmt.Sprintf("This Page has published %d reels through the API in the last 24 hours.", s.lim.FacebookReelsPerDay)})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"video_id": v.id,
			"upload_url": s.origin(r) + "/video-upload/" + GraphVersion + "/" + v.id})
	case "finish":
		s.fbFinish(w, r, "reel")
	default:
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param upload_phase must be one of {START, FINISH}"})
	}
}

// rupload serves rupload.facebook.com: POST bytes (offset, file_size
// headers, or file_url), GET the offset held.
func (s *Server) rupload(w http.ResponseWriter, r *http.Request, platform string) {
	id := r.PathValue("id")
	t, why := s.lookupToken(bearer(r), Facebook, Instagram)
	if t == nil {
		ruploadError(w, http.StatusUnauthorized, false, "AuthorizationError", "Invalid OAuth access token ("+why+"); send Authorization: OAuth <token>")
		return
	}
	var b *blob
	var size int64
	var uploaded bool
	s.mu.Lock()
	if platform == Facebook {
		if v := s.fb.videos[id]; v != nil && v.kind == "reel" {
			b, size, uploaded = v.blob, v.size, v.uploaded
		}
	} else if c := s.ig.containers[id]; c != nil && c.resumable {
		b, size, uploaded = c.blob, c.size, c.uploaded
	}
	s.mu.Unlock()
	if b == nil {
		ruploadError(w, http.StatusNotFound, false, "NotFoundError", "No upload session "+id)
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "offset": b.stored()})
		return
	}
	if s.apiFault(w, platform, "upload") {
		return
	}
	if uploaded {
		_, _ = io.Copy(io.Discard, r.Body)
		s.ruploadOK(w, platform)
		return
	}
	if u := r.Header.Get("file_url"); u != "" {
		// Hosted file: the sandbox does not fetch it; the upload counts as
		// complete with unknown bytes.
		s.ruploadDone(platform, id, 0)
		s.ruploadOK(w, platform)
		return
	}
	off, ok1 := atoi64(r.Header.Get("offset"))
	total, ok2 := atoi64(r.Header.Get("file_size"))
	if !ok1 || !ok2 || total <= 0 {
		ruploadError(w, http.StatusBadRequest, false, "ProcessingFailedError", "Header Offset not convertable to long / file_size required")
		return
	}
	if size >= 0 && size != total {
		ruploadError(w, http.StatusBadRequest, false, "ProcessingFailedError", "file_size does not match the first request")
		return
	}
	s.mu.Lock()
	if platform == Facebook {
		s.fb.videos[id].size = total
	} else {
		s.ig.containers[id].size = total
	}
	s.mu.Unlock()
	have := b.stored()
	if off > have {
		ruploadError(w, http.StatusBadRequest, true, "OffsetInvalidError", fmt.Sprintf("offset %d is beyond the %d bytes received", off, have))
		return
	}
	if s.resetFault(platform) {
		got, _ := b.write(off, r.Body, (total-off)/2)
		b.commit(off, got)
		abortConn(w)
		return
	}
	got, _ := b.write(off, r.Body, total-off)
	have = b.commit(off, got)
	if have < total {
		ruploadError(w, http.StatusBadRequest, true, "PartialRequestError", fmt.Sprintf("Partial upload: %d of %d bytes received", have, total))
		return
	}
	s.ruploadDone(platform, id, total)
	s.ruploadOK(w, platform)
}

func (s *Server) ruploadOK(w http.ResponseWriter, platform string) {
	if platform == Instagram {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Upload successful."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (s *Server) ruploadDone(platform, id string, total int64) {
	if platform == Facebook {
		s.mu.Lock()
		v := s.fb.videos[id]
		v.size = max(v.size, total)
		s.mu.Unlock()
		s.fbUploaded(v)
		return
	}
	s.mu.Lock()
	c := s.ig.containers[id]
	c.size = max(c.size, total)
	size := c.size
	s.mu.Unlock()
	sum, _ := c.blob.finish(size)
	proc := s.startProcessing(Instagram)
	s.mu.Lock()
	if !c.uploaded {
		c.uploaded, c.sum, c.proc = true, sum, proc
	}
	s.mu.Unlock()
}

// --- nodes ----------------------------------------------------------------------------

func (s *Server) graphNode(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	v, c, m := s.fb.videos[id], s.ig.containers[id], s.ig.media[id]
	s.mu.Unlock()
	fields := fieldsOf(r)
	switch {
	case id == FacebookPageID:
		if s.graphAuth(w, r, Facebook, "info") == nil {
			return
		}
		out := map[string]any{"id": id, "name": FacebookPageName}
		if slices.Contains(fields, "instagram_business_account") {
			out["instagram_business_account"] = map[string]any{"id": InstagramUserID}
		}
		writeJSON(w, http.StatusOK, out)
	case id == InstagramUserID:
		if s.graphAuth(w, r, Instagram, "info") == nil {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "username": InstagramUsername, "name": FacebookPageName,
			"profile_picture_url": s.avatarURL(r, InstagramUsername)})
	case v != nil:
		if s.graphAuth(w, r, Facebook, "status") == nil {
			return
		}
		s.mu.Lock()
		out := s.fbVideoJSON(r, v, fields)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	case c != nil:
		if s.graphAuth(w, r, Instagram, "status") == nil {
			return
		}
		s.mu.Lock()
		code, text := s.igStatus(c)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"status_code": code, "status": text, "id": c.id})
	case m != nil:
		if s.graphAuth(w, r, Instagram, "status") == nil {
			return
		}
		s.mu.Lock()
		out := igMediaJSON(m)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	default:
		unsupported(w, r, id)
	}
}

// fbVideoJSON renders a video node; callers hold s.mu.
func (s *Server) fbVideoJSON(r *http.Request, v *fbVideo, fields []string) map[string]any {
	now := s.now()
	have := v.blob.stored()
	up := map[string]any{"status": "not_started", "bytes_transferred": have}
	switch {
	case v.uploaded:
		up["status"] = "complete"
	case have > 0:
		up["status"] = "in_progress"
	}
	proc := map[string]any{"status": "not_started"}
	pub := map[string]any{"status": "not_started"}
	status := "processing"
	if v.uploaded {
		switch v.proc.state(now) {
		case "processing":
			proc["status"] = "in_progress"
			status = "upload_complete"
			if v.finished {
				status = "processing"
			}
		case "rejected":
			proc["status"] = "error"
			proc["error"] = map[string]any{"message": v.proc.reject}
			status = "error"
		default:
			proc["status"] = "complete"
			status = "ready"
			if v.finished {
				pub["status"] = "complete"
				pub["publish_status"] = map[string]string{"PUBLISHED": "published", "DRAFT": "draft", "SCHEDULED": "scheduled"}[v.state]
				if v.scheduled != nil {
					pub["publish_time"] = v.scheduled.Unix()
					if !now.Before(*v.scheduled) {
						pub["publish_status"] = "published"
					}
				} else {
					pub["publish_time"] = v.created.Unix()
				}
			}
		}
	}
	out := map[string]any{"id": v.id}
	for _, f := range fields {
		switch f {
		case "status":
			out["status"] = map[string]any{"video_status": status, "uploading_phase": up, "processing_phase": proc, "publishing_phase": pub}
		case "permalink_url":
			if v.kind == "reel" {
				out[f] = "/reel/" + v.id
			} else {
				out[f] = fmt.Sprintf("/%s/videos/%s/", v.page, v.id)
			}
		case "title":
			out[f] = v.title
		case "description":
			out[f] = v.desc
		case "published":
			out[f] = v.finished && v.state == "PUBLISHED"
		case "length":
			out[f] = 0
		}
	}
	return out
}

// --- Instagram ----------------------------------------------------------------------------

var hashtagRE = regexp.MustCompile(`(?:^|\s)#[\p{L}\p{N}_]+`)
var mentionRE = regexp.MustCompile(`(?:^|\s)@[\p{L}\p{N}_.]+`)

func (s *Server) igMediaEdge(w http.ResponseWriter, r *http.Request, ig string) {
	if r.Method == http.MethodGet {
		s.igList(w, r, ig)
		return
	}
	if r.Method != http.MethodPost {
		unsupported(w, r, ig+"/media")
		return
	}
	if s.igAuth(w, r, ig, "init") == nil {
		return
	}
	f := r.Form
	caption := f.Get("caption")
	switch mt := f.Get("media_type"); {
	case mt == "VIDEO":
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The VIDEO media type is no longer supported for feed videos. Use REELS."})
		return
	case mt != "REELS":
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The sandbox supports media_type=REELS only."})
		return
	case utf8.RuneCountInString(caption) > 2200:
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param caption must be at most 2200 characters long."})
		return
	case len(hashtagRE.FindAllString(caption, -1)) > 30 || len(mentionRE.FindAllString(caption, -1)) > 20:
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Subcode: 2207040, Message: "Too many tags",
			UserTitle: "Too many tags", UserMsg: "A caption can have at most 30 hashtags and 20 @ mentions."})
		return
	}
	if to := f.Get("thumb_offset"); to != "" {
		if n, ok := atoi64(to); !ok || n < 0 {
			metaError(w, http.StatusBadRequest, metaErr{Code: 1, Subcode: 2207057, Message: "An unknown error occurred",
				UserTitle: "Invalid thumbnail offset", UserMsg: "The thumbnail offset must be zero or more milliseconds."})
			return
		}
	}
	resumable := f.Get("upload_type") == "resumable"
	if !resumable && f.Get("video_url") == "" {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The parameter video_url is required"})
		return
	}
	b, err := s.newBlob()
	if err != nil {
		metaError(w, http.StatusInternalServerError, metaErr{Code: 2, Message: err.Error()})
		return
	}
	s.mu.Lock()
	if !s.allow("ig-containers|"+ig, s.lim.InstagramContainers, 24*time.Hour) {
		s.mu.Unlock()
		metaError(w, http.StatusBadRequest, metaErr{Code: 4, Message: "Application request limit reached", Transient: true})
		return
	}
	c := &igContainer{id: strconv.FormatInt(17_900_000_000_000_000+s.nextID(), 10), user: ig, caption: caption,
		resumable: resumable, blob: b, size: -1, created: s.now(), videoURL: f.Get("video_url")}
	s.ig.containers[c.id] = c
	s.mu.Unlock()
	if !resumable {
		// The sandbox does not fetch video_url; it processes as if it had.
		s.ruploadDone(Instagram, c.id, 0)
		writeJSON(w, http.StatusOK, map[string]any{"id": c.id})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": c.id, "uri": s.origin(r) + "/ig-api-upload/" + GraphVersion + "/" + c.id})
}

// igStatus returns a container's status_code and status; callers hold s.mu.
func (s *Server) igStatus(c *igContainer) (string, string) {
	now := s.now()
	switch {
	case c.mediaID != "":
		return "PUBLISHED", "Published: Media has been published."
	case now.Sub(c.created) > s.lim.InstagramContainerTT:
		return "EXPIRED", "Expired: The container was not published within 24 hours."
	case !c.uploaded:
		return "IN_PROGRESS", "In Progress: Waiting for the upload."
	}
	switch c.proc.state(now) {
	case "processing":
		return "IN_PROGRESS", "In Progress: Media is still being processed."
	case "rejected":
		return "ERROR", "Error: The video file you selected is in a format that we don't support. (" + c.proc.reject + ")"
	}
	return "FINISHED", "Finished: Media has been uploaded and it is ready to be published."
}

func igMediaJSON(m *igMedia) map[string]any {
	return map[string]any{"id": m.id, "media_type": "VIDEO", "media_product_type": "REELS", "caption": m.caption,
		"shortcode": m.shortcode, "permalink": m.post.URL, "timestamp": m.created.UTC().Format("2006-01-02T15:04:05-0700")}
}

func (s *Server) igPublish(w http.ResponseWriter, r *http.Request, ig string) {
	if s.igAuth(w, r, ig, "finish") == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ig.containers[r.Form.Get("creation_id")]
	if c == nil || c.user != ig {
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) Param creation_id is not a valid container id"})
		return
	}
	switch code, _ := s.igStatus(c); code {
	case "IN_PROGRESS":
		metaError(w, http.StatusBadRequest, metaErr{Code: 9007, Subcode: 2207027, Message: "Media ID is not available",
			UserTitle: "Media Not Ready For Publishing", UserMsg: "The media is not ready for publishing, please wait for a moment"})
		return
	case "ERROR":
		metaError(w, http.StatusBadRequest, metaErr{Code: 352, Subcode: 2207026, Message: "The video format is not supported. Please check spec for supported video format",
			UserTitle: "Unsupported format", UserMsg: "The video format is not supported."})
		return
	case "EXPIRED":
		metaError(w, http.StatusBadRequest, metaErr{Code: -2, Subcode: 2207020, Message: "The media you are trying to access has expired. Please try to upload it again.",
			UserTitle: "Media expired", UserMsg: "Create a new container and publish it within 24 hours."})
		return
	case "PUBLISHED":
		metaError(w, http.StatusBadRequest, metaErr{Code: 100, Message: "(#100) The container has already been published as media " + c.mediaID})
		return
	}
	if !s.allow("ig-posts|"+ig, s.lim.InstagramPostsPerDay, 24*time.Hour) {
		metaError(w, http.StatusBadRequest, metaErr{Code: 9, Subcode: 2207042, Message: "Application request limit reached",
			UserTitle: "Publishing limit reached", UserMsg: "You reached maximum number of posts that is allowed to be published by Content Publishing API."})
		return
	}
	m := &igMedia{id: strconv.FormatInt(17_950_000_000_000_000+s.nextID(), 10), shortcode: "C" + randToken(10),
		container: c.id, caption: c.caption, created: s.now()}
	m.post = &Post{Platform: Instagram, ID: m.id, URL: s.origin(r) + "/reel/" + m.shortcode + "/", Account: ig, Kind: "reel",
		Text: c.caption, Privacy: "public", Size: c.size, SHA256: c.sum, MediaID: c.id, baseStat: "published"}
	c.mediaID = m.id
	s.ig.media[m.id] = m
	s.ig.order = append(s.ig.order, m)
	s.addPost(m.post)
	writeJSON(w, http.StatusOK, map[string]any{"id": m.id})
}

func (s *Server) igList(w http.ResponseWriter, r *http.Request, ig string) {
	if s.igAuth(w, r, ig, "status") == nil {
		return
	}
	limit := 25
	if n, ok := atoi64(r.Form.Get("limit")); ok && n > 0 {
		limit = int(min(n, 100))
	}
	var data []any
	s.mu.Lock()
	for i := len(s.ig.order) - 1; i >= 0 && len(data) < limit; i-- {
		if m := s.ig.order[i]; m.post.Account == ig {
			data = append(data, igMediaJSON(m))
		}
	}
	s.mu.Unlock()
	if data == nil {
		data = []any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func (s *Server) igLimit(w http.ResponseWriter, r *http.Request, ig string) {
	if s.igAuth(w, r, ig, "info") == nil {
		return
	}
	s.mu.Lock()
	used := s.countSince("ig-posts|"+ig, s.now().Add(-24*time.Hour))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"quota_usage": used,
		"config": map[string]any{"quota_total": s.lim.InstagramPostsPerDay, "quota_duration": 86400}}}})
}
