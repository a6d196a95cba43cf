package engine

import (
	"context"
	"os"
	"path/filepath"
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
// targets) in req.Segments segments, with its pieces in dir. It returns nil
// when the render is better done in one pass: the source is too short for
// two segments of the minimum length, has too few keyframes, or nothing
// of it is a segmentable encode.
func (e *Engine) segmented(ctx context.Context, src *media.Info, targets []render.Target, opts render.Options, count int, dir string) (*render.Segmented, error) {
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
	segs := render.PlanSegments(src.Duration, keys, render.SegmentSettings{Count: count, MinSeconds: minSec})
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
// Request.Segments). It writes nothing.
func (e *Engine) PrepareSegmented(ctx context.Context, req Request) (*render.Segmented, []Result, error) {
	p, err := e.prepare(ctx, req, func(Event) {})
	if p == nil {
		return nil, nil, err
	}
	return p.segmented, p.results, err
}

// RenderPiece renders piece i of s: one ffmpeg process writing the
// segment's video of every segmented encode to its piece file
// (render.PiecePath). The work folder's render files (captions, ASS
// scripts) must be in place.
func (e *Engine) RenderPiece(ctx context.Context, s *render.Segmented, i int, progress func(media.Progress)) error {
	p := s.Pieces[i]
	return e.Runner.Run(ctx, p.Args(), p.Duration, progress)
}

// RenderRest renders what s does not cut: the segmented encodes' audio,
// once over the whole length (render.AudioPath), and the outputs that are
// rendered whole (stream copies, GIF) to their temp paths. A nil s.Rest
// has nothing to do.
func (e *Engine) RenderRest(ctx context.Context, s *render.Segmented, progress func(media.Progress)) error {
	if s.Rest == nil {
		return nil
	}
	return e.Runner.Run(ctx, s.Rest.Args(), s.Rest.Duration, progress)
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

// renderSegmented runs s on this machine: the rest and every piece at once,
// each its own ffmpeg process, then the joins. Progress is over all of
// them: the pieces weigh their length, the rest a quarter of the whole
// (audio and copies are cheap next to video).
func (e *Engine) renderSegmented(ctx context.Context, s *render.Segmented, progress func(Event)) error {
	if err := os.MkdirAll(pieceDir(s), 0o755); err != nil {
		return errcode.Wrap(errcode.OutputWriteFailed, err, "create the pieces folder")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		weight float64
		run    func(func(media.Progress)) error
	}
	var jobs []job
	for i, p := range s.Pieces {
		jobs = append(jobs, job{p.Duration, func(f func(media.Progress)) error { return e.RenderPiece(ctx, s, i, f) }})
	}
	if s.Rest != nil {
		jobs = append(jobs, job{s.Whole.Duration / 4, func(f func(media.Progress)) error { return e.RenderRest(ctx, s, f) }})
	}
	var (
		mu       sync.Mutex
		total    float64
		done     = make([]float64, len(jobs))
		fps      = make([]float64, len(jobs))
		start    = time.Now()
		firstErr error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		total += j.weight
	}
	for k, j := range jobs {
		wg.Go(func() {
			err := j.run(func(pr media.Progress) {
				mu.Lock()
				defer mu.Unlock()
				done[k], fps[k] = j.weight*pr.Percent/100, pr.FPS
				var d, f float64
				for i := range done {
					d, f = d+done[i], f+fps[i]
				}
				pct := 100 * d / max(total, 1e-9)
				ev := Event{Stage: StageRender, Percent: pct, FPS: f}
				if pct > 0 {
					el := time.Since(start)
					ev.ETA = time.Duration(float64(el) * (100 - pct) / pct).Round(time.Second)
				}
				progress(ev)
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel() // one part failed: the others are of no use
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for _, j := range s.Joins {
		if err := e.Join(ctx, s, j); err != nil {
			return err
		}
	}
	return nil
}

// pieceDir is the folder of s's pieces.
func pieceDir(s *render.Segmented) string {
	return filepath.Dir(s.Joins[0].Pieces[0])
}
