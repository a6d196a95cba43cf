-- Brand kits and export groups, SQLite flavour (the PostgreSQL file of the same
-- name has the same tables and columns):
--   brand_kits          a client's look, per workspace: the watermark image
--                       (a blob key; PNG or SVG) and how it is placed, and
--                       optional intro and outro projects
--   exports.group_id    the A/B variants made by one request share it; ''
--                       for a lone export

-- +goose Up
CREATE TABLE brand_kits (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    slug               TEXT NOT NULL,
    name               TEXT NOT NULL,
    client             TEXT NOT NULL DEFAULT '',
    watermark_key      TEXT NOT NULL DEFAULT '',
    watermark_format   TEXT NOT NULL DEFAULT '', -- png | svg
    watermark_position TEXT NOT NULL DEFAULT 'br',
    watermark_margin   REAL NOT NULL DEFAULT 0,
    watermark_width    REAL NOT NULL DEFAULT 0,
    watermark_opacity  REAL NOT NULL DEFAULT 0,
    intro_project_id   TEXT NOT NULL DEFAULT '',
    outro_project_id   TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, slug)
);
ALTER TABLE exports ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
CREATE INDEX exports_group_idx ON exports (workspace_id, group_id);

-- +goose Down
DROP INDEX exports_group_idx;
ALTER TABLE exports DROP COLUMN group_id;
DROP TABLE brand_kits;
