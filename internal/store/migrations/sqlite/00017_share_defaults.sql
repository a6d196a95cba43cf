-- A person's saved "share to" default, SQLite flavour (the other engine's file of
-- the same name has the same table and columns).
--   share_defaults   the connected accounts the export dialog ticks for a
--                    user in a workspace; a disconnected account's rows go
--                    with it, and the service offers only active accounts

-- +goose Up
CREATE TABLE share_defaults (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, user_id, connection_id)
);
CREATE INDEX share_defaults_connection_idx ON share_defaults (connection_id);
CREATE INDEX share_defaults_user_idx ON share_defaults (user_id);

-- +goose Down
DROP TABLE share_defaults;
