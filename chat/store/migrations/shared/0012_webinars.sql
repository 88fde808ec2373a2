-- Webinars (issue 11): a webinar is a room of kind 'webinar' holding the audience chat and the
-- public Q&A board events; this row holds its schedule and settings (docs/protocol.md, "Webinars").
CREATE TABLE webinars (
    room_id        TEXT PRIMARY KEY REFERENCES rooms (room_id),
    title_en       TEXT NOT NULL DEFAULT '',
    title_zh       TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    starts_at_ms   BIGINT NOT NULL,
    ends_at_ms     BIGINT NOT NULL,
    time_zone      TEXT NOT NULL DEFAULT 'UTC',
    state          TEXT NOT NULL DEFAULT 'scheduled'
                   CHECK (state IN ('scheduled', 'live', 'ended', 'cancelled')),
    premoderated   BOOLEAN NOT NULL DEFAULT FALSE,
    chat_mode      TEXT NOT NULL DEFAULT 'open' CHECK (chat_mode IN ('open', 'slow', 'off')),
    slow_mode_s    INTEGER NOT NULL DEFAULT 0,
    results_public BOOLEAN NOT NULL DEFAULT FALSE,
    guests_allowed BOOLEAN NOT NULL DEFAULT FALSE,
    created_by     BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    started_at_ms  BIGINT,
    ended_at_ms    BIGINT
);
CREATE INDEX webinars_starts ON webinars (starts_at_ms);

CREATE TABLE webinar_people (
    room_id TEXT NOT NULL REFERENCES webinars (room_id),
    user_id BIGINT NOT NULL REFERENCES users (user_id),
    role    TEXT NOT NULL CHECK (role IN ('host', 'panelist')),
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX webinar_people_user ON webinar_people (user_id);

CREATE TABLE webinar_rooms (
    room_id   TEXT NOT NULL REFERENCES webinars (room_id),
    listed_in TEXT NOT NULL REFERENCES rooms (room_id),
    PRIMARY KEY (room_id, listed_in)
);
CREATE INDEX webinar_rooms_listed ON webinar_rooms (listed_in);

CREATE TABLE webinar_registrations (
    room_id          TEXT NOT NULL REFERENCES webinars (room_id),
    user_id          BIGINT NOT NULL REFERENCES users (user_id),
    registered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX webinar_registrations_user ON webinar_registrations (user_id);
