package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// Persist keeps the sandbox's state in the file at path: it loads what the
// file holds (a sandbox that ran before on the same data dir), then writes
// the state there after every request that changed it. Accounts' grants
// (access and refresh tokens), posts with their platform objects, uploads
// in progress, rate-limit and quota counters survive a restart, so a
// connected account stays connected and posts stay listed. Queued faults
// are not kept.
//
// Uploads' bytes are files in Options.Dir, which must be a folder that
// lasts as long as path (not the default temporary one). Call Persist once,
// before the server serves.
func (s *Server) Persist(path string) error {
	if s.ownDir {
		return errors.New("sandbox: persisting needs Options.Dir: uploads in a temporary folder would be lost")
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("sandbox: read state: %w", err)
	default:
		var st stateFile
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("sandbox: state file %s is damaged: %w", path, err)
		}
		if st.Version != stateVersion {
			return fmt.Errorf("sandbox: state file %s has version %d, want %d", path, st.Version, stateVersion)
		}
		if err := s.restore(&st); err != nil {
			return err
		}
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.statePath, s.saved = path, b
	return s.saveLocked()
}

// persist writes the state when it changed since the last write. It runs
// after every request; a failure is logged, and the next request tries
// again.
func (s *Server) persist() {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.statePath == "" {
		return
	}
	if err := s.saveLocked(); err != nil {
		s.log.Warn("sandbox: save state", "error", err)
	}
}

// saveLocked writes the state atomically (renameio: a synced temporary file
// renamed over the old one); callers hold s.saveMu.
func (s *Server) saveLocked() error {
	b, err := json.Marshal(s.snapshot())
	if err != nil {
		return fmt.Errorf("sandbox: encode state: %w", err)
	}
	if bytes.Equal(b, s.saved) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(s.statePath), 0o700); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	if err := renameio.WriteFile(s.statePath, b, 0o600); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	s.saved = b
	return nil
}

// stateVersion changes when stateFile changes incompatibly.
const stateVersion = 1

// stateFile is the sandbox's state on disk. Pointers between objects
// become ids: a post is its index in Posts, a token's parent its value, an
// upload's bytes the name of its file in Options.Dir.
type stateFile struct {
	Version int                    `json:"version"`
	Seq     int64                  `json:"seq"`
	Tokens  []tokenRec             `json:"tokens"`
	Codes   map[string]codeRec     `json:"codes"`
	Posts   []postRec              `json:"posts"`
	Rates   map[string][]time.Time `json:"rates"`
	Quota   map[string]int         `json:"quota"`

	YouTube   ytRec `json:"youtube"`
	Facebook  fbRec `json:"facebook"`
	Instagram igRec `json:"instagram"`
	LinkedIn  liRec `json:"linkedin"`
	TikTok    ttRec `json:"tiktok"`
}

type tokenRec struct {
	Value    string    `json:"value"`
	Platform string    `json:"platform"`
	ClientID string    `json:"client_id"`
	Kind     string    `json:"kind"`
	Scopes   []string  `json:"scopes"`
	Issued   time.Time `json:"issued"`
	Expires  time.Time `json:"expires"`
	Revoked  bool      `json:"revoked,omitempty"`
	PageID   string    `json:"page_id,omitempty"`
	Long     bool      `json:"long,omitempty"`
	Parent   string    `json:"parent,omitempty"`
}

type codeRec struct {
	Platform  string    `json:"platform"`
	ClientID  string    `json:"client_id"`
	Redirect  string    `json:"redirect"`
	Scopes    []string  `json:"scopes"`
	Challenge string    `json:"challenge,omitempty"`
	Method    string    `json:"method,omitempty"`
	Offline   bool      `json:"offline,omitempty"`
	Expires   time.Time `json:"expires"`
	Used      bool      `json:"used,omitempty"`
}

type postRec struct {
	Post
	Proc     *procRec `json:"proc,omitempty"`
	Origin   string   `json:"origin,omitempty"`
	BaseStat string   `json:"base_status,omitempty"`
}

type procRec struct {
	ReadyAt time.Time `json:"ready_at"`
	Reject  string    `json:"reject,omitempty"`
}

// blobRec is an upload's bytes: the file while it is in progress, its size
// and hash once complete.
type blobRec struct {
	File string `json:"file,omitempty"`
	Have int64  `json:"have"`
	Done bool   `json:"done,omitempty"`
	Size int64  `json:"size,omitempty"`
	Sum  string `json:"sum,omitempty"`
}

type ytRec struct {
	Sessions []ytSessionRec         `json:"sessions"`
	Videos   []ytVideoRec           `json:"videos"`
	Uploads  map[string][]time.Time `json:"uploads"`
}

type ytSessionRec struct {
	ID      string    `json:"id"`
	Project string    `json:"project"`
	Meta    ytVideoIn `json:"meta"`
	Total   int64     `json:"total"`
	Blob    *blobRec  `json:"blob,omitempty"`
	Created time.Time `json:"created"`
	VideoID string    `json:"video_id,omitempty"`
}

type ytVideoRec struct {
	ID        string    `json:"id"`
	Meta      ytVideoIn `json:"meta"`
	Published time.Time `json:"published"`
	Size      int64     `json:"size"`
	Sum       string    `json:"sum"`
	Proc      *procRec  `json:"proc,omitempty"`
	Thumbnail bool      `json:"thumbnail,omitempty"`
	Captions  []string  `json:"captions,omitempty"`
	Post      int       `json:"post"`
}

type fbRec struct {
	Videos     []fbVideoRec      `json:"videos"`
	Sessions   map[string]string `json:"sessions"` // upload_session_id → video id
	Uploads    []fbUploadRec     `json:"uploads"`
	Handles    map[string]string `json:"handles"` // handle → upload id
	PageTokens map[string]string `json:"page_tokens"`
}

type fbVideoRec struct {
	ID        string     `json:"id"`
	Page      string     `json:"page"`
	Kind      string     `json:"kind"`
	Session   string     `json:"session,omitempty"`
	Blob      *blobRec   `json:"blob,omitempty"`
	Size      int64      `json:"size"`
	Uploaded  bool       `json:"uploaded,omitempty"`
	Sum       string     `json:"sum,omitempty"`
	Proc      *procRec   `json:"proc,omitempty"`
	Finished  bool       `json:"finished,omitempty"`
	State     string     `json:"state,omitempty"`
	Scheduled *time.Time `json:"scheduled,omitempty"`
	Title     string     `json:"title,omitempty"`
	Desc      string     `json:"desc,omitempty"`
	Post      int        `json:"post"`
	Created   time.Time  `json:"created"`
}

type fbUploadRec struct {
	ID     string   `json:"id"`
	Length int64    `json:"length"`
	Blob   *blobRec `json:"blob,omitempty"`
	Handle string   `json:"handle,omitempty"`
	Name   string   `json:"name,omitempty"`
}

type igRec struct {
	Containers []igContainerRec `json:"containers"`
	Media      []igMediaRec     `json:"media"` // in publishing order
}

type igContainerRec struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Caption   string    `json:"caption,omitempty"`
	Resumable bool      `json:"resumable,omitempty"`
	Blob      *blobRec  `json:"blob,omitempty"`
	Size      int64     `json:"size"`
	Uploaded  bool      `json:"uploaded,omitempty"`
	Sum       string    `json:"sum,omitempty"`
	Proc      *procRec  `json:"proc,omitempty"`
	Created   time.Time `json:"created"`
	MediaID   string    `json:"media_id,omitempty"`
	VideoURL  string    `json:"video_url,omitempty"`
}

type igMediaRec struct {
	ID        string    `json:"id"`
	Shortcode string    `json:"shortcode"`
	Container string    `json:"container"`
	Caption   string    `json:"caption,omitempty"`
	Created   time.Time `json:"created"`
	Post      int       `json:"post"`
}

type liRec struct {
	Videos []liVideoRec `json:"videos"`
	Posts  []liPostRec  `json:"posts"`
}

type liPartRec struct {
	First int64  `json:"first"`
	Last  int64  `json:"last"`
	ETag  string `json:"etag,omitempty"`
}

type liVideoRec struct {
	URN       string      `json:"urn"`
	Owner     string      `json:"owner"`
	Token     string      `json:"token,omitempty"`
	Size      int64       `json:"size"`
	Parts     []liPartRec `json:"parts"`
	Blob      *blobRec    `json:"blob,omitempty"`
	Finalized bool        `json:"finalized,omitempty"`
	PartIDs   []string    `json:"part_ids,omitempty"`
	Sum       string      `json:"sum,omitempty"`
	Proc      *procRec    `json:"proc,omitempty"`
	Created   time.Time   `json:"created"`
}

type liPostRec struct {
	URN        string    `json:"urn"`
	Author     string    `json:"author"`
	Commentary string    `json:"commentary,omitempty"`
	Visibility string    `json:"visibility,omitempty"`
	State      string    `json:"state,omitempty"`
	Media      string    `json:"media,omitempty"`
	Title      string    `json:"title,omitempty"`
	Created    time.Time `json:"created"`
	Post       int       `json:"post"`
}

type ttRec struct {
	Publishes []ttPublishRec    `json:"publishes"`
	Uploads   map[string]string `json:"uploads"` // upload id → publish id
}

type ttPublishRec struct {
	ID          string    `json:"id"`
	UploadID    string    `json:"upload_id,omitempty"`
	UploadToken string    `json:"upload_token,omitempty"`
	Inbox       bool      `json:"inbox,omitempty"`
	Title       string    `json:"title,omitempty"`
	Privacy     string    `json:"privacy,omitempty"`
	Size        int64     `json:"size"`
	Chunk       int64     `json:"chunk"`
	Count       int64     `json:"count"`
	Blob        *blobRec  `json:"blob,omitempty"`
	Uploaded    bool      `json:"uploaded,omitempty"`
	Sum         string    `json:"sum,omitempty"`
	Proc        *procRec  `json:"proc,omitempty"`
	PostID      string    `json:"post_id,omitempty"`
	Post        int       `json:"post"`
	Created     time.Time `json:"created"`
}

// snapshot copies the state into its records.
func (s *Server) snapshot() *stateFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &stateFile{
		Version: stateVersion,
		Seq:     s.seq,
		Codes:   map[string]codeRec{},
		Rates:   cloneTimes(s.rates),
		Quota:   maps.Clone(s.quota),
	}
	postIndex := map[*Post]int{}
	for i, p := range s.posts {
		postIndex[p] = i
		r := postRec{Post: *p, Proc: procOut(p.proc), Origin: p.origin, BaseStat: p.baseStat}
		r.Captions = slices.Clone(p.Captions)
		st.Posts = append(st.Posts, r)
	}
	post := func(p *Post) int {
		if i, ok := postIndex[p]; ok {
			return i
		}
		return -1
	}
	for _, t := range s.tokens {
		r := tokenRec{Value: t.value, Platform: t.platform, ClientID: t.clientID, Kind: t.kind, Scopes: slices.Clone(t.scopes),
			Issued: t.issued, Expires: t.expires, Revoked: t.revoked, PageID: t.pageID, Long: t.long}
		if t.parent != nil {
			r.Parent = t.parent.value
		}
		st.Tokens = append(st.Tokens, r)
	}
	for v, c := range s.codes {
		st.Codes[v] = codeRec{Platform: c.platform, ClientID: c.clientID, Redirect: c.redirect, Scopes: slices.Clone(c.scopes),
			Challenge: c.challenge, Method: c.method, Offline: c.offline, Expires: c.expires, Used: c.used}
	}

	st.YouTube.Uploads = cloneTimes(s.yt.uploads)
	for _, x := range s.yt.sessions {
		st.YouTube.Sessions = append(st.YouTube.Sessions, ytSessionRec{ID: x.id, Project: x.project, Meta: x.meta,
			Total: x.total, Blob: blobOut(x.blob), Created: x.created, VideoID: x.videoID})
	}
	for _, v := range s.yt.videos {
		st.YouTube.Videos = append(st.YouTube.Videos, ytVideoRec{ID: v.id, Meta: v.meta, Published: v.published,
			Size: v.size, Sum: v.sum, Proc: procOut(v.proc), Thumbnail: v.thumbnail, Captions: slices.Clone(v.captions), Post: post(v.post)})
	}

	st.Facebook.Sessions, st.Facebook.Handles, st.Facebook.PageTokens = map[string]string{}, map[string]string{}, maps.Clone(s.fb.pageTokens)
	for _, v := range s.fb.videos {
		st.Facebook.Videos = append(st.Facebook.Videos, fbVideoRec{ID: v.id, Page: v.page, Kind: v.kind, Session: v.session,
			Blob: blobOut(v.blob), Size: v.size, Uploaded: v.uploaded, Sum: v.sum, Proc: procOut(v.proc), Finished: v.finished,
			State: v.state, Scheduled: v.scheduled, Title: v.title, Desc: v.desc, Post: post(v.post), Created: v.created})
	}
	for k, v := range s.fb.sessions {
		st.Facebook.Sessions[k] = v.id
	}
	for _, u := range s.fb.uploads {
		st.Facebook.Uploads = append(st.Facebook.Uploads, fbUploadRec{ID: u.id, Length: u.length, Blob: blobOut(u.blob),
			Handle: u.handle, Name: u.name})
	}
	for k, u := range s.fb.handles {
		st.Facebook.Handles[k] = u.id
	}

	for _, c := range s.ig.containers {
		st.Instagram.Containers = append(st.Instagram.Containers, igContainerRec{ID: c.id, User: c.user, Caption: c.caption,
			Resumable: c.resumable, Blob: blobOut(c.blob), Size: c.size, Uploaded: c.uploaded, Sum: c.sum, Proc: procOut(c.proc),
			Created: c.created, MediaID: c.mediaID, VideoURL: c.videoURL})
	}
	for _, m := range s.ig.order {
		st.Instagram.Media = append(st.Instagram.Media, igMediaRec{ID: m.id, Shortcode: m.shortcode, Container: m.container,
			Caption: m.caption, Created: m.created, Post: post(m.post)})
	}

	for _, v := range s.li.videos {
		r := liVideoRec{URN: v.urn, Owner: v.owner, Token: v.token, Size: v.size, Blob: blobOut(v.blob), Finalized: v.finalized,
			PartIDs: slices.Clone(v.partIDs), Sum: v.sum, Proc: procOut(v.proc), Created: v.created}
		for _, p := range v.parts {
			r.Parts = append(r.Parts, liPartRec{First: p.first, Last: p.last, ETag: p.etag})
		}
		st.LinkedIn.Videos = append(st.LinkedIn.Videos, r)
	}
	for _, p := range s.li.posts {
		st.LinkedIn.Posts = append(st.LinkedIn.Posts, liPostRec{URN: p.urn, Author: p.author, Commentary: p.commentary,
			Visibility: p.visibility, State: p.state, Media: p.media, Title: p.title, Created: p.created, Post: post(p.post)})
	}

	st.TikTok.Uploads = map[string]string{}
	for _, p := range s.tt.publishes {
		st.TikTok.Publishes = append(st.TikTok.Publishes, ttPublishRec{ID: p.id, UploadID: p.uploadID, UploadToken: p.uploadToken,
			Inbox: p.inbox, Title: p.title, Privacy: p.privacy, Size: p.size, Chunk: p.chunk, Count: p.count, Blob: blobOut(p.blob),
			Uploaded: p.uploaded, Sum: p.sum, Proc: procOut(p.proc), PostID: p.postID, Post: post(p.post), Created: p.created})
	}
	for k, p := range s.tt.uploads {
		st.TikTok.Uploads[k] = p.id
	}
	sortState(st)
	return st
}

// restore replaces the state with the records'. Upload files are opened
// again; one that is gone fails the restore.
func (s *Server) restore(st *stateFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var opened []*blob
	blobIn := func(r *blobRec) (*blob, error) {
		if r == nil {
			return nil, nil
		}
		b := &blob{have: r.Have, done: r.Done, size: r.Size, sum: r.Sum}
		if !r.Done {
			f, err := os.OpenFile(filepath.Join(s.dir, filepath.Base(r.File)), os.O_RDWR, 0)
			if err != nil {
				return nil, fmt.Errorf("sandbox: reopen an upload in progress: %w", err)
			}
			b.f = f
			opened = append(opened, b)
		}
		return b, nil
	}
	fail := func(err error) error {
		for _, b := range opened {
			_ = b.f.Close()
		}
		return err
	}

	s.seq = st.Seq
	s.rates, s.quota = nonNil(st.Rates), nonNil(st.Quota)
	posts := make([]*Post, len(st.Posts))
	for i := range st.Posts {
		r := &st.Posts[i]
		p := r.Post
		p.proc, p.origin, p.baseStat = procIn(r.Proc), r.Origin, r.BaseStat
		posts[i] = &p
	}
	s.posts = posts
	post := func(i int) *Post {
		if i >= 0 && i < len(posts) {
			return posts[i]
		}
		return nil
	}
	s.tokens = map[string]*token{}
	for _, r := range st.Tokens {
		s.tokens[r.Value] = &token{value: r.Value, platform: r.Platform, clientID: r.ClientID, kind: r.Kind, scopes: r.Scopes,
			issued: r.Issued, expires: r.Expires, revoked: r.Revoked, pageID: r.PageID, long: r.Long}
	}
	for _, r := range st.Tokens {
		if r.Parent != "" {
			s.tokens[r.Value].parent = s.tokens[r.Parent]
		}
	}
	s.codes = map[string]*authCode{}
	for v, r := range st.Codes {
		s.codes[v] = &authCode{platform: r.Platform, clientID: r.ClientID, redirect: r.Redirect, scopes: r.Scopes,
			challenge: r.Challenge, method: r.Method, offline: r.Offline, expires: r.Expires, used: r.Used}
	}

	s.yt.init()
	s.yt.uploads = nonNil(st.YouTube.Uploads)
	for _, r := range st.YouTube.Sessions {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		s.yt.sessions[r.ID] = &ytSession{id: r.ID, project: r.Project, meta: r.Meta, total: r.Total, blob: b,
			created: r.Created, videoID: r.VideoID}
	}
	for _, r := range st.YouTube.Videos {
		s.yt.videos[r.ID] = &ytVideo{id: r.ID, meta: r.Meta, published: r.Published, size: r.Size, sum: r.Sum,
			proc: procIn(r.Proc), thumbnail: r.Thumbnail, captions: r.Captions, post: post(r.Post)}
	}

	s.fb.init()
	for k, v := range st.Facebook.PageTokens {
		s.fb.pageTokens[k] = v
	}
	for _, r := range st.Facebook.Videos {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		s.fb.videos[r.ID] = &fbVideo{id: r.ID, page: r.Page, kind: r.Kind, session: r.Session, blob: b, size: r.Size,
			uploaded: r.Uploaded, sum: r.Sum, proc: procIn(r.Proc), finished: r.Finished, state: r.State,
			scheduled: r.Scheduled, title: r.Title, desc: r.Desc, post: post(r.Post), created: r.Created}
	}
	for k, id := range st.Facebook.Sessions {
		if v := s.fb.videos[id]; v != nil {
			s.fb.sessions[k] = v
		}
	}
	for _, r := range st.Facebook.Uploads {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		s.fb.uploads[r.ID] = &fbUpload{id: r.ID, length: r.Length, blob: b, handle: r.Handle, name: r.Name}
	}
	for k, id := range st.Facebook.Handles {
		if u := s.fb.uploads[id]; u != nil {
			s.fb.handles[k] = u
		}
	}

	s.ig.init()
	s.ig.order = nil
	for _, r := range st.Instagram.Containers {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		s.ig.containers[r.ID] = &igContainer{id: r.ID, user: r.User, caption: r.Caption, resumable: r.Resumable, blob: b,
			size: r.Size, uploaded: r.Uploaded, sum: r.Sum, proc: procIn(r.Proc), created: r.Created, mediaID: r.MediaID,
			videoURL: r.VideoURL}
	}
	for _, r := range st.Instagram.Media {
		m := &igMedia{id: r.ID, shortcode: r.Shortcode, container: r.Container, caption: r.Caption, created: r.Created,
			post: post(r.Post)}
		s.ig.media[m.id] = m
		s.ig.order = append(s.ig.order, m)
	}

	s.li.init()
	s.li.posts = nil
	for _, r := range st.LinkedIn.Videos {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		v := &liVideo{urn: r.URN, owner: r.Owner, token: r.Token, size: r.Size, blob: b, finalized: r.Finalized,
			partIDs: r.PartIDs, sum: r.Sum, proc: procIn(r.Proc), created: r.Created}
		for _, p := range r.Parts {
			v.parts = append(v.parts, liPart{first: p.First, last: p.Last, etag: p.ETag})
		}
		s.li.videos[v.urn] = v
	}
	for _, r := range st.LinkedIn.Posts {
		s.li.posts = append(s.li.posts, &liPost{urn: r.URN, author: r.Author, commentary: r.Commentary,
			visibility: r.Visibility, state: r.State, media: r.Media, title: r.Title, created: r.Created, post: post(r.Post)})
	}

	s.tt.init()
	for _, r := range st.TikTok.Publishes {
		b, err := blobIn(r.Blob)
		if err != nil {
			return fail(err)
		}
		s.tt.publishes[r.ID] = &ttPublish{id: r.ID, uploadID: r.UploadID, uploadToken: r.UploadToken, inbox: r.Inbox,
			title: r.Title, privacy: r.Privacy, size: r.Size, chunk: r.Chunk, count: r.Count, blob: b, uploaded: r.Uploaded,
			sum: r.Sum, proc: procIn(r.Proc), postID: r.PostID, post: post(r.Post), created: r.Created}
	}
	for k, id := range st.TikTok.Uploads {
		if p := s.tt.publishes[id]; p != nil {
			s.tt.uploads[k] = p
		}
	}
	return nil
}

func procOut(p *processing) *procRec {
	if p == nil {
		return nil
	}
	return &procRec{ReadyAt: p.readyAt, Reject: p.reject}
}

func procIn(r *procRec) *processing {
	if r == nil {
		return nil
	}
	return &processing{readyAt: r.ReadyAt, reject: r.Reject}
}

// blobOut records an upload's bytes; callers hold s.mu (the blob's own
// lock guards its counters).
func blobOut(b *blob) *blobRec {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &blobRec{Have: b.have, Done: b.done, Size: b.size, Sum: b.sum}
	if !b.done && b.f != nil {
		r.File = filepath.Base(b.f.Name())
	}
	return r
}

// cloneTimes copies a map of call times, slices included.
func cloneTimes(m map[string][]time.Time) map[string][]time.Time {
	out := make(map[string][]time.Time, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// sortState orders the records taken from maps, so that the same state
// always encodes to the same bytes (and an unchanged state is not written).
func sortState(st *stateFile) {
	slices.SortFunc(st.Tokens, func(a, b tokenRec) int { return strings.Compare(a.Value, b.Value) })
	slices.SortFunc(st.YouTube.Sessions, func(a, b ytSessionRec) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.YouTube.Videos, func(a, b ytVideoRec) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Facebook.Videos, func(a, b fbVideoRec) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Facebook.Uploads, func(a, b fbUploadRec) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.Instagram.Containers, func(a, b igContainerRec) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.LinkedIn.Videos, func(a, b liVideoRec) int { return strings.Compare(a.URN, b.URN) })
	slices.SortFunc(st.TikTok.Publishes, func(a, b ttPublishRec) int { return strings.Compare(a.ID, b.ID) })
}

func nonNil[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}
