-- Platform quota ledger, PostgreSQL flavour (the SQLite file of the same
-- name has the same table and columns):
--   quota_usage  units a platform project (YouTube: the OAuth client) spent
--                per quota day (YouTube: the Pacific day); reserved before a
--                call, settled with what it cost after

-- +goose Up
CREATE TABLE quota_usage (
    platform   TEXT NOT NULL,
    project    TEXT NOT NULL, -- the OAuth client id
    day        TEXT NOT NULL, -- YYYY-MM-DD in the platform's quota time zone
    units      BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, project, day)
);

-- +goose Down
DROP TABLE quota_usage;
