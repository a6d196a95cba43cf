package media

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// packetTimes reads the presentation times of stream's packets from
// ffprobe's JSON ("packets": [{"stream_index": 0, "pts_time": "0.033333"}]);
// packets without a timestamp ("N/A") are skipped.
func packetTimes(data []byte, stream int) []float64 {
	var pj struct {
		Packets []struct {
			StreamIndex int    `json:"stream_index"`
			PtsTime     string `json:"pts_time"`
		} `json:"packets"`
	}
	if json.Unmarshal(data, &pj) != nil {
		return nil
	}
	var pts []float64
	for _, p := range pj.Packets {
		if p.StreamIndex != stream {
			continue
		}
		f, err := strconv.ParseFloat(p.PtsTime, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		pts = append(pts, f)
	}
	return pts
}

// VFR judgement: a frame interval counts as irregular when it is more than
// vfrTolerance from the median, with vfrSlack seconds allowed for containers
// that round timestamps to the millisecond (Matroska: 33, 33, 34 ms at 30
// fps). A stream is VFR when more than vfrFraction of its intervals, and at
// least two, are irregular, so one dropped frame or a short last frame does
// not count.
const (
	vfrTolerance = 0.10
	vfrSlack     = 0.0015
	vfrFraction  = 0.02
	vfrMinDeltas = 10
)

// detectVFR judges from packet timestamps (any order: B-frames reorder them)
// whether the frames are unevenly spaced. limit is how many packets were
// asked for: when the list is that long, the window cut the stream in decode
// order and the last few presentation times may be missing, so those are
// dropped. ok is false when there are too few packets to tell.
func detectVFR(pts []float64, limit int) (vfr, ok bool) {
	cut := limit > 0 && len(pts) >= limit
	pts = slices.Clone(pts)
	slices.Sort(pts)
	pts = slices.Compact(pts)
	if cut {
		// B-frame reordering is at most 16 deep in H.264/HEVC.
		pts = pts[:len(pts)-min(16, len(pts)/10)]
	}
	if len(pts) < vfrMinDeltas+1 {
		return false, false
	}
	deltas := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		deltas = append(deltas, pts[i]-pts[i-1])
	}
	sorted := slices.Clone(deltas)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	if median <= 0 {
		return false, false
	}
	tol := max(median*vfrTolerance, vfrSlack)
	irregular := 0
	for _, d := range deltas {
		if math.Abs(d-median) > tol {
			irregular++
		}
	}
	return irregular >= 2 && float64(irregular) > vfrFraction*float64(len(deltas)), true
}
