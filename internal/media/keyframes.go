package media

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Keyframes returns the times, in seconds from the file's start (as ffmpeg
// counts them after -ss), of the keyframes of its first video stream,
// ascending. It reads the packet index only; nothing is decoded.
func (p *Prober) Keyframes(ctx context.Context, path string) ([]float64, error) {
	out, err := p.run(ctx, path, "-select_streams", "v:0", "-show_entries", "format=start_time:packet=pts_time,flags",
		"-print_format", "csv=p=0")
	if err != nil {
		return nil, fmt.Errorf("list keyframes: %w", err)
	}
	return ParseKeyframes(out)
}

// ParseKeyframes reads ffprobe's CSV listing of packets (pts_time,flags) and
// the format's start_time (the last line) into keyframe times from the
// start.
func ParseKeyframes(out []byte) ([]float64, error) {
	var (
		keys  []float64
		start float64
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ",")
		switch {
		case len(fields) == 1 && fields[0] != "":
			// The format's start time.
			if fields[0] != "N/A" {
				s, err := strconv.ParseFloat(fields[0], 64)
				if err != nil {
					return nil, fmt.Errorf("start time %q: %w", fields[0], err)
				}
				start = s
			}
		case len(fields) >= 2 && strings.HasPrefix(fields[1], "K") && fields[0] != "N/A":
			t, err := strconv.ParseFloat(fields[0], 64)
			if err != nil {
				return nil, fmt.Errorf("packet time %q: %w", fields[0], err)
			}
			keys = append(keys, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i] -= start
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}
