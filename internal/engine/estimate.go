package engine

import (
	"context"
	"math"
	"os"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
)

// SizeEstimate is the predicted size of one target's file.
type SizeEstimate struct {
	Preset string `json:"preset"`
	Bytes  int64  `json:"bytes,omitempty"`
	// Method says how the figure was reached: "passthrough" (the source's
	// own streams), "sample" (a sample encode, scaled to the duration) or
	// "cap" (the sample ran into the bitrate cap, which bounds the size).
	Method string     `json:"method,omitempty"`
	Error  *ErrorInfo `json:"error,omitempty"`
}

// SampleSeconds is the length of the sample encoded to calibrate an
// estimate, taken from the middle of the source.
const SampleSeconds = 3.0

// Estimate predicts the size of each target's file for the source at src
// without rendering it: passthrough targets from the source's own streams;
// encoded targets from one short sample encode of all of them at their
// settings (one ffmpeg run), scaled to the duration and bounded by the
// bitrate cap (plus the encoder's initial buffer) when there is one.
func (e *Engine) Estimate(ctx context.Context, src string, targets []render.Target) ([]SizeEstimate, error) {
	return e.EstimateRequest(ctx, Request{Source: src, Targets: targets})
}

// EstimateRequest is Estimate for what req renders: its source, or its
// timeline with the intro and outro (sampled from the joined clips).
func (e *Engine) EstimateRequest(ctx context.Context, req Request) ([]SizeEstimate, error) {
	targets := req.Targets
	info, tl, err := e.source(ctx, &req)
	if err != nil {
		return nil, err
	}
	if info.Video == nil {
		return nil, errcode.New(errcode.SourceNoVideo, "%s has no video stream (audio only?)", req.Source)
	}
	out := make([]SizeEstimate, len(targets))
	var sample []render.Target
	var sampleIdx []int
	for i, t := range targets {
		out[i].Preset = t.Preset.ID
		if vs := t.Preset.CheckSource(info); len(vs) > 0 {
			out[i].Error = &ErrorInfo{Code: errcode.PlatformRule, Message: vs[0].Message, Remedy: vs[0].Remedy}
			continue
		}
		// What the sample does not need: sizes hardly depend on them.
		t.Thumbnail, t.Captions, t.LoudnessOff, t.Path = false, render.Captions{}, true, ""
		sample = append(sample, t)
		sampleIdx = append(sampleIdx, i)
	}
	if len(sample) == 0 {
		return out, nil
	}
	dir, err := os.MkdirTemp("", "outpost-estimate-")
	if err != nil {
		return nil, errcode.Wrap(errcode.OutputWriteFailed, err, "create a folder for the sample")
	}
	defer os.RemoveAll(dir)

	span := &render.Span{Start: max(0, info.Duration/2-SampleSeconds/2), Duration: min(SampleSeconds, info.Duration)}
	plan, err := render.Build(info, sample, render.Options{OutDir: dir, Sample: span, Timeline: tl, Threads: e.Threads, Hardware: e.Hardware})
	if err != nil {
		return nil, err
	}
	// Only the encoded outputs are sampled.
	var keep []render.Output
	var keepIdx []int
	for k, o := range plan.Outputs {
		i := sampleIdx[k]
		if o.Passthrough {
			out[i].Bytes, out[i].Method = passthroughSize(info, &sample[k]), "passthrough"
			continue
		}
		keep = append(keep, o)
		keepIdx = append(keepIdx, k)
	}
	if len(keep) == 0 {
		return out, nil
	}
	plan.Outputs = keep
	if err := e.Runner.Run(ctx, plan.Args(), plan.Duration, nil); err != nil {
		return nil, err
	}
	for j, o := range plan.Outputs {
		k := keepIdx[j]
		i := sampleIdx[k]
		st, err := os.Stat(o.File())
		if err != nil {
			out[i].Error = Info(errcode.Wrap(errcode.RenderFailed, err, "the sample encode wrote no file"))
			continue
		}
		out[i].Bytes, out[i].Method = scaleSample(st.Size(), plan.Duration, info.Duration, &sample[k], o.Encoding)
	}
	return out, nil
}

// scaleSample turns a sample's size into the whole file's. When the rate
// is over the encode's cap (the one of the target's file, shared or not),
// the cap bounds it: the encoder may spend its initial buffer (90 % of
// bufsize, x264's default) early, then keeps to the cap.
func scaleSample(size int64, sampleSec, duration float64, t *render.Target, enc *render.Encoding) (int64, string) {
	if sampleSec <= 0 {
		return size, "sample"
	}
	bytes := float64(size) / sampleSec * duration
	if enc != nil && enc.Encoder == "libx264" && enc.MaxRateKbps > 0 {
		audio := audioBits(t) * duration
		bound := (float64(enc.MaxRateKbps)*1000*duration + 0.9*float64(enc.BufSizeKbps)*1000 + audio) / 8
		if bytes > bound {
			return int64(bound), "cap"
		}
	}
	return int64(math.Round(bytes)), "sample"
}

// audioBits is the target's audio bitrate in bits per second.
func audioBits(t *render.Target) float64 {
	a := t.Preset.Audio
	switch {
	case a.Codec == "":
		return 0
	case a.Codec == "pcm_s24le":
		return float64(a.SampleRate * a.Channels * 24)
	case a.Codec == "pcm_s16le":
		return float64(a.SampleRate * a.Channels * 16)
	}
	return float64(t.Preset.Level(t.Quality).AudioKbps) * 1000
}

// passthroughSize is a stream copy's size: the source's video, and its
// audio unless the loudness changes it.
func passthroughSize(src *media.Info, t *render.Target) int64 {
	vbits := float64(src.Video.BitRate)
	if vbits == 0 {
		return src.SizeBytes
	}
	abits := 0.0
	if src.Audio != nil && t.Preset.Audio.Codec != "" {
		abits = float64(src.Audio.BitRate)
	}
	return int64((vbits + abits) * src.Duration / 8 * 1.005) // ~0.5 % container
}
