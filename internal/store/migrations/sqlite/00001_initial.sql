-- Outpost's initial schema, SQLite flavour. The PostgreSQL file of the same
-- name holds the same tables and columns (TestSchema_sameOnBothEngines checks):
-- only the types differ (TIMESTAMP/TIMESTAMPTZ, TEXT/JSONB, BLOB/BYTEA). JSON
-- columns check json_valid, so that both engines refuse malformed JSON.
-- Ids are text generated in Go ("exp_…"); times are written by Go in UTC.

-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE, -- stored lower-cased
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_workspace_idx ON users (workspace_id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE, -- SHA-256 of the cookie value
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,        -- first characters, for display
    key_hash     TEXT NOT NULL UNIQUE, -- SHA-256 of the key; the key itself is never stored
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL, -- upload | url | timeline
    source_key       TEXT NOT NULL DEFAULT '',
    source_url       TEXT NOT NULL DEFAULT '',
    timeline         TEXT CHECK (timeline IS NULL OR json_valid(timeline)),
    probe            TEXT CHECK (probe IS NULL OR json_valid(probe)),
    status           TEXT NOT NULL,
    error_code       TEXT NOT NULL DEFAULT '',
    error_message    TEXT NOT NULL DEFAULT '',
    client           TEXT NOT NULL DEFAULT '',
    campaign         TEXT NOT NULL DEFAULT '',
    size_bytes       INTEGER NOT NULL DEFAULT 0,
    duration_seconds REAL NOT NULL DEFAULT 0,
    thumbnail_key    TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX projects_workspace_created_idx ON projects (workspace_id, created_at DESC, id DESC);

CREATE TABLE presets (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    base_preset_id TEXT NOT NULL,
    settings       TEXT CHECK (settings IS NULL OR json_valid(settings)),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE exports (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status           TEXT NOT NULL, -- queued | running | succeeded | partially_failed | failed | canceled
    request          TEXT CHECK (request IS NULL OR json_valid(request)),
    priority         INTEGER NOT NULL DEFAULT 0,
    client           TEXT NOT NULL DEFAULT '',
    campaign         TEXT NOT NULL DEFAULT '',
    preset_ids       TEXT NOT NULL DEFAULT '', -- space-separated, for search and filters
    progress_stage   TEXT NOT NULL DEFAULT '',
    progress_percent REAL NOT NULL DEFAULT 0,
    progress_eta_ms  INTEGER NOT NULL DEFAULT 0,
    error_code       TEXT NOT NULL DEFAULT '',
    error_message    TEXT NOT NULL DEFAULT '',
    idempotency_key  TEXT, -- NULL when none; NULLs never clash
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    started_at       TIMESTAMP,
    finished_at      TIMESTAMP,
    UNIQUE (workspace_id, idempotency_key)
);
CREATE INDEX exports_history_idx ON exports (workspace_id, created_at DESC, id DESC);
CREATE INDEX exports_status_idx ON exports (workspace_id, status, created_at DESC);
CREATE INDEX exports_client_idx ON exports (workspace_id, client, created_at DESC);
CREATE INDEX exports_campaign_idx ON exports (workspace_id, campaign, created_at DESC);
CREATE INDEX exports_project_idx ON exports (project_id);

CREATE TABLE renditions (
    id               TEXT PRIMARY KEY,
    export_id        TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    preset_id        TEXT NOT NULL,
    target_index     INTEGER NOT NULL,
    status           TEXT NOT NULL, -- pending | running | succeeded | failed | canceled
    blob_key         TEXT NOT NULL DEFAULT '',
    size_bytes       INTEGER NOT NULL DEFAULT 0,
    duration_seconds REAL NOT NULL DEFAULT 0,
    width            INTEGER NOT NULL DEFAULT 0,
    height           INTEGER NOT NULL DEFAULT 0,
    video_codec      TEXT NOT NULL DEFAULT '',
    audio_codec      TEXT NOT NULL DEFAULT '',
    passthrough      BOOLEAN NOT NULL DEFAULT FALSE,
    check_report     TEXT CHECK (check_report IS NULL OR json_valid(check_report)),
    error_code       TEXT NOT NULL DEFAULT '',
    error_message    TEXT NOT NULL DEFAULT '',
    thumbnail_key    TEXT NOT NULL DEFAULT '',
    expires_at       TIMESTAMP,
    pinned           BOOLEAN NOT NULL DEFAULT FALSE,
    saved            BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at       TIMESTAMP, -- the file was removed from blob storage
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (export_id, target_index)
);
CREATE INDEX renditions_expires_idx ON renditions (expires_at);

CREATE TABLE connections (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    platform         TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    account_name     TEXT NOT NULL DEFAULT '',
    avatar_url       TEXT NOT NULL DEFAULT '',
    access_token     BLOB, -- sealed (AES-GCM) by the caller
    refresh_token    BLOB, -- sealed (AES-GCM) by the caller
    token_expires_at TIMESTAMP,
    scopes           TEXT NOT NULL DEFAULT '', -- space-separated
    status           TEXT NOT NULL, -- active | expired | revoked
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (workspace_id, platform, account_id)
);

CREATE TABLE publications (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    export_id     TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    rendition_id  TEXT NOT NULL REFERENCES renditions (id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    metadata      TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    state         TEXT NOT NULL, -- pending | scheduled | uploading | processing | published | failed | canceled
    remote_ids    TEXT CHECK (remote_ids IS NULL OR json_valid(remote_ids)), -- every upload step's remote id, so a retry resumes
    post_url      TEXT NOT NULL DEFAULT '',
    error_code    TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    schedule_at   TIMESTAMP,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    published_at  TIMESTAMP
);
CREATE INDEX publications_export_idx ON publications (export_id);
CREATE INDEX publications_rendition_idx ON publications (rendition_id);
CREATE INDEX publications_connection_idx ON publications (connection_id);

CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL, -- whsec_… signing secret
    events       TEXT NOT NULL DEFAULT '', -- space-separated event types; empty: all
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_workspace_idx ON webhook_endpoints (workspace_id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    subject_id   TEXT NOT NULL DEFAULT '',
    payload      TEXT CHECK (payload IS NULL OR json_valid(payload)),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX events_workspace_created_idx ON events (workspace_id, created_at DESC, id DESC);
CREATE INDEX events_type_idx ON events (workspace_id, type, created_at);
CREATE INDEX events_subject_idx ON events (subject_id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    status          TEXT NOT NULL, -- pending | succeeded | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_code   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE idempotency_keys (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   BLOB,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE webhook_deliveries;
DROP TABLE events;
DROP TABLE webhook_endpoints;
DROP TABLE publications;
DROP TABLE connections;
DROP TABLE renditions;
DROP TABLE exports;
DROP TABLE presets;
DROP TABLE projects;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE workspaces;
