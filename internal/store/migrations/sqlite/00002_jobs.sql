-- The service's job bookkeeping, SQLite flavour (the PostgreSQL file of the
-- same name has the same tables and columns):
--   export_events  live progress of exports, for SSE across processes; seq is
--                  one counter for all exports, so it only grows per export and
--                  is never reused (AUTOINCREMENT), even after a retry deletes
--                  an export's old events.
--   exports.job_id the River job working the export, to cancel it.
--   worker_nodes   job worker processes and their heartbeats, so that the jobs
--                  of a node that died are retried without waiting for River's
--                  stuck-job rescue.

-- +goose Up
CREATE TABLE export_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    export_id  TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    type       TEXT NOT NULL, -- progress | rendition | done
    data       TEXT CHECK (data IS NULL OR json_valid(data)),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX export_events_export_idx ON export_events (export_id, seq);
CREATE INDEX export_events_type_created_idx ON export_events (type, created_at);

ALTER TABLE exports ADD COLUMN job_id INTEGER;

CREATE TABLE worker_nodes (
    id           TEXT PRIMARY KEY, -- River client id
    hostname     TEXT NOT NULL DEFAULT '',
    started_at   TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE worker_nodes;
ALTER TABLE exports DROP COLUMN job_id;
DROP TABLE export_events;
