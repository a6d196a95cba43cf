package app_test

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// TestScaleOut_twoWorkers runs the scale-out shape of DESIGN §1 as separate
// processes: `outpost serve --workers 0` (API only) and two `outpost worker`
// nodes with their own data dirs, on one PostgreSQL database and one S3
// bucket (versitygw). Exports created over the API are rendered by both
// workers, each rendition lands in the bucket once, and the presigned
// download links work.
func TestScaleOut_twoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs PostgreSQL, versitygw and three outpost processes")
	}
	t.Parallel()
	c := newCluster(t, "outpost-scale")
	const bucket = "outpost-scale"
	c.serve()
	gw, base, logs := c.gw, c.base, c.logs
	// serve migrated the database; the workers start on it.
	c.worker("worker-a", "")
	c.worker("worker-b", "")

	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 2, Audio: true})
	var prj struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	upload(t, base+"/api/v1/projects", src, &prj)
	if prj.Status != "ready" {
		t.Fatalf("project = %+v", prj)
	}
	presets := []string{"gif-480p", "mp4-720p", "gif-480p", "mp4-720p", "gif-480p", "mp4-720p"}
	ids := make([]string, len(presets))
	for i, p := range presets {
		var exp struct {
			ID string `json:"id"`
		}
		postJSON(t, base+"/api/v1/exports", map[string]any{
			"project_id": prj.ID,
			"targets":    []map[string]any{{"preset": p, "quality": "web"}},
		}, http.StatusAccepted, &exp)
		ids[i] = exp.ID
	}

	s, client := c.store()
	var keys []string
	for _, id := range ids {
		x := waitExportOrLogs(t, s, id, 4*time.Minute, logs)
		if x.Status != store.ExportSucceeded {
			t.Fatalf("export %s = %s %s %s\n%s", id, x.Status, x.ErrorCode, x.ErrorMessage, logs())
		}
		rends, err := s.ListRenditions(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(rends) != 1 || rends[0].Status != store.RenditionSucceeded || rends[0].BlobKey == "" {
			t.Fatalf("export %s renditions = %+v", id, rends)
		}
		keys = append(keys, rends[0].BlobKey)
		if k := rends[0].ThumbnailKey; k != "" {
			keys = append(keys, k)
		}
	}

	// Both workers rendered: River's job table says who attempted each job.
	jl, err := client.JobList(t.Context(), river.NewJobListParams().Kinds(jobs.KindRender).
		States(rivertype.JobStateCompleted, rivertype.JobStateRunning).First(100))
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]int{}
	for _, j := range jl.Jobs {
		if len(j.AttemptedBy) > 0 {
			byNode[j.AttemptedBy[len(j.AttemptedBy)-1]]++
		}
	}
	t.Logf("render jobs by node: %v", byNode)
	if len(jl.Jobs) < len(ids) {
		t.Errorf("%d render jobs, want at least %d", len(jl.Jobs), len(ids))
	}
	if len(byNode) < 2 {
		t.Errorf("render jobs done by %d node(s) %v, want both workers\n%s", len(byNode), byNode, logs())
	}

	// Each rendition (and its thumbnail) is in the bucket once, and
	// nothing else is under renditions/.
	var objects []string
	root := gw.ObjectPath(bucket, "")
	_ = filepath.WalkDir(filepath.Join(root, "renditions"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			objects = append(objects, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(objects)
	slices.Sort(keys)
	if !slices.Equal(objects, keys) {
		t.Errorf("objects in the bucket = %v\nwant the renditions' keys %v", objects, keys)
	}

	// The API hands out presigned S3 links, and they download the file.
	for _, id := range ids {
		var x struct {
			Renditions []struct {
				SizeBytes   int64  `json:"size_bytes"`
				DownloadURL string `json:"download_url"`
			} `json:"renditions"`
		}
		do(t, http.MethodGet, base+"/api/v1/exports/"+id, "", nil, http.StatusOK, &x)
		if len(x.Renditions) != 1 {
			t.Fatalf("export %s: %d renditions", id, len(x.Renditions))
		}
		r := x.Renditions[0]
		if !strings.HasPrefix(r.DownloadURL, gw.Endpoint+"/"+bucket+"/") || !strings.Contains(r.DownloadURL, "X-Amz-Signature=") {
			t.Fatalf("download_url = %s, want a presigned link to %s", r.DownloadURL, gw.Endpoint)
		}
		resp, err := http.Get(r.DownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n != r.SizeBytes || n == 0 {
			t.Errorf("GET presigned link of %s: status %d, %d bytes, want 200 and %d", id, resp.StatusCode, n, r.SizeBytes)
		}
	}
}

// waitExportOrLogs waits for a final status, with the processes' logs in
// the failure.
func waitExportOrLogs(t *testing.T, s *store.Store, id string, timeout time.Duration, logs func() string) store.Export {
	t.Helper()
	var x store.Export
	err := waitfor.Until(timeout, func() error {
		var err error
		if x, err = s.GetExport(t.Context(), id); err != nil {
			return err
		}
		if !x.Status.Final() {
			return fmt.Errorf("%s at %.1f %% (%s)", x.Status, x.Progress.Percent, x.Progress.Stage)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("export %s not final after %s: %v\n%s", id, timeout, err, logs())
	}
	return x
}
