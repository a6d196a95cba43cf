// Package render turns a probed source and a list of targets into a Plan: the
// one ffmpeg invocation that decodes the source once, splits it to every
// target's filter chain and encoder, and stream-copies the targets the source
// already satisfies. Building a plan is pure: no I/O, no clock, no ffmpeg.
package render

import (
	"fmt"
	"math"
	"path/filepath"
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
	// Args are this output's ffmpeg options, ending with TempPath.
	Args []string `json:"args"`
}

// Plan is one ffmpeg run.
type Plan struct {
	Input string `json:"input"`
	// InputOptions come before the source's -i (a sample's -ss/-t).
	InputOptions []string `json:"input_options,omitempty"`
	// Extra are the other inputs (captions, watermark images): files read
	// once, never a second decode of the source.
	Extra []Input `json:"extra_inputs,omitempty"`
	// Duration is the source duration in seconds, for progress.
	Duration    float64  `json:"duration_seconds"`
	FilterGraph string   `json:"filter_complex,omitempty"`
	Outputs     []Output `json:"outputs"`
}

// Args returns the complete ffmpeg argv, without the program name.
func (p *Plan) Args() []string {
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"}
	args = append(args, p.InputOptions...)
	args = append(args, "-i", p.Input)
	for _, in := range p.Extra {
		args = append(args, in.Options...)
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

// Build plans the render of src into targets.
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
	plan := &Plan{Input: src.Path, Duration: duration}
	tl := opts.Timeline
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

	encoded := make([]int, 0, len(targets))
	seen := map[string]bool{}
	for i := range targets {
		t := &targets[i]
		if t.Quality == "" {
			t.Quality = preset.HD
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
			encoded = append(encoded, i)
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

	// The decoded picture feeds every encoded target and the thumbnails of
	// passthrough targets.
	var thumbOnly []int
	for i := range plan.Outputs {
		if plan.Outputs[i].Passthrough && plan.Outputs[i].Thumbnail != nil {
			thumbOnly = append(thumbOnly, i)
		}
	}
	var vlabels []string
	if n := len(encoded) + len(thumbOnly); n > 0 {
		if src.Video.HDR {
			g.chain(vsrc, "sdr", tonemap)
			vsrc = "sdr"
		}
		if len(encoded) == 0 {
			// Only thumbnails need pictures: decode keyframes alone,
			// which costs next to nothing; the copied stream is not
			// affected.
			plan.InputOptions = append(plan.InputOptions, "-skip_frame:v", "nokey")
		}
		vlabels = g.split(vsrc, "v", n, "split")
	}

	// Audio goes through the graph for encoded targets, and for passthrough
	// targets whose loudness changes (their video is still copied).
	var audioTargets []int
	for i := range plan.Outputs {
		t, o := &targets[i], &plan.Outputs[i]
		switch {
		case t.Preset.Audio.Codec == "":
		case !o.Passthrough && (src.Audio != nil || t.Preset.Rules.RequireAudio):
			audioTargets = append(audioTargets, i)
		case o.Passthrough && o.Loudness != "":
			audioTargets = append(audioTargets, i)
		}
	}
	var alabels []string
	if len(audioTargets) > 0 {
		if src.Audio == nil {
			g.source("anullsrc=channel_layout=stereo:sample_rate=48000:duration="+seconds(duration), "silence")
			asrc = "silence"
		}
		alabels = g.split(asrc, "a", len(audioTargets), "asplit")
	} else if tl != nil {
		// The joined sound has no taker (GIF only): a graph's outputs
		// must all be connected.
		g.chains = append(g.chains, "["+asrc+"]anullsink")
	}
	audioArgs := func(i, k int) []string {
		ak := indexOf(audioTargets, i)
		if ak < 0 {
			return nil
		}
		t, o := &targets[i], &plan.Outputs[i]
		aout := fmt.Sprintf("ao%d", k)
		chain := audioChain(t.Preset.Audio)
		if f, _ := loudnessFilter(opts.Loudness, targetLoudness(t), t.Preset.Audio.Codec); f != "" && src.Audio != nil {
			chain = f + "," + chain
		}
		g.chain(alabels[ak], aout, chain)
		o.SilentAudio = src.Audio == nil
		return append([]string{"-map", "[" + aout + "]"}, audioCodecArgs(t)...)
	}

	// Watermark images, split when several targets use the same one.
	wmUsers := map[int][]int{}
	var wmOrder []int
	for _, i := range encoded {
		if wm := targets[i].Watermark; wm != nil {
			in := inputIndex("watermark", wm.Path)
			if _, ok := wmUsers[in]; !ok {
				wmOrder = append(wmOrder, in)
			}
			wmUsers[in] = append(wmUsers[in], i)
		}
	}
	wmLabel := map[int]string{}
	for _, in := range wmOrder {
		users := wmUsers[in]
		if x := &plan.Extra[in-1]; IsSVG(x.Path) {
			// A vector image is rasterised at the largest size it is
			// shown at, so no target scales a small bitmap up.
			width := 0
			for _, i := range users {
				w := targets[i].Watermark.withDefaults()
				width = max(width, watermarkWidth(w, plan.Outputs[i].Width))
			}
			x.Options = []string{"-width", strconv.Itoa(width), "-keep_ar", "1"}
		}
		labels := g.split(fmt.Sprintf("%d:v", in), fmt.Sprintf("wm%d_", in), len(users), "split")
		for k, i := range users {
			wmLabel[i] = labels[k]
		}
	}
	trackInput := 0
	for i := range plan.Outputs {
		if c := plan.Outputs[i].Captions; c != nil && c.TrackCodec != "" {
			trackInput = inputIndex("captions", opts.Captions)
		}
	}
	subtitleArgs := func(o *Output) []string {
		if o.Captions == nil || o.Captions.TrackCodec == "" {
			return nil
		}
		args := []string{"-map", strconv.Itoa(trackInput) + ":s:0", "-c:s", o.Captions.TrackCodec}
		if opts.CaptionsLanguage != "" {
			args = append(args, "-metadata:s:s:0", "language="+opts.CaptionsLanguage)
		}
		return args
	}

	for k, i := range encoded {
		t := &targets[i]
		o := &plan.Outputs[i]
		fit := t.Fit
		if fit == "" {
			fit = preset.FitBlur
		}
		fps := targetFPS(src.Video, t)
		o.FPS = fps
		out := fmt.Sprintf("vo%d", k)
		isGIF := t.Preset.Video.Codec == "gif"
		wm := t.Watermark
		burn := o.Captions != nil && o.Captions.ASS != ""
		decorate := wm != nil || burn

		// framed → [thumbnail split] → [watermark, captions] → [GIF
		// palette] → out, each stage writing out itself when it is the
		// last, so a plain target's graph is what it always was.
		last := func(stage string) string {
			if !isGIF {
				return out
			}
			return out + stage
		}
		framed := last("g")
		if decorate || o.Thumbnail != nil {
			framed = out + "f"
		}
		if fit := videoChain(g, vlabels[k], framed, src.Video, t, o.Width, o.Height, fps, fit); fit != "" {
			o.Fit = string(fit)
		}
		cur := framed
		if o.Thumbnail != nil {
			main, th := last("g"), out+"t"
			if decorate {
				main = out + "m"
			}
			g.chains = append(g.chains, "["+cur+"]split=2["+main+"]["+th+"]")
			g.chain(th, out+"th", thumbnailChain(o.Thumbnail))
			o.Thumbnail.Args = thumbnailArgs(out+"th", o.Thumbnail)
			cur = main
		}
		if decorate {
			var f []string
			in := "[" + cur + "]"
			if wm != nil {
				w := wm.withDefaults()
				o.Watermark = w.Path
				scaled := out + "wm"
				g.chain(wmLabel[i], scaled, watermarkChain(w, o.Width))
				in += "[" + scaled + "]"
				f = append(f, overlayPosition(w, o.Width, o.Height, t.Preset.SafeArea))
			}
			if burn {
				f = append(f, "subtitles=filename="+Escape(o.Captions.ASS))
			}
			if !isGIF {
				f = append(f, "format="+t.Preset.Video.PixFmt)
			}
			cur = last("g")
			g.chains = append(g.chains, in+strings.Join(f, ",")+"["+cur+"]")
		}
		if isGIF {
			gifPalette(g, cur, out)
		}

		args := []string{"-map", "[" + out + "]"}
		args = append(args, videoCodecArgs(t, fps)...)
		args = append(args, audioArgs(i, k)...)
		args = append(args, subtitleArgs(o)...)
		args = append(args, muxArgs(t.Preset)...)
		o.Args = append(args, o.TempPath)
	}

	for k, i := range thumbOnly {
		o := &plan.Outputs[i]
		label := fmt.Sprintf("pt%d", k)
		g.chain(vlabels[len(encoded)+k], label, thumbnailChain(o.Thumbnail))
		o.Thumbnail.Args = thumbnailArgs(label, o.Thumbnail)
	}
	for i := range plan.Outputs {
		o := &plan.Outputs[i]
		if !o.Passthrough {
			continue
		}
		t := &targets[i]
		args := []string{"-map", "0:v:0"}
		a := audioArgs(i, len(encoded)+i)
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

func (g *graph) String() string { return strings.Join(g.chains, ";") }
