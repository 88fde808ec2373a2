-- Core schema: users, sessions, rooms with their head seq, messages, login throttling.
CREATE TABLE users (
    user_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'moderator', 'member')),
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rooms (
    room_id  TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    title_en TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    -- The last seq committed in the room. Appends lock this row (SELECT … FOR UPDATE), which
    -- serialises writers of one room across nodes and keeps seq gapless: a rolled-back
    -- transaction also rolls back its increment.
    head_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id),
    seq        BIGINT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    author_id  BIGINT NOT NULL REFERENCES users (user_id),
    cid        TEXT NOT NULL,
    body       TEXT NOT NULL,
    sent_at_ms BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq),
    -- Invariant 3: one row per (room, author, client id).
    UNIQUE (room_id, author_id, cid)
);

CREATE TABLE login_failures (
    key   TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at_ms);
