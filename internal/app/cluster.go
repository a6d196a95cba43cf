package app

import (
	"context"
	"fmt"
	"strings"

	"outpost/internal/config"
	"outpost/internal/errcode"
	"outpost/internal/store"
)

// checkKeySource refuses to generate a secret key for a node that is part
// of a cluster: its key would differ from every other node's, and sealed
// tokens and signed links would not open across nodes. A worker is always
// such a node unless it shares the data dir (and its key file) of the serve
// it works for, on SQLite; an API-only serve is one on PostgreSQL.
func checkKeySource(cfg *config.Config, http bool) error {
	if cfg.SecretKeySet() || cfg.SecretKey != nil {
		return nil
	}
	postgres := store.EngineOf(cfg.DatabaseURL) == store.Postgres
	switch {
	case !http && (postgres || !cfg.SecretKeyFileExists()):
		return errcode.New(errcode.SecretKeyRequired, "outpost worker needs the cluster's secret key: OUTPOST_SECRET_KEY or OUTPOST_SECRET_KEY_FILE is not set")
	case http && cfg.Workers == 0 && postgres:
		return errcode.New(errcode.SecretKeyRequired, "outpost serve --workers 0 on PostgreSQL is part of a cluster and needs its secret key: OUTPOST_SECRET_KEY or OUTPOST_SECRET_KEY_FILE is not set")
	}
	return nil
}

// checkClusterKeys compares this node's keys with the ones the cluster
// recorded in the database (the first node to start records its own), and
// refuses to start with a key that differs: tokens sealed and links signed
// by the other nodes would not open here, and the failures would surface
// only later, one publication at a time.
func (a *App) checkClusterKeys(ctx context.Context) error {
	c, err := a.store.CheckClusterKeys(ctx, a.cfg.KeyFingerprints())
	if err != nil {
		return err
	}
	if len(c.Mismatched) > 0 {
		return errcode.New(errcode.SecretKeyMismatch, "this node's %s not the one the other nodes of this database use", keyNames(c.Mismatched))
	}
	for _, id := range c.Recorded {
		a.logger.Info("recorded the cluster's key fingerprint", "key_id", id)
	}
	if len(c.Missing) > 0 {
		a.logger.Warn("this node lacks token keys the cluster has recorded: connection tokens sealed under them will not open here (remove them from the record once every token is resealed)",
			"key_ids", c.Missing)
	}
	return nil
}

// keyNames says which keys differ, by the variables that hold them.
func keyNames(ids []int) string {
	var names []string
	for _, id := range ids {
		if id == 1 {
			names = append(names, "OUTPOST_SECRET_KEY")
		} else {
			names = append(names, fmt.Sprintf("OUTPOST_TOKEN_KEYS key %d", id))
		}
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, " and ") + " are"
}
