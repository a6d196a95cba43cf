package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/jobs"
	"outpost/internal/media/mediatest"
	"outpost/internal/outpost"
	"outpost/internal/publish/platforms"
	"outpost/internal/sandbox"
	"outpost/internal/store"
	"outpost/internal/waitfor"
)

// TestCluster_publishAndTakeover runs the topology of scripts/cluster.sh as
// processes: PostgreSQL, a versitygw bucket, `outpost sandbox`, one `outpost
// serve --workers 0` and two `outpost worker` nodes sharing one secret key.
// An account is connected through the emulator's consent page; an export
// with a post starts rendering on one worker, which is then killed with
// SIGKILL; the other worker takes the render over and publishes. At the end
// each target has one rendition and one file in the bucket, both workers
// attempted the render, and the platform got exactly one post.
func TestCluster_publishAndTakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs PostgreSQL, versitygw and four outpost processes")
	}
	t.Parallel()
	c := newCluster(t, "outpost-cluster", "OUTPOST_NODE_TIMEOUT=4s")
	const bucket = "outpost-cluster"
	gw, logs := c.gw, c.logs

	// The emulators in a process of their own; every node points there.
	sbURL := "http://127.0.0.1:" + freePort(t)
	c.start("sandbox", []string{"sandbox", "--addr", strings.TrimPrefix(sbURL, "http://")}, processEnv(os.Environ()))
	waitfor.True(t, 30*time.Second, func() bool { return getOK(sbURL + "/_sandbox/state") },
		"outpost sandbox answers on %s", sbURL)
	for _, d := range platforms.All() {
		cl, up := sandbox.DefaultClient(d.ID), "OUTPOST_"+d.Env
		c.env = append(c.env, up+"_CLIENT_ID="+cl.ID, up+"_CLIENT_SECRET="+cl.Secret, up+"_BASE_URL="+sbURL)
	}
	c.serve()
	base := c.base
	workers := map[string]*exec.Cmd{} // by node id
	dataDirs := map[string]string{}   // by node id
	for _, name := range []string{"worker-1", "worker-2"} {
		w := c.worker(name, "")
		workers[w.id], dataDirs[w.id] = w.cmd, w.data
	}

	// Connect a YouTube account through the emulator's consent page.
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	do(t, http.MethodPost, base+"/api/v1/connections/youtube/authorize", "", nil, http.StatusOK, &auth)
	res, err := http.PostForm(auth.AuthorizeURL, url.Values{"decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var conns struct {
		Data []struct {
			ID       string `json:"id"`
			Platform string `json:"platform"`
			Status   string `json:"status"`
		} `json:"data"`
	}
	do(t, http.MethodGet, base+"/api/v1/connections", "", nil, http.StatusOK, &conns)
	if len(conns.Data) != 1 || conns.Data[0].Status != "active" {
		t.Fatalf("connections after approving = %+v (callback %d)\n%s", conns.Data, res.StatusCode, logs())
	}

	// An export with a post, long enough to be killed mid-render.
	src := mediatest.Generate(t, mediatest.Spec{Width: 320, Height: 180, Duration: 16, Audio: true})
	var prj struct {
		ID string `json:"id"`
	}
	upload(t, base+"/api/v1/projects", src, &prj)
	targets := []string{"youtube-1080p", "mp4-720p"}
	var exp struct {
		ID string `json:"id"`
	}
	postJSON(t, base+"/api/v1/exports", map[string]any{
		"project_id": prj.ID,
		"targets":    []map[string]any{{"preset": targets[0], "quality": "web"}, {"preset": targets[1], "quality": "web"}},
		"destinations": []map[string]any{{"connection_id": conns.Data[0].ID, "preset": "youtube-1080p",
			"title": "Cluster takeover", "privacy": "public"}},
	}, http.StatusAccepted, &exp)

	s, client := c.store()
	x := waitfor.Value(t, 120*time.Second, func() (store.Export, error) {
		x, err := s.GetExport(t.Context(), exp.ID)
		if err == nil && !(x.Progress.Stage == "render" && x.Progress.Percent > 10) {
			err = fmt.Errorf("status %s, %s at %.1f %%", x.Status, x.Progress.Stage, x.Progress.Percent)
		}
		return x, err
	}, "the render passes 10 %%\n%s", logs())
	if x.Status.Final() {
		t.Fatalf("the export finished before a worker could be killed (%s): make the source longer", x.Status)
	}
	renderJob := func() *rivertype.JobRow {
		t.Helper()
		jl, err := client.JobList(t.Context(), river.NewJobListParams().Kinds(jobs.KindRender).First(100))
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jl.Jobs {
			if strings.Contains(string(j.EncodedArgs), exp.ID) {
				return j
			}
		}
		t.Fatalf("no render job for %s", exp.ID)
		return nil
	}
	j := renderJob()
	first := j.AttemptedBy[len(j.AttemptedBy)-1]
	victim, ok := workers[first]
	if !ok {
		t.Fatalf("render attempted by %q, not one of the workers %v", first, slices.Collect(maps.Keys(workers)))
	}
	var survivor string
	for id := range workers {
		if id != first {
			survivor = id
		}
	}
	// The render's scratch folder, in the node's own work folder.
	scratch := filepath.Join(dataDirs[first], "work", first, exp.ID)
	if _, err := os.Stat(scratch); err != nil {
		t.Fatalf("the rendering worker has no scratch folder %s: %v", scratch, err)
	}
	// The whole machine dies: the worker and its ffmpeg.
	if err := syscall.Kill(-victim.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()
	t.Logf("killed worker %s at %.1f %%", first, x.Progress.Percent)

	x = waitfor.Value(t, 240*time.Second, func() (store.Export, error) {
		x, err := s.GetExport(t.Context(), exp.ID)
		if err == nil && !x.Status.Final() {
			err = fmt.Errorf("status %s, %s at %.1f %%", x.Status, x.Progress.Stage, x.Progress.Percent)
		}
		return x, err
	}, "the other worker finishes the export\n%s", logs())
	if x.Status != store.ExportSucceeded {
		t.Fatalf("export = %s %s %s\n%s", x.Status, x.ErrorCode, x.ErrorMessage, logs())
	}
	j = renderJob()
	if attempted := slices.Compact(slices.Sorted(slices.Values(j.AttemptedBy))); len(attempted) != 2 {
		t.Errorf("render attempted by %v, want both workers", j.AttemptedBy)
	}

	// One rendition and one stored file per target.
	rends, err := s.ListRenditions(t.Context(), exp.ID)
	if err != nil {
		t.Fatal(err)
	}
	var presets []string
	for _, r := range rends {
		presets = append(presets, r.PresetID)
		if r.Status != store.RenditionSucceeded {
			t.Errorf("rendition %s = %s", r.PresetID, r.Status)
		}
		if _, err := os.Stat(gw.ObjectPath(bucket, r.BlobKey)); err != nil {
			t.Errorf("rendition %s: its file %s is not in the bucket: %v", r.PresetID, r.BlobKey, err)
		}
	}
	slices.Sort(presets)
	if want := slices.Sorted(slices.Values(targets)); !slices.Equal(presets, want) {
		t.Errorf("renditions %v, want one per target %v", presets, want)
	}

	// Published once: the publication is final with the post's URL, and the
	// platform holds exactly one post.
	p := waitfor.Value(t, 120*time.Second, func() (store.Publication, error) {
		ps, err := s.ListPublications(t.Context(), exp.ID)
		if err != nil || len(ps) != 1 {
			return store.Publication{}, fmt.Errorf("%d publications, %v", len(ps), err)
		}
		if ps[0].State != store.PublicationPublished {
			return ps[0], fmt.Errorf("state %s %s", ps[0].State, ps[0].ErrorMessage)
		}
		return ps[0], nil
	}, "the post is published\n%s", logs())
	var state struct {
		Posts map[string][]sandbox.Post `json:"posts"`
	}
	getJSON(t, sbURL+"/_sandbox/state", &state)
	if n := len(state.Posts["youtube"]); n != 1 || state.Posts["youtube"][0].URL != p.PostURL {
		t.Errorf("the platform holds %d YouTube posts %+v, want exactly the one at %s", n, state.Posts["youtube"], p.PostURL)
	}

	// The API says which node ran each step: the killed worker's render
	// was interrupted, the survivor rendered, checked and stored every
	// file and published the post.
	// The publish step is closed just after the publication is marked
	// published: read the steps once none is running any more.
	detail := waitfor.Value(t, 60*time.Second, func() (outpost.ExportDetail, error) {
		var d outpost.ExportDetail
		do(t, http.MethodGet, base+"/api/v1/exports/"+exp.ID, "", nil, http.StatusOK, &d)
		for _, st := range d.Steps {
			if st.Outcome == outpost.StepRunning {
				return d, fmt.Errorf("step %s of node %s is still running", st.Step, st.Node)
			}
		}
		return d, nil
	}, "every step of the export is closed\n%s", logs())
	ran := map[string][]string{} // "step outcome" by node
	for _, st := range detail.Steps {
		if st.Step == outpost.StepPublish && st.Outcome == outpost.StepWaiting {
			continue // a look while the platform processed the upload
		}
		ran[st.Node] = append(ran[st.Node], string(st.Step)+" "+string(st.Outcome))
	}
	if got := slices.Compact(slices.Sorted(slices.Values(ran[first]))); !slices.Equal(got, []string{"render interrupted"}) {
		t.Errorf("steps of the killed worker %s: %v, want its renders interrupted", first, ran[first])
	}
	want := []string{"check succeeded", "publish succeeded", "render succeeded", "store succeeded"}
	if got := slices.Compact(slices.Sorted(slices.Values(ran[survivor]))); !slices.Equal(got, want) {
		t.Errorf("steps of the survivor %s: %v, want %v", survivor, ran[survivor], want)
	}
	if !slices.Equal(detail.Nodes, []string{first, survivor}) {
		t.Errorf("export nodes %v, want [%s %s]", detail.Nodes, first, survivor)
	}
	for _, r := range detail.Renditions {
		if r.Node != survivor {
			t.Errorf("rendition %s: node %q, want %s", r.Preset, r.Node, survivor)
		}
	}
	if len(detail.Publications) != 1 || detail.Publications[0].Node != survivor {
		t.Errorf("publications %+v, want one by %s", detail.Publications, survivor)
	}
	var history struct {
		Data []outpost.Export `json:"data"`
	}
	do(t, http.MethodGet, base+"/api/v1/exports", "", nil, http.StatusOK, &history)
	if len(history.Data) != 1 || !slices.Equal(history.Data[0].Nodes, []string{first, survivor}) {
		t.Errorf("history %+v, want the export with nodes [%s %s]", history.Data, first, survivor)
	}

	// The killed worker restarts on its data dir: the scratch folder of the
	// render it no longer owns is gone once it is up.
	if _, err := os.Stat(scratch); err != nil {
		t.Fatalf("the killed worker's scratch folder is gone before it restarted: %v", err)
	}
	restarted := time.Now()
	c.worker("worker-1-again", dataDirs[first])
	waitfor.True(t, 60*time.Second, func() bool {
		nodes, err := s.ListNodes(t.Context())
		return err == nil && slices.ContainsFunc(nodes, func(n store.Node) bool { return n.ID == first && n.StartedAt.After(restarted) })
	}, "the killed worker is back as node %s\n%s", first, logs())
	if _, err := os.Stat(scratch); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed worker's scratch folder %s is still there after its restart (%v)", scratch, err)
	}
	if entries, err := os.ReadDir(filepath.Join(dataDirs[first], "work", first)); err != nil || len(entries) != 0 {
		t.Errorf("the restarted worker's work folder holds %d entries, %v", len(entries), err)
	}
}

// getOK reports whether GET url answers 200.
func getOK(url string) bool {
	res, err := http.Get(url)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// getJSON decodes GET url's 200 answer into out.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
