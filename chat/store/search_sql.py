"""The SQL of the search index (migration 0022), shared by both stores; chat/store/search.py
runs it. `{}` holes are filled by bind() with dialect fragments (chat/store/dialect.py: the
text match, the rank, IN lists)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from chat.models import SearchEntry, SearchHit, SearchKind
from chat.store.database import Row

ENTRY_VALUES = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# Insert or replace by (kind, ref_id): entry_id stays, so a hit's place in newest-first pages
# does not move when an entry is edited.
UPSERT_ENTRY = (
    "INSERT INTO search_entries (kind, ref_id, room_id, seq, author_id, created_at_ms, title, body,"
    " has_files, language, terms) VALUES " + ENTRY_VALUES +
    " ON CONFLICT (kind, ref_id) DO UPDATE SET room_id = excluded.room_id, seq = excluded.seq,"
    " author_id = excluded.author_id, created_at_ms = excluded.created_at_ms,"
    " title = excluded.title, body = excluded.body, has_files = excluded.has_files,"
    " language = excluded.language, terms = excluded.terms"
)
UNINDEX = "DELETE FROM search_entries WHERE kind = ? AND {}"  # {}: ref_id in the ids
CLEAR = "DELETE FROM search_entries WHERE {}"  # {}: kind in the kinds
COUNT_BY_KIND = "SELECT kind, count(*) FROM search_entries GROUP BY kind"
# An edited message keeps its attachments: their names stay among its terms.
MESSAGE_DATA = "SELECT message_id, data FROM messages WHERE {}"  # {}: message_id in the ids
UPDATE_BODY = "UPDATE search_entries SET body = ?, language = ?, terms = ? WHERE kind = ? AND ref_id = ?"

# Searching. The inner query finds matching entries the user may read, newest first ({}: the
# inner ORDER BY), and stops at its LIMIT: on PostgreSQL a common term walks an index in that
# order and tests each row (never sorting all its matches), a rare one reads its GIN postings
# and sorts those few. The outer query orders that window (by rank for relevance: so relevance
# ranks RELEVANCE_WINDOW matches at most; docs/decisions.md, "Search: CJK bigrams in Python")
# and joins what a hit shows. Holes: {rank} an expression, {from} the dialect's search_from,
# {where} the conditions, {inner order}, {order} the outer ORDER BY.
SEARCH = (
    "SELECT e.entry_id, e.kind, e.ref_id, e.room_id, r.kind, r.title_en, r.title_zh, e.seq,"
    " e.author_id, u.display_name, e.created_at_ms, e.title, e.body, e.has_files, e.language,"
    " c.rank FROM (SELECT e.entry_id, {} AS rank FROM {} LEFT JOIN rooms r ON r.room_id = e.room_id"
    " WHERE {} ORDER BY {} LIMIT ?) c"
    " JOIN search_entries e ON e.entry_id = c.entry_id"
    " LEFT JOIN rooms r ON r.room_id = e.room_id LEFT JOIN users u ON u.user_id = e.author_id"
    " ORDER BY {} LIMIT ? OFFSET ?"
)
NEWEST = "e.created_at_ms DESC, e.entry_id DESC"
BEST = "c.rank DESC, e.created_at_ms DESC, e.entry_id DESC"
# Relevance, with words: the candidates are the newest RELEVANCE_WINDOW matches by entry_id
# among the entries up to the search's anchor (SearchQuery.anchor: the newest entry_id when
# its first page was asked for, carried in its cursor, so later entries never shift its
# pages); those among the RELEVANCE_RECENT entries up to the anchor come first, best first,
# then the older ones, best first (RECENT_FIRST; ? binds anchor - RELEVANCE_RECENT). A page
# that lies wholly within the recent matches is read from those entries alone
# (Dialect.search_window_from: about RELEVANCE_RECENT rows at most, whatever the planner
# thinks of the words); any other page runs over all the entries, in the same order.
# Ranking reads each candidate's tsvector (about 20 µs a row on PostgreSQL), so a term found in
# 300,000 entries costs 1,050 ranks, not 300,000; RELEVANCE_WINDOW: the service pages by offset
# up to 1000 with at most 50 hits a page, so every page it can ask for lies inside one window.
RELEVANCE_WINDOW = 1050
RELEVANCE_RECENT = 10_000
BY_ID = "e.entry_id DESC"
RECENT_FIRST = "CASE WHEN e.entry_id > ? THEN 0 ELSE 1 END, " + BEST
UP_TO_ANCHOR = "e.entry_id <= ?"
ANCHOR = "SELECT COALESCE(max(entry_id), 0) FROM search_entries"
AFTER = "(e.created_at_ms, e.entry_id) < (?, ?)"
# Newest first with a phrase, on PostgreSQL: SEARCH's source narrowed to the newest
# PHRASE_WINDOW entries ({}: AFTER, or TRUE), walked in order on search_entries_newest. The
# planner estimates a phrase's matches as the product of its words' and so reads every match
# of a common phrase through the GIN index (75,000 rows, 260 ms at a million entries); walking
# finds its first page in a few hundred rows. When the window holds fewer than a page of
# matches, the search runs again without it (docs/benchmarks.md, "Search").
PHRASE_WINDOW_SOURCE = ("(SELECT * FROM search_entries e WHERE {}"
                        " ORDER BY e.created_at_ms DESC, e.entry_id DESC LIMIT ?) e")
PHRASE_WINDOW = 5000
# In these rooms ({}) or in a topic or news thread listed in one of them ({}).
IN_ROOMS = "(e.room_id IS NOT NULL AND ({} OR e.room_id IN (SELECT tr.topic_id FROM topic_rooms tr WHERE {})))"


def hit_from_row(row: Row) -> SearchHit:
    return SearchHit(
        entry_id=row[0], kind=row[1], ref_id=row[2], room_id=row[3], room_kind=row[4],
        room_title_en=row[5] or "", room_title_zh=row[6] or "", seq=row[7], author_id=row[8],
        author_name=row[9] or "", created_at_ms=row[10], title=row[11], body=row[12],
        has_files=bool(row[13]), language=row[14], rank=float(row[15] or 0.0))


# -- rebuilding: one Source per kind (search_sources). Each reads its table in ref_id order,
# after the last ref_id of the previous page: `? ... LIMIT ?` binds (after, limit).

@dataclass(frozen=True)
class Source:
    sql: str
    entry: Callable[[Row], SearchEntry]
    table: str  # the table (or alias) whose rows a locked read locks


def attachment_names(data: dict[str, object]) -> list[str]:
    """The names of a message's attached files (data["attachments"], wire dicts)."""
    files = data.get("attachments") or []
    return [str(f.get("name", "")) for f in files if isinstance(f, dict)] if isinstance(files, list) else []


def message_entry(message_id: str, room_id: str, seq: int, author_id: int, sent_at_ms: int,
                  body: str, data: dict[str, object]) -> SearchEntry:
    names = attachment_names(data)
    return SearchEntry(kind="message", ref_id=message_id, room_id=room_id, seq=seq,
                       author_id=author_id, created_at_ms=sent_at_ms, title="", body=body,
                       has_files=bool(names), extra=" ".join(names))


MESSAGES = Source(
    "SELECT message_id, room_id, seq, author_id, sent_at_ms, body, data FROM messages"
    " WHERE kind = 'message' AND NOT deleted AND message_id > ? ORDER BY message_id LIMIT ?",
    lambda row: message_entry(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6])),
    "messages",
)

# The sources of messages; the other kinds' are chat/store/search_sources.py.
SOURCES: dict[SearchKind, Source] = {"message": MESSAGES}
