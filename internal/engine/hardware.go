package engine

import (
	"context"
	"fmt"
	"sync"

	"outpost/internal/errcode"
	"outpost/internal/media"
	"outpost/internal/render"
)

// ProbeEncoders runs each hardware encoder's one-frame test encode
// (render.ProbeArgs), all at once, and returns each encoder's failure (nil
// for one that works), by encoder name. The answers are cached per process
// (media.Runner.TestEncode).
func ProbeEncoders(ctx context.Context, r *media.Runner, families ...render.Hardware) map[string]error {
	var names []string
	for _, h := range families {
		names = append(names, h.Encoders()...)
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.TestEncode(ctx, render.ProbeArgs(name))
		}()
	}
	wg.Wait()
	out := make(map[string]error, len(names))
	for i, name := range names {
		out[name] = errs[i]
	}
	return out
}

// UseEncoder resolves choice (OUTPOST_ENCODER: config.EncoderChoices; ""
// is auto) to the hardware
// family the engine's H.264 encodes use, probing the families it may use,
// and logs each probe's answer. An explicit family whose test encode fails
// is an HWEncoderFailed error and leaves the engine on x264; auto
// takes the first family that works (NVENC, VAAPI, QSV) or x264.
func (e *Engine) UseEncoder(ctx context.Context, choice string) error {
	e.Hardware = render.Software
	families := render.Hardwares
	switch choice {
	case "", "auto":
	case "software":
		return nil
	default:
		h, err := render.ParseHardware(choice)
		if err != nil {
			return errcode.New(errcode.ConfigInvalid, "OUTPOST_ENCODER: %q: want one of auto, software, nvenc, vaapi, qsv", choice)
		}
		families = []render.Hardware{h}
	}
	probes := ProbeEncoders(ctx, e.Runner, families...)
	if err := ctx.Err(); err != nil {
		return errcode.Wrap(errcode.Canceled, err, "probe the hardware encoders")
	}
	for _, h := range families {
		for _, name := range h.Encoders() {
			if err := probes[name]; err != nil {
				e.Logger.Debug("hardware encoder unavailable", "encoder", name, "reason", err.Error())
			} else {
				e.Logger.Debug("hardware encoder available", "encoder", name)
			}
		}
	}
	for _, h := range families {
		if probes[h.H264()] == nil {
			e.Hardware = h
			e.Logger.Info("H.264 on hardware", "encoder", h.H264())
			return nil
		}
	}
	if len(families) == 1 {
		h := families[0]
		return &errcode.Error{Code: errcode.HWEncoderFailed,
			Message: fmt.Sprintf("OUTPOST_ENCODER=%s: the %s test encode failed: %v", h, h.H264(), probes[h.H264()]),
			Err:     probes[h.H264()]}
	}
	e.Logger.Debug("no hardware encoder works: H.264 with x264")
	return nil
}
