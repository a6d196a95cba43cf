package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type env struct {
	t   *testing.T
	s   *Server
	url string
}

func start(t *testing.T, opts Options) *env {
	t.Helper()
	opts.Dir = t.TempDir()
	opts.AutoApprove = true
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, s: s, url: srv.URL}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request; target is a path or an absolute URL; headers are
// "Key: value" strings.
func (e *env) do(method, target string, body io.Reader, headers ...string) reply {
	e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = e.url + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (r reply) want(t *testing.T, status int, re string) {
	t.Helper()
	if r.status != status || !regexp.MustCompile(re).MatchString(r.body) {
		t.Fatalf("got %d %s\nwant %d matching %s", r.status, r.body, status, re)
	}
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// --- envelopes ----------------------------------------------------------------

func TestEnvelopes(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	_ = e.s.Inject(Fault{Platform: YouTube, Kind: FaultQuota})
	yt := e.s.IssueToken(YouTube)
	e.do("GET", "/youtube/v3/videos?part=status&id=x", nil, "Authorization: Bearer "+yt).want(t, 403,
		`^\{"error":\{"code":403,"message":"The request cannot be completed because you have exceeded your \\u003ca href=\\"/youtube/v3/getting-started#quota\\"\\u003equota\\u003c/a\\u003e\.","errors":\[\{"message":"[^"]*(\\"[^"]*)*","domain":"youtube\.quota","reason":"quotaExceeded"\}\]\}\}$`)
	e.do("GET", "/youtube/v3/videos?part=status&id=x", nil, "Authorization: Bearer nope").want(t, 401,
		`^\{"error":\{"code":401,"message":"Request had invalid authentication credentials\.[^"]*","errors":\[\{"message":"[^"]*","domain":"global","reason":"authError"\}\]\}\}$`)

	e.do("POST", "/v24.0/"+FacebookPageID+"/video_reels?upload_phase=start&access_token=bogus", nil).want(t, 400,
		`^\{"error":\{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"A[A-Za-z0-9]+"\}\}$`)
	fb := e.s.IssueToken(Facebook)
	_ = e.s.Inject(Fault{Platform: Facebook, Kind: FaultExpireToken})
	e.do("GET", "/v24.0/"+FacebookPageID+"?access_token="+fb, nil).want(t, 400,
		`^\{"error":\{"message":"Error validating access token: [^"]+","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"[^"]+"\}\}$`)

	li := e.s.IssueToken(LinkedIn)
	_ = e.s.Inject(Fault{Platform: LinkedIn, Kind: FaultRateLimit})
	r := e.do("GET", "/v2/userinfo", nil, "Authorization: Bearer "+li)
	r.want(t, 429, `^\{"status":429,"message":"Too Many Requests"\}$`)
	if r.header.Get("Retry-After") != "" {
		t.Error("LinkedIn sent Retry-After")
	}
	_ = e.s.Inject(Fault{Platform: LinkedIn, Kind: FaultExpireToken})
	e.do("GET", "/v2/userinfo", nil, "Authorization: Bearer "+li).want(t, 401,
		`^\{"status":401,"serviceErrorCode":65601,"code":"EXPIRED_ACCESS_TOKEN","message":"[^"]+"\}$`)

	tt := e.s.IssueToken(TikTok)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, "Authorization: Bearer "+tt).want(t, 200,
		`^\{"data":\{"comment_disabled":false,.*"max_video_post_duration_sec":600,.*\},"error":\{"code":"ok","message":"","log_id":"[0-9a-f]+"\}\}$`)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, "Authorization: Bearer bad").want(t, 401,
		`^\{"data":\{\},"error":\{"code":"access_token_invalid","message":"[^"]+","log_id":"[0-9a-f]+"\}\}$`)
	e.do("POST", "/v2/oauth/token/", strings.NewReader("grant_type=refresh_token&refresh_token=x&client_key=sandbox-tiktok-client&client_secret=sandbox-tiktok-secret"),
		"Content-Type: application/x-www-form-urlencoded").want(t, 400,
		`^\{"error":"invalid_grant","error_description":"[^"]+","log_id":"[0-9a-f]+"\}$`)
}

// --- YouTube -----------------------------------------------------------------

func ytStart(t *testing.T, e *env, token string, meta any, size int) string {
	t.Helper()
	h := []string{"Authorization: Bearer " + token, "Content-Type: application/json; charset=UTF-8", "X-Upload-Content-Type: video/mp4"}
	if size > 0 {
		h = append(h, fmt.Sprintf("X-Upload-Content-Length: %d", size))
	}
	r := e.do("POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status&alt=json", jsonBody(meta), h...)
	if r.status != 200 || r.header.Get("Location") == "" || r.body != "" {
		t.Fatalf("initiate: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	return r.header.Get("Location")
}

var ytMeta = map[string]any{"snippet": map[string]any{"title": "t"}, "status": map[string]any{"privacyStatus": "unlisted"}}

func TestYouTube_goClientVariant(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	tok := e.s.IssueToken(YouTube)
	data := bytes.Repeat([]byte{7}, 600<<10)
	loc := ytStart(t, e, tok, ytMeta, 0)
	// The Go client POSTs chunks with X-GUploader-No-308 and an unknown
	// total until the last one.
	r := e.do("POST", loc, bytes.NewReader(data[:256<<10]), "Content-Range: bytes 0-262143/*", "X-GUploader-No-308: yes")
	if r.status != 200 || r.header.Get("X-HTTP-Status-Code-Override") != "308" || r.header.Get("Range") != "bytes=0-262143" {
		t.Fatalf("chunk 1: %d %v", r.status, r.header)
	}
	r = e.do("POST", loc, bytes.NewReader(data[256<<10:]), fmt.Sprintf("Content-Range: bytes 262144-%d/%d", len(data)-1, len(data)), "X-GUploader-No-308: yes")
	r.want(t, 200, `^\{.*"id":"[A-Za-z0-9]{11}".*"kind":"youtube#video"`)
	// Asking again after completion returns the same video.
	again := e.do("PUT", loc, nil, fmt.Sprintf("Content-Range: bytes */%d", len(data)))
	if again.status != 200 || !strings.Contains(again.body, `"id":"`+e.s.Posts(YouTube)[0].ID+`"`) {
		t.Fatalf("status query after completion: %d %s", again.status, again.body)
	}
	if n := len(e.s.Posts(YouTube)); n != 1 {
		t.Fatalf("%d videos", n)
	}
}

func TestYouTube_resumableRules(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	tok := e.s.IssueToken(YouTube)
	data := bytes.Repeat([]byte{1}, 700<<10)
	loc := ytStart(t, e, tok, ytMeta, len(data))
	q := fmt.Sprintf("Content-Range: bytes */%d", len(data))
	r := e.do("PUT", loc, nil, q)
	if r.status != 308 || r.header.Get("Range") != "" {
		t.Fatalf("empty session query: %d Range %q", r.status, r.header.Get("Range"))
	}
	e.do("PUT", loc, bytes.NewReader(data[:1000]), "Content-Range: bytes 0-999/716800").want(t, 400, `262144`)
	r = e.do("PUT", loc, bytes.NewReader(data[:512<<10]), "Content-Range: bytes 0-524287/716800")
	if r.status != 308 || r.header.Get("Range") != "bytes=0-524287" {
		t.Fatalf("chunk: %d %q", r.status, r.header.Get("Range"))
	}
	// A gap is answered with what is stored.
	r = e.do("PUT", loc, bytes.NewReader(data[:256<<10]), "Content-Range: bytes 600000-862143/*")
	if r.status != 308 || r.header.Get("Range") != "bytes=0-524287" {
		t.Fatalf("gap: %d %q", r.status, r.header.Get("Range"))
	}
	e.do("PUT", loc, bytes.NewReader(data[512<<10:]), "Content-Range: bytes 524288-716799/716800").want(t, 200, `"uploadStatus":"processed"`)
	e.do("PUT", "/upload/youtube/v3/videos?uploadType=resumable&upload_id=nope", nil, q).want(t, 404, `notFound`)
}

func TestYouTube_metadataAndQuota(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{YouTubeQuotaPerDay: 3300}})
	tok := e.s.IssueToken(YouTube)
	post := func(meta any) reply {
		return e.do("POST", "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", jsonBody(meta),
			"Authorization: Bearer "+tok, "Content-Type: application/json")
	}
	post(map[string]any{"snippet": map[string]any{"title": strings.Repeat("x", 101)}}).want(t, 400, `"reason":"invalidTitle"`)
	post(map[string]any{"snippet": map[string]any{"title": "t", "description": "a < b"}}).want(t, 400, `"reason":"invalidDescription"`)
	post(map[string]any{"snippet": map[string]any{"title": "t"}, "status": map[string]any{"privacyStatus": "public",
		"publishAt": "2030-01-01T00:00:00Z"}}).want(t, 400, `"reason":"invalidPublishAt"`)
	// 3 invalid calls cost 1 unit each; two inserts cost 3200; the third
	// insert no longer fits.
	post(ytMeta).want(t, 200, `^$`)
	post(ytMeta).want(t, 200, `^$`)
	post(ytMeta).want(t, 403, `"reason":"quotaExceeded"`)
	if got := e.s.QuotaUsed(DefaultClient(YouTube).ID); got != 3203 {
		t.Errorf("quota used %d, want 3203", got)
	}
}

func TestYouTube_multipartAndCaptionsScope(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{YouTubeUnaudited: true}})
	tok := e.s.IssueToken(YouTube, "https://www.googleapis.com/auth/youtube.upload")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	p, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	_ = json.NewEncoder(p).Encode(map[string]any{"snippet": map[string]any{"title": "one shot"}, "status": map[string]any{"privacyStatus": "public"}})
	p, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"video/mp4"}})
	_, _ = p.Write([]byte("tiny video"))
	_ = mw.Close()
	r := e.do("POST", "/upload/youtube/v3/videos?uploadType=multipart&part=snippet,status", &body,
		"Authorization: Bearer "+tok, "Content-Type: multipart/related; boundary="+mw.Boundary())
	// Unaudited projects get private videos whatever was asked.
	r.want(t, 200, `"privacyStatus":"private"`)
	var v struct{ ID string }
	_ = json.Unmarshal([]byte(r.body), &v)
	body.Reset()
	mw = multipart.NewWriter(&body)
	p, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	_ = json.NewEncoder(p).Encode(map[string]any{"snippet": map[string]any{"videoId": v.ID, "language": "en"}})
	p, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/octet-stream"}})
	_, _ = p.Write([]byte("WEBVTT\n"))
	_ = mw.Close()
	e.do("POST", "/upload/youtube/v3/captions?part=snippet&uploadType=multipart", &body,
		"Authorization: Bearer "+tok, "Content-Type: multipart/related; boundary="+mw.Boundary()).want(t, 403, `insufficientPermissions`)
}

// --- TikTok ---------------------------------------------------------------------

func TestTikTok_chunkPlan(t *testing.T) {
	t.Parallel()
	s := New(Options{Dir: t.TempDir()})
	const mb = 1_000_000
	tests := []struct {
		size, chunk, count int64
		ok                 bool
	}{
		{50_000_123, 10_000_000, 5, true}, // the documented example
		{3 * mb, 3 * mb, 1, true},         // small files go whole
		{3 * mb, 1 * mb, 3, false},        // … and only whole
		{100 << 20, 100 << 20, 1, false},  // over 64 MiB must be chunked
		{100 << 20, 10 << 20, 10, true},   // remainder in the last chunk
		{100 << 20, 10 << 20, 9, false},   // count is floor(size/chunk)
		{100 << 20, 4 * mb, 26, false},    // chunks of at least 5 MB
		{300 << 20, 100 << 20, 3, false},  // chunks of at most 64 MiB
		{1 << 30, 1 << 20, 1024, false},   // at most 1000 chunks
		{200 << 20, 60 << 20, 3, true},    // last chunk 80 MiB ≤ 128 MiB
		{0, 0, 0, false},
	}
	for _, tt := range tests {
		if msg := s.checkChunks(tt.size, tt.chunk, tt.count); (msg == "") != tt.ok {
			t.Errorf("checkChunks(%d, %d, %d) = %q, want ok=%v", tt.size, tt.chunk, tt.count, msg, tt.ok)
		}
	}
}

func TestTikTok_transferAndLimits(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{TikTokMinChunk: 1000}})
	tok := e.s.IssueToken(TikTok)
	auth := "Authorization: Bearer " + tok
	init := func(title string, size, chunk, count int) reply {
		return e.do("POST", "/v2/post/publish/video/init/", jsonBody(map[string]any{
			"post_info":   map[string]any{"title": title, "privacy_level": "SELF_ONLY"},
			"source_info": map[string]any{"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "total_chunk_count": count},
		}), auth, "Content-Type: application/json; charset=UTF-8")
	}
	// 2200 UTF-16 units: 1100 emoji are 2200 units but 1100 runes.
	init(strings.Repeat("😀", 1101), 3000, 1000, 3).want(t, 400, `"code":"invalid_params"`)
	r := init(strings.Repeat("😀", 1100), 3000, 1000, 3)
	r.want(t, 200, `"publish_id":"v_pub_file~v2-1\.[0-9]+","upload_url":"http`)
	var out struct {
		Data struct {
			PublishID string `json:"publish_id"`
			UploadURL string `json:"upload_url"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(r.body), &out)
	chunk := func(first, last int) reply {
		return e.do("PUT", out.Data.UploadURL, bytes.NewReader(make([]byte, last-first+1)),
			"Content-Type: video/mp4", fmt.Sprintf("Content-Range: bytes %d-%d/3000", first, last))
	}
	chunk(1000, 1999).want(t, 400, `in order`)
	if r := chunk(0, 999); r.status != 206 {
		t.Fatalf("first chunk: %d", r.status)
	}
	if r := chunk(0, 999); r.status != 206 {
		t.Fatalf("repeated chunk: %d", r.status)
	}
	chunk(1000, 1499).want(t, 400, `must cover bytes 1000-1999`)
	_ = chunk(1000, 1999)
	if r := chunk(2000, 2999); r.status != 201 {
		t.Fatalf("last chunk: %d", r.status)
	}
	e.do("POST", "/v2/post/publish/status/fetch/", jsonBody(map[string]string{"publish_id": out.Data.PublishID}), auth).
		want(t, 200, `"publicaly_available_post_id":\[\],"status":"PUBLISH_COMPLETE","uploaded_bytes":3000`)
	// init: 6 per minute per token; two were used.
	for i := 0; i < 4; i++ {
		init("t", 3000, 3000, 1).want(t, 200, `"code":"ok"`)
	}
	r = init("t", 3000, 3000, 1)
	r.want(t, 429, `"code":"rate_limit_exceeded"`)
}

func TestTikTok_privacyRules(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{TikTokUnaudited: true}})
	auth := "Authorization: Bearer " + e.s.IssueToken(TikTok)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, auth).want(t, 200, `"privacy_level_options":\["SELF_ONLY"\]`)
	e.do("POST", "/v2/post/publish/video/init/", jsonBody(map[string]any{
		"post_info":   map[string]any{"title": "t", "privacy_level": "PUBLIC_TO_EVERYONE"},
		"source_info": map[string]any{"source": "FILE_UPLOAD", "video_size": 10, "chunk_size": 10, "total_chunk_count": 1},
	}), auth).want(t, 403, `"code":"unaudited_client_can_only_post_to_private_accounts"`)
}

// --- LinkedIn -----------------------------------------------------------------------

func TestLinkedIn_headersAndOrdering(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{LinkedInPartSize: 1000, LinkedInShuffleParts: true}})
	tok := "Authorization: Bearer " + e.s.IssueToken(LinkedIn)
	ver, restli := "LinkedIn-Version: 202601", "X-Restli-Protocol-Version: 2.0.0"
	in := map[string]any{"initializeUploadRequest": map[string]any{"owner": LinkedInPersonURN, "fileSizeBytes": 2500}}
	e.do("POST", "/rest/videos?action=initializeUpload", jsonBody(in), tok, restli).want(t, 400, `VERSION_MISSING`)
	e.do("POST", "/rest/videos?action=initializeUpload", jsonBody(in), tok, restli, "LinkedIn-Version: 202301").want(t, 426, `NONEXISTENT_VERSION`)
	e.do("POST", "/rest/videos?action=initializeUpload", jsonBody(in), tok, ver).want(t, 400, `X-Restli-Protocol-Version`)
	r := e.do("POST", "/rest/videos?action=initializeUpload", jsonBody(in), tok, ver, restli)
	r.want(t, 200, `"video":"urn:li:video:`)
	var out struct {
		Value struct {
			Video        string
			UploadToken  string
			Instructions []struct {
				UploadURL string
				FirstByte int64
				LastByte  int64
			} `json:"uploadInstructions"`
		}
	}
	_ = json.Unmarshal([]byte(r.body), &out)
	if len(out.Value.Instructions) != 3 {
		t.Fatalf("%d instructions", len(out.Value.Instructions))
	}
	etags := make([]string, 3)
	for _, in := range out.Value.Instructions {
		r := e.do("PUT", in.UploadURL, bytes.NewReader(make([]byte, in.LastByte-in.FirstByte+1)), tok, "Content-Type: application/octet-stream")
		if r.status != 200 || r.header.Get("ETag") == "" {
			t.Fatalf("part: %d", r.status)
		}
		etags[in.FirstByte/1000] = r.header.Get("ETag")
	}
	fin := func(ids []string) reply {
		return e.do("POST", "/rest/videos?action=finalizeUpload", jsonBody(map[string]any{"finalizeUploadRequest": map[string]any{
			"video": out.Value.Video, "uploadToken": out.Value.UploadToken, "uploadedPartIds": ids}}), tok, ver, restli)
	}
	fin([]string{etags[1], etags[0], etags[2]}).want(t, 400, `byte order`)
	fin(etags).want(t, 200, `^$`)
	e.do("GET", "/rest/videos/"+url.PathEscape(out.Value.Video), nil, tok, ver, restli).want(t, 200, `"status":"AVAILABLE"`)
	r = e.do("POST", "/rest/posts", jsonBody(map[string]any{"author": LinkedInPersonURN, "commentary": `Hi \#launch`, "visibility": "PUBLIC",
		"content": map[string]any{"media": map[string]any{"id": out.Value.Video}}, "lifecycleState": "PUBLISHED"}), tok, ver, restli)
	if r.status != 201 || !strings.HasPrefix(r.header.Get("X-Restli-Id"), "urn:li:share:") || r.body != "" {
		t.Fatalf("post: %d %v %s", r.status, r.header, r.body)
	}
	if p := e.s.Posts(LinkedIn)[0]; p.Text != "Hi #launch" {
		t.Errorf("post text %q", p.Text)
	}
}

// --- Instagram and Facebook ----------------------------------------------------------

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestInstagram_containerLifecycle(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := start(t, Options{Now: clk.now, ProcessingDelay: time.Minute, Limits: Limits{InstagramPostsPerDay: 1}})
	tok := e.s.IssueToken(Instagram)
	create := func() (string, string) {
		r := e.do("POST", "/v24.0/"+InstagramUserID+"/media?media_type=REELS&upload_type=resumable&caption=hi&access_token="+tok, nil)
		r.want(t, 200, `"uri":"http`)
		var c struct{ ID, URI string }
		_ = json.Unmarshal([]byte(r.body), &c)
		return c.ID, c.URI
	}
	status := func(id string) reply {
		return e.do("GET", "/v24.0/"+id+"?fields=status_code,status&access_token="+tok, nil)
	}
	publish := func(id string) reply {
		return e.do("POST", "/v24.0/"+InstagramUserID+"/media_publish?creation_id="+id+"&access_token="+tok, nil)
	}
	id, uri := create()
	status(id).want(t, 200, `"status_code":"IN_PROGRESS"`)
	e.do("POST", uri, bytes.NewReader([]byte("0123456789")), "Authorization: OAuth "+tok, "offset: 0", "file_size: 10").
		want(t, 200, `^\{"message":"Upload successful\.","success":true\}$`)
	publish(id).want(t, 400, `"code":9007,"error_subcode":2207027`)
	clk.add(2 * time.Minute)
	status(id).want(t, 200, `"status_code":"FINISHED"`)
	publish(id).want(t, 200, `"id":"[0-9]+"`)
	status(id).want(t, 200, `"status_code":"PUBLISHED"`)
	e.do("GET", "/v24.0/"+InstagramUserID+"/content_publishing_limit?fields=config,quota_usage&access_token="+tok, nil).
		want(t, 200, `"quota_usage":1`)
	// The daily cap, then expiry of an unpublished container.
	id2, uri2 := create()
	e.do("POST", uri2, bytes.NewReader([]byte("x")), "Authorization: OAuth "+tok, "offset: 0", "file_size: 1").want(t, 200, `success`)
	clk.add(2 * time.Minute)
	publish(id2).want(t, 400, `"code":9,"error_subcode":2207042`)
	clk.add(25 * time.Hour)
	status(id2).want(t, 200, `"status_code":"EXPIRED"`)
}

func TestFacebook_rules(t *testing.T) {
	t.Parallel()
	e := start(t, Options{Limits: Limits{FacebookReelsPerDay: 1}})
	tok := e.s.IssueToken(Facebook)
	page := "/v24.0/" + FacebookPageID
	form := func(path string, v url.Values) reply {
		v.Set("access_token", tok)
		return e.do("POST", path, strings.NewReader(v.Encode()), "Content-Type: application/x-www-form-urlencoded")
	}
	r := form(page+"/video_reels", url.Values{"upload_phase": {"start"}})
	r.want(t, 200, `"upload_url":"http://[^"]+/video-upload/v24\.0/[0-9]+"`)
	var v struct {
		VideoID   string `json:"video_id"`
		UploadURL string `json:"upload_url"`
	}
	_ = json.Unmarshal([]byte(r.body), &v)
	form(page+"/video_reels", url.Values{"upload_phase": {"finish"}, "video_id": {v.VideoID}}).want(t, 400, `"code":6000`)
	e.do("POST", v.UploadURL, bytes.NewReader([]byte("abc")), "Authorization: OAuth "+tok, "offset: 0", "file_size: 3").want(t, 200, `^\{"success":true\}$`)
	form(page+"/video_reels", url.Values{"upload_phase": {"finish"}, "video_id": {v.VideoID}, "video_state": {"SCHEDULED"},
		"scheduled_publish_time": {fmt.Sprint(time.Now().Add(5 * time.Minute).Unix())}}).want(t, 400, `scheduled publish time is invalid`)
	form(page+"/video_reels", url.Values{"upload_phase": {"finish"}, "video_id": {v.VideoID}, "video_state": {"PUBLISHED"}}).want(t, 200, `"success":true`)
	e.do("GET", "/v24.0/"+v.VideoID+"?fields=status&access_token="+tok, nil).want(t, 200, `"video_status":"ready"`)
	form(page+"/video_reels", url.Values{"upload_phase": {"start"}}).want(t, 400, `"code":4`)
	// A user token cannot post to the Page.
	user := e.s.IssueToken(Instagram)
	e.do("POST", page+"/videos?upload_phase=start&file_size=10&access_token="+user, nil).want(t, 400, `"code":210`)
}

// --- admin -----------------------------------------------------------------------------

func TestAdmin(t *testing.T) {
	t.Parallel()
	e := start(t, Options{})
	e.do("POST", "/_sandbox/faults", strings.NewReader(`{"platform":"tiktok","kind":"5xx","count":2}`)).want(t, 200, `"kind":"5xx","count":2`)
	e.do("POST", "/_sandbox/faults", strings.NewReader(`{"platform":"myspace","kind":"5xx"}`)).want(t, 400, `unknown platform`)
	tok := "Authorization: Bearer " + e.s.IssueToken(TikTok)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, tok).want(t, 500, `"code":"internal_error"`)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, tok).want(t, 500, `"code":"internal_error"`)
	e.do("POST", "/v2/post/publish/creator_info/query/", nil, tok).want(t, 200, `"code":"ok"`)
	e.do("GET", "/_sandbox/state", nil).want(t, 200, `^\{"posts":\{"facebook":\[\],"instagram":\[\],"linkedin":\[\],"tiktok":\[\],"youtube":\[\]\},"faults":\[\]\}$`)
	e.do("GET", "/sandbox/", nil).want(t, 200, `Nothing published yet`)
	e.do("DELETE", "/_sandbox/faults", nil).want(t, 204, `^$`)
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-262143/*", "bytes */1000", "bytes 5-4/10", "bytes 0-9/10", "bytes -1-2/3", "bytes */*", "bytes 1-2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, ok := parseContentRange(s)
		if !ok {
			return
		}
		if cr.first >= 0 && (cr.last < cr.first || (cr.total >= 0 && cr.last >= cr.total)) {
			t.Fatalf("%q parsed to inconsistent %+v", s, cr)
		}
		if cr.first < 0 && cr.last >= 0 {
			t.Fatalf("%q: status query with a last byte %+v", s, cr)
		}
	})
}
