-- The search index (issue 14; docs/decisions.md, "Search: CJK bigrams in Python"): one row per
-- searchable thing (kind, ref_id). `terms` is computed in Python (chat/search/tokens.py): folded
-- words and CJK bigrams, joined by single spaces, letters and digits only, so FTS5's unicode61
-- tokenizer splits it exactly at our spaces (remove_diacritics 0: terms are already folded, and
-- é must stay é as in PostgreSQL). The table is per dialect: its id and the text index differ
-- (postgres/0022_search.sql holds the same columns with a tsvector).
CREATE TABLE search_entries (
    entry_id      INTEGER PRIMARY KEY AUTOINCREMENT,
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
    UNIQUE (kind, ref_id)
);
CREATE INDEX search_entries_newest ON search_entries (created_at_ms DESC, entry_id DESC);
CREATE INDEX search_entries_room ON search_entries (room_id, created_at_ms DESC, entry_id DESC);
-- An external-content FTS5 table over `terms` (https://www.sqlite.org/fts5.html, "External
-- Content Tables"), kept in step by the triggers below, inside the writer's transaction.
CREATE VIRTUAL TABLE search_fts USING fts5(
    terms, content='search_entries', content_rowid='entry_id',
    tokenize='unicode61 remove_diacritics 0'
);
CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN
    INSERT INTO search_fts (rowid, terms) VALUES (new.entry_id, new.terms);
END;
CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN
    INSERT INTO search_fts (search_fts, rowid, terms) VALUES ('delete', old.entry_id, old.terms);
END;
CREATE TRIGGER search_entries_au AFTER UPDATE OF terms ON search_entries BEGIN
    INSERT INTO search_fts (search_fts, rowid, terms) VALUES ('delete', old.entry_id, old.terms);
    INSERT INTO search_fts (rowid, terms) VALUES (new.entry_id, new.terms);
END;
