-- The parts of an export rendered in segments on many workers, postgres flavour (the
-- other engine's file of the same name has the same columns). The render
-- job that plans the cuts writes one row per part and queues one job per
-- part; the part's job stores its files and marks its row done; the job
-- that marks the last row done queues the join, in the same transaction.
--   export_segments.part        0: the rest (audio once per encode, stream
--                               copies, GIF); i >= 1: piece i
--   export_segments.seconds     the part's length, its weight in the
--                               export's progress
--   export_segments.job_id      the River job rendering it (canceled with
--                               the export)
--   export_segments.percent     how far its render is
--   export_segments.files       the names of its files in storage, one a
--                               line, under segments/<export id>/
--   export_segments.done_at     when its files were stored; NULL before

-- +goose Up
CREATE TABLE export_segments (
    export_id  TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    part       INTEGER NOT NULL,
    seconds    DOUBLE PRECISION NOT NULL DEFAULT 0,
    job_id     BIGINT NOT NULL DEFAULT 0,
    percent    DOUBLE PRECISION NOT NULL DEFAULT 0,
    files      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    done_at    TIMESTAMPTZ,
    PRIMARY KEY (export_id, part)
);

-- +goose Down
DROP TABLE export_segments;
