-- Renditions that share one file, SQLite flavour (the other engine's file
-- of the same name has the same indexes). Targets whose files would be the
-- same bytes are rendered by one encode and stored once: their renditions
-- have the same blob_key, and a file is deleted only when the last
-- rendition still holding it (deleted_at IS NULL; as its video, thumbnail
-- or caption sidecar) lets it go. The indexes serve that count, which
-- expiry, cancellation and deletions make for each file they let go of.

-- +goose Up
CREATE INDEX renditions_blob_key_idx ON renditions (blob_key);
CREATE INDEX renditions_thumbnail_key_idx ON renditions (thumbnail_key);
CREATE INDEX renditions_captions_key_idx ON renditions (captions_key);

-- +goose Down
DROP INDEX renditions_captions_key_idx;
DROP INDEX renditions_thumbnail_key_idx;
DROP INDEX renditions_blob_key_idx;
