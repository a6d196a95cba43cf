// Package render turns a probed source and a list of targets into a Plan: the
// one ffmpeg invocation that decodes the source once, splits it to every
// target's filter chain and encoder, and stream-copies the targets the source
// already satisfies. Building a plan is pure: no I/O, no clock, no ffmpeg.
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
	"outpost/internal/preset"
)

// Target is one requested deliverable.
type Target struct {
	Preset  preset.Preset
	Quality preset.Level // "" means HD
	// Fit frames a source whose aspect differs from the target's; "" means
	// blur.
	Fit preset.Fit
	// Path is where the finished file goes. Empty: Options.OutDir/<id>.<ext>.
	Path string
	// Overrides (zero: the preset's value). Any override disables
	// passthrough.
	FPS           float64
	VideoKbps     int // replaces the level's bitrate cap
	NoPassthrough bool

	// Captions says how this target carries Options.Captions.
	Captions Captions
	// Watermark, when set, is overlaid on every frame.
	Watermark *Watermark
	// Loudness replaces the preset's loudness target; LoudnessOff leaves
	// the source's level as it is.
	Loudness    *preset.Loudness
	LoudnessOff bool
	// PlatformLoudness normalises to the preset's platform level (e.g.
	// -14 LUFS for YouTube) when Loudness is nil.
	PlatformLoudness bool
	// Thumbnail asks for a still picture next to the output (Output.Thumbnail).
	Thumbnail bool
}

// Options apply to the whole plan.
type Options struct {
	// OutDir holds outputs whose Target.Path is empty.
	OutDir string
	// WorkDir holds the files made for the render (ASS scripts, thumbnail
	// candidates); empty means OutDir.
	WorkDir string
	// Captions is the export's captions as SubRip, the input of soft
	// tracks (ffmpeg's WebVTT decoder would escape "{" as "\{" in the
	// tracks' text); burned-in and sidecar captions are written by the
	// caller from the same cues. Empty: no captions.
	Captions string
	// CaptionsLanguage is the soft tracks' language, an ISO 639-2 code
	// ("eng"); empty leaves ffmpeg's "und".
	CaptionsLanguage string
	// Loudness is the source's measured loudness; targets that normalise
	// need it (see NeedsLoudness).
	Loudness *media.Loudness
	// ThumbnailAt picks the thumbnail frame at this many seconds; nil lets
	// the render offer candidates for the caller to choose from.
	ThumbnailAt *float64
	// Sample renders only this part of the source (for estimates and
	// previews). Burned-in captions assume it starts at 0.
	Sample *Span
	// FastDecode trades picture fidelity for decoding speed (skips
	// non-reference frames and the deblocking filter): for previews.
	FastDecode bool
	// Timeline, when set, is what is rendered: src is its Source(), and
	// the clips are the plan's first inputs.
	Timeline *Timeline
	// Threads caps ffmpeg's threads: the decoder's, the filter graph's and
	// each encoder's. 0 leaves ffmpeg's choice.
	Threads int
	// Hardware, when set, encodes the H.264 targets with that family's
	// encoder (see Encoding.OnHardware); the caller has probed it.
	Hardware Hardware
	// Part, when set, makes the plan one part of a segmented render
	// (BuildSegmented).
	Part *Part
}

// Span is a part of the source, in seconds.
type Span struct {
	Start    float64 `json:"start_seconds"`
	Duration float64 `json:"duration_seconds"`
}

// Input is an input of the plan besides the source.
type Input struct {
	// Kind says what it is: "captions", "watermark" or "clip" (a
	// timeline's other sources).
	Kind string `json:"kind"`
	Path string `json:"path"`
	// Options come before its -i: an SVG's rendering width, a clip's
	// in and out points.
	Options []string `json:"options,omitempty"`
}

// Output is one file the plan writes.
type Output struct {
	PresetID string `json:"preset"`
	// Path is the final file; ffmpeg writes TempPath, which the caller
	// renames to Path once the file is checked, so a half-written file is
	// never left under the final name.
	Path        string `json:"path"`
	TempPath    string `json:"temp_path"`
	Passthrough bool   `json:"passthrough"`
	// Reason says why a target is encoded rather than passed through.
	Reason  string  `json:"reencode_reason,omitempty"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	FPS     float64 `json:"fps"`
	Quality string  `json:"quality"`
	Fit     string  `json:"fit,omitempty"`
	// SilentAudio is set when the source has no audio and the platform
	// needs a track, so a silent one is added.
	SilentAudio bool `json:"silent_audio,omitempty"`
	// Loudness describes the loudness normalisation applied, if any.
	Loudness string `json:"loudness,omitempty"`
	// Captions and Thumbnail are the files made with this output.
	Captions  *CaptionOutput   `json:"captions,omitempty"`
	Thumbnail *ThumbnailOutput `json:"thumbnail,omitempty"`
	// Watermark is the image overlaid, if any.
	Watermark string `json:"watermark,omitempty"`
	// SharesEncodeWith names the other outputs (preset ids) that are the
	// same file as this one: one encode, or one stream copy, serves them
	// all. The first output of such a group has the Args; the others have
	// none, and SharedFile names the file they are a copy of.
	SharesEncodeWith []string `json:"shares_encode_with,omitempty"`
	// SharedFile is the TempPath of the output whose file this output
	// shares; "" when it is written itself.
	SharedFile string `json:"shared_file,omitempty"`
	// Encoding is the video encoder's settings (shared with the outputs
	// in SharesEncodeWith); nil for a stream copy.
	Encoding *Encoding `json:"encoding,omitempty"`
	// Args are this output's ffmpeg options, ending with TempPath; empty
	// when it shares another output's file.
	Args []string `json:"args"`
}

// File is the file ffmpeg writes for o: its own TempPath, or the one it
// shares.
func (o *Output) File() string {
	if o.SharedFile != "" {
		return o.SharedFile
	}
	return o.TempPath
}

// Plan is one ffmpeg run.
type Plan struct {
	Input string `json:"input"`
	// Device opens a hardware encoder's device (VAAPI), before the inputs.
	Device []string `json:"device,omitempty"`
	// InputOptions come before the source's -i (a sample's -ss/-t).
	InputOptions []string `json:"input_options,omitempty"`
	// Extra are the other inputs (captions, watermark images): files read
	// once, never a second decode of the source.
	Extra []Input `json:"extra_inputs,omitempty"`
	// Duration is the source duration in seconds, for progress.
	Duration float64 `json:"duration_seconds"`
	// Threads caps the source's (and a timeline's clips') decoders and
	// the filter graph's threads (each encoder's are in its Encoding); 0
	// leaves ffmpeg's choice.
	Threads     int      `json:"threads,omitempty"`
	FilterGraph string   `json:"filter_complex,omitempty"`
	Outputs     []Output `json:"outputs"`
}

// Args returns the complete ffmpeg argv, without the program name.
func (p *Plan) Args() []string {
	args := runArgs()
	if p.Threads > 0 && p.FilterGraph != "" {
		args = append(args, "-filter_complex_threads", strconv.Itoa(p.Threads))
	}
	args = append(args, p.Device...)
	args = append(args, p.InputOptions...)
	if p.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(p.Threads))
	}
	args = append(args, "-i", p.Input)
	for _, in := range p.Extra {
		args = append(args, in.Options...)
		if p.Threads > 0 && in.Kind == "clip" {
			// A timeline's other clips are decoded like the source.
			args = append(args, "-threads", strconv.Itoa(p.Threads))
		}
		args = append(args, "-i", in.Path)
	}
	if p.FilterGraph != "" {
		args = append(args, "-filter_complex", p.FilterGraph)
	}
	for _, o := range p.Outputs {
		args = append(args, o.Args...)
		if o.Thumbnail != nil {
			args = append(args, o.Thumbnail.Args...)
		}
	}
	return args
}

// runArgs are the options every ffmpeg run of a plan starts with: quiet,
// overwrite, progress on stdout.
func runArgs() []string {
	return []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"}
}

// Encodes returns how many files the plan writes (encoded or copied), one
// per group of outputs that share a file.
func (p *Plan) Encodes() (encoded, copied int) {
	for _, o := range p.Outputs {
		switch {
		case o.SharedFile != "":
		case o.Passthrough:
			copied++
		default:
			encoded++
		}
	}
	return encoded, copied
}

// Build plans the render of src into targets.
//
// Targets whose files would be the same bytes (same frame, framing, rate,
// formats, audio, overlays and quality level) share one encode: its
// settings satisfy every one of them (the lowest bitrate cap and buffer,
// the shortest GOP), except at Ultra, where a target whose own limits are
// looser keeps its own encode (see shareable). Targets with the same frame
// and framing share one scale/fit chain, split after it, and one set of
// thumbnail candidates; targets at the same converted frame rate share the
// rate conversion; the source is decoded (and tone-mapped) once.
func Build(src *media.Info, targets []Target, opts Options) (*Plan, error) {
	if src == nil || src.Video == nil {
		return nil, errcode.New(errcode.SourceNoVideo, "the source has no video stream")
	}
	if len(targets) == 0 {
		return nil, errcode.New(errcode.InvalidOption, "no targets: name at least one preset")
	}
	workDir := opts.WorkDir
	if workDir == "" {
		workDir = opts.OutDir
	}
	duration := src.Duration
	plan := &Plan{Input: src.Path, Duration: duration, Threads: max(0, opts.Threads)}
	tl := opts.Timeline
	part := opts.Part
	var piece *Segment // the segment this plan renders, if it is a piece
	if part != nil {
		piece = part.Segment
	}
	if piece != nil {
		plan.Duration = piece.Duration()
	}
	if s := opts.Sample; s != nil {
		if tl == nil {
			plan.InputOptions = []string{"-ss", seconds(s.Start), "-t", seconds(s.Duration)}
		}
		duration = min(s.Duration, max(0, src.Duration-s.Start))
		plan.Duration = duration
	}
	fastDecode := []string{"-skip_frame:v", "noref", "-skip_loop_filter:v", "all"}
	if opts.FastDecode {
		plan.InputOptions = append(plan.InputOptions, fastDecode...)
	}
	if opts.ThumbnailAt != nil && (*opts.ThumbnailAt < 0 || *opts.ThumbnailAt >= src.Duration) {
		return nil, errcode.New(errcode.InvalidOption, "thumbnail time %s s is outside the source (0 to %s s)", seconds(*opts.ThumbnailAt), seconds(src.Duration))
	}
	g := &graph{}
	vsrc, asrc := "0:v:0", "0:a:0"
	if tl != nil {
		vsrc, asrc = timelineInputs(plan, g, tl, src)
		if opts.FastDecode {
			for i := range plan.Extra {
				if plan.Extra[i].Kind == "clip" {
					plan.Extra[i].Options = append(plan.Extra[i].Options, fastDecode...)
				}
			}
		}
		if s := opts.Sample; s != nil {
			// The part is cut from the joined timeline.
			g.chain(vsrc, "tlsv", "trim=start="+seconds(s.Start)+":duration="+seconds(s.Duration)+",setpts=PTS-STARTPTS")
			g.chain(asrc, "tlsa", "atrim=start="+seconds(s.Start)+":duration="+seconds(s.Duration)+",asetpts=PTS-STARTPTS")
			vsrc, asrc = "tlsv", "tlsa"
		}
	}

	// Extra inputs: the captions track and each distinct watermark image,
	// numbered after the source.
	inputIndex := func(kind, path string) int {
		for i, in := range plan.Extra {
			if in.Kind == kind && in.Path == path {
				return i + 1
			}
		}
		plan.Extra = append(plan.Extra, Input{Kind: kind, Path: path})
		return len(plan.Extra)
	}

	seen := map[string]bool{}
	for i := range targets {
		t := &targets[i]
		if t.Quality == "" {
			t.Quality = preset.HD
		}
		if t.Fit == "" {
			t.Fit = preset.FitBlur
		}
		path := t.Path
		if path == "" {
			path = filepath.Join(opts.OutDir, t.Preset.ID+"."+t.Preset.Extension)
		}
		if seen[path] {
			return nil, errcode.New(errcode.InvalidOption, "two targets write %s: give each preset once", path)
		}
		seen[path] = true
		if t.Watermark != nil {
			if err := t.Watermark.validate(); err != nil {
				return nil, err
			}
		}
		if (t.Captions != Captions{}) && opts.Captions == "" {
			return nil, errcode.New(errcode.InvalidOption, "%s asks for captions but the export has none", t.Preset.ID)
		}
		w, h := t.Preset.Size(src.Video.Width, src.Video.Height)
		o := Output{
			PresetID: t.Preset.ID,
			Path:     path,
			TempPath: tempPath(path),
			Width:    w,
			Height:   h,
			Quality:  string(t.Quality),
		}
		o.Captions = captionOutput(t, path, workDir, w, h)
		if t.Thumbnail && t.Preset.Video.Codec != "gif" {
			tw, th := thumbnailSize(w, h)
			o.Thumbnail = &ThumbnailOutput{
				Path:    strings.TrimSuffix(path, filepath.Ext(path)) + ".jpg",
				Pattern: thumbnailPattern(workDir, t.Preset.ID),
				Width:   tw, Height: th,
			}
			if opts.ThumbnailAt != nil {
				o.Thumbnail.At = *opts.ThumbnailAt
			} else {
				o.Thumbnail.Step = thumbnailStep(duration)
				if from, to, ok := tl.Programme(); ok {
					o.Thumbnail.From, o.Thumbnail.To = from, to
				}
			}
		}
		reason := "a timeline is joined"
		if tl == nil {
			reason = passthroughBlocker(src, t, w, h)
		}
		if reason == "" {
			o.Passthrough = true
			o.FPS = src.Video.FrameRate
		} else {
			o.Reason = reason
			o.FPS = targetFPS(src.Video, t)
			if fitUsed(src.Video, w, h, t.Fit) != "" {
				o.Fit = string(t.Fit)
			}
		}
		if src.Audio != nil && t.Preset.Audio.Codec != "" {
			l := targetLoudness(t)
			if l != nil && opts.Loudness == nil {
				return nil, errcode.New(errcode.InvalidOption, "%s normalises loudness but the source was not measured", t.Preset.ID)
			}
			_, o.Loudness = loudnessFilter(opts.Loudness, l, t.Preset.Audio.Codec)
		}
		plan.Outputs = append(plan.Outputs, o)
	}

	// What each output's file is made of, and which outputs can be one
	// file.
	outs := plan.Outputs
	audioChains := make([]string, len(outs)) // "" when the output's audio is not filtered
	keys := make([]string, len(outs))
	encs := make([]Encoding, len(outs))
	levels := make([]preset.Level, len(outs))
	for i := range outs {
		t, o := &targets[i], &outs[i]
		levels[i] = t.Quality
		if t.Preset.Audio.Codec != "" && (!o.Passthrough && (src.Audio != nil || t.Preset.Rules.RequireAudio) ||
			o.Passthrough && o.Loudness != "") {
			audioChains[i] = audioChain(t.Preset.Audio)
			if f, _ := loudnessFilter(opts.Loudness, targetLoudness(t), t.Preset.Audio.Codec); f != "" && src.Audio != nil {
				audioChains[i] = f + "," + audioChains[i]
			}
		}
		if o.Passthrough {
			keys[i] = fileKey("copy", t.Preset.Container, audioChains[i], audioCodecArgsIf(t, audioChains[i] != ""),
				src.Audio != nil && t.Preset.Audio.Codec != "", trackCodecOf(o))
			continue
		}
		encs[i] = TargetEncoding(t, o.FPS, plan.Threads).OnHardware(opts.Hardware)
		var wm, burn string
		if t.Watermark != nil {
			w := t.Watermark.withDefaults()
			wm = w.Path + "\x00" + watermarkChain(w, o.Width) + "\x00" + overlayPosition(w, o.Width, o.Height, t.Preset.SafeArea)
		}
		if o.Captions != nil && o.Captions.ASS != "" {
			burn = fmt.Sprint(*o.Captions.Style)
		}
		keys[i] = fileKey("encode", o.Width, o.Height, o.FPS, o.Fit, t.Preset.Video.PixFmt, t.Preset.Container,
			encs[i].withoutLimits(), audioChains[i], audioCodecArgsIf(t, audioChains[i] != ""), wm, burn, trackCodecOf(o))
	}
	groups := groupEncodes(keys, encs, levels)
	var encodes, copies []*encodeGroup
	for _, gr := range groups {
		lead := &outs[gr.members[0]]
		for _, m := range gr.members {
			o := &outs[m]
			o.SharesEncodeWith = gr.sharedWith(m, outs)
			if m != gr.members[0] {
				o.SharedFile = lead.TempPath
				if c := o.Captions; c != nil && c.ASS != "" {
					// The leader's script is the same text.
					c.ASS = lead.Captions.ASS
				}
			}
			if !o.Passthrough {
				enc := gr.enc
				o.Encoding = &enc
			}
		}
		if lead.Passthrough {
			copies = append(copies, gr)
		} else {
			encodes = append(encodes, gr)
		}
	}
	// A segmented render: a piece renders the segmented encodes' video;
	// the rest their audio (audioOnly), the other encodes and the copies.
	var audioOnly []*encodeGroup
	if part != nil {
		var seg, other []*encodeGroup
		for _, gr := range encodes {
			if i := gr.members[0]; segmentable(&targets[i], &outs[i]) {
				seg = append(seg, gr)
			} else {
				other = append(other, gr)
			}
		}
		if piece != nil {
			encodes, copies = seg, nil
		} else {
			encodes, audioOnly = other, seg
		}
	}

	// Framings: one scale/fit chain per frame, rate and fit, feeding every
	// encode of that shape and one set of thumbnail candidates.
	var frames []*framing
	for k, gr := range encodes {
		i := gr.members[0]
		t, o := &targets[i], &outs[i]
		key := fmt.Sprint(o.Width, o.Height, o.FPS, o.Fit, t.Preset.Video.Codec == "gif", t.Preset.Video.PixFmt)
		j := slices.IndexFunc(frames, func(f *framing) bool { return f.key == key })
		if j < 0 {
			frames = append(frames, &framing{key: key, target: i})
			j = len(frames) - 1
		}
		f := frames[j]
		f.encodes = append(f.encodes, k)
		for _, m := range gr.members {
			if th := outs[m].Thumbnail; th != nil && piece.hasThumbnail(th) {
				f.thumbs = append(f.thumbs, m)
			}
		}
	}
	// Passthrough outputs' thumbnails come from the source itself: one set
	// for all of them.
	var copyThumbs []int
	for _, gr := range copies {
		for _, m := range gr.members {
			if outs[m].Thumbnail != nil {
				copyThumbs = append(copyThumbs, m)
			}
		}
	}

	if len(frames) > 0 || len(copyThumbs) > 0 {
		if piece != nil {
			vsrc = pieceInput(plan, g, vsrc, part, tl != nil)
			g.piece, g.pieceLast = piece, part.Last
		}
		if src.Video.HDR {
			g.chain(vsrc, "sdr", tonemap)
			vsrc = "sdr"
		}
		if len(frames) == 0 {
			// Only thumbnails need pictures: decode keyframes alone,
			// which costs next to nothing; the copied stream is not
			// affected.
			plan.InputOptions = append(plan.InputOptions, "-skip_frame:v", "nokey")
		}
		entry := make([]string, len(encodes))
		for k, gr := range encodes {
			entry[k] = encodeEntry(k, &targets[gr.members[0]], &outs[gr.members[0]])
		}
		if pt := videoGraph(g, vsrc, src.Video, frames, entry, len(copyThumbs) > 0, targets, outs); pt != "" {
			sharedThumbnail(g, pt, "pt", outs, copyThumbs)
		}
	} else if tl != nil {
		// The joined picture has no taker (the audio of a segmented
		// render): a graph's outputs must all be connected.
		g.chains = append(g.chains, "["+vsrc+"]nullsink")
	}

	// Audio: one chain per file that filters it (every encode with sound,
	// copies whose loudness changes).
	var audioUsers []*encodeGroup
	for _, gr := range slices.Concat(encodes, copies, audioOnly) {
		if audioChains[gr.members[0]] != "" && piece == nil {
			audioUsers = append(audioUsers, gr)
		}
	}
	alabel := map[*encodeGroup]string{}
	if len(audioUsers) > 0 {
		if src.Audio == nil {
			g.source("anullsrc=channel_layout=stereo:sample_rate=48000:duration="+seconds(duration), "silence")
			asrc = "silence"
		}
		labels := g.split(asrc, "a", len(audioUsers), "asplit")
		for n, gr := range audioUsers {
			out := fmt.Sprintf("ao%d", n)
			g.chain(labels[n], out, audioChains[gr.members[0]])
			alabel[gr] = out
			for _, m := range gr.members {
				outs[m].SilentAudio = src.Audio == nil
			}
		}
	} else if tl != nil {
		// The joined sound has no taker (GIF only): a graph's outputs
		// must all be connected.
		g.chains = append(g.chains, "["+asrc+"]anullsink")
	}
	audioArgs := func(gr *encodeGroup) []string {
		l, ok := alabel[gr]
		if !ok {
			return nil
		}
		return append([]string{"-map", "[" + l + "]"}, audioCodecArgs(&targets[gr.members[0]])...)
	}

	// Watermark images, split when several encodes use the same one.
	wmUsers := map[int][]int{}
	var wmOrder []int
	for k, gr := range encodes {
		if wm := targets[gr.members[0]].Watermark; wm != nil {
			in := inputIndex("watermark", wm.Path)
			if _, ok := wmUsers[in]; !ok {
				wmOrder = append(wmOrder, in)
			}
			wmUsers[in] = append(wmUsers[in], k)
		}
	}
	wmLabel := map[int]string{}
	for _, in := range wmOrder {
		users := wmUsers[in]
		if x := &plan.Extra[in-1]; IsSVG(x.Path) {
			// A vector image is rasterised at the largest size it is
			// shown at, so no target scales a small bitmap up.
			width := 0
			for _, k := range users {
				i := encodes[k].members[0]
				w := targets[i].Watermark.withDefaults()
				width = max(width, watermarkWidth(w, outs[i].Width))
			}
			x.Options = []string{"-width", strconv.Itoa(width), "-keep_ar", "1"}
		}
		labels := g.split(fmt.Sprintf("%d:v", in), fmt.Sprintf("wm%d_", in), len(users), "split")
		for n, k := range users {
			wmLabel[k] = labels[n]
		}
	}
	subtitleArgs := func(o *Output) []string {
		if o.Captions == nil || o.Captions.TrackCodec == "" {
			return nil
		}
		args := []string{"-map", strconv.Itoa(inputIndex("captions", opts.Captions)) + ":s:0", "-c:s", o.Captions.TrackCodec}
		if opts.CaptionsLanguage != "" {
			args = append(args, "-metadata:s:s:0", "language="+opts.CaptionsLanguage)
		}
		return args
	}

	// Each encode: [watermark, captions] → [GIF palette] → encoder.
	for k, gr := range encodes {
		i := gr.members[0]
		t, o := &targets[i], &outs[i]
		out := fmt.Sprintf("vo%d", k)
		if wm := t.Watermark; wm != nil {
			o.Watermark = wm.withDefaults().Path
			for _, m := range gr.members {
				outs[m].Watermark = o.Watermark
			}
		}
		decorate(g, k, t, o, wmLabel[k])
		if t.Preset.Video.Codec == "gif" {
			gifPalette(g, out+"g", out)
		}
		enc := out
		if piece != nil {
			// The piece's frames.
			g.chain(enc, out+"p", pieceCut(part))
			enc = out + "p"
		}
		if up := o.Encoding.hardwareUpload(); up != "" {
			g.chain(enc, out+"h", up)
			enc = out + "h"
			plan.Device = o.Encoding.hardwareDevice()
		}
		if piece != nil {
			// Its own file: video only.
			args := []string{"-map", "[" + enc + "]"}
			args = append(args, o.Encoding.Args()...)
			args = append(args, pieceKeyframes(o.Encoding, o.FPS, piece)...)
			args = append(args, "-f", t.Preset.Container)
			o.Args = append(args, PiecePath(part.Dir, o, piece.Index, t.Preset.Container))
			continue
		}
		args := []string{"-map", "[" + enc + "]"}
		args = append(args, o.Encoding.Args()...)
		args = append(args, audioArgs(gr)...)
		args = append(args, subtitleArgs(o)...)
		args = append(args, muxArgs(t.Preset)...)
		o.Args = append(args, o.TempPath)
	}
	for _, gr := range audioOnly {
		i := gr.members[0]
		if a := audioArgs(gr); a != nil {
			args := append(a, "-vn", "-f", targets[i].Preset.Container)
			outs[i].Args = append(args, AudioPath(part.Dir, &outs[i], targets[i].Preset.Container))
		}
	}
	for _, gr := range copies {
		i := gr.members[0]
		t, o := &targets[i], &outs[i]
		args := []string{"-map", "0:v:0"}
		a := audioArgs(gr)
		switch {
		case a != nil:
			args = append(args, a...)
			args = append(args, "-c:v", "copy")
		case src.Audio != nil && t.Preset.Audio.Codec != "":
			args = append(args, "-map", "0:a:0", "-c", "copy")
		default:
			args = append(args, "-c", "copy")
		}
		args = append(args, subtitleArgs(o)...)
		args = append(args, muxArgs(t.Preset)...)
		o.Args = append(args, o.TempPath)
	}
	plan.FilterGraph = g.String()
	return plan, nil
}

// fileKey joins what makes two outputs' files the same bytes.
func fileKey(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, "%v\x00", p)
	}
	return b.String()
}

func trackCodecOf(o *Output) string {
	if o.Captions == nil {
		return ""
	}
	return o.Captions.TrackCodec
}

// audioCodecArgsIf is the target's audio encoder options when its audio is
// encoded.
func audioCodecArgsIf(t *Target, encoded bool) []string {
	if !encoded {
		return nil
	}
	return audioCodecArgs(t)
}

// framing is one scale/fit chain: a frame size, rate and fit mode, and the
// encodes and thumbnails it feeds.
type framing struct {
	key string
	// target is the first target framed so (its size, rate and fit).
	target  int
	encodes []int // indexes of the plan's encodes
	thumbs  []int // outputs whose thumbnail comes from these frames
}

// videoGraph adds the video part of the graph: vsrc split to each frame
// rate that more than one framing converts to (the fps filter runs once
// per rate), to each framing (one scale/fit chain per frame and fit), and
// after each framing to its encodes (entry[k] is encode k's label) and one
// thumbnail chain. With copyThumbs, vsrc also feeds the thumbnails of
// passthrough outputs: the label returned.
func videoGraph(g *graph, vsrc string, v *media.Video, frames []*framing, entry []string, copyThumbs bool, targets []Target, outs []Output) string {
	needFPS := func(fps float64) bool { return v.VariableFrameRate || math.Abs(v.FrameRate-fps) > 0.01 }
	type rate struct {
		fps    float64
		frames []int
	}
	var rates []*rate
	var top []string // what vsrc feeds, in order: "f<j>" (a framing), "r<n>" (a rate), "pt"
	for j, f := range frames {
		fps := outs[f.target].FPS
		if !needFPS(fps) {
			top = append(top, fmt.Sprintf("f%d", j))
			continue
		}
		n := slices.IndexFunc(rates, func(r *rate) bool { return math.Abs(r.fps-fps) < 0.001 })
		if n < 0 {
			rates = append(rates, &rate{fps: fps})
			n = len(rates) - 1
			top = append(top, fmt.Sprintf("r%d", n))
		}
		rates[n].frames = append(rates[n].frames, j)
	}
	if copyThumbs {
		top = append(top, "pt")
	}
	in := map[string]string{} // node → its input label
	for n, l := range g.split(vsrc, "v", len(top), "split") {
		in[top[n]] = l
	}
	pre := map[int]string{} // framing → the fps filter it runs itself
	for n, r := range rates {
		node := fmt.Sprintf("r%d", n)
		if len(r.frames) == 1 {
			// Alone at its rate: the conversion stays in its chain.
			in[fmt.Sprintf("f%d", r.frames[0])] = in[node]
			pre[r.frames[0]] = "fps=" + fpsString(r.fps)
			continue
		}
		labels := make([]string, len(r.frames))
		for m, j := range r.frames {
			labels[m] = fmt.Sprintf("r%d_%d", n, m)
			in[fmt.Sprintf("f%d", j)] = labels[m]
		}
		g.splitTo(in[node], "fps="+fpsString(r.fps)+",", labels)
	}
	for j, f := range frames {
		t, o := &targets[f.target], &outs[f.target]
		// The framed picture's takers: each encode, then the thumbnails.
		var takers []string
		for _, k := range f.encodes {
			takers = append(takers, entry[k])
		}
		thumb := ""
		if len(f.thumbs) > 0 {
			thumb = fmt.Sprintf("th%d", j)
			takers = append(takers, thumb)
		}
		framed := takers[0]
		if len(takers) > 1 {
			framed = fmt.Sprintf("fr%d", j)
		}
		videoChain(g, in[fmt.Sprintf("f%d", j)], framed, pre[j], v, t, o.Width, o.Height)
		if len(takers) > 1 {
			g.splitTo(framed, "", takers)
		}
		if thumb != "" {
			sharedThumbnail(g, thumb, thumb+"o", outs, f.thumbs)
		}
	}
	return in["pt"]
}

// sharedThumbnail adds one thumbnail chain from label in to out for the
// outputs users: the first output's candidates are every user's.
func sharedThumbnail(g *graph, in, out string, outs []Output, users []int) {
	first := outs[users[0]].Thumbnail
	chain, args := thumbnailChain(first), thumbnailArgs(out, first)
	if g.piece != nil {
		chain, args = pieceThumbnails(chain, first, &Part{Segment: g.piece, Last: g.pieceLast}, args)
	}
	g.chain(in, out, chain)
	first.Args = args
	for _, m := range users[1:] {
		th := outs[m].Thumbnail
		th.Pattern, th.Args = first.Pattern, nil
	}
}

// decorate adds encode k's watermark and burned-in captions, from label
// "vo<k>d" to the encoder's (or the GIF palette's) input.
func decorate(g *graph, k int, t *Target, o *Output, wmIn string) {
	out := fmt.Sprintf("vo%d", k)
	isGIF := t.Preset.Video.Codec == "gif"
	burn := o.Captions != nil && o.Captions.ASS != ""
	if t.Watermark == nil && !burn {
		return
	}
	var f []string
	in := "[" + out + "d]"
	if wm := t.Watermark; wm != nil {
		w := wm.withDefaults()
		scaled := out + "wm"
		g.chain(wmIn, scaled, watermarkChain(w, o.Width))
		in += "[" + scaled + "]"
		f = append(f, overlayPosition(w, o.Width, o.Height, t.Preset.SafeArea))
	}
	if burn {
		f = append(f, "subtitles=filename="+Escape(o.Captions.ASS))
	}
	next := out
	if isGIF {
		next = out + "g"
	} else {
		f = append(f, "format="+t.Preset.Video.PixFmt)
	}
	g.chains = append(g.chains, in+strings.Join(f, ",")+"["+next+"]")
}

// encodeEntry is the label encode k's frames arrive on: "vo<k>d" before a
// watermark or burned-in captions, "vo<k>g" before a GIF palette, else
// "vo<k>", the encoder's input.
func encodeEntry(k int, t *Target, o *Output) string {
	switch {
	case t.Watermark != nil || o.Captions != nil && o.Captions.ASS != "":
		return fmt.Sprintf("vo%dd", k)
	case t.Preset.Video.Codec == "gif":
		return fmt.Sprintf("vo%dg", k)
	}
	return fmt.Sprintf("vo%d", k)
}

// captionOutput decides how a target carries captions and where their
// files go.
func captionOutput(t *Target, path, workDir string, w, h int) *CaptionOutput {
	c := t.Captions
	if c == (Captions{}) {
		return nil
	}
	o := &CaptionOutput{}
	if c.Burn {
		o.ASS = filepath.Join(workDir, "."+t.Preset.ID+".ass")
		o.Style = captionStyle(w, h, t.Preset.SafeArea)
	}
	if c.Track {
		o.TrackCodec = trackCodec(t.Preset.Container)
	}
	if c.Sidecar {
		ext := t.Preset.CaptionUpload
		if ext == "" {
			ext = "srt"
		}
		o.Sidecar = strings.TrimSuffix(path, filepath.Ext(path)) + "." + ext
	}
	if *o == (CaptionOutput{}) {
		return nil
	}
	return o
}

// tempPath is where ffmpeg writes before the file is checked and renamed.
// It keeps the extension last so tools that sniff names still work, and
// starts with a dot so directory listings hide it.
func tempPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".part")
}

// tonemap converts PQ/HLG BT.2020 to SDR BT.709 with the Hable curve.
const tonemap = "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"

// targetFPS picks the output frame rate: the source's own rate when the
// platform accepts it (as platforms recommend), else the nearest allowed.
func targetFPS(v *media.Video, t *Target) float64 {
	if t.FPS > 0 {
		return t.FPS
	}
	fps := v.FrameRate
	if fps <= 0 || math.IsNaN(fps) || fps > 240 {
		fps = 30
	}
	if v.VariableFrameRate {
		// Constant frame rate at the nearest common rate.
		fps = nearestCommonFPS(fps)
	}
	if m := t.Preset.Video.MaxFPS; m > 0 && fps > m+0.01 {
		fps = m
	}
	if m := t.Preset.Rules.MaxFPS; m > 0 && fps > m+0.01 {
		fps = m
	}
	if m := t.Preset.Rules.MinFPS; m > 0 && fps < m-0.01 {
		fps = nearestCommonFPS(m)
		if fps < m {
			fps = 30
		}
	}
	return fps
}

var commonFPS = []float64{24000.0 / 1001, 24, 25, 30000.0 / 1001, 30, 50, 60000.0 / 1001, 60}

func nearestCommonFPS(f float64) float64 {
	best := commonFPS[0]
	for _, c := range commonFPS {
		if math.Abs(c-f) < math.Abs(best-f) {
			best = c
		}
	}
	return best
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// seconds formats a duration in seconds for ffmpeg, without exponent.
func seconds(s float64) string {
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// fpsString formats a frame rate, exactly for the NTSC rates.
func fpsString(f float64) string {
	for _, n := range []float64{24, 30, 60} {
		if math.Abs(f-n*1000/1001) < 0.001 {
			return strconv.Itoa(int(n*1000)) + "/1001"
		}
	}
	if f == math.Trunc(f) {
		return strconv.Itoa(int(f))
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}

// graph accumulates filter chains into one -filter_complex string.
type graph struct {
	chains []string
	// piece is the segment a piece of a segmented render renders;
	// pieceLast is set for the last one.
	piece     *Segment
	pieceLast bool
}

func (g *graph) chain(in, out, filters string) {
	g.chains = append(g.chains, "["+in+"]"+filters+"["+out+"]")
}

func (g *graph) source(filters, out string) {
	g.chains = append(g.chains, filters+"["+out+"]")
}

// split fans in out to n labels prefix0…; with n == 1 the input label is
// returned as is, so no useless split appears in the graph.
func (g *graph) split(in, prefix string, n int, filter string) []string {
	if n == 1 {
		return []string{in}
	}
	labels := make([]string, n)
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]%s=%d", in, filter, n)
	for i := range labels {
		labels[i] = fmt.Sprintf("%s%d", prefix, i)
		b.WriteString("[" + labels[i] + "]")
	}
	g.chains = append(g.chains, b.String())
	return labels
}

// splitTo fans in out to the given labels, after the filters pre (ending
// with a comma, or "").
func (g *graph) splitTo(in, pre string, labels []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]%ssplit=%d", in, pre, len(labels))
	for _, l := range labels {
		b.WriteString("[" + l + "]")
	}
	g.chains = append(g.chains, b.String())
}

func (g *graph) String() string { return strings.Join(g.chains, ";") }
