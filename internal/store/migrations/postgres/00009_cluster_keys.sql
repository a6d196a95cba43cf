-- The cluster's keys, postgres flavour (the other engine's file of the same name
-- has the same columns): the fingerprint of each key every node must hold,
-- recorded by the first node that starts with it.
--   cluster_keys.key_id       1: OUTPOST_SECRET_KEY; 2–255: OUTPOST_TOKEN_KEYS ids
--   cluster_keys.fingerprint  HMAC-SHA256 of a fixed label under the key
--                             (hex); the key itself is never stored

-- +goose Up
CREATE TABLE cluster_keys (
	key_id      INTEGER PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	recorded_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE cluster_keys;
