package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"outpost/internal/blob"
	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/outpost"
	"outpost/internal/preset"
	"outpost/internal/render"
	"outpost/internal/store"
)

// Files are the local copies of stored files that ffmpeg reads: sources,
// clips, watermarks and renditions to upload. With file:// storage the
// stored files are read in place.
type Files struct {
	store        *store.Store
	blob         *blob.Store
	workDir      string
	localBlobDir string
}

// WorkDir is the folder that renders, estimates and previews work in.
func (f *Files) WorkDir() string { return f.workDir }

// LocalPath is where the blob at key is on local (file://) storage, or ""
// when it is elsewhere or missing.
func (f *Files) LocalPath(key string) string {
	if f.localBlobDir == "" || key == "" {
		return ""
	}
	p := filepath.Join(f.localBlobDir, filepath.FromSlash(key))
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// EngineRequest gathers the local files of a render of spec's targets idx
// (rendered as targets) in dir: the project's source (or its timeline's
// clips), the intro and outro, the captions and each target's brand
// watermark.
func (f *Files) EngineRequest(ctx context.Context, workspaceID string, prj store.Project, spec outpost.ExportSpec,
	idx []int, targets []render.Target, dir string,
) (engine.Request, error) {
	ereq := engine.Request{Targets: targets, OutDir: dir, ThumbnailAt: spec.ThumbnailAt}
	var err error
	if c := spec.Captions; c != nil {
		// The engine reads captions from a file, as the CLI's --captions.
		ereq.Captions = filepath.Join(dir, "captions."+string(c.Format))
		ereq.CaptionsLanguage = c.Language // soft tracks carry it
		if err := os.WriteFile(ereq.Captions, []byte(c.Text), 0o600); err != nil {
			return ereq, fmt.Errorf("write captions: %w", err)
		}
	}
	if prj.Kind == store.ProjectTimeline && prj.SourceKey == "" {
		if ereq.Timeline, err = f.localTimeline(ctx, workspaceID, prj.Timeline, dir); err != nil {
			return ereq, err
		}
	} else if ereq.Source, err = f.sourcePath(ctx, prj, dir); err != nil {
		return ereq, err
	}
	if spec.IntroProjectID != "" {
		if ereq.Intro, err = f.clipPath(ctx, workspaceID, spec.IntroProjectID, dir, "the intro"); err != nil {
			return ereq, err
		}
	}
	if spec.OutroProjectID != "" {
		if ereq.Outro, err = f.clipPath(ctx, workspaceID, spec.OutroProjectID, dir, "the outro"); err != nil {
			return ereq, err
		}
	}
	for i, ti := range idx {
		if ti < 0 || ti >= len(spec.Targets) {
			continue
		}
		k := spec.Targets[ti].Kit
		if k == nil || k.WatermarkKey == "" {
			continue
		}
		ext := "png"
		if k.WatermarkFormat == "svg" {
			ext = "svg"
		}
		p, err := f.localBlob(ctx, k.WatermarkKey, filepath.Join(dir, "brand-"+k.ID+"."+ext))
		if errcode.Of(err) == errcode.SourceNotFound {
			err = errcode.New(errcode.BrandKitInvalid, "brand kit %s: its watermark image is gone from storage", k.Slug)
		}
		if err != nil {
			return ereq, err
		}
		if ereq.Targets[i].Watermark, err = kitWatermark(k, p); err != nil {
			return ereq, err
		}
	}
	return ereq, nil
}

// sourcePath returns a local path of the project's source: the blob itself
// for local storage, else a copy in dir.
func (f *Files) sourcePath(ctx context.Context, prj store.Project, dir string) (string, error) {
	if err := blob.ValidateKey(prj.SourceKey); err != nil {
		return "", errcode.Wrap(errcode.SourceNotFound, err, "the project has no valid source key")
	}
	return f.localBlob(ctx, prj.SourceKey, filepath.Join(dir, "source-"+prj.ID+path.Ext(prj.SourceKey)))
}

// localBlob returns a local path of the blob at key: the file itself for
// local storage, else a copy at dst. A missing blob is SourceNotFound.
func (f *Files) localBlob(ctx context.Context, key, dst string) (string, error) {
	if p := f.LocalPath(key); p != "" {
		return p, nil
	}
	if _, err := os.Stat(dst); err == nil {
		return dst, nil // fetched already (the same clip twice)
	}
	r, err := f.blob.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", errcode.Wrap(errcode.SourceNotFound, err, "the project's source file is gone from storage")
	}
	if err != nil {
		return "", fmt.Errorf("open source: %w", err)
	}
	defer r.Close()
	if err := copyFile(dst, r); err != nil {
		return "", fmt.Errorf("copy source: %w", err)
	}
	return dst, nil
}

// copyFile writes r to a new file at dst; a failed copy leaves no file.
func copyFile(dst string, r io.Reader) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		_ = os.Remove(dst)
		return err
	}
	if err := out.Close(); err != nil {
		_ = os.Remove(dst)
		return err
	}
	return nil
}

// BlobFile returns a local path of the blob at key, for an upload: the
// blob itself for local storage, else a copy in the work dir (named after
// job), removed by cleanup.
func (f *Files) BlobFile(ctx context.Context, key string, job int64) (string, func(), error) {
	if p := f.LocalPath(key); p != "" {
		return p, func() {}, nil
	}
	rd, err := f.blob.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return "", nil, errcode.Wrap(errcode.FileNotFound, err, "the file to post is gone from storage")
	}
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", key, err)
	}
	defer rd.Close()
	if err := os.MkdirAll(f.workDir, 0o750); err != nil {
		return "", nil, fmt.Errorf("create work dir: %w", err)
	}
	tmp, err := os.CreateTemp(f.workDir, fmt.Sprintf("publish-%d-*%s", job, path.Ext(key)))
	if err != nil {
		return "", nil, fmt.Errorf("create copy of %s: %w", key, err)
	}
	_ = tmp.Close()
	if err := copyFile(tmp.Name(), rd); err != nil {
		return "", nil, fmt.Errorf("copy %s: %w", key, err)
	}
	return tmp.Name(), func() { _ = os.Remove(tmp.Name()) }, nil
}

// ClipProject returns a project usable as a clip (a timeline's, an intro,
// an outro): in the workspace, ready, with a source file.
func (f *Files) ClipProject(ctx context.Context, workspaceID, id, what string) (store.Project, *media.Info, error) {
	prj, err := f.store.GetProject(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && prj.WorkspaceID != workspaceID {
		return prj, nil, errcode.New(errcode.NotFound, "%s: project %s not found", what, id)
	}
	if err != nil {
		return prj, nil, err
	}
	if prj.Status != store.ProjectReady || prj.SourceKey == "" || len(prj.Probe) == 0 {
		return prj, nil, errcode.New(errcode.TimelineInvalid, "%s: project %s is not a ready video (status %s, kind %s)", what, id, prj.Status, prj.Kind)
	}
	info := &media.Info{}
	if err := json.Unmarshal(prj.Probe, info); err != nil {
		return prj, nil, fmt.Errorf("read project %s probe: %w", id, err)
	}
	return prj, info, nil
}

// localTimeline turns a timeline project into an engine timeline of local
// files in dir.
func (f *Files) localTimeline(ctx context.Context, workspaceID string, raw json.RawMessage, dir string) (*engine.Timeline, error) {
	var tl outpost.Timeline
	if err := json.Unmarshal(raw, &tl); err != nil {
		return nil, errcode.Wrap(errcode.TimelineInvalid, err, "read the project's timeline")
	}
	out := &engine.Timeline{Crossfade: tl.Crossfade, Main: tl.Main}
	for i, c := range tl.Clips {
		p, err := f.clipPath(ctx, workspaceID, c.ProjectID, dir, fmt.Sprintf("timeline clip %d", i+1))
		if err != nil {
			return nil, err
		}
		out.Clips = append(out.Clips, engine.TimelineClip{Source: p, In: c.In, Out: c.Out})
	}
	if tl.AudioBedProjectID != "" {
		p, err := f.clipPath(ctx, workspaceID, tl.AudioBedProjectID, dir, "audio bed")
		if err != nil {
			return nil, err
		}
		out.Bed = &engine.Bed{Source: p, Volume: tl.AudioBedVolume}
	}
	return out, nil
}

// clipPath is a local path of a clip project's source.
func (f *Files) clipPath(ctx context.Context, workspaceID, id, dir, what string) (string, error) {
	prj, _, err := f.ClipProject(ctx, workspaceID, id, what)
	if err != nil {
		if errcode.Of(err) == errcode.NotFound {
			err = errcode.Wrap(errcode.SourceNotFound, err, what+" is gone")
		}
		return "", err
	}
	return f.sourcePath(ctx, prj, dir)
}

// kitWatermark is the render watermark of a kit whose image is at p.
func kitWatermark(k *outpost.KitSnapshot, p string) (*render.Watermark, error) {
	pos, err := render.ParsePosition(k.Position)
	if err != nil {
		return nil, errcode.Wrap(errcode.BrandKitInvalid, err, "brand kit "+k.Slug)
	}
	return &render.Watermark{Path: p, Position: pos, Margin: k.Margin, Width: k.Width, Opacity: k.Opacity}, nil
}

// BrandKitKey is where a kit's watermark image is stored: a new key per
// upload, so exports that snapshotted the old one keep it.
func BrandKitKey(kitID, format string) (string, error) {
	return blob.Key("brand-kits", kitID, store.NewID("img")+"."+path.Clean(format))
}

// RenderTarget builds the render target of spec's target i.
func RenderTarget(spec outpost.ExportSpec, i int) (render.Target, error) {
	if i < 0 || i >= len(spec.Targets) {
		return render.Target{}, errcode.New(errcode.InvalidOption, "the export request has no target %d", i)
	}
	rt := spec.Targets[i]
	p, err := preset.Lookup(rt.Base)
	if err != nil {
		return render.Target{}, errcode.New(errcode.UnknownPreset, "unknown preset %q", rt.Base)
	}
	level, err := preset.ParseLevel(rt.Quality)
	if err != nil {
		return render.Target{}, errcode.New(errcode.InvalidOption, "quality %q: %v", rt.Quality, err)
	}
	fit, err := preset.ParseFit(rt.Fit)
	if err != nil {
		return render.Target{}, errcode.New(errcode.InvalidOption, "fit %q: %v", rt.Fit, err)
	}
	t := render.Target{Preset: p, Quality: level, Fit: fit, FPS: rt.FPS, VideoKbps: rt.VideoKbps, Thumbnail: true}
	if spec.Captions != nil {
		t.Captions = renderCaptions(p, rt.CaptionsMode)
	}
	ApplyLoudness(&t, rt.Loudness, spec.TruePeak)
	return t, nil
}

// renderCaptions is how a target of preset p carries captions in mode.
func renderCaptions(p preset.Preset, mode string) render.Captions {
	switch mode {
	case outpost.CaptionsBurn:
		return render.Captions{Burn: true}
	case outpost.CaptionsSoft:
		return render.Captions{Track: true}
	case outpost.CaptionsSidecar:
		return render.Captions{Sidecar: true}
	case outpost.CaptionsAuto:
		return render.CaptionsFor(p, false)
	}
	return render.Captions{}
}

// ApplyLoudness sets t's loudness fields from a normalised setting.
func ApplyLoudness(t *render.Target, l outpost.Loudness, truePeak float64) {
	switch l {
	case "", outpost.LoudnessOff:
		t.LoudnessOff = true
	case outpost.LoudnessPlatform:
		t.PlatformLoudness = true
	default:
		v, err := strconv.ParseFloat(string(l), 64)
		if err != nil {
			t.LoudnessOff = true
			return
		}
		t.Loudness = &preset.Loudness{LUFS: v, TruePeak: truePeak}
	}
}

// fileNames returns each target's file name: its preset id and extension,
// with "-2", "-3"… for a preset requested more than once. Names depend only
// on the request, so a retry stores under the same blob keys.
func fileNames(ts []outpost.ResolvedTarget) []string {
	names := make([]string, len(ts))
	seen := map[string]int{}
	for i, t := range ts {
		ext := "bin"
		if p, err := preset.Lookup(t.Base); err == nil {
			ext = p.Extension
		}
		seen[t.Preset]++
		name := t.Preset
		if n := seen[t.Preset]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		names[i] = name + "." + ext
	}
	return names
}
