package media

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Loudness is the measured loudness of a source's first audio stream, after
// EBU R128 (ITU-R BS.1770): what a second pass needs to normalise it.
type Loudness struct {
	// Integrated is the programme loudness in LUFS; -70 or below is silence.
	Integrated float64 `json:"integrated_lufs"`
	// Threshold is the relative gating threshold of the integrated
	// measurement, in LUFS.
	Threshold float64 `json:"threshold_lufs"`
	// Range is the loudness range (LRA) in LU.
	Range float64 `json:"range_lu"`
	// TruePeak is the highest true (4× oversampled) peak in dBTP;
	// -Inf for digital silence.
	TruePeak float64 `json:"true_peak_dbtp"`
}

// Silent reports a measurement of (near) silence, which no gain can bring
// to a target level.
func (l *Loudness) Silent() bool {
	return l.Integrated <= -70 || math.IsInf(l.TruePeak, -1)
}

// LoudnessArgs is the ffmpeg argv (without the program name) that measures
// path's first audio stream with the ebur128 filter. ebur128 is used rather
// than a first loudnorm pass: it reports the same four values about five
// times faster, because loudnorm resamples everything to 192 kHz.
func LoudnessArgs(path string) []string {
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "info", "-i", path,
		"-map", "0:a:0", "-vn", "-sn", "-dn",
		// framelog=verbose: the per-100 ms lines stay out of the log at
		// this level; only the summary is printed.
		"-af", "ebur128=peak=true:framelog=verbose",
		"-f", "null", "-",
	}
}

// MeasureLoudness measures the loudness of the first audio stream of the
// file at path, which lasts total seconds (for progress).
func (r *Runner) MeasureLoudness(ctx context.Context, path string, total float64, progress func(Progress)) (*Loudness, error) {
	log, _, err := r.run(ctx, LoudnessArgs(path), total, progress)
	if err != nil {
		return nil, err
	}
	l, err := ParseLoudness(log)
	if err != nil {
		return nil, fmt.Errorf("measure loudness of %s: %w", path, err)
	}
	return l, nil
}

// ParseLoudness reads the summary the ebur128 filter logs at the end of a
// run:
//
//	Integrated loudness:
//	  I:         -21.8 LUFS
//	  Threshold: -31.8 LUFS
//	Loudness range:
//	  LRA:         0.0 LU
//	  …
//	True peak:
//	  Peak:      -20.8 dBFS
func ParseLoudness(log string) (*Loudness, error) {
	i := strings.LastIndex(log, "Summary:")
	if i < 0 {
		return nil, fmt.Errorf("no ebur128 summary in the log")
	}
	var l Loudness
	var section string
	found := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(log[i:]))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" {
			section = key
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		name := section + "/" + key
		switch name {
		case "Integrated loudness/I":
			l.Integrated = v
		case "Integrated loudness/Threshold":
			l.Threshold = v
		case "Loudness range/LRA":
			l.Range = v
		case "True peak/Peak":
			l.TruePeak = v
		default:
			continue
		}
		found[name] = true
	}
	for _, k := range []string{"Integrated loudness/I", "Loudness range/LRA", "True peak/Peak"} {
		if !found[k] {
			return nil, fmt.Errorf("the ebur128 summary has no %s", k)
		}
	}
	return &l, nil
}
