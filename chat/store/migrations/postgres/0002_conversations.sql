-- Conversations: profiles, direct rooms and membership, topics and news, the room log's event
-- kinds (edits, deletes, reactions …), reactions, read state, notifications.

-- Profiles. Sectors and languages are rows of user_tags so both stores filter them alike.
ALTER TABLE users ADD COLUMN affiliation  TEXT NOT NULL DEFAULT 'other';
ALTER TABLE users ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN country      TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN city         TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone    TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN bio          TEXT NOT NULL DEFAULT '';

CREATE TABLE user_tags (
    user_id BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,   -- 'sector' or 'language'
    value   TEXT NOT NULL,
    PRIMARY KEY (user_id, tag, value)
);
CREATE INDEX user_tags_value ON user_tags (tag, value);

-- Rooms created at run time: direct conversations, topic threads, news threads.
ALTER TABLE rooms ADD COLUMN created_by    BIGINT REFERENCES users (user_id);
ALTER TABLE rooms ADD COLUMN created_at_ms BIGINT NOT NULL DEFAULT 0;
-- Direct rooms: the sorted member ids, so opening the same conversation again finds it.
ALTER TABLE rooms ADD COLUMN member_key    TEXT;
CREATE UNIQUE INDEX rooms_member_key ON rooms (member_key);
-- Direct rooms: consultation status (open → answered → closed).
ALTER TABLE rooms ADD COLUMN status        TEXT;

CREATE TABLE room_members (
    room_id       TEXT NOT NULL REFERENCES rooms (room_id),
    user_id       BIGINT NOT NULL REFERENCES users (user_id),
    added_at_ms   BIGINT NOT NULL,
    removed_at_ms BIGINT,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

-- A topic or news post is a room of its own (kind 'topic' or 'news') holding its reply thread,
-- listed in one or more parent rooms.
CREATE TABLE topics (
    topic_id         TEXT PRIMARY KEY REFERENCES rooms (room_id),
    kind             TEXT NOT NULL,          -- 'topic' or 'news'
    title            TEXT NOT NULL,
    summary          TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL DEFAULT '',
    body_html        TEXT NOT NULL DEFAULT '',
    origin_room_id   TEXT,                   -- the message a topic was started from, if any
    origin_message_id TEXT,
    author_id        BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms    BIGINT NOT NULL,
    last_activity_ms BIGINT NOT NULL,
    reply_count      BIGINT NOT NULL DEFAULT 0,
    resolved         BOOLEAN NOT NULL DEFAULT FALSE,
    pinned           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX topics_news ON topics (kind, created_at_ms);

CREATE TABLE topic_rooms (
    topic_id TEXT NOT NULL REFERENCES topics (topic_id),
    room_id  TEXT NOT NULL REFERENCES rooms (room_id),
    PRIMARY KEY (topic_id, room_id)
);
CREATE INDEX topic_rooms_room ON topic_rooms (room_id);

-- The room log: every row takes the room's next seq. kind 'message' rows are messages (edited
-- and deleted in place); the other kinds are events about a message or the room, replayed to
-- resuming readers like messages.
ALTER TABLE messages ADD COLUMN kind         TEXT NOT NULL DEFAULT 'message';
ALTER TABLE messages ADD COLUMN target_id    TEXT;     -- the message an event is about
ALTER TABLE messages ADD COLUMN html         TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN data         TEXT NOT NULL DEFAULT '{}';  -- JSON: kind-specific fields
ALTER TABLE messages ADD COLUMN edited_at_ms BIGINT;
ALTER TABLE messages ADD COLUMN deleted      BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX messages_target ON messages (target_id) WHERE target_id IS NOT NULL;

CREATE TABLE message_versions (
    message_id   TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    edited_at_ms BIGINT NOT NULL,
    editor_id    BIGINT NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (message_id, version)
);

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (user_id),
    emoji      TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

CREATE TABLE mentions (
    message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (message_id, user_id)
);

-- Read state: the last seq a member has read, per room (topics are rooms too).
CREATE TABLE read_state (
    user_id       BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    room_id       TEXT NOT NULL REFERENCES rooms (room_id),
    last_read_seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id)
);

CREATE TABLE notifications (
    notification_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,           -- 'mention', 'reply', 'direct'
    room_id         TEXT NOT NULL REFERENCES rooms (room_id),
    seq             BIGINT NOT NULL,
    message_id      TEXT NOT NULL,
    actor_id        BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms   BIGINT NOT NULL,
    read_at_ms      BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, notification_id);
