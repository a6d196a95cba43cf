-- Caption sidecar files, SQLite flavour (the other engine's file of the same
-- name has the same column):
--   renditions.captions_key  the blob key of the rendition's caption file
--                            (SRT or WebVTT) for platforms that take caption
--                            uploads; '' for none

-- +goose Up
ALTER TABLE renditions ADD COLUMN captions_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE renditions DROP COLUMN captions_key;
