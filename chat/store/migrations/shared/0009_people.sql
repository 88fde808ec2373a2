-- Finding people (docs/decisions.md, "Finding people across scripts") and their local time.

-- Whether the member (or their browser at registration) chose time_zone: accounts made before
-- registration recorded the browser's zone start at the default 'UTC', which must never be
-- shown as someone's local time. A zone other than the default was set by someone.
ALTER TABLE users ADD COLUMN time_zone_set INTEGER NOT NULL DEFAULT 0;
UPDATE users SET time_zone_set = 1 WHERE time_zone <> 'UTC';

-- A name in the other script (李华 for "Li Hua", "Anna Müller" for 安娜), shown beside the
-- display name and found by the directory search.
ALTER TABLE users ADD COLUMN alt_name TEXT NOT NULL DEFAULT '';

-- What the directory's text search matches besides the display name and organisation: the
-- names case-folded, and Han names in pinyin with and without spaces ("li hua lihua").
-- Written by the service from the names (chat/accounts/search_keys.py); NULL until then: each
-- node fills in the rows still NULL when it starts (existing members after this migration).
ALTER TABLE users ADD COLUMN search_key TEXT;
