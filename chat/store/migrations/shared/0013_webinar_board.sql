-- The Q&A board and polls of webinars (issue 11; docs/protocol.md, "The Q&A board"). Questions
-- and polls are rows; what the audience may see of them also enters the webinar room's log as
-- events (kinds 'question', 'question_state', 'poll'). Votes and poll answers are rows only:
-- each changes its counter and the counter's version in the same transaction, and the counts
-- reach clients coalesced in `board` frames (docs/decisions.md, "Webinar votes").
CREATE TABLE webinar_questions (
    question_id   TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL REFERENCES webinars (room_id),
    author_id     BIGINT NOT NULL REFERENCES users (user_id),
    cid           TEXT NOT NULL,
    anonymous     BOOLEAN NOT NULL DEFAULT FALSE,
    body          TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'open'
                  CHECK (state IN ('pending', 'open', 'answering', 'answered', 'dismissed', 'withdrawn')),
    pinned        BOOLEAN NOT NULL DEFAULT FALSE,
    answer        TEXT NOT NULL DEFAULT '',
    answer_html   TEXT NOT NULL DEFAULT '',
    answered_by   BIGINT REFERENCES users (user_id),
    votes         INTEGER NOT NULL DEFAULT 0,
    votes_version BIGINT NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (room_id, author_id, cid)
);
CREATE INDEX webinar_questions_room ON webinar_questions (room_id, created_at_ms);
CREATE INDEX webinar_questions_author ON webinar_questions (author_id, room_id, created_at_ms);

CREATE TABLE webinar_votes (
    question_id TEXT NOT NULL REFERENCES webinar_questions (question_id),
    user_id     BIGINT NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (question_id, user_id)
);
CREATE INDEX webinar_votes_user ON webinar_votes (user_id);

CREATE TABLE webinar_polls (
    poll_id        TEXT PRIMARY KEY,
    room_id        TEXT NOT NULL REFERENCES webinars (room_id),
    question_en    TEXT NOT NULL DEFAULT '',
    question_zh    TEXT NOT NULL DEFAULT '',
    options        TEXT NOT NULL,            -- JSON: [{"en": …, "zh": …}, …], 2 to 10
    multiple       BOOLEAN NOT NULL DEFAULT FALSE,
    state          TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
    results_public BOOLEAN NOT NULL DEFAULT FALSE,
    counts         TEXT NOT NULL,            -- JSON: answers per option, [n, …]
    answers        INTEGER NOT NULL DEFAULT 0,
    counts_version BIGINT NOT NULL DEFAULT 0,
    created_by     BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    opened_at_ms   BIGINT,
    closed_at_ms   BIGINT
);
CREATE INDEX webinar_polls_room ON webinar_polls (room_id, created_at_ms);

CREATE TABLE webinar_poll_answers (
    poll_id        TEXT NOT NULL REFERENCES webinar_polls (poll_id),
    user_id        BIGINT NOT NULL REFERENCES users (user_id),
    choices        TEXT NOT NULL,            -- JSON: the chosen option indexes, sorted
    answered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);
