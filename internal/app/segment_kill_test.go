//go:build linux

package app_test

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// TestCluster_killedSegment renders an export in three segments over two
// `outpost worker` processes and, once one part is stored, kills (SIGKILL,
// the whole process group, its ffmpeg with it) the worker rendering another
// piece, as a machine that dies would be. The export succeeds all the
// same: the other node renders the killed piece again once the dead one's
// heartbeats stop, no part that was stored is rendered again, the joined
// file has the source's frames, and the export's history says which node
// rendered which part.
func TestCluster_killedSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs PostgreSQL, versitygw and three outpost processes")
	}
	t.Parallel()
	c := newCluster(t, "outpost-segments", "OUTPOST_NODE_TIMEOUT=4s", "OUTPOST_SEGMENT_MIN_SECONDS=1")
	c.serve()
	nodes := map[int]*clusterNode{} // by pid
	for _, name := range []string{"worker-1", "worker-2"} {
		w := c.worker(name, "")
		nodes[w.cmd.Process.Pid] = w
	}
	s, _ := c.store()

	// 1080p pieces of 4 s: long enough on a loaded machine to be caught
	// rendering.
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 12, FPS: 25, GOP: 25, Audio: true})
	var prj struct {
		ID string `json:"id"`
	}
	upload(t, c.base+"/api/v1/projects", src, &prj)
	var exp struct {
		ID string `json:"id"`
	}
	postJSON(t, c.base+"/api/v1/exports", map[string]any{
		"project_id": prj.ID,
		"segments":   3,
		"targets":    []map[string]any{{"preset": "youtube-1080p", "quality": "web"}},
	}, http.StatusAccepted, &exp)

	// A part is stored and a piece of another is rendering: kill the node
	// rendering it.
	type target struct {
		part int
		node *clusterNode
	}
	victim := waitfor.Value(t, 4*time.Minute, func() (target, error) {
		segs, err := s.ListSegments(t.Context(), exp.ID)
		if err != nil {
			return target{}, err
		}
		done := map[int]bool{}
		for _, sg := range segs {
			done[sg.Part] = sg.DoneAt != nil
		}
		if !slices.Contains(slices.Collect(maps.Values(done)), true) {
			return target{}, fmt.Errorf("no part stored yet (%d parts)", len(segs))
		}
		for part, p := range piecesRendering(t, exp.ID) {
			if n := nodes[p.ppid]; n != nil && !done[part] {
				return target{part, n}, nil
			}
		}
		return target{}, fmt.Errorf("no piece rendering (parts done: %v)", done)
	}, "export %s: a part stored while a piece of another renders\n%s", exp.ID, c.logs())
	if err := syscall.Kill(-victim.node.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.node.cmd.Wait()
	var survivor *clusterNode
	for _, n := range nodes {
		if n != victim.node {
			survivor = n
		}
	}
	segs, err := s.ListSegments(t.Context(), exp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stored []int // the parts stored before the kill
	for _, sg := range segs {
		if sg.DoneAt != nil {
			stored = append(stored, sg.Part)
		}
	}
	if slices.Contains(stored, victim.part) {
		t.Fatalf("part %d was stored before its node could be killed", victim.part)
	}
	t.Logf("killed %s (node %s) rendering part %d; parts stored before: %v", victim.node.name, victim.node.id, victim.part, stored)

	x := waitExportOrLogs(t, s, exp.ID, 4*time.Minute, c.logs)
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export = %s %s %s\n%s", x.Status, x.ErrorCode, x.ErrorMessage, c.logs())
	}

	// Each part's attempts: the killed piece interrupted on the dead node,
	// then rendered by the other; every part stored before the kill
	// rendered once.
	steps, err := s.ListSteps(t.Context(), exp.ID)
	if err != nil {
		t.Fatal(err)
	}
	type attempt struct {
		node    string
		outcome outpost.StepOutcome
	}
	parts := map[int][]attempt{}
	succeeded := map[string]int{} // parts rendered, by node
	for _, st := range steps {
		if st.Kind != outpost.StepSegment {
			continue
		}
		parts[st.Segment] = append(parts[st.Segment], attempt{st.Node, st.Outcome})
		if st.Outcome == outpost.StepSucceeded {
			succeeded[st.Node]++
		}
	}
	t.Logf("attempts by part: %+v", parts)
	if len(parts) != 4 { // three pieces and the rest (the audio)
		t.Errorf("parts %v, want 0 to 3", slices.Sorted(maps.Keys(parts)))
	}
	want := []attempt{{victim.node.id, outpost.StepInterrupted}, {survivor.id, outpost.StepSucceeded}}
	if got := parts[victim.part]; !slices.Equal(got, want) {
		t.Errorf("killed part %d: attempts %+v, want %+v", victim.part, got, want)
	}
	for _, p := range stored {
		if a := parts[p]; len(a) != 1 || a[0].outcome != outpost.StepSucceeded {
			t.Errorf("part %d, stored before the kill: attempts %+v, want the one that succeeded", p, a)
		}
	}
	for p, a := range parts {
		if p != victim.part && (len(a) != 1 || a[0].outcome != outpost.StepSucceeded) {
			t.Errorf("part %d: attempts %+v, want one that succeeded", p, a)
		}
	}

	// The joined file is the source's length, frame for frame.
	rends, err := s.ListRenditions(t.Context(), exp.ID)
	if err != nil || len(rends) != 1 || rends[0].Status != store.RenditionSucceeded {
		t.Fatalf("renditions %+v, %v", rends, err)
	}
	joined := c.gw.ObjectPath(c.bucket, rends[0].BlobKey)
	if got, want := mediatest.Count(t, joined), mediatest.Count(t, src); got.Frames != want.Frames {
		t.Errorf("joined file: %d frames, the source %d", got.Frames, want.Frames)
	}

	// The history says which node rendered how many parts.
	var d outpost.ExportDetail
	do(t, http.MethodGet, c.base+"/api/v1/exports/"+exp.ID, "", nil, http.StatusOK, &d)
	got := map[string]int{}
	for _, n := range d.Segments {
		got[n.Node] = n.Parts
	}
	if !maps.Equal(got, succeeded) || got[survivor.id] == 0 {
		t.Errorf("export segments %+v, want the parts each node rendered %v", d.Segments, succeeded)
	}
	if !slices.Contains(d.Nodes, victim.node.id) || !slices.Contains(d.Nodes, survivor.id) {
		t.Errorf("export nodes %v, want both %s and %s", d.Nodes, victim.node.id, survivor.id)
	}
}

// piecePattern finds the piece a segmented render's ffmpeg writes:
// <preset>.<index from 000>.<container> (render.PiecePath).
var piecePattern = regexp.MustCompile(`\.(\d{3})\.mp4\x00`)

// piecesRendering lists the ffmpeg processes rendering pieces of the
// export, by part (piece index + 1).
func piecesRendering(t *testing.T, exportID string) map[int]proc {
	t.Helper()
	out := map[int]proc{}
	for _, p := range ffmpegOf(t, exportID) {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "cmdline"))
		if err != nil {
			continue
		}
		if m := piecePattern.FindSubmatch(cmdline); m != nil {
			i, _ := strconv.Atoi(string(m[1]))
			out[i+1] = p
		}
	}
	return out
}
