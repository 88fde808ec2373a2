-- Core schema: users, sessions, rooms with their head seq, messages, login throttling.
CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'moderator', 'member')),
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rooms (
    room_id  TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    title_en TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    head_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    room_id    TEXT NOT NULL REFERENCES rooms (room_id),
    seq        INTEGER NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    author_id  INTEGER NOT NULL REFERENCES users (user_id),
    cid        TEXT NOT NULL,
    body       TEXT NOT NULL,
    sent_at_ms INTEGER NOT NULL,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, author_id, cid)
) WITHOUT ROWID;

CREATE TABLE login_failures (
    key   TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at_ms);
