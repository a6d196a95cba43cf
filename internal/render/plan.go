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
}

// Options apply to the whole plan.
type Options struct {
	// OutDir holds outputs whose Target.Path is empty.
	OutDir string
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
	// Args are this output's ffmpeg options, ending with TempPath.
	Args []string `json:"args"`
}

// Plan is one ffmpeg run.
type Plan struct {
	Input string `json:"input"`
	// Duration is the source duration in seconds, for progress.
	Duration    float64  `json:"duration_seconds"`
	FilterGraph string   `json:"filter_complex,omitempty"`
	Outputs     []Output `json:"outputs"`
}

// Args returns the complete ffmpeg argv, without the program name.
func (p *Plan) Args() []string {
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats", "-i", p.Input}
	if p.FilterGraph != "" {
		args = append(args, "-filter_complex", p.FilterGraph)
	}
	for _, o := range p.Outputs {
		args = append(args, o.Args...)
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
	plan := &Plan{Input: src.Path, Duration: src.Duration}
	g := &graph{}

	// Pre-processing shared by every re-encoded target runs once, before
	// the split: HDR sources are tone-mapped to SDR BT.709 here.
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
		w, h := t.Preset.Size(src.Video.Width, src.Video.Height)
		o := Output{
			PresetID: t.Preset.ID,
			Path:     path,
			TempPath: tempPath(path),
			Width:    w,
			Height:   h,
			Quality:  string(t.Quality),
		}
		if reason := passthroughBlocker(src, t, w, h); reason == "" {
			o.Passthrough = true
			o.FPS = src.Video.FrameRate
			o.Args = passthroughArgs(src, t, o.TempPath)
		} else {
			o.Reason = reason
			encoded = append(encoded, i)
		}
		plan.Outputs = append(plan.Outputs, o)
	}

	if len(encoded) > 0 {
		vsrc := "0:v:0"
		if src.Video.HDR {
			g.chain(vsrc, "sdr", tonemap)
			vsrc = "sdr"
		}
		vlabels := g.split(vsrc, "v", len(encoded), "split")

		var audioTargets []int
		for _, i := range encoded {
			if targets[i].Preset.Audio.Codec != "" && (src.Audio != nil || targets[i].Preset.Rules.RequireAudio) {
				audioTargets = append(audioTargets, i)
			}
		}
		var alabels []string
		if len(audioTargets) > 0 {
			asrc := "0:a:0"
			if src.Audio == nil {
				g.source("anullsrc=channel_layout=stereo:sample_rate=48000:duration="+seconds(src.Duration), "silence")
				asrc = "silence"
			}
			alabels = g.split(asrc, "a", len(audioTargets), "asplit")
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
			if fit := videoChain(g, vlabels[k], out, src.Video, t, o.Width, o.Height, fps, fit); fit != "" {
				o.Fit = string(fit)
			}
			args := []string{"-map", "[" + out + "]"}
			args = append(args, videoCodecArgs(t, fps)...)
			if ak := indexOf(audioTargets, i); ak >= 0 {
				aout := fmt.Sprintf("ao%d", k)
				g.chain(alabels[ak], aout, audioChain(t.Preset.Audio))
				args = append(args, "-map", "["+aout+"]")
				args = append(args, audioCodecArgs(t)...)
				o.SilentAudio = src.Audio == nil
			}
			args = append(args, muxArgs(t.Preset)...)
			args = append(args, o.TempPath)
			o.Args = args
		}
		plan.FilterGraph = g.String()
	}
	return plan, nil
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
