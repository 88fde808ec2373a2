-- Each member's own settings for a room (issue 10): for now how much of it notifies them.
-- No row: the client's default for the room's kind (docs/protocol.md, "Room settings").
CREATE TABLE room_settings (
    user_id BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    notify  TEXT NOT NULL CHECK (notify IN ('all', 'mentions', 'none')),
    PRIMARY KEY (user_id, room_id)
);
