package store

import (
	"context"
	"fmt"
	"time"
)

// Node is a job worker process, known by its River client id, with the last
// time it said it was alive.
type Node struct {
	ID          string    `json:"id"`
	Hostname    string    `json:"hostname"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
}

// TouchNode records that the node is alive at n.HeartbeatAt (now when
// zero), creating its row on first use.
func (q *Queries) TouchNode(ctx context.Context, n Node) error {
	n.HeartbeatAt = now(n.HeartbeatAt)
	if n.StartedAt.IsZero() {
		n.StartedAt = n.HeartbeatAt
	}
	_, err := q.exec(ctx, `INSERT INTO worker_nodes (id, hostname, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, started_at = excluded.started_at,
		heartbeat_at = excluded.heartbeat_at`, n.ID, n.Hostname, now(n.StartedAt), n.HeartbeatAt)
	if err != nil {
		return fmt.Errorf("touch node %s: %w", n.ID, err)
	}
	return nil
}

// DeleteNode forgets a node (it stopped cleanly). Deleting a missing one is
// not an error.
func (q *Queries) DeleteNode(ctx context.Context, id string) error {
	if _, err := q.exec(ctx, `DELETE FROM worker_nodes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete node %s: %w", id, err)
	}
	return nil
}

// ListNodes returns every known node, by id.
func (q *Queries) ListNodes(ctx context.Context) ([]Node, error) {
	rows, err := q.query(ctx, `SELECT id, hostname, started_at, heartbeat_at FROM worker_nodes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	ns, err := collect(rows, func(sc rowScanner) (Node, error) {
		var n Node
		err := sc.Scan(&n.ID, &n.Hostname, scanTime(&n.StartedAt), scanTime(&n.HeartbeatAt))
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return ns, nil
}

// DeleteNodesBefore forgets the nodes not heard from since t and returns how
// many.
func (q *Queries) DeleteNodesBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteCount(ctx, "delete nodes", `DELETE FROM worker_nodes WHERE heartbeat_at < $1`, t)
}
