-- Teams, API key scopes and rotation, throttling, audit log, notification
-- preferences and plans, postgres flavour (the other engine's file of the same
-- name has the same tables and columns).
--   memberships           a user's role in each workspace they belong to; the
--                         one home of roles (users.role moves here);
--                         users.workspace_id stays the workspace the user is
--                         in now (switching changes it)
--   invites               invite links: only the token's SHA-256 is stored
--   api_keys.scopes       space-separated (read export publish admin); keys
--                         made before this migration (the bootstrap key) get all
--   api_keys.expires_at   a rotated key's grace deadline; NULL: no deadline
--   api_keys.replaced_by  the key that replaced it on rotation
--   auth_failures         failed sign-ins and bad API keys, per client address
--                         and account, for throttling shared by every node
--   audit_events          security events; workspace_id '' for the instance
--   notification_prefs    per user and kind of email; no row: on
--   workspace_plans       per-workspace limits; no row or 0/false: unlimited

-- +goose Up
CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL, -- owner | admin | member | viewer
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at)
    SELECT workspace_id, id, role, created_at, updated_at FROM users;
ALTER TABLE users DROP COLUMN role;

CREATE TABLE invites (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL DEFAULT '', -- '': anyone holding the link
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    accepted_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX invites_workspace_idx ON invites (workspace_id, created_at);

ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read export publish admin';
ALTER TABLE api_keys ADD COLUMN created_by TEXT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT REFERENCES api_keys (id) ON DELETE SET NULL;

CREATE TABLE auth_failures (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind    TEXT NOT NULL,            -- signin | api_key
    ip      TEXT NOT NULL,            -- client address (IPv6: its /64)
    account TEXT NOT NULL DEFAULT '', -- the email tried; '' for API keys
    at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_failures_ip_idx ON auth_failures (kind, ip, at);
CREATE INDEX auth_failures_account_idx ON auth_failures (kind, account, at);
CREATE INDEX auth_failures_at_idx ON auth_failures (at);

CREATE TABLE audit_events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL DEFAULT '', -- no foreign key: the log outlives what it names
    actor_type   TEXT NOT NULL,            -- user | api_key | cli | system
    actor_id     TEXT NOT NULL DEFAULT '',
    actor_name   TEXT NOT NULL DEFAULT '', -- email or key prefix at the time
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    details      JSONB,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_workspace_idx ON audit_events (workspace_id, created_at DESC, id DESC);

CREATE TABLE notification_prefs (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    email      BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE workspace_plans (
    workspace_id           TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    max_resolution         INTEGER NOT NULL DEFAULT 0, -- short side in pixels
    batch_disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    variants_disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    max_concurrent_exports INTEGER NOT NULL DEFAULT 0,
    max_stored_bytes       BIGINT NOT NULL DEFAULT 0,
    updated_at             TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE workspace_plans;
DROP TABLE notification_prefs;
DROP TABLE audit_events;
DROP TABLE auth_failures;
ALTER TABLE api_keys DROP COLUMN replaced_by;
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN created_by;
ALTER TABLE api_keys DROP COLUMN scopes;
DROP TABLE invites;
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
UPDATE users SET role = COALESCE((SELECT m.role FROM memberships m
    WHERE m.user_id = users.id AND m.workspace_id = users.workspace_id), 'member');
DROP TABLE memberships;
