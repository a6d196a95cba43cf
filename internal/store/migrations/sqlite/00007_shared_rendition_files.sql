-- Renditions that share one file, SQLite flavour (the other engine's file
-- of the same name has the same index). Targets whose files would be the
-- same bytes are rendered by one encode and stored once: their renditions
-- have the same blob_key, and the file is deleted only when the last
-- rendition still holding it (deleted_at IS NULL) lets it go. The index
-- serves that count.

-- +goose Up
CREATE INDEX renditions_blob_key_idx ON renditions (blob_key);

-- +goose Down
DROP INDEX renditions_blob_key_idx;
