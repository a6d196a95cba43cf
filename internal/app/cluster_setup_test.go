package app_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"outpost/internal/store"
	"outpost/internal/tests3"
	"outpost/internal/waitfor"
)

// cluster is the scale-out topology of DESIGN §1 as processes, as
// scripts/cluster.sh starts it: one PostgreSQL database, one versitygw
// bucket and one secret key shared by `outpost serve --workers 0` (the
// API) and `outpost worker` nodes, each with a data dir of its own.
type cluster struct {
	t      *testing.T
	bin    string
	gw     *tests3.Server
	bucket string
	dsn    string
	// env is what every node gets (add to it before serve).
	env []string
	// base is the API's URL, once serve ran.
	base   string
	logDir string
	// names are the processes started, for logs.
	names []string
}

// clusterNode is one `outpost worker` process.
type clusterNode struct {
	name string
	// id is its node id (the River client id its jobs are attempted by).
	id   string
	data string
	cmd  *exec.Cmd
}

// newCluster builds the binary and starts PostgreSQL and versitygw with
// a bucket; env is added to every node's. Nothing of outpost runs yet:
// serve starts the API, worker the nodes.
func newCluster(t *testing.T, bucket string, env ...string) *cluster {
	t.Helper()
	needFFmpeg(t)
	c := &cluster{t: t, dsn: pg.NewDatabase(t), gw: tests3.Start(t), bucket: bucket, logDir: t.TempDir()}
	blobURL := c.gw.Bucket(t, bucket)
	c.bin = buildOutpost(t)
	c.env = append(append(processEnv(os.Environ()), c.gw.Env()...),
		"OUTPOST_DATABASE_URL="+c.dsn,
		"OUTPOST_BLOB_URL="+blobURL,
		"OUTPOST_SECRET_KEY="+strings.Repeat("7d", 32),
		"OUTPOST_LOG_LEVEL=info",
	)
	c.env = append(c.env, env...)
	return c
}

func (c *cluster) logPath(name string) string { return filepath.Join(c.logDir, name+".log") }

// logs is the end of each process's log, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	for _, n := range c.names {
		fmt.Fprintf(&b, "--- %s\n%s\n", n, tail(c.logPath(n)))
	}
	return b.String()
}

// start starts the binary with args and env as a process named name
// (its log is name's).
func (c *cluster) start(name string, args, env []string) *exec.Cmd {
	c.t.Helper()
	c.names = append(c.names, name)
	return startProcess(c.t, c.bin, args, env, c.logPath(name))
}

// serve starts `outpost serve --workers 0` (it migrates the database)
// and waits until its API answers at c.base.
func (c *cluster) serve() {
	c.t.Helper()
	port := freePort(c.t)
	c.base = "http://127.0.0.1:" + port
	c.names = append(c.names, "api")
	startOutpost(c.t, c.bin, "serve", append(slices.Clone(c.env),
		"OUTPOST_DATA_DIR="+c.t.TempDir(),
		"OUTPOST_LISTEN=127.0.0.1:"+port,
		"OUTPOST_BOOTSTRAP_API_KEY="+testAPIKey,
		"OUTPOST_WORKERS=0",
	), c.logPath("api"), c.base)
}

// worker starts `outpost worker` rendering one export at a time on data
// (a new data dir when ""), and waits until it has its node id.
func (c *cluster) worker(name, data string) *clusterNode {
	c.t.Helper()
	if data == "" {
		data = c.t.TempDir()
	}
	c.names = append(c.names, name)
	cmd := startOutpost(c.t, c.bin, "worker", append(slices.Clone(c.env),
		"OUTPOST_DATA_DIR="+data, "OUTPOST_RENDER_CONCURRENCY=1"), c.logPath(name), "")
	id := waitfor.Value(c.t, 30*time.Second, func() (string, error) {
		b, err := os.ReadFile(filepath.Join(data, "nodes", "slot-1"))
		if id := strings.TrimSpace(string(b)); err == nil && id != "" {
			return id, nil
		}
		return "", fmt.Errorf("no node id yet (%v)", err)
	}, "%s records its node id\n%s", name, c.logs())
	return &clusterNode{name: name, id: id, data: data, cmd: cmd}
}

// store opens the cluster's database, and a River client on it to read
// the jobs; both are closed at cleanup.
func (c *cluster) store() (*store.Store, *river.Client[*sql.Tx]) {
	c.t.Helper()
	s, err := store.Open(c.t.Context(), c.dsn, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = s.Close() })
	client, err := river.NewClient(s.RiverDriver(), &river.Config{})
	if err != nil {
		c.t.Fatal(err)
	}
	return s, client
}
