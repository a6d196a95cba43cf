//go:build linux

package jobs_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/engine"
	"outpost/internal/errcode"
	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// segmentEnv is an env with two render workers whose engines cut segments
// as short as a second, so that a few seconds of media make several. On
// PostgreSQL they are two nodes (River clients), as two processes would
// be; on SQLite one node with two workers: two clients in one process
// would share the store's one connection.
func segmentEnv(t *testing.T, eng store.Engine, s3 bool) *env {
	t.Helper()
	workers := 2
	if eng == store.Postgres {
		workers = 1
	}
	e := newEnv(t, eng, envOptions{workers: workers, s3: s3, configure: func(_ *store.Store, o *jobs.Options) {
		eg := *o.Engine
		eg.SegmentMinSeconds = 1
		o.Engine = &eg
	}})
	if eng == store.Postgres {
		e.addNode(t)
	}
	return e
}

// segmentRequest is an export of prj cut into segments segments (1: one
// pass): a 720p MP4 (in pieces) and a GIF (rendered whole, with the
// audio, by the rest).
func segmentRequest(prj store.Project, segments int) outpost.ExportRequest {
	return outpost.ExportRequest{ProjectID: prj.ID, Segments: segments, Targets: []outpost.TargetRequest{
		{Preset: "mp4-720p", Quality: "ultra"}, {Preset: "gif-480p"},
	}}
}

// TestService_export_segmented renders an export in three segments over
// two worker nodes, on SQLite with files in a folder and on PostgreSQL
// with files in S3: every target's file is the one-pass render's frame
// for frame, a step per part says which node ran it, and the parts' files
// are gone from storage once the export is done.
func TestService_export_segmented(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	for _, tc := range []struct {
		eng store.Engine
		s3  bool
	}{{store.SQLite, false}, {store.Postgres, true}} {
		t.Run(fmt.Sprintf("%s/s3=%v", tc.eng, tc.s3), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			e := segmentEnv(t, tc.eng, tc.s3)
			// H.264 High with B-frames: the pieces seek into it.
			prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 6, FPS: 25, GOP: 25, Audio: true, Profile: "high"})
			seg, err := e.createExport(ctx, e.ws.ID, segmentRequest(prj, 3))
			if err != nil {
				t.Fatal(err)
			}
			one, err := e.createExport(ctx, e.ws.ID, segmentRequest(prj, 1))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []store.Export{seg, one} {
				x = e.wait(t, x.ID, 5*time.Minute, "a final status", func(x store.Export) bool { return x.Status.Final() })
				if x.Status != store.ExportSucceeded {
					t.Fatalf("export %s: %s %s %s", x.ID, x.Status, x.ErrorCode, x.ErrorMessage)
				}
			}
			joined, single := e.renditionFiles(t, seg.ID), e.renditionFiles(t, one.ID)
			for preset, path := range single {
				if preset == "gif-480p" {
					if c, o := mediatest.Count(t, joined[preset]), mediatest.Count(t, path); c.Frames != o.Frames {
						t.Errorf("gif: %d frames, %d in one pass", c.Frames, o.Frames)
					}
					continue
				}
				t.Run(preset, func(t *testing.T) { mediatest.SameRender(t, path, joined[preset]) })
			}

			steps, err := e.store.ListSteps(ctx, seg.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Each part's last step succeeded (an earlier attempt may have
			// failed: it was retried alone).
			parts := map[int]store.Step{}
			for _, s := range steps {
				if s.Kind == outpost.StepSegment {
					if s.Outcome != outpost.StepSucceeded {
						t.Logf("part %d attempt %d on %s: %s %s", s.Segment, s.Attempt, s.Node, s.Outcome, s.ErrorCode)
					}
					parts[s.Segment] = s
				}
			}
			if len(parts) != 4 { // three pieces and the rest
				t.Errorf("segment steps %v, want parts 0 to 3", parts)
			}
			for part, s := range parts {
				if s.Outcome != outpost.StepSucceeded {
					t.Errorf("part %d: last attempt %s on %s", part, s.Outcome, s.Node)
				}
				t.Logf("part %d: node %s, attempt %d", part, s.Node, s.Attempt)
			}
			d, err := e.svc.Exports.Get(ctx, e.ws.ID, seg.ID)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range d.Segments {
				total += n.Parts
			}
			if total != 4 {
				t.Errorf("detail segments %+v, want 4 parts in all", d.Segments)
			}
			t.Logf("parts by node: %+v", d.Segments)
			if ss, _ := e.store.ListSteps(ctx, one.ID); slices.ContainsFunc(ss, func(s store.Step) bool { return s.Kind == outpost.StepSegment }) {
				t.Error("the one-pass export has segment steps")
			}
			e.noParts(t, seg.ID)
		})
	}
}

// TestService_export_segmentedReport renders a damaged source in two
// segments, with loudness normalisation, on SQLite: the render job plans
// the cuts and measures the loudness once for every part (their job
// args), and the export warns of the damage as a one-pass render does,
// in the whole export's time.
func TestService_export_segmentedReport(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	ctx := t.Context()
	e := segmentEnv(t, store.SQLite, false)
	const dur = 8.0
	src := mediatest.Damaged(t, mediatest.Generate(t, mediatest.Spec{Duration: dur, Audio: true, Bitrate: "1500k", GOP: 25}), 0.6, 0.75)
	prj := e.projectOf(t, src)
	x, err := e.createExport(ctx, e.ws.ID, outpost.ExportRequest{ProjectID: prj.ID, Segments: 2, Loudness: "-16",
		Targets: []outpost.TargetRequest{{Preset: "mp4-720p", Quality: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	x = e.wait(t, x.ID, 5*time.Minute, "a final status", func(x store.Export) bool { return x.Status.Final() })
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export: %s %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
	}
	var ws []engine.Warning
	if err := json.Unmarshal(x.Warnings, &ws); err != nil || len(ws) != 1 || ws[0].Code != errcode.SourceDamaged || len(ws[0].Ranges) == 0 {
		t.Fatalf("export warnings %s (%v), want source_damaged with its stretches", x.Warnings, err)
	}
	t.Logf("warning: %s", ws[0].Message)
	// The damage is in the last 40 % of the file's media data (about 4.8
	// to 6 s), in the second piece.
	late := false
	for _, r := range ws[0].Ranges {
		if r.Start < 0 || r.Start >= dur+2.5 || r.Start >= r.End {
			t.Errorf("damaged stretch %+v, outside the %v s source", r, dur)
		}
		late = late || r.End > dur/2
	}
	if !late {
		t.Errorf("damaged stretches %+v, none in the second half of the source", ws[0].Ranges)
	}

	res, err := e.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(jobs.KindSegment, jobs.KindJoin).First(100))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range res.Jobs {
		var a struct {
			ExportID string         `json:"export_id"`
			Plan     jobs.PartsPlan `json:"plan"`
		}
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil || a.ExportID != x.ID {
			continue
		}
		n++
		if len(a.Plan.Cuts) != 2 || a.Plan.Loudness == nil {
			t.Errorf("%s job %d: plan %+v, want the two cuts and the loudness measured by the render job", j.Kind, j.ID, a.Plan)
		}
	}
	if n != 4 { // two pieces, the rest (the audio) and the join
		t.Errorf("%d part and join jobs, want 4", n)
	}
}

// renditionFiles downloads the export's renditions' files, by preset.
func (e *env) renditionFiles(t *testing.T, exportID string) map[string]string {
	t.Helper()
	rends, err := e.store.ListRenditions(t.Context(), exportID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, r := range rends {
		if r.Status != store.RenditionSucceeded {
			t.Fatalf("%s: %s %s", r.PresetID, r.Status, r.ErrorMessage)
		}
		rd, err := e.blob.Open(t.Context(), r.BlobKey)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, r.PresetID+filepath.Ext(r.BlobKey))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(f, rd)
		_ = rd.Close()
		if cerr := f.Close(); err != nil || cerr != nil {
			t.Fatal(err, cerr)
		}
		files[r.PresetID] = p
	}
	return files
}

// noParts waits until nothing of the export's segmented render is left:
// no stored part file, no part row, no part or join job still to run.
func (e *env) noParts(t *testing.T, exportID string) {
	t.Helper()
	waitfor.Check(t, 60*time.Second, func() error {
		ctx := t.Context()
		if keys, err := e.blob.Keys(ctx, "segments/"+exportID+"/"); err != nil || len(keys) > 0 {
			return fmt.Errorf("part files %v (%v)", keys, err)
		}
		if segs, err := e.store.ListSegments(ctx, exportID); err != nil || len(segs) > 0 {
			return fmt.Errorf("part rows %+v (%v)", segs, err)
		}
		return nil
	}, "export %s: the parts' files and rows removed", exportID)
}

// TestService_export_segmentedFaults runs segmented exports over two
// nodes on PostgreSQL and breaks them: a piece whose ffmpeg is killed is
// retried alone (the other parts run once) and the export succeeds; an
// export canceled while its parts render leaves no part or join job to
// run and no part file behind.
func TestService_export_segmentedFaults(t *testing.T) {
	t.Parallel()
	needFFmpeg(t)
	t.Run("killed piece", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		e, x := segmentedExport(t)
		// The first piece's ffmpeg (its file is mp4-720p.000.mp4).
		pid := waitfor.Value(t, 3*time.Minute, func() (int, error) {
			ps := ffmpegWriting(t, x.ID, ".000.mp4")
			if len(ps) == 0 {
				return 0, errors.New("not running yet")
			}
			return ps[0], nil
		}, "export %s: the first piece's ffmpeg", x.ID)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		x = e.wait(t, x.ID, 5*time.Minute, "a final status", func(x store.Export) bool { return x.Status.Final() })
		if x.Status != store.ExportSucceeded {
			t.Fatalf("export: %s %s %s", x.Status, x.ErrorCode, x.ErrorMessage)
		}
		steps, err := e.store.ListSteps(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		attempts := map[int][]outpost.StepOutcome{}
		for _, s := range steps {
			if s.Kind == outpost.StepSegment {
				attempts[s.Segment] = append(attempts[s.Segment], s.Outcome)
			}
		}
		t.Logf("attempts by part: %v", attempts)
		if a := attempts[1]; len(a) != 2 || a[0] != outpost.StepFailed || a[1] != outpost.StepSucceeded {
			t.Errorf("piece 1: %v, want failed then succeeded", a)
		}
		for _, part := range []int{0, 2, 3} {
			if a := attempts[part]; len(a) != 1 || a[0] != outpost.StepSucceeded {
				t.Errorf("part %d: %v, want one attempt that succeeded", part, a)
			}
		}
		e.noParts(t, x.ID)
	})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		e, x := segmentedExport(t)
		waitfor.True(t, 3*time.Minute, func() bool { return len(ffmpegWriting(t, x.ID, ".mp4")) > 0 },
			"export %s: a part rendering", x.ID)
		if x, err := e.cancelExport(ctx, e.ws.ID, x.ID); err != nil || x.Status != store.ExportCanceled {
			t.Fatalf("cancel: %s, %v", x.Status, err)
		}
		waitfor.Check(t, time.Minute, func() error {
			res, err := e.runner.Client().JobList(ctx, river.NewJobListParams().Kinds(jobs.KindSegment, jobs.KindJoin).
				States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
					rivertype.JobStateScheduled, rivertype.JobStatePending).First(100))
			if err != nil {
				return err
			}
			if len(res.Jobs) > 0 {
				return fmt.Errorf("%d part or join jobs still to run", len(res.Jobs))
			}
			if ps := ffmpegWriting(t, x.ID, ""); len(ps) > 0 {
				return fmt.Errorf("ffmpeg %v still runs", ps)
			}
			return nil
		}, "export %s: nothing left running after the cancel", x.ID)
		e.noParts(t, x.ID)
	})
}

// segmentedExport starts an export in three segments over two nodes on
// PostgreSQL.
func segmentedExport(t *testing.T) (*env, store.Export) {
	t.Helper()
	e := segmentEnv(t, store.Postgres, false)
	prj := e.project(t, mediatest.Spec{Width: 320, Height: 180, Duration: 6, FPS: 25, GOP: 25, Audio: true})
	x, err := e.createExport(t.Context(), e.ws.ID, segmentRequest(prj, 3))
	if err != nil {
		t.Fatal(err)
	}
	return e, x
}

// ffmpegWriting lists the running ffmpeg processes of this test process
// whose command line names the export and contains part.
func ffmpegWriting(t *testing.T, exportID, part string) []int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(string(cmdline), "\x00")
		if filepath.Base(argv[0]) != "ffmpeg" || !strings.Contains(string(cmdline), exportID) ||
			!strings.Contains(string(cmdline), part) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		// Only children of this test: field 4 of stat is the parent.
		if f := strings.Fields(string(stat)); err != nil || len(f) < 4 || f[3] != strconv.Itoa(os.Getpid()) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		pids = append(pids, pid)
	}
	return pids
}
