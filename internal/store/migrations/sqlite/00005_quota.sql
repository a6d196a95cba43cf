-- Platform quota ledger, SQLite flavour (the PostgreSQL file of the same
-- name has the same table and columns):
--   quota_usage  units a platform project (YouTube: the OAuth client) spent
--                per quota day (YouTube: the Pacific day); reserved before a
--                call, settled with what it cost after

-- +goose Up
CREATE TABLE quota_usage (
    platform   TEXT NOT NULL,
    project    TEXT NOT NULL, -- the OAuth client id
    day        TEXT NOT NULL, -- YYYY-MM-DD in the platform's quota time zone
    units      INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (platform, project, day)
);

-- +goose Down
DROP TABLE quota_usage;
