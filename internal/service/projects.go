package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/internal/blob"
	"outpost/internal/errcode"
	"outpost/internal/fetch"
	"outpost/internal/jobs"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/render"
	"outpost/internal/store"
)

// Projects are the sources to export: uploads, imports and timelines.
type Projects struct {
	store     *store.Store
	blob      *blob.Store
	files     *jobs.Files
	prober    *media.Prober
	ffmpeg    *media.Runner
	fetcher   *fetch.Client
	maxUpload int64
	tmpDir    string
	logger    *slog.Logger
}

var _ outpost.Projects = (*Projects)(nil)

// intake is a source being received: a temp file and what came with it.
type intake struct {
	path     string // temp file
	filename string // the client's name for it, for the extension and a default name
	name     string
	labels   outpost.Labels
	kind     store.ProjectKind
	url      string
}

// Upload makes a project of a multipart form: its "file" part is streamed
// to a temp file (no read deadline, at most the upload limit), probed,
// stored with a poster frame. Nothing is kept of a source that cannot be
// used.
func (s *Projects) Upload(ctx context.Context, workspaceID string, form *multipart.Reader) (outpost.Project, error) {
	in := intake{kind: store.ProjectUpload}
	defer s.remove(ctx, &in)
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return outpost.Project{}, s.multipartError(err)
		}
		switch field := part.FormName(); field {
		case "file":
			if in.path != "" {
				return outpost.Project{}, errcode.New(errcode.InvalidOption, "send one file per upload")
			}
			in.filename = part.FileName()
			if err := s.spool(&in, func(f *os.File) error { return s.copyLimited(f, part) }); err != nil {
				return outpost.Project{}, err
			}
		case "name", "client", "campaign":
			b, err := io.ReadAll(io.LimitReader(part, outpost.MaxLabelLen*4+1))
			if err != nil {
				return outpost.Project{}, s.multipartError(err)
			}
			v := strings.TrimSpace(string(b))
			if err := checkLabel(field, v); err != nil {
				return outpost.Project{}, err
			}
			switch field {
			case "name":
				in.name = v
			case "client":
				in.labels.Client = v
			case "campaign":
				in.labels.Campaign = v
			}
		default:
			return outpost.Project{}, errcode.New(errcode.InvalidOption, "unknown form field %q: send file, name, client, campaign", field)
		}
	}
	if in.path == "" {
		return outpost.Project{}, &errcode.Error{Code: errcode.InvalidOption, Message: "the form has no \"file\" field",
			Remedy: "Choose a video file and upload it again."}
	}
	return s.finish(ctx, workspaceID, &in)
}

// Import fetches a public URL through the SSRF-guarded fetcher and makes a
// project of it.
func (s *Projects) Import(ctx context.Context, workspaceID string, req outpost.Import) (outpost.Project, error) {
	raw := strings.TrimSpace(req.SourceURL)
	if raw == "" {
		return outpost.Project{}, &errcode.Error{Code: errcode.InvalidOption, Message: "source_url is required",
			Remedy: "Give the link of a video file (http:// or https://), or upload the file."}
	}
	in := intake{kind: store.ProjectURL, url: raw, name: strings.TrimSpace(req.Name),
		labels: outpost.Labels{Client: strings.TrimSpace(req.Labels.Client), Campaign: strings.TrimSpace(req.Labels.Campaign)}}
	for _, l := range []struct{ field, v string }{{"name", in.name}, {"client", in.labels.Client}, {"campaign", in.labels.Campaign}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return outpost.Project{}, err
		}
	}
	defer s.remove(ctx, &in)
	if err := s.spool(&in, func(f *os.File) error {
		res, err := s.fetcher.Fetch(ctx, raw, f)
		in.filename = res.Filename
		return err
	}); err != nil {
		return outpost.Project{}, err
	}
	return s.finish(ctx, workspaceID, &in)
}

// spool writes a source into a new temp file with fill.
func (s *Projects) spool(in *intake, fill func(f *os.File) error) error {
	f, err := os.CreateTemp(s.tmpDir, "source-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	in.path = f.Name()
	err = fill(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write temp file: %w", cerr)
	}
	return err
}

func (s *Projects) remove(ctx context.Context, in *intake) {
	if in.path == "" {
		return
	}
	if err := os.Remove(in.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.logger.WarnContext(ctx, "remove temp file", slog.String("path", in.path), slog.Any("error", err))
	}
}

// copyLimited copies src to dst, failing with PayloadTooLarge past the
// upload limit.
func (s *Projects) copyLimited(dst io.Writer, src io.Reader) error {
	n, err := io.Copy(dst, io.LimitReader(src, s.maxUpload+1))
	if err != nil {
		return s.multipartError(err)
	}
	if n > s.maxUpload {
		return s.tooLarge()
	}
	return nil
}

func (s *Projects) tooLarge() error {
	return &errcode.Error{Code: errcode.PayloadTooLarge,
		Message: fmt.Sprintf("the file is larger than the upload limit of %d bytes", s.maxUpload),
		Remedy:  "Upload a smaller master (for example H.264 at a lower bitrate), or raise OUTPOST_MAX_UPLOAD_BYTES."}
}

// multipartError classifies a failure to read a multipart body: over the
// body's limit, or cut short.
func (s *Projects) multipartError(err error) error {
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		return s.tooLarge()
	}
	var coded *errcode.Error
	if errors.As(err, &coded) {
		return coded
	}
	return errcode.Wrap(errcode.SourceTruncated, err, "the upload was cut short")
}

// finish probes the spooled source, stores it and its poster frame, and
// creates the project. A source that cannot be used leaves nothing behind.
func (s *Projects) finish(ctx context.Context, workspaceID string, in *intake) (outpost.Project, error) {
	info, err := s.prober.Probe(ctx, in.path)
	if err != nil {
		// The intake file's name is this server's business: the message
		// says "the file".
		if e := errcode.As(err); e.Code != errcode.Internal {
			c := *e
			c.Message = strings.NewReplacer(in.path, "the file", filepath.Base(in.path), "the file").Replace(e.Message)
			return outpost.Project{}, &c
		}
		return outpost.Project{}, err
	}
	if info.Video == nil {
		return outpost.Project{}, errcode.New(errcode.SourceNoVideo, "the file has no video stream (is it audio only?)")
	}
	id := store.NewID(store.PrefixProject)
	ext := sourceExt(in.filename, info)
	key, err := blob.Key("projects", id, "source."+ext)
	if err != nil {
		return outpost.Project{}, fmt.Errorf("source key: %w", err)
	}
	ctype := mime.TypeByExtension("." + ext)
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if _, err := s.blob.PutFile(ctx, key, in.path, ctype); err != nil {
		return outpost.Project{}, fmt.Errorf("store source: %w", err)
	}
	poster := s.storePoster(ctx, id, in.path, info.Duration)
	info.Path = ""
	probe, err := json.Marshal(info)
	if err != nil {
		return outpost.Project{}, fmt.Errorf("encode probe: %w", err)
	}
	name := in.name
	if name == "" {
		name = strings.TrimSuffix(in.filename, path.Ext(in.filename))
	}
	if name == "" {
		name = "Untitled " + id[len(id)-6:]
	}
	p, err := s.store.CreateProject(ctx, store.Project{
		ID: id, WorkspaceID: workspaceID, Name: name, Kind: in.kind,
		SourceKey: key, SourceURL: in.url, Probe: probe, Status: store.ProjectReady,
		Client: in.labels.Client, Campaign: in.labels.Campaign,
		SizeBytes: info.SizeBytes, Duration: info.Duration, ThumbnailKey: poster,
	})
	if err != nil {
		dctx := context.WithoutCancel(ctx)
		for _, k := range []string{key, poster} {
			if k == "" {
				continue
			}
			if derr := s.blob.Delete(dctx, k); derr != nil {
				s.logger.WarnContext(ctx, "delete orphan blob", slog.String("blob_key", k), slog.Any("error", derr))
			}
		}
		return outpost.Project{}, fmt.Errorf("create project: %w", err)
	}
	s.logger.InfoContext(ctx, "project created", "project_id", p.ID, "kind", p.Kind, "size_bytes", p.SizeBytes)
	return projectView(p), nil
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
// key, or "" when that failed (a placeholder is shown instead).
func (s *Projects) storePoster(ctx context.Context, projectID, srcPath string, duration float64) string {
	out := filepath.Join(s.tmpDir, "poster-"+projectID+".jpg")
	defer os.Remove(out)
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.ffmpeg.Run(pctx, posterArgs(srcPath, duration, out), 0, nil); err != nil {
		s.logger.WarnContext(ctx, "extract poster frame", "project_id", projectID, "error", err)
		return ""
	}
	key, err := blob.Key("projects", projectID, "poster.jpg")
	if err == nil {
		_, err = s.blob.PutFile(ctx, key, out, "image/jpeg")
	}
	if err != nil {
		s.logger.WarnContext(ctx, "store poster frame", "project_id", projectID, "error", err)
		return ""
	}
	return key
}

const placeholderPoster = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 90"><rect width="160" height="90" fill="#cfd8dc"/>` +
	`<path d="M70 32v26l22-13z" fill="#78909c"/></svg>`

// Poster opens a project's poster frame. A project without one (a timeline,
// or one made before posters) gets one on first request when its source is
// on local storage; otherwise a placeholder.
func (s *Projects) Poster(ctx context.Context, workspaceID, id string) (outpost.Poster, error) {
	p, err := projectIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.Poster{}, err
	}
	if p.ThumbnailKey == "" {
		if src := s.files.LocalPath(p.SourceKey); src != "" {
			if key := s.storePoster(ctx, p.ID, src, p.Duration); key != "" {
				p.ThumbnailKey = key
				if _, err := s.store.UpdateProject(ctx, p); err != nil {
					s.logger.WarnContext(ctx, "record poster frame", "project_id", p.ID, "error", err)
				}
			}
		}
	}
	if p.ThumbnailKey != "" {
		if rd, err := s.blob.Open(ctx, p.ThumbnailKey); err == nil {
			return outpost.Poster{ReadCloser: rd, ContentType: "image/jpeg"}, nil
		}
	}
	return outpost.Poster{ReadCloser: io.NopCloser(strings.NewReader(placeholderPoster)), ContentType: "image/svg+xml"}, nil
}

// List returns a page of the workspace's projects, newest first.
func (s *Projects) List(ctx context.Context, workspaceID string, q outpost.ProjectQuery) (outpost.ProjectPage, error) {
	pg, err := s.store.ListProjects(ctx, store.ProjectFilter{WorkspaceID: workspaceID, Q: strings.TrimSpace(q.Q),
		Client: strings.TrimSpace(q.Client), Campaign: strings.TrimSpace(q.Campaign), Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return outpost.ProjectPage{}, coded(err, "project", "")
	}
	out := outpost.ProjectPage{NextCursor: pg.NextCursor, Projects: make([]outpost.Project, len(pg.Projects))}
	for i, p := range pg.Projects {
		out.Projects[i] = projectView(p)
	}
	return out, nil
}

// Get returns one of the workspace's projects.
func (s *Projects) Get(ctx context.Context, workspaceID, id string) (outpost.Project, error) {
	p, err := projectIn(ctx, s.store, workspaceID, id)
	if err != nil {
		return outpost.Project{}, err
	}
	return projectView(p), nil
}

// Labels lists the client and campaign labels of the workspace's projects
// and exports, sorted.
func (s *Projects) Labels(ctx context.Context, workspaceID string) (clients, campaigns []string, err error) {
	pg, err := s.store.ListProjects(ctx, store.ProjectFilter{WorkspaceID: workspaceID, Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	ex, err := s.store.ListExports(ctx, store.ExportFilter{WorkspaceID: workspaceID, Limit: 500})
	if err != nil {
		return nil, nil, err
	}
	add := func(list []string, v string) []string {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
		return list
	}
	for _, p := range pg.Projects {
		clients, campaigns = add(clients, p.Client), add(campaigns, p.Campaign)
	}
	for _, e := range ex.Exports {
		clients, campaigns = add(clients, e.Client), add(campaigns, e.Campaign)
	}
	slices.Sort(clients)
	slices.Sort(campaigns)
	return clients, campaigns, nil
}

// Folders lists the workspace's clients with their campaigns and how many
// projects and exports each holds, clients by name, work without a client
// last; a client's own count includes its campaigns'.
func (s *Projects) Folders(ctx context.Context, workspaceID string) ([]outpost.Folder, error) {
	counts, err := s.store.CountLabels(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	var named []outpost.Folder
	none := outpost.Folder{}
	for _, c := range counts {
		f := &none
		if c.Client != "" {
			if len(named) == 0 || named[len(named)-1].Client != c.Client {
				named = append(named, outpost.Folder{Client: c.Client})
			}
			f = &named[len(named)-1]
		}
		f.Projects += c.Projects
		f.Exports += c.Exports
		if c.Campaign != "" {
			f.Campaigns = append(f.Campaigns, outpost.CampaignFolder{Campaign: c.Campaign, Projects: c.Projects, Exports: c.Exports})
		}
	}
	if none.Projects+none.Exports > 0 {
		named = append(named, none)
	}
	return named, nil
}

// CreateTimeline checks a timeline against its clips' projects and stores
// it as a ready project, whose probe describes the joined video
// (render.Timeline.Source), so exports validate it like any source.
func (s *Projects) CreateTimeline(ctx context.Context, workspaceID string, req outpost.TimelineProject) (outpost.Project, error) {
	name := strings.TrimSpace(req.Name)
	for _, l := range []struct{ field, v string }{{"name", name}, {"client", req.Labels.Client}, {"campaign", req.Labels.Campaign}} {
		if err := checkLabel(l.field, l.v); err != nil {
			return outpost.Project{}, err
		}
	}
	tl := req.Timeline
	info, err := s.timelineSource(ctx, workspaceID, tl)
	if err != nil {
		return outpost.Project{}, err
	}
	raw, err := json.Marshal(tl)
	if err != nil {
		return outpost.Project{}, fmt.Errorf("encode timeline: %w", err)
	}
	info.Path = ""
	probe, err := json.Marshal(info)
	if err != nil {
		return outpost.Project{}, fmt.Errorf("encode probe: %w", err)
	}
	if name == "" {
		name = fmt.Sprintf("Timeline of %d clips", len(tl.Clips))
	}
	p, err := s.store.CreateProject(ctx, store.Project{WorkspaceID: workspaceID, Name: name, Kind: store.ProjectTimeline,
		Timeline: raw, Probe: probe, Status: store.ProjectReady, Client: strings.TrimSpace(req.Labels.Client),
		Campaign: strings.TrimSpace(req.Labels.Campaign), Duration: info.Duration})
	if err != nil {
		return outpost.Project{}, err
	}
	return projectView(p), nil
}

// timelineSource validates tl with its projects' probes and returns the
// source it amounts to.
func (s *Projects) timelineSource(ctx context.Context, workspaceID string, tl outpost.Timeline) (*media.Info, error) {
	if len(tl.Clips) == 0 {
		return nil, errcode.New(errcode.TimelineInvalid, "timeline.clips: give at least one clip")
	}
	if len(tl.Clips) > render.MaxClips {
		return nil, errcode.New(errcode.TimelineInvalid, "timeline.clips: at most %d", render.MaxClips)
	}
	rt := render.Timeline{Crossfade: tl.Crossfade, Main: tl.Main}
	for i, c := range tl.Clips {
		_, info, err := s.files.ClipProject(ctx, workspaceID, c.ProjectID, fmt.Sprintf("timeline.clips[%d]", i))
		if err != nil {
			return nil, err
		}
		info.Path = c.ProjectID
		rt.Clips = append(rt.Clips, render.Clip{Info: info, In: c.In, Out: c.Out})
	}
	if tl.AudioBedProjectID != "" {
		_, info, err := s.files.ClipProject(ctx, workspaceID, tl.AudioBedProjectID, "timeline.audio_bed_project_id")
		if err != nil {
			return nil, err
		}
		if info.Audio == nil {
			return nil, errcode.New(errcode.TimelineInvalid, "timeline.audio_bed_project_id: project %s has no sound", tl.AudioBedProjectID)
		}
		rt.Bed = &render.AudioBed{Path: tl.AudioBedProjectID, Volume: tl.AudioBedVolume}
	}
	return rt.Source()
}

// checkLabel accepts one line of at most MaxLabelLen characters.
func checkLabel(field, v string) error {
	if utf8.RuneCountInString(v) > outpost.MaxLabelLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
		return errcode.New(errcode.InvalidOption, "%s: at most %d characters of one-line text", field, outpost.MaxLabelLen)
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

// removeStaleIntake deletes intake temp files a killed process left
// behind. Only old ones: another process on the same data dir may be
// receiving an upload right now.
func removeStaleIntake(dir string, age time.Duration, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		if !strings.HasPrefix(de.Name(), "source-") {
			continue
		}
		if fi, err := de.Info(); err == nil && now.Sub(fi.ModTime()) > age {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}
