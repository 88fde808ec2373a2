-- The knowledge library (issue 13; docs/protocol.md, "Library"): documents with their metadata
-- in both languages, their versions (each a file of chat/files, scope "doc:<doc_id>"), the tags
-- the list filters by, and where each was discussed. A version's file is kept as its wire dict
-- (`file`) so a page needs no join into the files tables; file_id and sha256 are kept beside it
-- for releases and for the importer's duplicate check.
CREATE TABLE documents (
    doc_id          TEXT PRIMARY KEY,
    title_en        TEXT NOT NULL DEFAULT '',
    title_zh        TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    doc_type        TEXT NOT NULL CHECK (doc_type IN ('report', 'guide', 'case-study', 'policy',
                                                      'presentation', 'data', 'other')),
    language        TEXT NOT NULL CHECK (language IN ('en', 'zh', 'both')),
    year            INTEGER NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    sectors         TEXT NOT NULL DEFAULT '[]',
    cities          TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL CHECK (state IN ('proposed', 'published', 'rejected', 'withdrawn')),
    reason          TEXT NOT NULL DEFAULT '',
    proposed_by     BIGINT NOT NULL REFERENCES users (user_id),
    reviewed_by     BIGINT REFERENCES users (user_id),
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    -- When it entered the list it is in (proposed, then published): the "newest" order.
    listed_at_ms    BIGINT NOT NULL,
    downloads       BIGINT NOT NULL DEFAULT 0,
    current_version INTEGER NOT NULL DEFAULT 0,
    -- Sort and search keys, computed by the store from the titles: the title in each
    -- language falling back to the other, case-folded; both titles case-folded for `q`.
    sort_en         TEXT NOT NULL,
    sort_zh         TEXT NOT NULL,
    search_text     TEXT NOT NULL
);
CREATE INDEX documents_newest ON documents (state, listed_at_ms, doc_id);
CREATE INDEX documents_downloads ON documents (state, downloads, doc_id);
CREATE INDEX documents_proposer ON documents (proposed_by, state);

-- One row per sector or city tag (the list's filters).
CREATE TABLE document_tags (
    doc_id  TEXT NOT NULL REFERENCES documents (doc_id),
    room_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, room_id)
);
CREATE INDEX document_tags_room ON document_tags (room_id, doc_id);

CREATE TABLE document_versions (
    doc_id        TEXT NOT NULL REFERENCES documents (doc_id),
    version       INTEGER NOT NULL,
    file_id       TEXT NOT NULL,
    sha256        TEXT NOT NULL DEFAULT '',
    file          TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    uploaded_by   BIGINT NOT NULL REFERENCES users (user_id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (doc_id, version)
);
CREATE INDEX document_versions_sha ON document_versions (sha256);

CREATE TABLE document_mentions (
    doc_id     TEXT NOT NULL REFERENCES documents (doc_id),
    room_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    PRIMARY KEY (doc_id, message_id)
);
CREATE INDEX document_mentions_newest ON document_mentions (doc_id, at_ms);
