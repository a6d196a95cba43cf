-- Issue 11 phase 2, PostgreSQL flavour (the other engine's file of the same name has
-- the same columns):
--   renditions.warnings             JSON array of warnings about a file made all
--                                   the same ({code, message, remedy, ranges}:
--                                   source_damaged with its time ranges); NULL: none
--   exports.warnings                the same, for the export: its renditions'
--                                   warnings, each once
--   exports.refused                 JSON array of the targets refused when the
--                                   export was accepted ({target_index, preset,
--                                   code, rule, message, remedy}); NULL: none
--   webhook_endpoints.secret_sealed the signing secret sealed (AES-GCM, as
--                                   connection tokens are); the plain `secret`
--                                   column is emptied as each node starts and
--                                   seals it. Down cannot unseal: endpoints whose
--                                   secret was sealed need a new endpoint.
-- Saved renditions keep no expiry.

-- +goose Up
ALTER TABLE renditions ADD COLUMN warnings JSONB;
ALTER TABLE exports ADD COLUMN warnings JSONB;
ALTER TABLE exports ADD COLUMN refused JSONB;
ALTER TABLE webhook_endpoints ADD COLUMN secret_sealed BYTEA;
UPDATE renditions SET expires_at = NULL WHERE saved;

-- +goose Down
ALTER TABLE webhook_endpoints DROP COLUMN secret_sealed;
ALTER TABLE exports DROP COLUMN refused;
ALTER TABLE exports DROP COLUMN warnings;
ALTER TABLE renditions DROP COLUMN warnings;
