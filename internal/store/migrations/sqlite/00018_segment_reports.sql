-- What each part of a segmented render noticed, sqlite flavour (the other
-- engine's file of the same name adds the same column).
--   export_segments.report   the part's decode report as JSON (damaged
--                            stretches of the source, in the whole
--                            output's seconds); '' when it noticed
--                            nothing. The join gives them to the
--                            renditions as warnings, as a one-pass render
--                            does.

-- +goose Up
ALTER TABLE export_segments ADD COLUMN report TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE export_segments DROP COLUMN report;
