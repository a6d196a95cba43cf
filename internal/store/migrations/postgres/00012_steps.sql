-- Which node ran each step of an export, postgres flavour (the other engine's
-- file of the same name has the same columns):
--   export_steps                 one row per step a node ran (or runs): the
--                                render, check and store of each rendition,
--                                each attempt at a publication and, with
--                                segmented rendering, each segment
--   export_steps.kind            render | check | store | publish | segment
--   export_steps.segment         the segment (1…n) of kind segment; 0 otherwise
--   export_steps.node            the River client id of the node (jobs.NodeID)
--   export_steps.outcome         running | succeeded | waiting (snoozed: still
--                                processing, rate limited) | failed |
--                                interrupted (the node stopped, or was killed
--                                and a later attempt took over)
--   export_steps.error_code      the failure's code, '' otherwise

-- +goose Up
CREATE TABLE export_steps (
    id             TEXT PRIMARY KEY,
    export_id      TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    rendition_id   TEXT NOT NULL DEFAULT '',
    publication_id TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    segment        INTEGER NOT NULL DEFAULT 0,
    node           TEXT NOT NULL,
    hostname       TEXT NOT NULL DEFAULT '',
    job_id         BIGINT NOT NULL DEFAULT 0,
    attempt        INTEGER NOT NULL DEFAULT 0,
    outcome        TEXT NOT NULL,
    error_code     TEXT NOT NULL DEFAULT '',
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ
);
CREATE INDEX export_steps_export_idx ON export_steps (export_id, started_at);

-- +goose Down
DROP TABLE export_steps;
