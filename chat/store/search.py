"""The search index of both stores (migration 0022; docs/decisions.md, "Search: CJK bigrams in
Python"): one row per searchable thing, its terms computed here in Python by
chat/search/tokens.py, matched by each database's own full-text index (the dialect's
search_match), and access decided in the query, at query time, by the rule of room_access."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping

from chat.errors import InvalidInput
from chat.models import SEARCH_KINDS, SearchEntry, SearchHit, SearchKind, SearchQuery, SearchTerm, SendRequest
from chat.search import query as compile_query
from chat.search import tokens
from chat.store import search_sql as q
from chat.store.batch import RoomPlan
from chat.store.conversation_sql import VISIBLE
from chat.store.database import Connection, Database, Row, bind
from chat.store.dialect import Fragment, Param
from chat.store.search_sources import SOURCE_KINDS, source_entries

# The compiler of the match text each kind of full-text index reads (Dialect.text_search).
_COMPILERS: dict[str, Callable[[tuple[SearchTerm, ...]], str]] = {
    "tsvector": compile_query.tsquery, "fts5": compile_query.fts5}


# The most of an entry's terms indexed, in UTF-8 bytes. PostgreSQL refuses a tsvector over 1 MB
# ("string is too long for tsvector"), and a long Chinese text's tsvector takes up to twice its
# terms' bytes (each distinct bigram: its 6 bytes plus 8 of header and position); 200,000
# characters of varied Chinese made 1.6 MB. Both stores index the same cut.
MAX_TERMS_BYTES = 450_000
# reindex_sources: how often a page meeting a writer's row lock is read again, and the pause
# before each try (growing: 0.05 s, 0.1 s, …), enough for any writer's transaction to end.
REINDEX_ATTEMPTS = 20
REINDEX_PAUSE_S = 0.05


def _terms(*texts: str) -> str:
    return _cut(tokens.index_terms(*texts))


def _cut(terms: str) -> str:
    """`terms` cut at MAX_TERMS_BYTES, at a space."""
    if len(terms) * 4 <= MAX_TERMS_BYTES:  # short enough whatever the characters
        return terms
    encoded = terms.encode()
    if len(encoded) <= MAX_TERMS_BYTES:
        return terms
    return encoded[:MAX_TERMS_BYTES + 1].decode(errors="ignore").rsplit(" ", 1)[0]


# A body's terms (space-joined, uncut) and language, computed before the append writer's
# transaction (SearchMixin._index_prepare): the costly part of indexing, kept out of the time
# the transaction holds its rooms' locks (and SQLite's one writer).
Prepared = Mapping[str, tuple[str, str]]


def _text_of(title: str, body: str, extra: str, prepared: Prepared | None = None) -> tuple[str, str]:
    """(language, terms) of an entry's texts, the body's from `prepared` when it is there."""
    known = prepared.get(body) if prepared and not title else None
    if known is None:
        return tokens.language_of(title + " " + body), _terms(title, body, extra)
    body_terms, language = known
    return language, _cut(" ".join(part for part in (body_terms, tokens.index_terms(extra)) if part))


def prepare(body: str) -> tuple[str, str]:
    """A body's entry in Prepared."""
    return " ".join(tokens.terms(body)), tokens.language_of(body)


def new_message_text(body: str, data: dict[str, object], prepared: Prepared | None = None) -> tuple[str, str, bool]:
    """(language, terms, has_files) of a new message's search entry: what _index_plan_txn
    stores for it, for the PostgreSQL append function, which inserts the entry itself
    (chat/store/postgres/history.py)."""
    names = q.attachment_names(data)
    language, terms = _text_of("", body, " ".join(names), prepared)
    return language, terms, bool(names)


def _row(entry: SearchEntry, prepared: Prepared | None = None) -> tuple[Param, ...]:
    """UPSERT_ENTRY's values: terms and language from the entry's text."""
    language, terms = _text_of(entry.title, entry.body, entry.extra, prepared)
    return (entry.kind, entry.ref_id, entry.room_id, entry.seq, entry.author_id, entry.created_at_ms,
            entry.title, entry.body, entry.has_files, language, terms)


class SearchMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_search_store.py).
    Other store modules index inside their own transactions with _index_txn/_unindex_txn."""

    _db: Database
    search_indexing: bool = True

    async def index_entries(self, entries: list[SearchEntry]) -> None:
        async with self._db.transaction() as conn:
            await self._index_txn(conn, entries)

    async def unindex_entries(self, kind: SearchKind, ref_ids: list[str]) -> int:
        async with self._db.transaction() as conn:
            return await self._unindex_txn(conn, kind, ref_ids)

    async def _index_txn(self, conn: Connection, entries: list[SearchEntry]) -> None:
        """Insert or replace `entries` (by kind and ref_id) in the caller's transaction."""
        await conn.execute_many(q.UPSERT_ENTRY, [_row(entry) for entry in entries])

    async def _unindex_txn(self, conn: Connection, kind: SearchKind, ref_ids: list[str]) -> int:
        """Remove the entries of `kind` with these ref_ids in the caller's transaction; how
        many there were."""
        if not ref_ids:
            return 0
        sql, params = bind(q.UNINDEX, kind, conn.dialect.in_list("ref_id", ref_ids, "text"))
        return await conn.execute(sql, *params)

    def _index_prepare(self, sends: list[SendRequest]) -> Prepared:
        """What indexing the batch's messages and edits costs in Python, done by the append
        writer before its transaction: each body's terms and language."""
        if not self.search_indexing:
            return {}
        return {send.body: prepare(send.body) for send in sends if send.kind in ("message", "edit") and send.body}

    async def _index_plan_txn(self, conn: Connection, room_id: str, plan: RoomPlan,
                              prepared: Prepared | None = None) -> None:
        """The append writer's batch for one room (chat/store/append.py): its new messages
        indexed, edited ones re-indexed with their new body, deleted ones removed. `prepared`:
        _index_prepare's, for the bodies it holds."""
        await conn.execute_many(q.UPSERT_ENTRY, [
            _row(q.message_entry(m.message_id, room_id, m.seq, m.author_id, m.sent_at_ms, m.body, m.data), prepared)
            for m in plan.new_messages if m.kind == "message"])
        edited = {t.message_id: t.body for t in plan.updates.values()
                  if t.kind == "message" and not t.deleted and t.message_id in plan.edited_html}
        if edited:
            # Edits are rare: read the attachments' names back rather than carry them along.
            sql, params = bind(q.MESSAGE_DATA, conn.dialect.in_list("message_id", sorted(edited), "text"))
            names = {row[0]: q.attachment_names(json.loads(row[1])) for row in await conn.fetch(sql, *params)}
            await conn.execute_many(q.UPDATE_BODY, [
                (body, *_text_of("", body, " ".join(names.get(mid, [])), prepared), "message", mid)
                for mid, body in edited.items()])
        await self._unindex_txn(conn, "message", plan.deleted)

    async def search(self, query: SearchQuery, user_id: int, guest_of: str | None) -> list[SearchHit]:
        dialect, newest = self._db.dialect, query.order == "newest"
        source, rank = "search_entries e", Fragment("0", ())  # no words (filters only): no match
        conditions = [_access(user_id, guest_of), *_filters(query, dialect.in_list)]
        if any(term.terms for term in query.terms):
            if not any(term.terms and not term.negated for term in query.terms):
                # FTS5 cannot ask for "not x" alone, and neither store should list everything.
                raise InvalidInput("a search needs at least one word", details={"q": "only excluded words"})
            compiled = _COMPILERS[dialect.text_search](query.terms)
            source = dialect.search_from
            conditions.insert(0, dialect.search_match(compiled))
            if not newest:
                return await self._search_relevance(query, dialect.search_rank(compiled), _joined(conditions))
        after = Fragment(q.AFTER, query.after) if newest and query.after is not None else None
        where = _joined(conditions)
        if newest and dialect.text_search == "tsvector" and any(
                len(term.terms) > 1 and not term.negated for term in query.terms):
            # A phrase's first page among the newest entries, walked (search_sql.PHRASE_WINDOW).
            window = Fragment(*bind(q.PHRASE_WINDOW_SOURCE, after or Fragment("TRUE", ()), q.PHRASE_WINDOW))
            rows = await self._search_rows(self._search_sql(query, rank, window, where))
            if len(rows) > query.limit:
                return [q.hit_from_row(row) for row in rows]
        if after is not None:
            where = _joined([where, after])
        rows = await self._search_rows(self._search_sql(query, rank, Fragment(source, ()), where))
        return [q.hit_from_row(row) for row in rows]

    async def search_anchor(self) -> int:
        row = await self._db.fetch_one(q.ANCHOR)
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def _search_relevance(self, query: SearchQuery, rank: Fragment, where: Fragment) -> list[SearchHit]:
        """Relevance with words (search_sql.RELEVANCE_RECENT): the page from the recent
        entries' matches alone when it lies wholly among them, else from all the candidates."""
        dialect = self._db.dialect
        anchor = query.anchor if query.anchor is not None else await self.search_anchor()
        recent = anchor - q.RELEVANCE_RECENT
        page = (query.limit + 1, query.offset)
        window = Fragment(dialect.search_window_from, (recent, anchor))
        rows = await self._search_rows(bind(q.SEARCH, rank, window, where, Fragment(q.BY_ID, ()), q.RELEVANCE_WINDOW,
                                            Fragment(q.BEST, ()), *page))
        if len(rows) <= query.limit:
            everything = _joined([where, Fragment(q.UP_TO_ANCHOR, (anchor,))])
            rows = await self._search_rows(bind(
                q.SEARCH, rank, Fragment(dialect.search_from, ()), everything, Fragment(q.BY_ID, ()),
                q.RELEVANCE_WINDOW, Fragment(q.RECENT_FIRST, (recent,)), *page))
        return [q.hit_from_row(row) for row in rows]

    @staticmethod
    def _search_sql(query: SearchQuery, rank: Fragment, source: Fragment,
                    where: Fragment) -> tuple[str, tuple[Param, ...]]:
        newest = query.order == "newest"
        return bind(q.SEARCH, rank, source, where, Fragment(q.NEWEST, ()),
                    query.limit + 1 if newest else q.RELEVANCE_WINDOW,
                    Fragment(q.NEWEST if newest else q.BEST, ()), query.limit + 1, 0 if newest else query.offset)

    async def _search_rows(self, statement: tuple[str, tuple[Param, ...]]) -> list[Row]:
        """Run a search statement as the dialect wants it (PostgreSQL: planned for its own
        parameters, in a read transaction of its own)."""
        sql, params = statement
        if self._db.dialect.search_setup_sql:
            async with self._db.transaction() as conn:
                await conn.execute(self._db.dialect.search_setup_sql)
                return await conn.fetch(sql, *params)
        return await self._db.fetch(sql, *params)

    async def search_sources(self, kind: SearchKind, after: str, limit: int) -> list[SearchEntry]:
        return await _sources(self._db, kind, after, limit)

    async def reindex_sources(self, kind: SearchKind, after: str, limit: int) -> list[SearchEntry]:
        """search_sources' page, written to the index in the transaction that reads it, its
        source rows locked meanwhile: a delete, edit or withdrawal committing between the read
        and the write would otherwise put back text that is gone (its own unindexing having
        found nothing to remove). A locked row (a writer changing it now) fails the read
        without waiting; the page is read again after a pause, a few times.

        The terms (the costly part) are computed from a first read, outside the transaction,
        and used for the entries the locked read finds unchanged: a writer waits for the
        page's SQL only, not for its text to be cut into terms."""
        prepared = {entry: _row(entry) for entry in await _sources(self._db, kind, after, limit)}
        for attempt in range(REINDEX_ATTEMPTS):
            try:
                async with self._db.transaction() as conn:
                    entries = await _sources(conn, kind, after, limit, lock=True)
                    rows = [prepared.get(entry) or _row(entry) for entry in entries]
                    await conn.execute_many(q.UPSERT_ENTRY, rows)
                    return entries
            except Exception as exc:
                if not self._db.dialect.is_lock_unavailable(exc) or attempt + 1 == REINDEX_ATTEMPTS:
                    raise
            await asyncio.sleep(REINDEX_PAUSE_S * (attempt + 1))
        raise AssertionError("unreachable")

    async def clear_search_index(self, kinds: tuple[SearchKind, ...]) -> int:
        """`kinds` empty: every kind."""
        sql, params = bind(q.CLEAR, self._db.dialect.in_list("kind", [str(k) for k in kinds or SEARCH_KINDS], "text"))
        return await self._db.execute(sql, *params)

    async def search_index_size(self) -> dict[str, int]:
        sizes = {row[0]: int(row[1]) for row in await self._db.fetch(q.COUNT_BY_KIND)}
        row = await self._db.fetch_one(self._db.dialect.search_bytes_sql)
        sizes["bytes"] = int(row[0]) if row is not None and row[0] is not None else 0
        return sizes


async def _sources(conn: Connection, kind: SearchKind, after: str, limit: int, *,
                   lock: bool = False) -> list[SearchEntry]:
    if kind in SOURCE_KINDS:  # topics, news, questions, answers, projects, documents
        return await source_entries(conn, kind, after, limit, lock=lock)
    source = q.SOURCES.get(kind)
    if source is None:
        return []
    sql = source.sql + (conn.dialect.share_lock_nowait.format(source.table) if lock else "")
    return [source.entry(row) for row in await conn.fetch(sql, after, limit)]


def _joined(fragments: list[Fragment]) -> Fragment:
    """The fragments' conditions, all of them."""
    return Fragment(" AND ".join(f.sql for f in fragments), tuple(p for f in fragments for p in f.params))


def _access(user_id: int, guest_of: str | None) -> Fragment:
    """What the user may read (docs/protocol.md, "Search"): a guest, their webinar's room
    only; a member, room-less entries and entries of rooms VISIBLE to them (rooms `r`)."""
    if guest_of is not None:
        return Fragment("e.room_id = ?", (guest_of,))
    return Fragment(f"(e.room_id IS NULL OR {VISIBLE})", (user_id, user_id))


def _filters(query: SearchQuery, in_list: Callable[..., Fragment]) -> list[Fragment]:
    out: list[Fragment] = []
    if query.kinds:
        out.append(in_list("e.kind", list(query.kinds), "text"))
    if query.room_ids:
        rooms, listed = in_list("e.room_id", list(query.room_ids), "text"), in_list(
            "tr.room_id", list(query.room_ids), "text")
        out.append(Fragment(q.IN_ROOMS.format(rooms.sql, listed.sql), rooms.params + listed.params))
    if query.author_ids:
        out.append(in_list("e.author_id", list(query.author_ids), "bigint"))
    if query.since_ms is not None:
        out.append(Fragment("e.created_at_ms >= ?", (query.since_ms,)))
    if query.until_ms is not None:
        out.append(Fragment("e.created_at_ms < ?", (query.until_ms,)))
    if query.language is not None:
        out.append(Fragment("e.language IN (?, 'mixed')", (query.language,)))
    if query.has_files is not None:
        out.append(Fragment("e.has_files = ?", (query.has_files,)))
    return out
