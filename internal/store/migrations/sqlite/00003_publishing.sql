-- Publishing, SQLite flavour (the PostgreSQL file of the same name has the
-- same tables and columns):
--   connections.refresh_expires_at  when the refresh token (or the grant) dies
--   connections.expiry_warned_at    when connection.expiring was sent for the
--                                   current tokens (cleared when they change)
--   publications.job_id             the River job publishing it, to cancel or
--                                   reschedule it
--   publications.preset_id          the export target it posts
--   oauth_states                    pending OAuth authorizations: the SHA-256
--                                   of the state parameter, the sealed PKCE
--                                   verifier, single use, expiring

-- +goose Up
ALTER TABLE connections ADD COLUMN refresh_expires_at TIMESTAMP;
ALTER TABLE connections ADD COLUMN expiry_warned_at TIMESTAMP;
ALTER TABLE publications ADD COLUMN job_id INTEGER;
ALTER TABLE publications ADD COLUMN preset_id TEXT NOT NULL DEFAULT '';
CREATE INDEX connections_status_idx ON connections (status, token_expires_at);

CREATE TABLE oauth_states (
    id           TEXT PRIMARY KEY, -- SHA-256 (hex) of the state parameter
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    platform     TEXT NOT NULL,
    verifier     BLOB, -- sealed PKCE code verifier
    browser_hash TEXT NOT NULL DEFAULT '', -- SHA-256 of the binding cookie; '' for API-started flows
    return_to    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);

-- +goose Down
DROP TABLE oauth_states;
DROP INDEX connections_status_idx;
ALTER TABLE publications DROP COLUMN preset_id;
ALTER TABLE publications DROP COLUMN job_id;
ALTER TABLE connections DROP COLUMN expiry_warned_at;
ALTER TABLE connections DROP COLUMN refresh_expires_at;
