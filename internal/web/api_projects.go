package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/store"
)

// projectJSON is a project as the API shows it.
type projectJSON struct {
	ID        string              `json:"id"`
	Name      string              `json:"name"`
	Kind      store.ProjectKind   `json:"kind"`
	Status    store.ProjectStatus `json:"status"`
	SourceURL string              `json:"source_url,omitempty"`
	// Media is the source's probe.
	Media           *media.Info     `json:"media"`
	SizeBytes       int64           `json:"size_bytes"`
	DurationSeconds float64         `json:"duration_seconds"`
	Labels          labelsJSON      `json:"labels"`
	Error           *codedErrorJSON `json:"error"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// labelsJSON are the labels that organise exports and projects.
type labelsJSON struct {
	Client   string `json:"client,omitempty"`
	Campaign string `json:"campaign,omitempty"`
}

// projectUploadForm is the multipart/form-data body of an upload.
type projectUploadForm struct {
	File     formFile `json:"file"` // the master, streamed; at most OUTPOST_MAX_UPLOAD_BYTES
	Name     string   `json:"name,omitempty"`
	Client   string   `json:"client,omitempty"`
	Campaign string   `json:"campaign,omitempty"`
}

// formFile is a file part of a multipart form (for the OpenAPI document).
type formFile struct{}

// projectURLRequest creates a project from a public URL.
type projectURLRequest struct {
	SourceURL string `json:"source_url,omitempty"`
	Name      string `json:"name,omitempty"`
	Client    string `json:"client,omitempty"`
	Campaign  string `json:"campaign,omitempty"`
	// Timeline, instead of source_url, makes a timeline project: clips of
	// other projects (in and out points in seconds), crossfades and an
	// audio bed, joined in the export's one render.
	Timeline *jobs.Timeline `json:"timeline,omitempty"`
}

const maxLabelLen = 200

func projectView(p store.Project) projectJSON {
	v := projectJSON{
		ID: p.ID, Name: p.Name, Kind: p.Kind, Status: p.Status, SourceURL: p.SourceURL,
		SizeBytes: p.SizeBytes, DurationSeconds: p.Duration,
		Labels:    labelsJSON{Client: p.Client, Campaign: p.Campaign},
		Error:     codedError(p.ErrorCode, p.ErrorMessage),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if len(p.Probe) > 0 {
		var info media.Info
		if json.Unmarshal(p.Probe, &info) == nil {
			info.Path = ""
			v.Media = &info
		}
	}
	return v
}

// createProject takes a multipart upload or a JSON source_url.
//
// A source that cannot be used (not a video, cut short, no video stream,
// unreachable URL) is refused with 422 and its code, and nothing is kept:
// no project row, no blob, no temp file. Only usable sources become
// projects, so every project in a list can be exported.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case ct == "" || err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")):
		r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
		return s.importProject(w, r)
	case err == nil && mt == "multipart/form-data":
		if params["boundary"] == "" {
			return errcode.New(errcode.InvalidOption, "multipart/form-data without a boundary")
		}
		return s.uploadProject(w, r)
	}
	return errcode.New(errcode.UnsupportedMediaType, "Content-Type %q is not accepted: upload a file as multipart/form-data or send {\"source_url\"} as application/json", ct)
}

// source is an intake in progress: a local temp file and what came with it.
type source struct {
	path     string // temp file
	filename string // the client's name for it, for the extension and a default name
	name     string
	client   string
	campaign string
	kind     store.ProjectKind
	url      string
}

func (s *Server) uploadProject(w http.ResponseWriter, r *http.Request) error {
	// Large uploads outlast any server-wide read timeout; the size cap and
	// the client's own connection bound them instead.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	mr, err := r.MultipartReader()
	if err != nil {
		return errcode.Wrap(errcode.InvalidOption, err, "the body is not a multipart form")
	}
	src := source{kind: store.ProjectUpload}
	defer src.remove(s, r.Context())
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return multipartError(err)
		}
		switch field := part.FormName(); field {
		case "file":
			if src.path != "" {
				return errcode.New(errcode.InvalidOption, "send one file per upload")
			}
			src.filename = part.FileName()
			if err := s.spool(&src, func(f *os.File) (int64, error) {
				return copyLimited(f, part, s.cfg.MaxUploadBytes)
			}); err != nil {
				return err
			}
		case "name", "client", "campaign":
			v, err := formValue(part, field)
			if err != nil {
				return err
			}
			switch field {
			case "name":
				src.name = v
			case "client":
				src.client = v
			case "campaign":
				src.campaign = v
			}
		default:
			return errcode.New(errcode.InvalidOption, "unknown form field %q: send file, name, client, campaign", field)
		}
	}
	if src.path == "" {
		return errcode.New(errcode.InvalidOption, "the form has no \"file\" field")
	}
	return s.finishProject(w, r, &src)
}

func (s *Server) importProject(w http.ResponseWriter, r *http.Request) error {
	var req projectURLRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Timeline != nil {
		if req.SourceURL != "" {
			return errcode.New(errcode.InvalidOption, "give source_url or timeline, not both")
		}
		return s.createTimelineProject(w, r, timelineProjectRequest{Name: req.Name, Client: req.Client,
			Campaign: req.Campaign, Timeline: *req.Timeline})
	}
	if strings.TrimSpace(req.SourceURL) == "" {
		return errcode.New(errcode.InvalidOption, "source_url is required (or upload the file as multipart/form-data)")
	}
	src := source{kind: store.ProjectURL, url: req.SourceURL, name: req.Name, client: req.Client, campaign: req.Campaign}
	for _, l := range []struct{ field, v string }{{"name", req.Name}, {"client", req.Client}, {"campaign", req.Campaign}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return err
		}
	}
	defer src.remove(s, r.Context())
	if err := s.spool(&src, func(f *os.File) (int64, error) {
		res, err := s.fetcher.Fetch(r.Context(), req.SourceURL, f)
		src.filename = res.Filename
		return res.Size, err
	}); err != nil {
		return err
	}
	return s.finishProject(w, r, &src)
}

// spool writes a source into a new temp file with fill; the file is removed
// with the source.
func (s *Server) spool(src *source, fill func(f *os.File) (int64, error)) error {
	f, err := os.CreateTemp(s.tmpDir, "source-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	src.path = f.Name()
	_, err = fill(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write temp file: %w", cerr)
	}
	return err
}

func (src *source) remove(s *Server, ctx context.Context) {
	if src.path == "" {
		return
	}
	if err := os.Remove(src.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.logger.WarnContext(ctx, "remove temp file", slog.String("path", src.path), slog.Any("error", err))
	}
}

// finishProject probes the spooled source, stores it and creates the
// project.
func (s *Server) finishProject(w http.ResponseWriter, r *http.Request, src *source) error {
	ctx := r.Context()
	info, err := s.prober.Probe(ctx, src.path)
	if err != nil {
		return err
	}
	if info.Video == nil {
		return errcode.New(errcode.SourceNoVideo, "the file has no video stream")
	}
	id := store.NewID(store.PrefixProject)
	ext := sourceExt(src.filename, info)
	key, err := blob.Key("projects", id, "source."+ext)
	if err != nil {
		return fmt.Errorf("source key: %w", err)
	}
	ctype := mime.TypeByExtension("." + ext)
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if _, err := s.blob.PutFile(ctx, key, src.path, ctype); err != nil {
		return fmt.Errorf("store source: %w", err)
	}
	info.Path = ""
	probe, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode probe: %w", err)
	}
	name := strings.TrimSpace(src.name)
	if name == "" {
		name = strings.TrimSuffix(src.filename, path.Ext(src.filename))
	}
	if name == "" {
		name = "Untitled " + id[len(id)-6:]
	}
	p, err := s.store.CreateProject(ctx, store.Project{
		ID: id, WorkspaceID: workspaceOf(r), Name: name, Kind: src.kind,
		SourceKey: key, SourceURL: src.url, Probe: probe, Status: store.ProjectReady,
		Client: strings.TrimSpace(src.client), Campaign: strings.TrimSpace(src.campaign),
		SizeBytes: info.SizeBytes, Duration: info.Duration,
	})
	if err != nil {
		if derr := s.blob.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.logger.WarnContext(ctx, "delete orphan source", slog.String("blob_key", key), slog.Any("error", derr))
		}
		return fmt.Errorf("create project: %w", err)
	}
	s.writeJSON(w, r, http.StatusCreated, projectView(p))
	return nil
}

// copyLimited copies src to dst, failing with PayloadTooLarge past max
// bytes (the temp file is removed by the caller).
func copyLimited(dst io.Writer, src io.Reader, max int64) (int64, error) {
	n, err := io.Copy(dst, io.LimitReader(src, max+1))
	if err != nil {
		return n, multipartError(err)
	}
	if n > max {
		return n, errcode.New(errcode.PayloadTooLarge, "the file is larger than the limit of %d bytes", max)
	}
	return n, nil
}

func multipartError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return errcode.New(errcode.PayloadTooLarge, "the upload is larger than the limit of %d bytes", maxBytes.Limit)
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return coded
	}
	return errcode.Wrap(errcode.InvalidOption, err, "the multipart body is malformed or was cut short")
}

// formValue reads a small text field.
func formValue(part io.Reader, field string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxLabelLen+1))
	if err != nil {
		return "", multipartError(err)
	}
	v := strings.TrimSpace(string(b))
	return v, checkLabel(field, v)
}

func checkLabel(field, v string) error {
	if len(v) > maxLabelLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
		return errcode.New(errcode.InvalidOption, "%s: at most %d characters of one-line text", field, maxLabelLen)
	}
	return nil
}

// sourceExts are the extensions a source keeps from its file name.
var sourceExts = map[string]bool{
	"mp4": true, "m4v": true, "mov": true, "mkv": true, "webm": true, "avi": true, "mxf": true,
	"mts": true, "m2ts": true, "ts": true, "mpg": true, "mpeg": true, "wmv": true, "flv": true,
	"3gp": true, "ogv": true, "gif": true,
}

// sourceExt picks the stored source's extension: the client's if it is a
// known video extension, else one for the probed container.
func sourceExt(filename string, info *media.Info) string {
	if ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(filename), ".")); sourceExts[ext] {
		return ext
	}
	format, _, _ := strings.Cut(info.FormatName, ",")
	switch format {
	case "mov":
		return "mp4" // ffprobe names the whole ISO-BMFF family "mov,mp4,m4a,…"
	case "matroska":
		return "mkv"
	case "mpegts":
		return "ts"
	case "mpeg":
		return "mpg"
	}
	if sourceExts[format] {
		return format
	}
	return "bin"
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		return err
	}
	pg, err := s.store.ListProjects(r.Context(), store.ProjectFilter{
		WorkspaceID: workspaceOf(r), Q: r.URL.Query().Get("q"), Limit: limit, Cursor: cursor,
	})
	if err != nil {
		return err
	}
	views := make([]projectJSON, len(pg.Projects))
	for i, p := range pg.Projects {
		views[i] = projectView(p)
	}
	s.writeJSON(w, r, http.StatusOK, newPage(views, pg.NextCursor))
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p, err := s.store.GetProject(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
		return notFound("project", id)
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, projectView(p))
	return nil
}
