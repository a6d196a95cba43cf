package ui

import (
	"context"
	"crypto/subtle"
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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/store"
)

// projectCard is a project in the list.
type projectCard struct {
	store.Project
	Info   *media.Info
	Shape  string
	Poster string
}

type projectsData struct {
	Projects       []projectCard
	NextCursor     string
	Q              string
	MaxUploadBytes int64
	MaxUpload      string
	// Open is a project whose export modal opens at once ("Export
	// another version").
	Open string
}

func (h *Handler) projectsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pg, err := h.store.ListProjects(r.Context(), store.ProjectFilter{
		WorkspaceID: workspaceOf(r), Q: strings.TrimSpace(q.Get("q")), Limit: 48, Cursor: q.Get("cursor"),
	})
	if errors.Is(err, store.ErrInvalidCursor) {
		return errcode.New(errcode.InvalidOption, "that page link is out of date: start from the first page")
	}
	if err != nil {
		return err
	}
	d := projectsData{NextCursor: pg.NextCursor, Q: q.Get("q"), MaxUploadBytes: h.cfg.MaxUploadBytes,
		MaxUpload: humanBytes(h.cfg.MaxUploadBytes), Open: q.Get("export")}
	for _, p := range pg.Projects {
		d.Projects = append(d.Projects, card(p))
	}
	h.render(w, r, http.StatusOK, "projects", page{Title: "Projects", Nav: "projects", Data: d})
	return nil
}

func card(p store.Project) projectCard {
	c := projectCard{Project: p, Poster: "/projects/" + p.ID + "/poster", Shape: shapeLandscape}
	if len(p.Probe) > 0 {
		var info media.Info
		if json.Unmarshal(p.Probe, &info) == nil {
			c.Info = &info
			c.Shape = shapeOf(&info)
		}
	}
	return c
}

// source is an intake in progress: a temp file and what came with it.
type source struct {
	path     string
	filename string
	name     string
	client   string
	campaign string
	kind     store.ProjectKind
	url      string
}

func (src *source) remove(h *Handler, ctx context.Context) {
	if src.path == "" {
		return
	}
	if err := os.Remove(src.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		h.logger.WarnContext(ctx, "remove temp file", slog.String("path", src.path), slog.Any("error", err))
	}
}

// uploadProject streams a multipart upload to a temp file (no size held in
// memory, no read deadline), probes it, stores it with a poster frame and
// creates the project. Without a CSRF header the token must be the form's
// first field, so that it is checked before the file is read.
func (h *Handler) uploadProject(w http.ResponseWriter, r *http.Request) error {
	// Large uploads outlast any server-wide read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUploadBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return errcode.New(errcode.InvalidOption, "the upload is not a file form: choose a file and upload again")
	}
	src := source{kind: store.ProjectUpload}
	defer src.remove(h, r.Context())
	tokenOK := r.Header.Get(csrfHeader) != "" // checked by auth
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return multipartError(err, h.cfg.MaxUploadBytes)
		}
		field := part.FormName()
		if !tokenOK {
			if field != csrfField {
				return &csrfError{}
			}
			v, _ := io.ReadAll(io.LimitReader(part, 200))
			if subtle.ConstantTimeCompare(v, []byte(viewerOf(r).CSRF)) != 1 {
				return &csrfError{}
			}
			tokenOK = true
			continue
		}
		switch field {
		case "file":
			if src.path != "" {
				return errcode.New(errcode.InvalidOption, "send one file per upload")
			}
			src.filename = part.FileName()
			if err := h.spool(&src, func(f *os.File) error {
				return copyLimited(f, part, h.cfg.MaxUploadBytes)
			}); err != nil {
				return err
			}
		case "name", "client", "campaign", csrfField:
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
			return errcode.New(errcode.InvalidOption, "unknown form field %q", field)
		}
	}
	if src.path == "" {
		return errcode.New(errcode.InvalidOption, "no file was chosen: choose a video file and upload again")
	}
	p, err := h.finishProject(r.Context(), workspaceOf(r), &src)
	if err != nil {
		return err
	}
	return h.projectCreated(w, r, p)
}

func (h *Handler) projectCreated(w http.ResponseWriter, r *http.Request, p store.Project) error {
	if wantsJSON(r) {
		h.writeJSON(w, http.StatusCreated, map[string]string{"id": p.ID, "name": p.Name, "url": "/projects#" + p.ID})
		return nil
	}
	http.Redirect(w, r, "/projects#"+p.ID, http.StatusSeeOther)
	return nil
}

// importProject fetches a public URL through the SSRF-guarded fetcher (the
// same guard as the API's import) and makes a project of it.
func (h *Handler) importProject(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	raw := strings.TrimSpace(r.PostFormValue("source_url"))
	if raw == "" {
		return errcode.New(errcode.InvalidOption, "paste the link of a video file (http:// or https://)")
	}
	src := source{kind: store.ProjectURL, url: raw}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &src.name}, {"client", &src.client}, {"campaign", &src.campaign}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if err := checkLabel(f.name, v); err != nil {
			return err
		}
		*f.dst = v
	}
	defer src.remove(h, r.Context())
	if err := h.spool(&src, func(f *os.File) error {
		res, err := h.fetcher.Fetch(r.Context(), raw, f)
		src.filename = res.Filename
		return err
	}); err != nil {
		return err
	}
	p, err := h.finishProject(r.Context(), workspaceOf(r), &src)
	if err != nil {
		return err
	}
	return h.projectCreated(w, r, p)
}

func (h *Handler) spool(src *source, fill func(f *os.File) error) error {
	f, err := os.CreateTemp(h.tmpDir, "source-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	src.path = f.Name()
	err = fill(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write temp file: %w", cerr)
	}
	return err
}

// finishProject probes the spooled source, stores it and its poster frame,
// and creates the project. A source that cannot be used leaves nothing
// behind.
func (h *Handler) finishProject(ctx context.Context, workspaceID string, src *source) (store.Project, error) {
	info, err := h.prober.Probe(ctx, src.path)
	if err != nil {
		return store.Project{}, err
	}
	if info.Video == nil {
		return store.Project{}, errcode.New(errcode.SourceNoVideo, "the file has no video stream (is it audio only?)")
	}
	id := store.NewID(store.PrefixProject)
	ext := sourceExt(src.filename, info)
	key, err := blob.Key("projects", id, "source."+ext)
	if err != nil {
		return store.Project{}, fmt.Errorf("source key: %w", err)
	}
	ctype := mime.TypeByExtension("." + ext)
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if _, err := h.blob.PutFile(ctx, key, src.path, ctype); err != nil {
		return store.Project{}, fmt.Errorf("store source: %w", err)
	}
	thumb := h.storePoster(ctx, id, src.path, info.Duration)
	info.Path = ""
	probe, err := json.Marshal(info)
	if err != nil {
		return store.Project{}, fmt.Errorf("encode probe: %w", err)
	}
	name := strings.TrimSpace(src.name)
	if name == "" {
		name = strings.TrimSuffix(src.filename, path.Ext(src.filename))
	}
	if name == "" {
		name = "Untitled " + id[len(id)-6:]
	}
	p, err := h.store.CreateProject(ctx, store.Project{
		ID: id, WorkspaceID: workspaceID, Name: name, Kind: src.kind,
		SourceKey: key, SourceURL: src.url, Probe: probe, Status: store.ProjectReady,
		Client: src.client, Campaign: src.campaign,
		SizeBytes: info.SizeBytes, Duration: info.Duration, ThumbnailKey: thumb,
	})
	if err != nil {
		dctx := context.WithoutCancel(ctx)
		for _, k := range []string{key, thumb} {
			if k == "" {
				continue
			}
			if derr := h.blob.Delete(dctx, k); derr != nil {
				h.logger.WarnContext(ctx, "delete orphan blob", slog.String("blob_key", k), slog.Any("error", derr))
			}
		}
		return store.Project{}, fmt.Errorf("create project: %w", err)
	}
	h.logger.InfoContext(ctx, "project created", "project_id", p.ID, "kind", p.Kind, "size_bytes", p.SizeBytes)
	return p, nil
}

// posterArgs is the ffmpeg argv of a poster frame: one JPEG at most 640 px
// on its long side, taken a little way in (first frames are often black).
func posterArgs(srcPath string, duration float64, out string) []string {
	at := min(duration*0.25, 3)
	return []string{
		"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", srcPath,
		"-frames:v", "1", "-an", "-sn",
		"-vf", "scale=w=640:h=640:force_original_aspect_ratio=decrease",
		"-q:v", "4", "-f", "image2", "-update", "1", out,
	}
}

// storePoster extracts a poster frame and stores it; it returns its blob
// key, or "" when that failed (the UI then shows a placeholder).
func (h *Handler) storePoster(ctx context.Context, projectID, srcPath string, duration float64) string {
	out := filepath.Join(h.tmpDir, "poster-"+projectID+".jpg")
	defer os.Remove(out)
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := h.runner.Run(pctx, posterArgs(srcPath, duration, out), 0, nil); err != nil {
		h.logger.WarnContext(ctx, "extract poster frame", "project_id", projectID, "error", err)
		return ""
	}
	key, err := blob.Key("projects", projectID, "poster.jpg")
	if err == nil {
		_, err = h.blob.PutFile(ctx, key, out, "image/jpeg")
	}
	if err != nil {
		h.logger.WarnContext(ctx, "store poster frame", "project_id", projectID, "error", err)
		return ""
	}
	return key
}

// poster serves a project's poster frame. Projects made through the API
// have none yet: one is made on first request when the source is on local
// storage; otherwise a placeholder is served.
func (h *Handler) poster(w http.ResponseWriter, r *http.Request) error {
	p, err := h.projectInWorkspace(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	if p.ThumbnailKey == "" && p.SourceKey != "" && h.localBlobDir != "" {
		srcPath := filepath.Join(h.localBlobDir, filepath.FromSlash(p.SourceKey))
		if _, serr := os.Stat(srcPath); serr == nil {
			if key := h.storePoster(ctx, p.ID, srcPath, p.Duration); key != "" {
				p.ThumbnailKey = key
				if _, err := h.store.UpdateProject(ctx, p); err != nil {
					h.logger.WarnContext(ctx, "record poster frame", "project_id", p.ID, "error", err)
				}
			}
		}
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	if p.ThumbnailKey == "" {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = io.WriteString(w, placeholderPoster)
		return nil
	}
	rd, err := h.blob.Open(ctx, p.ThumbnailKey)
	if err != nil {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = io.WriteString(w, placeholderPoster)
		return nil
	}
	defer rd.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = io.Copy(w, rd)
	return nil
}

const placeholderPoster = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 90"><rect width="160" height="90" fill="#cfd8dc"/>` +
	`<path d="M70 32v26l22-13z" fill="#78909c"/></svg>`

// projectInWorkspace returns the viewer's project id, or not found.
func (h *Handler) projectInWorkspace(r *http.Request, id string) (store.Project, error) {
	p, err := h.store.GetProject(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && p.WorkspaceID != workspaceOf(r) {
		return store.Project{}, errcode.New(errcode.NotFound, "project %s does not exist in this workspace", id)
	}
	return p, err
}

// copyLimited copies src to dst, failing with PayloadTooLarge past max.
func copyLimited(dst io.Writer, src io.Reader, max int64) error {
	n, err := io.Copy(dst, io.LimitReader(src, max+1))
	if err != nil {
		return multipartError(err, max)
	}
	if n > max {
		return errcode.New(errcode.PayloadTooLarge, "the file is larger than the upload limit of %s", humanBytes(max))
	}
	return nil
}

func multipartError(err error, max int64) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return errcode.New(errcode.PayloadTooLarge, "the file is larger than the upload limit of %s", humanBytes(max))
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return coded
	}
	return errcode.Wrap(errcode.SourceTruncated, err, "the upload was cut short")
}

// formValue reads a small text field of a multipart form.
func formValue(part io.Reader, field string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxLabelLen*4+1))
	if err != nil {
		return "", multipartError(err, 0)
	}
	v := strings.TrimSpace(string(b))
	return v, checkLabel(field, v)
}

func checkLabel(field, v string) error {
	if utf8.RuneCountInString(v) > maxLabelLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
		return errcode.New(errcode.InvalidOption, "%s: use at most %d characters on one line", field, maxLabelLen)
	}
	return nil
}

// sourceExts are the extensions a source keeps from its file name.
var sourceExts = map[string]bool{
	"mp4": true, "m4v": true, "mov": true, "mkv": true, "webm": true, "avi": true, "mxf": true,
	"mts": true, "m2ts": true, "ts": true, "mpg": true, "mpeg": true, "wmv": true, "flv": true,
	"3gp": true, "ogv": true, "gif": true,
}

// sourceExt picks the stored source's extension (as the API does): the
// file's own if it is a known video extension, else the container's.
func sourceExt(filename string, info *media.Info) string {
	if ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(filename), ".")); sourceExts[ext] {
		return ext
	}
	format, _, _ := strings.Cut(info.FormatName, ",")
	switch format {
	case "mov":
		return "mp4"
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
