"""Where the index's entries other than messages come from (both stores): the reads that make
topics', news posts', webinar questions' and answers', projects' and documents' entries (with
chat/search/entries.py), for rebuilding the index (Store.search_sources) and for a project's
entry inside the transaction that changes it.

Paging is by ref_id in code-point order (Dialect.code_point_order), the order Python compares
the `after` it is given in. Documents come with their titles and description only: the library
service adds their files' text (LibraryService.reindex_documents)."""

from __future__ import annotations

import json

from chat.models import SearchEntry, SearchKind
from chat.search.entries import SEARCHABLE_QUESTION_STATES, document_entry, project_entry, question_entries, topic_entry
from chat.store import board_sql, conversation_sql
from chat.store.database import Connection, Row
from chat.store.library import DOC_COLUMNS, DOC_FROM, document_from_row

SOURCE_KINDS: tuple[SearchKind, ...] = ("topic", "news", "question", "answer", "project", "document")

_ON_BOARD = ", ".join(f"'{state}'" for state in SEARCHABLE_QUESTION_STATES)
# {} (each): the ref_id column in code-point order.
TOPICS = (
    f"SELECT {conversation_sql.TOPIC_COLUMNS} {conversation_sql.TOPIC_FROM}"
    " WHERE t.kind = ? AND t.topic_id{} > ? ORDER BY t.topic_id{} LIMIT ?"
)
QUESTIONS = (
    f"{board_sql.QUESTIONS_FROM} WHERE q.state IN ({_ON_BOARD}) AND q.question_id{{}} > ?"
    " ORDER BY q.question_id{} LIMIT ?"
)
ANSWERS = (
    f"{board_sql.QUESTIONS_FROM} WHERE q.state IN ({_ON_BOARD}) AND q.answer <> ''"
    " AND q.question_id{} > ? ORDER BY q.question_id{} LIMIT ?"
)
# A project's city is a room id: its titles (珠海, Zhuhai) are what members type.
_PROJECTS = (
    "SELECT p.project_id, p.name_en, p.name_zh, COALESCE(c.title_en, p.city) || ' ' || COALESCE(c.title_zh, ''),"
    " p.description, p.organisations, p.created_by, p.created_at_ms,"
    " EXISTS (SELECT 1 FROM project_documents d WHERE d.project_id = p.project_id)"
    " FROM projects p LEFT JOIN rooms c ON c.room_id = p.city"
)
PROJECTS = _PROJECTS + " WHERE p.project_id{} > ? ORDER BY p.project_id{} LIMIT ?"
PROJECT = _PROJECTS + " WHERE p.project_id = ?"
DOCUMENTS = (
    f"SELECT {DOC_COLUMNS} {DOC_FROM} WHERE d.state = 'published' AND d.doc_id{{}} > ?"
    " ORDER BY d.doc_id{} LIMIT ?"
)


def _project(row: Row) -> SearchEntry:
    return project_entry(
        project_id=row[0], name_en=row[1], name_zh=row[2], city=row[3], description=row[4],
        organisations=json.loads(row[5]), created_by=row[6], created_at_ms=row[7], has_documents=bool(row[8]))


async def project_entry_txn(conn: Connection, project_id: str) -> SearchEntry | None:
    """The project's entry as it is in this transaction (None: no such project)."""
    row = await conn.fetch_one(PROJECT, project_id)
    return None if row is None else _project(row)


async def source_entries(conn: Connection, kind: SearchKind, after: str, limit: int, *,
                         lock: bool = False) -> list[SearchEntry]:
    """At most `limit` entries of `kind` (any of SOURCE_KINDS) with ref_id after `after`, in
    ref_id order, made from the tables they come from. `lock`: their source rows kept from
    changing until the caller's transaction ends (Dialect.share_lock_nowait)."""
    order = conn.dialect.code_point_order("")

    def locked(alias: str) -> str:
        return conn.dialect.share_lock_nowait.format(alias) if lock else ""

    if kind in ("topic", "news"):
        rows = await conn.fetch(TOPICS.format(order, order) + locked("t"), kind, after, limit)
        return [topic_entry(conversation_sql.topic_from_row(row, ())) for row in rows]
    if kind in ("question", "answer"):
        rows = await conn.fetch((QUESTIONS if kind == "question" else ANSWERS).format(order, order) + locked("q"),
                                after, limit)
        return [entry for row in rows for entry in question_entries(board_sql.question_from_row(row))
                if entry.kind == kind]
    if kind == "project":
        return [_project(row) for row in await conn.fetch(PROJECTS.format(order, order) + locked("p"), after, limit)]
    if kind == "document":
        rows = await conn.fetch(DOCUMENTS.format(order, order) + locked("d"), after, limit)
        return [document_entry(document_from_row(row)) for row in rows]
    raise ValueError(f"no source of {kind!r} entries here (messages come from the append writer's tables)")
