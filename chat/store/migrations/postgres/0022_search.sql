-- The search index (issue 14; docs/decisions.md, "Search: CJK bigrams in Python"): one row per
-- searchable thing (kind, ref_id). `terms` is computed in Python (chat/search/tokens.py): folded
-- words and CJK bigrams, joined by single spaces, letters and digits only, so the 'simple'
-- configuration splits it exactly at our spaces and keeps each term as it is; positions are the
-- terms' order, so phrases match with <->. The table is per dialect: its id and the text index
-- differ (sqlite/0022_search.sql holds the same columns with an FTS5 table).
CREATE TABLE search_entries (
    entry_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL,
    ref_id        TEXT NOT NULL,
    room_id       TEXT,
    seq           BIGINT,
    author_id     BIGINT,
    created_at_ms BIGINT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    has_files     BOOLEAN NOT NULL DEFAULT FALSE,
    language      TEXT NOT NULL DEFAULT '',
    terms         TEXT NOT NULL DEFAULT '',
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED,
    UNIQUE (kind, ref_id)
);
-- Newest first, keyset-paged: a common term is found by walking this index and testing each
-- row, never by sorting all its matches.
CREATE INDEX search_entries_newest ON search_entries (created_at_ms DESC, entry_id DESC);
-- Searches within rooms (in:room), newest first.
CREATE INDEX search_entries_room ON search_entries (room_id, created_at_ms DESC, entry_id DESC);
CREATE INDEX search_entries_tsv ON search_entries USING GIN (tsv);
