package render

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"outpost/internal/errcode"
	"outpost/internal/media"
)

// Segment is one part of a segmented render: the frames of every output
// whose time (on the output's own frame grid, from the start of the export)
// is in [Start, End).
type Segment struct {
	Index int     `json:"index"`
	Start float64 `json:"start_seconds"`
	// End is the next segment's Start; the last segment's is the source's
	// duration, and it takes every frame from Start on.
	End float64 `json:"end_seconds"`
}

// Duration is the segment's length in seconds.
func (s Segment) Duration() float64 { return s.End - s.Start }

// SegmentSettings decide how a render is cut.
type SegmentSettings struct {
	// Count is how many segments are wanted (one per worker); the plan
	// makes fewer where the source is too short or has too few keyframes.
	Count int
	// MinSeconds is the shortest segment (OUTPOST_SEGMENT_MIN_SECONDS).
	MinSeconds float64
}

// PlanSegments cuts a source of duration seconds into at most s.Count
// segments of about equal length, none shorter than s.MinSeconds. Each cut
// is at the source keyframe nearest to its equal-length position (so a
// segment's decode starts at a keyframe and decodes nothing it drops);
// keyframes are times in seconds from the start, ascending. Without
// keyframes (a timeline, which is decoded from its start in every
// segment) the cuts are at the equal-length positions, to the millisecond.
// It always returns at least one segment.
func PlanSegments(duration float64, keyframes []float64, s SegmentSettings) []Segment {
	n := s.Count
	if s.MinSeconds > 0 {
		n = min(n, int(math.Floor(duration/s.MinSeconds+1e-9)))
	}
	if n < 1 || duration <= 0 {
		return []Segment{{Start: 0, End: duration}}
	}
	var cuts []float64
	prev := 0.0
	for i := 1; i < n; i++ {
		ideal := duration * float64(i) / float64(n)
		ok := func(c float64) bool {
			return c > prev && c-prev >= s.MinSeconds-1e-9 && duration-c >= s.MinSeconds-1e-9
		}
		best := math.NaN()
		if keyframes == nil {
			if c := math.Round(ideal*1000) / 1000; ok(c) {
				best = c
			}
		} else {
			for _, k := range keyframes {
				if ok(k) && (math.IsNaN(best) || math.Abs(k-ideal) < math.Abs(best-ideal)) {
					best = k
				}
			}
		}
		if math.IsNaN(best) {
			continue
		}
		cuts = append(cuts, best)
		prev = best
	}
	segs := make([]Segment, 0, len(cuts)+1)
	start := 0.0
	for i, c := range append(cuts, duration) {
		segs = append(segs, Segment{Index: i, Start: start, End: c})
		start = c
	}
	return segs
}

// Part makes a plan one part of a segmented render (see BuildSegmented).
type Part struct {
	// Segment is the piece rendered: the video of every segmented encode
	// for the segment's time. Nil: the rest of the render, that is the
	// audio of the segmented encodes (whole length, to their own files),
	// the outputs that are not segmented (stream copies, GIF) and their
	// thumbnails.
	Segment *Segment
	// Last is set for the last segment, which runs to the end.
	Last bool
	// Dir holds the pieces and audio files.
	Dir string
}

// Segmented is a render cut into segments. Pieces[i] renders segment i of
// every segmented encode's video, all in one ffmpeg run; Rest renders the
// audio of the segmented encodes once over the whole length and whatever
// is not segmented; each Join concatenates one encode's pieces without
// re-encoding and muxes its audio and captions into the output's
// TempPath. The pieces and the rest are independent and may run anywhere
// at once; a join needs its pieces and its audio.
type Segmented struct {
	// Whole is the single-pass plan this replaces: its Outputs are the
	// export's files (paths, shares, thumbnails, checks).
	Whole    *Plan     `json:"whole"`
	Segments []Segment `json:"segments"`
	Pieces   []*Plan   `json:"pieces"`
	// Rest is nil when there is nothing besides the pieces.
	Rest  *Plan  `json:"rest,omitempty"`
	Joins []Join `json:"joins"`
}

// Join is the concatenation of one segmented encode.
type Join struct {
	// Output is the index in Whole.Outputs of the output whose file this
	// is (the first of its group).
	Output int      `json:"output"`
	Pieces []string `json:"pieces"`
	// Durations are the pieces' exact lengths (their frames at the
	// output's rate; 0 for the last), for the list: the concat demuxer
	// would otherwise take each piece's container duration, rounded to
	// the millisecond, and shift every later frame by the rounding.
	Durations []float64 `json:"durations_seconds"`
	// List is the concat demuxer's list of the pieces, which the caller
	// writes (ConcatList) before running Args.
	List  string `json:"list"`
	Audio string `json:"audio,omitempty"`
	// Args are the complete ffmpeg argv of the join, without the program.
	Args []string `json:"args"`
}

// ConcatList is the text of j.List: one line per piece, in order.
func (j *Join) ConcatList() string {
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for i, p := range j.Pieces {
		// Single quotes escaped as the concat demuxer reads them.
		b.WriteString("file '" + strings.ReplaceAll(p, "'", `'\''`) + "'\n")
		if i < len(j.Durations) && j.Durations[i] > 0 {
			b.WriteString("duration " + micro(j.Durations[i]) + "\n")
		}
	}
	return b.String()
}

// segmentable reports whether t's encode is rendered in pieces: any video
// encode but GIF (whose per-frame palettes and container do not join).
func segmentable(t *Target, o *Output) bool {
	return !o.Passthrough && t.Preset.Video.Codec != "gif"
}

// PiecePath is where segment i of the encode whose first output is o goes.
func PiecePath(dir string, o *Output, i int, container string) string {
	return filepath.Join(dir, fmt.Sprintf("%s.%03d.%s", o.PresetID, i, container))
}

// AudioPath is where the audio of the encode whose first output is o goes.
func AudioPath(dir string, o *Output, container string) string {
	return filepath.Join(dir, o.PresetID+".audio."+container)
}

// BuildSegmented plans the render of src into targets as segs (from
// PlanSegments), with its pieces and audio in dir. The result's files are
// the same as Build's, frame for frame: each piece is the single pass's
// graph limited to its segment, its encoders' keyframes on the single
// pass's GOP grid (and one at its start: every GOP is closed at a cut, so
// the pieces join with -c copy).
func BuildSegmented(src *media.Info, targets []Target, opts Options, segs []Segment, dir string) (*Segmented, error) {
	if opts.Sample != nil {
		return nil, errcode.New(errcode.InvalidOption, "a sample or preview is not rendered in segments")
	}
	if len(segs) == 0 {
		return nil, errcode.New(errcode.InvalidOption, "no segments")
	}
	build := func(part *Part) (*Plan, error) {
		o := opts
		o.Part = part
		return Build(src, slices.Clone(targets), o)
	}
	whole, err := build(nil)
	if err != nil {
		return nil, err
	}
	s := &Segmented{Whole: whole, Segments: segs}
	for i := range segs {
		p, err := build(&Part{Segment: &segs[i], Last: i == len(segs)-1, Dir: dir})
		if err != nil {
			return nil, err
		}
		s.Pieces = append(s.Pieces, p)
	}
	rest, err := build(&Part{Dir: dir})
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(rest.Outputs, func(o Output) bool { return len(o.Args) > 0 }) {
		s.Rest = rest
	}
	for i := range whole.Outputs {
		o := &whole.Outputs[i]
		t := &targets[i]
		if o.SharedFile != "" || !segmentable(t, o) {
			continue
		}
		j := Join{Output: i, List: filepath.Join(dir, o.PresetID+".concat")}
		for k, seg := range segs {
			j.Pieces = append(j.Pieces, PiecePath(dir, o, k, t.Preset.Container))
			d := 0.0
			if k < len(segs)-1 {
				d = float64(FirstFrame(seg.End, o.FPS)-FirstFrame(seg.Start, o.FPS)) / o.FPS
			}
			j.Durations = append(j.Durations, d)
		}
		args := append(runArgs(), "-f", "concat", "-safe", "0", "-i", j.List)
		maps := []string{"-map", "0:v:0"}
		in := 1
		if s.Rest != nil && hasAudioOutput(rest, i) {
			j.Audio = AudioPath(dir, o, t.Preset.Container)
			args = append(args, "-i", j.Audio)
			maps = append(maps, "-map", fmt.Sprintf("%d:a:0", in))
			in++
		}
		maps = append(maps, "-c", "copy")
		if c := o.Captions; c != nil && c.TrackCodec != "" {
			args = append(args, "-i", opts.Captions)
			maps = append(maps, "-map", fmt.Sprintf("%d:s:0", in), "-c:s", c.TrackCodec)
		}
		args = append(args, maps...)
		args = append(args, muxArgs(t.Preset)...)
		j.Args = append(args, o.TempPath)
		s.Joins = append(s.Joins, j)
	}
	return s, nil
}

// hasAudioOutput reports whether the rest plan writes output i's audio.
func hasAudioOutput(rest *Plan, i int) bool {
	return slices.Contains(rest.Outputs[i].Args, "-vn")
}

// cutTolerance is how far before a cut a frame's time may be and still
// count as the cut's: a keyframe time read to the microsecond may be a
// little above the frame's own time.
const cutTolerance = 0.001

// pieceCut is the filter that keeps a piece's frames and starts them at 0:
// those whose time t (whatever the time base) is at or after the cut, and
// before the next one, as FirstFrame counts them.
func pieceCut(part *Part) string {
	s := part.Segment
	expr := "gte(t," + micro(s.Start-cutTolerance) + ")"
	if !part.Last {
		expr += "*lt(t," + micro(s.End-cutTolerance) + ")"
	}
	return "select=" + Escape(expr) + ",setpts=PTS-STARTPTS"
}

// pieceLead is how far past its end a piece decodes, so that the frame
// rate conversion sees the frames after the cut as the single pass does.
const pieceLead = 1.0

// pieceInput limits the decoded source to what a piece needs: from its
// start (a keyframe: nothing decoded is dropped) to pieceLead past its
// end. Times keep the single pass's (0 at the source's start).
func pieceInput(plan *Plan, g *graph, vsrc string, part *Part, timeline bool) string {
	s := part.Segment
	if !timeline && s.Start > 0 {
		// Seek to the keyframe at Start (the millisecond after it, in
		// case its time was rounded up), keep the source's timestamps.
		plan.InputOptions = append(plan.InputOptions, "-copyts", "-start_at_zero", "-noaccurate_seek", "-ss", micro(s.Start+0.001))
	}
	f := "trim=start=" + micro(max(0, s.Start-0.001))
	if !part.Last {
		f += ":end=" + micro(s.End+pieceLead)
	}
	g.chain(vsrc, "seg", f)
	return "seg"
}

// pieceKeyframes forces keyframes on the single pass's GOP grid: output
// frame n of the piece is frame n+first of the whole, and an encoder
// restarts its GOP count at a forced keyframe.
func pieceKeyframes(enc *Encoding, fps float64, s *Segment) []string {
	gop := enc.GOP
	if gop == 0 && enc.Encoder == "libx264" {
		gop = 250 // x264's default keyint
	}
	if gop == 0 || s.Start == 0 {
		return nil
	}
	return []string{"-force_key_frames", "expr:" + fmt.Sprintf("eq(mod(n+%d,%d),0)", FirstFrame(s.Start, fps), gop)}
}

// FirstFrame is the index, in the whole output, of the first frame of a
// segment starting at start seconds, at fps: the first frame time n/fps
// at or after the cut (pieceCut).
func FirstFrame(start, fps float64) int {
	if start <= 0 {
		return 0
	}
	return int(math.Ceil((start-cutTolerance)*fps - 1e-9))
}

// micro formats seconds to the microsecond, ffmpeg's time resolution.
func micro(s float64) string {
	return strconv.FormatFloat(s, 'f', 6, 64)
}

// hasThumbnail reports whether a piece renders th's candidates: the piece
// holding its time, or, for candidates every Step seconds, every piece its
// own (numbered as in the single pass). A nil s is a whole render.
func (s *Segment) hasThumbnail(th *ThumbnailOutput) bool {
	if s == nil || th.Step > 0 {
		return true
	}
	return th.At >= s.Start && (th.At < s.End || s.End <= s.Start)
}

// pieceThumbnails limits a thumbnail chain's candidates to the piece's
// segment and numbers them as the single pass does: candidate k (at k·Step
// seconds) is file k+1.
func pieceThumbnails(chain string, th *ThumbnailOutput, part *Part, args []string) (string, []string) {
	if th.Step == 0 {
		return chain, args
	}
	s := part.Segment
	cut := "trim=start=" + micro(s.Start)
	if !part.Last {
		cut += ":end=" + micro(s.End)
	}
	pick := fmt.Sprintf("fps=1/%d", int(th.Step))
	chain = strings.Replace(chain, pick, pick+","+cut, 1)
	first := FirstFrame(s.Start, 1/th.Step) + 1
	n := len(args)
	return chain, slices.Concat(args[:n-1], []string{"-start_number", strconv.Itoa(first)}, args[n-1:])
}
