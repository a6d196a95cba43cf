package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"outpost/internal/errcode"
	"outpost/internal/store"
)

// maxNodeSlots bounds how many processes may share one data dir.
const maxNodeSlots = 64

// Node is this process's place in its data dir: a node slot, held for the
// life of the process, with the River client id stored in it and the
// slot's own scratch folder.
type Node struct {
	// ID is the River client id: the same when the process is restarted
	// on the same data dir, so that, at start, it can tell the jobs its
	// killed predecessor was running (River records the client id of each
	// attempt) from those of live processes.
	ID string
	// WorkDir is DATA_DIR/work/ID, where this node renders (Options.WorkDir):
	// no other live process writes there.
	WorkDir string
	// Cleared counts what a dead predecessor left in WorkDir, removed when
	// the slot was taken.
	Cleared int

	release func() error
}

// Release frees the slot (the kernel frees it too when the process dies,
// even by SIGKILL).
func (n *Node) Release() error { return n.release() }

// TakeNode takes the first free node slot of dataDir: a file in
// DATA_DIR/nodes locked for the life of the process, holding the node's id
// (generated on first use). Several processes may share a data dir (serve
// and workers on one host); each holds its own slot, and so its own
// scratch folder, DATA_DIR/work/<id>.
//
// A free slot means its last holder is dead, and everything in the slot's
// scratch folder (the folders of renders it was running, its copies of
// files to post) belongs to jobs it no longer owns: at restart they are
// retried from scratch, or another node has taken them over. TakeNode
// empties the folder. The folders of other slots, whose holders may be
// alive, are never touched; entries of DATA_DIR/work that belong to no
// slot (left by versions that rendered straight in DATA_DIR/work) are
// removed once older than a day.
//
// Where files cannot be locked, the id is new each run and WorkDir is
// DATA_DIR/work itself, shared, with only the day-old sweep.
func TakeNode(dataDir, hostname string) (*Node, error) {
	work := filepath.Join(dataDir, "work")
	if !canLock {
		sweepStale(work, nil)
		return &Node{ID: randomNodeID(hostname), WorkDir: work, release: func() error { return nil }}, nil
	}
	id, release, err := nodeSlot(dataDir, hostname)
	if err != nil {
		return nil, err
	}
	n := &Node{ID: id, WorkDir: filepath.Join(work, id), release: release}
	if n.Cleared, err = clearDir(n.WorkDir); err != nil {
		_ = release()
		return nil, fmt.Errorf("clear the node's work dir: %w", err)
	}
	slots := map[string]bool{}
	for _, id := range slotIDs(dataDir) {
		slots[id] = true
	}
	sweepStale(work, func(name string) bool { return slots[name] })
	return n, nil
}

// nodeSlot takes the first free slot of dataDir and returns its id.
func nodeSlot(dataDir, hostname string) (id string, release func() error, err error) {
	dir := filepath.Join(dataDir, "nodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("create node dir: %w", err)
	}
	for slot := 1; slot <= maxNodeSlots; slot++ {
		path := filepath.Join(dir, "slot-"+strconv.Itoa(slot))
		f, ok, err := lockFile(path)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			continue // a live process holds it
		}
		id := readSlotID(f)
		if !validNodeID(id) {
			id = randomNodeID(hostname)
			if err := f.Truncate(0); err == nil {
				_, err = f.WriteAt([]byte(id+"\n"), 0)
			}
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				_ = f.Close()
				return "", nil, fmt.Errorf("write node id: %w", err)
			}
		}
		return id, f.Close, nil
	}
	return "", nil, fmt.Errorf("all %d node slots in %s are taken", maxNodeSlots, dir)
}

// readSlotID reads the id stored in a slot file.
func readSlotID(f *os.File) string {
	b := make([]byte, 128)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}

// slotIDs returns the ids stored in dataDir's slots, held or not.
func slotIDs(dataDir string) []string {
	paths, _ := filepath.Glob(filepath.Join(dataDir, "nodes", "slot-*"))
	var ids []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if id := readSlotID(f); validNodeID(id) {
			ids = append(ids, id)
		}
		_ = f.Close()
	}
	return ids
}

// clearDir empties dir (creating it if need be) and returns how many
// entries it removed.
func clearDir(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

// staleWorkAge is the age past which an entry of a shared work folder is
// removed: no process touches its folder that long while working in it.
const staleWorkAge = 24 * time.Hour

// sweepStale removes the entries of dir older than staleWorkAge, except
// those keep names, and returns how many.
func sweepStale(dir string, keep func(name string) bool) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if keep != nil && keep(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleWorkAge {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func validNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// randomNodeID returns "HOST-RANDOM".
func randomNodeID(hostname string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '.' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			return r
		}
		return '-'
	}, hostname)
	if len(host) > 60 {
		host = host[:60]
	}
	if host == "" {
		host = "node"
	}
	return host + "-" + hex.EncodeToString(b)
}

// heartbeatInterval is how often a node says it is alive: several times per
// node timeout, so that one late beat is not a death. Every node must use
// the same timeout.
func heartbeatInterval(nodeTimeout time.Duration) time.Duration {
	return min(nodeTimeout/4, 15*time.Second)
}

// heartbeat records that this node is alive.
func (r *Runner) heartbeat(ctx context.Context) error {
	if err := r.store.TouchNode(ctx, store.Node{ID: r.clientID, Hostname: r.hostname, StartedAt: r.startedAt}); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// heartbeatLoop beats and retries the jobs of dead nodes until ctx ends.
func (r *Runner) heartbeatLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(heartbeatInterval(r.nodeTimeout))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := r.heartbeat(ctx); err != nil && ctx.Err() == nil {
			r.logger.WarnContext(ctx, "node heartbeat", "error", err)
		}
		if n, err := r.rescueDeadNodes(ctx); err != nil && ctx.Err() == nil {
			r.logger.WarnContext(ctx, "retry jobs of dead nodes", "error", err)
		} else if n > 0 {
			r.logger.InfoContext(ctx, "retrying jobs of nodes that stopped sending heartbeats", "jobs", n)
		}
	}
}

// runningJobs lists every job River has as running.
func (r *Runner) runningJobs(ctx context.Context) ([]*rivertype.JobRow, error) {
	var all []*rivertype.JobRow
	params := river.NewJobListParams().States(rivertype.JobStateRunning).First(500)
	for {
		res, err := r.client.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("list running jobs: %w", err)
		}
		all = append(all, res.Jobs...)
		if len(res.Jobs) < 500 || res.LastCursor == nil {
			return all, nil
		}
		params = params.After(res.LastCursor)
	}
}

func lastAttemptBy(job *rivertype.JobRow) string {
	if len(job.AttemptedBy) == 0 {
		return ""
	}
	return job.AttemptedBy[len(job.AttemptedBy)-1]
}

// rescueOwnOrphans retries the jobs still running under this node's id:
// only a predecessor with the same id can have started them, and it is
// dead (the node slot was free).
func (r *Runner) rescueOwnOrphans(ctx context.Context) (int, error) {
	jobs, err := r.runningJobs(ctx)
	if err != nil {
		return 0, err
	}
	jobs = slices.DeleteFunc(jobs, func(j *rivertype.JobRow) bool {
		return lastAttemptBy(j) != r.clientID || j.AttemptedAt == nil || !j.AttemptedAt.Before(r.startedAt)
	})
	return len(jobs), r.rescue(ctx, jobs, "the node was restarted while working the job")
}

// rescueDeadNodes retries the running jobs of nodes whose last heartbeat is
// older than the node timeout.
func (r *Runner) rescueDeadNodes(ctx context.Context) (int, error) {
	nodes, err := r.store.ListNodes(ctx)
	if err != nil {
		return 0, err
	}
	horizon := time.Now().Add(-r.nodeTimeout)
	dead := map[string]bool{}
	for _, n := range nodes {
		if n.ID != r.clientID && n.HeartbeatAt.Before(horizon) {
			dead[n.ID] = true
		}
	}
	if len(dead) == 0 {
		return 0, nil
	}
	jobs, err := r.runningJobs(ctx)
	if err != nil {
		return 0, err
	}
	jobs = slices.DeleteFunc(jobs, func(j *rivertype.JobRow) bool { return !dead[lastAttemptBy(j)] })
	if err := r.rescue(ctx, jobs, "the node working the job stopped sending heartbeats"); err != nil {
		return 0, err
	}
	for id := range dead {
		if err := r.store.DeleteNode(ctx, id); err != nil {
			return len(jobs), err
		}
	}
	return len(jobs), nil
}

// rescue makes running jobs available again at once, the way River's stuck
// job rescuer does after RescueStuckJobsAfter: a job whose cancellation was
// asked is canceled, one out of attempts is discarded (and its export
// failed), the others run again.
func (r *Runner) rescue(ctx context.Context, jobs []*rivertype.JobRow, reason string) error {
	if len(jobs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	p := &riverdriver.JobRescueManyParams{StuckHorizon: now}
	var exhausted []*rivertype.JobRow
	for _, j := range jobs {
		errData, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0), Error: "rescued: " + reason})
		if err != nil {
			return err
		}
		var meta struct {
			CancelAttemptedAt *time.Time `json:"cancel_attempted_at"`
		}
		_ = json.Unmarshal(j.Metadata, &meta)
		state, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
		switch {
		case meta.CancelAttemptedAt != nil:
			state, finalized = rivertype.JobStateCancelled, &now
		case j.Attempt >= j.MaxAttempts:
			state, finalized = rivertype.JobStateDiscarded, &now
			exhausted = append(exhausted, j)
		}
		p.ID = append(p.ID, j.ID)
		p.Error = append(p.Error, errData)
		p.FinalizedAt = append(p.FinalizedAt, finalized)
		p.ScheduledAt = append(p.ScheduledAt, now)
		p.State = append(p.State, string(state))
		r.logger.InfoContext(ctx, "rescuing job", "job_id", j.ID, "kind", j.Kind, "attempted_by", lastAttemptBy(j),
			"state", state, "reason", reason)
	}
	if _, err := r.client.Driver().GetExecutor().JobRescueMany(ctx, p); err != nil {
		return fmt.Errorf("rescue jobs: %w", err)
	}
	for _, j := range exhausted {
		// A segmented render's part or join out of attempts ends its
		// export as the render job's would: no other job would.
		if j.Kind != KindRender && j.Kind != KindSegment && j.Kind != KindJoin {
			continue
		}
		var args struct {
			ExportID string `json:"export_id"`
		}
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil || args.ExportID == "" {
			continue
		}
		if err := r.queue.FailExport(ctx, args.ExportID, errcode.New(errcode.RenderFailed,
			"the render stopped on its last attempt (%s)", reason)); err != nil {
			return err
		}
	}
	return nil
}
