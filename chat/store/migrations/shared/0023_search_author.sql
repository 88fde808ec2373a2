-- Search by author (issue 14, docs/decisions.md "Search: CJK bigrams in Python"): a from:
-- search by relevance needs every match of its words by that author; without this index
-- PostgreSQL reads every match of the words (34,000 heap rows for "report" at a million
-- entries, 150 ms) to keep the few hundred by the author. With it, both sets are bitmaps.
CREATE INDEX search_entries_author ON search_entries (author_id, entry_id);
