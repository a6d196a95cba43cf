package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// KeyCheck is what the database says of a node's keys against the
// cluster's (CheckClusterKeys).
type KeyCheck struct {
	// Mismatched are the key ids this node holds with another key than the
	// one recorded: tokens and links sealed elsewhere will not open here.
	Mismatched []int
	// Missing are recorded key ids this node does not hold.
	Missing []int
	// Recorded are the ids this node recorded first (a new cluster, or a
	// key added to the keyring).
	Recorded []int
}

// CheckClusterKeys compares a node's key fingerprints (by key id) with the
// ones recorded by the nodes before it, recording those not known yet. It
// is safe when nodes start at once: the first insert of an id wins and the
// others compare against it.
func (s *Store) CheckClusterKeys(ctx context.Context, fingerprints map[int]string) (KeyCheck, error) {
	var c KeyCheck
	q := s.Using(s.db)
	at := time.Now().UTC()
	for _, id := range slices.Sorted(maps.Keys(fingerprints)) {
		res, err := q.exec(ctx, `INSERT INTO cluster_keys (key_id, fingerprint, recorded_at) VALUES ($1, $2, $3)
			ON CONFLICT (key_id) DO NOTHING`, id, fingerprints[id], at)
		if err != nil {
			return KeyCheck{}, fmt.Errorf("record cluster key %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			c.Recorded = append(c.Recorded, id)
		}
	}
	rows, err := q.query(ctx, `SELECT key_id, fingerprint FROM cluster_keys ORDER BY key_id`)
	if err != nil {
		return KeyCheck{}, fmt.Errorf("read cluster keys: %w", err)
	}
	type rec struct {
		id int
		fp string
	}
	recs, err := collect(rows, func(sc rowScanner) (rec, error) {
		var r rec
		err := sc.Scan(&r.id, &r.fp)
		return r, err
	})
	if err != nil {
		return KeyCheck{}, fmt.Errorf("read cluster keys: %w", err)
	}
	for _, r := range recs {
		fp, ok := fingerprints[r.id]
		switch {
		case !ok:
			c.Missing = append(c.Missing, r.id)
		case fp != r.fp:
			c.Mismatched = append(c.Mismatched, r.id)
		}
	}
	return c, nil
}

// ForgetClusterKey removes a key id from the record (the operator retired a
// token key after the refresh job resealed every token under a newer one).
func (s *Store) ForgetClusterKey(ctx context.Context, id int) error {
	if _, err := s.Using(s.db).exec(ctx, `DELETE FROM cluster_keys WHERE key_id = $1`, id); err != nil {
		return fmt.Errorf("forget cluster key %d: %w", id, err)
	}
	return nil
}
