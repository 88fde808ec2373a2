-- The audit log and the personal data archive (issue 12; docs/decisions.md, "Personal archives,
-- compliance exports and the audit log"). The audit_log table itself is in the dialect files
-- (its id is an identity on PostgreSQL, an AUTOINCREMENT rowid on SQLite); here the indexes the
-- personal archive pages its owner's rows by (keyset, never a whole table).

-- A member's own messages, room by room in seq order (GET /api/v1/me/export).
CREATE INDEX messages_author ON messages (author_id, room_id, seq) WHERE kind = 'message';
-- The topics and news posts a member started.
CREATE INDEX topics_author ON topics (author_id, topic_id);
-- The reactions a member gave.
CREATE INDEX reactions_user ON reactions (user_id, message_id, emoji);
-- The poll answers a member gave.
CREATE INDEX webinar_poll_answers_user ON webinar_poll_answers (user_id, poll_id);
