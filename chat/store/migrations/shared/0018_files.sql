-- Files (issue 13; chat/files/, docs/protocol.md "Files"): uploaded files and resumable uploads.
-- A file's bytes live in the blob store (local folder or S3) under storage_key, a random name;
-- the row says who may read it (scope), what holds it (ref) and when its bytes go.
CREATE TABLE files (
    file_id        TEXT PRIMARY KEY,
    owner_id       BIGINT NOT NULL REFERENCES users (user_id),
    name           TEXT NOT NULL,
    mime           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'ready',
    scope          TEXT,
    ref            TEXT,
    preview_key    TEXT,
    preview_w      INTEGER,
    preview_h      INTEGER,
    created_at_ms  BIGINT NOT NULL,
    bound_at_ms    BIGINT,
    deleted_at_ms  BIGINT,
    purge_after_ms BIGINT
);
-- A member's live files (quota), what a holder's delete releases, and the sweeper's two scans.
CREATE INDEX files_owner ON files (owner_id) WHERE state = 'ready';
CREATE INDEX files_ref ON files (ref) WHERE ref IS NOT NULL;
CREATE INDEX files_unbound ON files (created_at_ms) WHERE state = 'ready' AND ref IS NULL;
CREATE INDEX files_purge ON files (purge_after_ms) WHERE state = 'deleted';

-- An upload in progress: offset bytes committed as parts (JSON [[number, tag], …]) of the blob
-- store's multipart upload `handle`; client_key makes POST /api/v1/uploads idempotent per member.
CREATE TABLE uploads (
    upload_id     TEXT PRIMARY KEY,
    owner_id      BIGINT NOT NULL REFERENCES users (user_id),
    client_key    TEXT,
    name          TEXT NOT NULL,
    claimed       TEXT,
    size          BIGINT NOT NULL,
    received      BIGINT NOT NULL DEFAULT 0,
    part_size     BIGINT NOT NULL,
    parts         TEXT NOT NULL DEFAULT '[]',
    storage_key   TEXT NOT NULL,
    handle        TEXT NOT NULL,
    mime          TEXT,
    kind          TEXT,
    file_id       TEXT,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX uploads_client_key ON uploads (owner_id, client_key) WHERE client_key IS NOT NULL;
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_expiry ON uploads (expires_at_ms);
