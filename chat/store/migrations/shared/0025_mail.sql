-- Email (issue 15; chat/mail/, chat/store/mail.py, docs/operations.md "Email (SMTP)").
-- The outbox: every email is a row here before anyone tries to send it, so it survives a node
-- restart and an SMTP outage. mail_id is 32 random hex digits (the Message-ID's local part).
-- A claim sets lease_until_ms; a node that dies while sending leaves a lease that lapses, and
-- another node tries again. dedupe_key (optional) makes a second enqueue of the same mail a no-op.
CREATE TABLE mail_outbox (
    mail_id        TEXT PRIMARY KEY,
    recipient      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    user_id        BIGINT,
    dedupe_key     TEXT UNIQUE,
    subject        TEXT NOT NULL,
    text_body      TEXT NOT NULL,
    html_body      TEXT NOT NULL,
    headers        TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL DEFAULT 'queued',
    attempts       INTEGER NOT NULL DEFAULT 0,
    due_ms         BIGINT NOT NULL,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    created_ms     BIGINT NOT NULL,
    sent_ms        BIGINT,
    last_error     TEXT
);
-- What the senders claim: the queued rows by when they are due.
CREATE INDEX mail_outbox_due ON mail_outbox (due_ms) WHERE status = 'queued';
CREATE INDEX mail_outbox_user ON mail_outbox (user_id) WHERE user_id IS NOT NULL;

-- A member's email preferences: one row once they changed anything (none: the defaults,
-- every kind on, no digest, language unknown). Switches is a JSON object kind -> bool.
CREATE TABLE mail_preferences (
    user_id     BIGINT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    switches    TEXT NOT NULL DEFAULT '{}',
    digest      TEXT NOT NULL DEFAULT 'off',
    language    TEXT,
    updated_ms  BIGINT NOT NULL
);
-- The rooms a member's digest covers.
CREATE TABLE mail_digest_rooms (
    user_id BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    room_id TEXT NOT NULL REFERENCES rooms (room_id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, room_id)
);
CREATE INDEX mail_digest_rooms_room ON mail_digest_rooms (room_id);
