-- Moderation (issue 15; docs/decisions.md, "Moderation"): reports, sanctions, their indexes.
-- A member's report of a message (room_id, message_id) or of a member (both NULL). status:
-- open, then resolved (an action was taken: resolution names it) or dismissed. A report of a
-- message keeps a copy of it as the reporter saw it (message_*: its body, its author's name
-- then, sent time, seq; its author is target_user_id): moderators read it whether or not they
-- are in the room, and after the author edits or deletes it.
CREATE TABLE reports (
    report_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    target_user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    room_id        TEXT REFERENCES rooms (room_id) ON DELETE CASCADE,
    message_id     TEXT,
    reason         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'open',
    resolution     TEXT,
    resolved_by    INTEGER REFERENCES users (user_id) ON DELETE SET NULL,
    resolved_at_ms BIGINT,
    created_at_ms  BIGINT NOT NULL,
    message_body   TEXT,
    message_author_name TEXT,
    message_sent_at_ms  BIGINT,
    message_seq    BIGINT
);
-- What moderators did to a member: warn, mute (in room_id), suspend or ban. until_ms NULL:
-- no end (a ban; a warning). Lifted early: lifted_at_ms and lifted_by set.
CREATE TABLE sanctions (
    sanction_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    room_id       TEXT REFERENCES rooms (room_id) ON DELETE CASCADE,
    until_ms      BIGINT,
    reason        TEXT NOT NULL DEFAULT '',
    actor_id      INTEGER REFERENCES users (user_id) ON DELETE SET NULL,
    report_id     INTEGER REFERENCES reports (report_id) ON DELETE SET NULL,
    created_at_ms BIGINT NOT NULL,
    lifted_at_ms  BIGINT,
    lifted_by     INTEGER REFERENCES users (user_id) ON DELETE SET NULL
);

-- The queue: open reports first, oldest first; then the rest, newest first.
CREATE INDEX reports_queue ON reports (status, report_id);
-- A member's record: the reports about them.
CREATE INDEX reports_target ON reports (target_user_id, report_id);
-- One open report per reporter and target (message or member): a repeat is the same report.
CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, target_user_id, message_id)
    WHERE status = 'open' AND message_id IS NOT NULL;
CREATE UNIQUE INDEX reports_open_member_once ON reports (reporter_id, target_user_id)
    WHERE status = 'open' AND message_id IS NULL;
-- The checks (a mute on every send, a suspension or ban on every login) and a member's record.
CREATE INDEX sanctions_user ON sanctions (user_id, kind, sanction_id);
