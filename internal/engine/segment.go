package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
)

// DefaultSegmentMinSeconds is the shortest segment when
// Engine.SegmentMinSeconds is 0 (OUTPOST_SEGMENT_MIN_SECONDS).
const DefaultSegmentMinSeconds = 10

// segmentDirName is the folder, inside the work folder, of a local
// segmented render's pieces and audio files.
const segmentDirName = "pieces"

// segmented plans req's render (already planned whole as opts and
// targets) in req.Segments segments, with its pieces in dir; cuts, when
// set, are the segments (as an earlier plan cut them). It returns nil
// when the render is better done in one pass: the source is too short for
// two segments of the minimum length, has too few keyframes, or nothing
// of it is a segmentable encode.
func (e *Engine) segmented(ctx context.Context, src *media.Info, targets []render.Target, opts render.Options, count int,
	cuts []render.Segment, dir string,
) (*render.Segmented, error) {
	segs := cuts
	if segs == nil {
		var keys []float64
		if opts.Timeline == nil {
			var err error
			if keys, err = e.Prober.Keyframes(ctx, src.Path); err != nil {
				return nil, err
			}
		}
		minSec := e.SegmentMinSeconds
		if minSec <= 0 {
			minSec = DefaultSegmentMinSeconds
		}
		segs = render.PlanSegments(src.Duration, keys, render.SegmentSettings{Count: count, MinSeconds: minSec})
	}
	if len(segs) < 2 {
		return nil, nil
	}
	s, err := render.BuildSegmented(src, targets, opts, segs, dir)
	if err != nil || len(s.Joins) == 0 {
		return nil, err
	}
	return s, nil
}

// PrepareSegmented is Prepare for a render in req.Segments segments: the
// segmented plan, or nil where the export renders in one pass (see
// Request.Segments), and the source's loudness when a target normalises
// it (measured here unless req.Loudness has it): what the parts and the
// join take as Request.Loudness, so that it is measured once. It writes
// nothing.
func (e *Engine) PrepareSegmented(ctx context.Context, req Request) (*render.Segmented, *media.Loudness, error) {
	p, err := e.prepare(ctx, req, func(Event) {})
	if p == nil {
		return nil, nil, err
	}
	return p.segmented, p.loudness, err
}

// RenderPiece renders piece i of s: one ffmpeg process writing the
// segment's video of every segmented encode to its piece file
// (render.PiecePath). The work folder's render files (captions, ASS
// scripts) must be in place. The report's times are the whole output's.
func (e *Engine) RenderPiece(ctx context.Context, s *render.Segmented, i int, progress func(media.Progress)) (media.Report, error) {
	p := s.Pieces[i]
	rep, err := e.Runner.RunReport(ctx, p.Args(), p.Duration, progress)
	// A piece's output starts at 0 (render.pieceCut): its output time,
	// which dates the decode errors, is Start later in the whole.
	return rep.Shift(s.Segments[i].Start), err
}

// RenderRest renders what s does not cut: the segmented encodes' audio,
// once over the whole length (render.AudioPath), and the outputs that are
// rendered whole (stream copies, GIF) to their temp paths. A nil s.Rest
// has nothing to do.
func (e *Engine) RenderRest(ctx context.Context, s *render.Segmented, progress func(media.Progress)) (media.Report, error) {
	if s.Rest == nil {
		return media.Report{}, nil
	}
	return e.Runner.RunReport(ctx, s.Rest.Args(), s.Rest.Duration, progress)
}

// Join concatenates one encode's pieces without re-encoding, with its
// audio and captions, into the output's temp path, moov first. The pieces
// and the audio file must exist; they are left for the caller to delete.
func (e *Engine) Join(ctx context.Context, s *render.Segmented, j render.Join) error {
	if err := os.WriteFile(j.List, []byte(j.ConcatList()), 0o644); err != nil {
		return errcode.Wrap(errcode.OutputWriteFailed, err, "write the list of pieces")
	}
	defer os.Remove(j.List)
	return e.Runner.Run(ctx, j.Args, s.Whole.Duration, nil)
}

// RestWeight is the rest's share of a segmented render's work, as a share
// of the whole length: audio and copies are cheap next to video. The
// pieces weigh their length.
const RestWeight = 0.25

// renderSegmented runs s on this machine: the rest and every piece at once,
// each its own ffmpeg process, then the joins. Progress is over all of
// them, weighed by RestWeight; its OutTime and Total count that work in
// seconds (the pieces' output written, the rest's share), so that one
// estimator can time the whole. The report is the parts', joined.
func (e *Engine) renderSegmented(ctx context.Context, s *render.Segmented, progress func(Event)) (media.Report, error) {
	if err := os.MkdirAll(pieceDir(s), 0o755); err != nil {
		return media.Report{}, errcode.Wrap(errcode.OutputWriteFailed, err, "create the pieces folder")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		weight float64
		run    func(func(media.Progress)) (media.Report, error)
	}
	var jobs []job
	for i, p := range s.Pieces {
		jobs = append(jobs, job{p.Duration, func(f func(media.Progress)) (media.Report, error) { return e.RenderPiece(ctx, s, i, f) }})
	}
	if s.Rest != nil {
		jobs = append(jobs, job{s.Whole.Duration * RestWeight, func(f func(media.Progress)) (media.Report, error) {
			return e.RenderRest(ctx, s, f)
		}})
	}
	var (
		mu       sync.Mutex
		total    float64
		done     = make([]float64, len(jobs))
		fps      = make([]float64, len(jobs))
		reps     = make([]media.Report, len(jobs))
		start    = time.Now()
		firstErr error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		total += j.weight
	}
	for k, j := range jobs {
		wg.Go(func() {
			rep, err := j.run(func(pr media.Progress) {
				mu.Lock()
				defer mu.Unlock()
				done[k], fps[k] = j.weight*pr.Percent/100, pr.FPS
				var d, f float64
				for i := range done {
					d, f = d+done[i], f+fps[i]
				}
				pct := 100 * d / max(total, 1e-9)
				ev := Event{Stage: StageRender, Percent: pct, FPS: f, OutTime: d, Total: total}
				if pct > 0 {
					el := time.Since(start)
					ev.ETA = time.Duration(float64(el) * (100 - pct) / pct).Round(time.Second)
				}
				progress(ev)
			})
			mu.Lock()
			defer mu.Unlock()
			reps[k] = rep
			if err != nil && firstErr == nil {
				firstErr = err
				cancel() // one part failed: the others are of no use
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return media.Report{}, firstErr
	}
	return media.JoinReports(reps...), e.joinAll(ctx, s)
}

// joinAll runs every join of s.
func (e *Engine) joinAll(ctx context.Context, s *render.Segmented) error {
	for _, j := range s.Joins {
		if err := e.Join(ctx, s, j); err != nil {
			return err
		}
	}
	return nil
}

// PartRest is the part of a segmented render that is its rest; part i ≥ 1
// is piece i-1 (RenderPart).
const PartRest = 0

// ErrNotSegmented is RenderPart's answer for an export that renders in one
// pass, or whose plan has no such part.
var ErrNotSegmented = errcode.New(errcode.Internal, "this export does not render in segments here: every node must run with the same OUTPOST_SEGMENT_MIN_SECONDS")

// workPrefix stands for the work folder in the names of a part's files:
// the folder's own name is random per run.
const workPrefix = "work"

// Part is what RenderPart made of one part.
type Part struct {
	// Pieces is how many pieces the plan has, so that the caller can
	// check every node planned the same cuts.
	Pieces int
	// Report is the part's decode report, in the whole output's time:
	// the join gives the renditions its damaged stretches as warnings
	// (PartsFunc).
	Report media.Report
}

// RenderPart renders one part of req's segmented render (req.Segments
// above 1) for a join on any machine (Request.Parts): part PartRest is the
// rest, part i ≥ 1 piece i-1. put gets each file the part wrote, by a name
// that is the same on every machine and its local path; the files are
// removed when RenderPart returns.
func (e *Engine) RenderPart(ctx context.Context, req Request, part int, progress func(media.Progress),
	put func(ctx context.Context, name, path string) error,
) (Part, error) {
	p, err := e.prepare(ctx, req, func(Event) {})
	if p == nil || err != nil {
		return Part{}, err
	}
	s := p.segmented
	if s == nil || part < 0 || part > len(s.Pieces) || (part == PartRest && s.Rest == nil) {
		return Part{}, ErrNotSegmented
	}
	if err := os.MkdirAll(req.OutDir, 0o755); err != nil {
		return Part{}, errcode.Wrap(errcode.OutputWriteFailed, err, "create the output folder")
	}
	if err := os.Mkdir(p.workDir, 0o755); err != nil {
		return Part{}, errcode.Wrap(errcode.OutputWriteFailed, err, "create the work folder")
	}
	defer os.RemoveAll(p.workDir)
	if err := writeRenderFiles(p); err != nil {
		return Part{}, err
	}
	if err := os.MkdirAll(pieceDir(s), 0o755); err != nil {
		return Part{}, errcode.Wrap(errcode.OutputWriteFailed, err, "create the pieces folder")
	}
	outDir := filepath.Dir(p.workDir)
	before, err := listFiles(outDir)
	if err != nil {
		return Part{}, errcode.Wrap(errcode.OutputWriteFailed, err, "list the output folder")
	}
	var rep media.Report
	if part == PartRest {
		rep, err = e.RenderRest(ctx, s, progress)
	} else {
		rep, err = e.RenderPiece(ctx, s, part-1, progress)
	}
	after, lerr := listFiles(outDir)
	var made []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			made = append(made, f)
		}
	}
	defer func() {
		for _, f := range made {
			_ = os.Remove(filepath.Join(outDir, f))
		}
	}()
	if err != nil || lerr != nil {
		return Part{}, errors.Join(err, lerr)
	}
	work := filepath.Base(p.workDir)
	for _, f := range made {
		name := filepath.ToSlash(f)
		if rest, ok := strings.CutPrefix(name, work+"/"); ok {
			name = workPrefix + "/" + rest
		} else {
			name = "out/" + name
		}
		if err := put(ctx, name, filepath.Join(outDir, f)); err != nil {
			return Part{}, err
		}
	}
	return Part{Pieces: len(s.Pieces), Report: rep}, nil
}

// listFiles lists the regular files under dir, relative to it.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, rel)
		return err
	})
	return files, err
}

// partsDest is where the file of a part named name (RenderPart) goes in
// the join's output folder and work folder.
func partsDest(p *prepared, name string) (string, error) {
	rel, ok := strings.CutPrefix(name, workPrefix+"/")
	base := p.workDir
	if !ok {
		if rel, ok = strings.CutPrefix(name, "out/"); !ok {
			return "", fmt.Errorf("part file %q: not a part's file name", name)
		}
		base = filepath.Dir(p.workDir)
	}
	rel = filepath.FromSlash(rel)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("part file %q: not a part's file name", name)
	}
	path := filepath.Join(base, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", errcode.Wrap(errcode.OutputWriteFailed, err, "create the folder of a part's file")
	}
	return path, nil
}

// joinParts joins s's parts rendered elsewhere: fetch puts their files in
// place (partsDest), then every join runs.
func (e *Engine) joinParts(ctx context.Context, p *prepared, fetch PartsFunc) (media.Report, error) {
	if err := os.MkdirAll(pieceDir(p.segmented), 0o755); err != nil {
		return media.Report{}, errcode.Wrap(errcode.OutputWriteFailed, err, "create the pieces folder")
	}
	rep, err := fetch(ctx, func(name string) (string, error) { return partsDest(p, name) })
	if err != nil {
		return media.Report{}, err
	}
	return rep, e.joinAll(ctx, p.segmented)
}

// PartsFunc puts the files of a segmented render's parts (RenderPart) in
// place for the join: each at the path dest gives for its name. It
// returns the parts' reports (Part.Report) joined (media.JoinReports):
// the damaged stretches the renditions are warned of.
type PartsFunc func(ctx context.Context, dest func(name string) (string, error)) (media.Report, error)

// pieceDir is the folder of s's pieces.
func pieceDir(s *render.Segmented) string {
	return filepath.Dir(s.Joins[0].Pieces[0])
}
