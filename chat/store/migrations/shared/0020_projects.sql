-- Eco-city projects (issue 13; docs/protocol.md, "Projects"): a page per pilot project, its
-- partner members, documents (a library document or an attached file), a timeline of dated
-- updates and its followers. Its discussion thread is a topic (topic_id, a room).
CREATE TABLE projects (
    project_id    TEXT PRIMARY KEY,
    name_en       TEXT NOT NULL DEFAULT '',
    name_zh       TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL REFERENCES rooms (room_id),
    sectors       TEXT NOT NULL DEFAULT '[]',   -- JSON list of sector room ids
    status        TEXT NOT NULL CHECK (status IN ('planned', 'running', 'completed')),
    description   TEXT NOT NULL DEFAULT '',
    figures       TEXT NOT NULL DEFAULT '[]',   -- JSON [{label_en, label_zh, value, unit}]
    organisations TEXT NOT NULL DEFAULT '[]',   -- JSON list of names
    topic_id      TEXT NOT NULL UNIQUE REFERENCES rooms (room_id),
    created_by    BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX projects_listing ON projects (created_at_ms, project_id);
CREATE INDEX projects_city ON projects (city, created_at_ms);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (project_id),
    user_id    BIGINT NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE project_documents (
    project_id  TEXT NOT NULL REFERENCES projects (project_id),
    item_id     TEXT NOT NULL,                  -- a library document ('d-…') or a file ('f-…')
    kind        TEXT NOT NULL CHECK (kind IN ('doc', 'file')),
    wire        TEXT NOT NULL DEFAULT '{}',     -- JSON: what the page shows of it
    added_by    BIGINT NOT NULL REFERENCES users (user_id),
    added_at_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, item_id)
);

CREATE TABLE project_updates (
    update_id     TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (project_id),
    author_id     BIGINT NOT NULL REFERENCES users (user_id),
    happened_on   TEXT NOT NULL,                -- YYYY-MM-DD
    body          TEXT NOT NULL DEFAULT '',
    html          TEXT NOT NULL DEFAULT '',
    attachments   TEXT NOT NULL DEFAULT '[]',   -- JSON list of file wire dicts
    message_id    TEXT,                         -- its message in the project's thread
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX project_updates_timeline ON project_updates (project_id, happened_on, created_at_ms, update_id);

CREATE TABLE project_followers (
    project_id     TEXT NOT NULL REFERENCES projects (project_id),
    user_id        BIGINT NOT NULL REFERENCES users (user_id),
    followed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_followers_user ON project_followers (user_id);
