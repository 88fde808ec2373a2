-- Consent in direct conversations: who brought each member in, members who left (or declined)
-- for good, and blocks between members.

-- Who added the member (the creator for everyone in a new conversation); NULL for rows older
-- than this migration.
ALTER TABLE room_members ADD COLUMN added_by    INTEGER REFERENCES users (user_id);
-- TRUE once the member left or declined by their own hand: nobody may add them back.
ALTER TABLE room_members ADD COLUMN left_for_good INTEGER NOT NULL DEFAULT 0;

-- blocker_id no longer hears from blocked_id: no direct conversation, no adds, no notifications.
CREATE TABLE blocks (
    blocker_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    blocked_id    INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
