"""The knowledge library's tables (migration 0019; the rules are chat/library/service.py): documents,
their tags, versions and mentions. One implementation for both stores over the database handle
(tests/contract/test_library_store.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chat.models import DocMeta, DocMention, DocState, DocVersion, Document, LibraryQuery, SearchKind, User
from chat.store.accounts import USER_COLUMNS, user_from_row
from chat.store.database import Connection, Database, Row, bind
from chat.store.dialect import Fragment, Param
from chat.store.rows import data_text

DOC_COLUMNS = (
    "d.doc_id, d.title_en, d.title_zh, d.description, d.doc_type, d.language, d.year, d.source,"
    " d.sectors, d.cities, d.state, d.reason, d.proposed_by, u.display_name, d.reviewed_by,"
    " d.created_at_ms, d.updated_at_ms, d.listed_at_ms, d.downloads, d.current_version"
)
DOC_FROM = "FROM documents d JOIN users u ON u.user_id = d.proposed_by"
VERSION_COLUMNS = (
    "v.doc_id, v.version, v.file_id, v.sha256, v.file, v.note, v.uploaded_by, u.display_name,"
    " v.created_at_ms"
)
INSERT_DOC = (
    "INSERT INTO documents (doc_id, title_en, title_zh, description, doc_type, language, year, source,"
    " sectors, cities, state, proposed_by, created_at_ms, updated_at_ms, listed_at_ms, sort_en, sort_zh,"
    " search_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_META = (
    "UPDATE documents SET title_en = ?, title_zh = ?, description = ?, doc_type = ?, language = ?,"
    " year = ?, source = ?, sectors = ?, cities = ?, sort_en = ?, sort_zh = ?, search_text = ?,"
    " updated_at_ms = ? WHERE doc_id = ?"
)
INSERT_VERSION = (
    "INSERT INTO document_versions (doc_id, version, file_id, sha256, file, note, uploaded_by,"
    " created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# Each sort: its key column, the direction, and how a cursor value is typed.
SORTS: dict[str, tuple[str, str]] = {
    "newest": ("d.listed_at_ms", "DESC"),
    "downloads": ("d.downloads", "DESC"),
    "title_en": ("d.sort_en", "ASC"),
    "title_zh": ("d.sort_zh", "ASC"),
}


def sort_keys(title_en: str, title_zh: str) -> tuple[str, str, str]:
    """(sort_en, sort_zh, search_text): the title in each language, falling back to the other,
    case-folded; and both titles case-folded, for a substring search."""
    sort_en = (title_en or title_zh).lower()
    sort_zh = (title_zh or title_en).lower()
    return sort_en, sort_zh, f"{title_en}\n{title_zh}".lower()


def like_pattern(text: str) -> str:
    """`text` anywhere, with LIKE's wildcards taken literally (ESCAPE '\\')."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def document_from_row(row: Row) -> Document:
    meta = DocMeta(row[1], row[2], row[3], row[4], row[5], int(row[6]), row[7],
                   tuple(json.loads(row[8])), tuple(json.loads(row[9])))
    return Document(row[0], meta, row[10], row[11], row[12], row[13], row[14], row[15], row[16],
                    row[17], int(row[18]), int(row[19]))


def version_from_row(row: Row) -> DocVersion:
    file: Any = json.loads(row[4])
    return DocVersion(row[0], int(row[1]), row[2], row[3], file if isinstance(file, dict) else {},
                      row[5], row[6], row[7], row[8])


async def _get_txn(conn: Connection, doc_id: str, lock: bool = False) -> Document | None:
    # The lock (PostgreSQL) covers documents only: FOR UPDATE OF d, not the users row.
    suffix = " FOR UPDATE OF d" if lock and conn.dialect.row_lock else ""
    row = await conn.fetch_one(f"SELECT {DOC_COLUMNS} {DOC_FROM} WHERE d.doc_id = ?{suffix}", doc_id)
    return None if row is None else document_from_row(row)


async def _write_tags_txn(conn: Connection, doc_id: str, meta: DocMeta) -> None:
    await conn.execute("DELETE FROM document_tags WHERE doc_id = ?", doc_id)
    tags = sorted(set(meta.sectors) | set(meta.cities))
    await conn.execute_many("INSERT INTO document_tags (doc_id, room_id) VALUES (?, ?)",
                            [(doc_id, tag) for tag in tags])


async def _add_version_txn(conn: Connection, doc_id: str, version: int, file_id: str, sha256: str,
                           file: dict[str, Any], note: str, uploaded_by: int, now_ms: int) -> None:
    await conn.execute(INSERT_VERSION, doc_id, version, file_id, sha256, data_text(file), note,
                       uploaded_by, now_ms)
    await conn.execute("UPDATE documents SET current_version = ?, updated_at_ms = ? WHERE doc_id = ?",
                       version, now_ms, doc_id)


class LibraryMixin:
    """Mixed into each store after its base. A document leaving the library (any state but
    published) leaves the search index in the same transaction; the library service writes
    published ones' entries, with their files' text (chat/library/service.py, index_document)."""

    _db: Database

    if TYPE_CHECKING:  # SearchMixin's (chat/store/search.py), later in each store's bases
        async def _unindex_txn(self, conn: Connection, kind: SearchKind, ref_ids: list[str]) -> int: ...

    async def create_document(self, doc_id: str, meta: DocMeta, state: DocState, proposed_by: int,
                              now_ms: int, first: tuple[str, str, dict[str, Any], str] | None) -> Document:
        sort_en, sort_zh, search = sort_keys(meta.title_en, meta.title_zh)
        async with self._db.transaction() as conn:
            await conn.execute(
                INSERT_DOC, doc_id, meta.title_en, meta.title_zh, meta.description, meta.doc_type,
                meta.language, meta.year, meta.source, json.dumps(list(meta.sectors)),
                json.dumps(list(meta.cities)), state, proposed_by, now_ms, now_ms, now_ms,
                sort_en, sort_zh, search)
            if state == "published":
                await conn.execute("UPDATE documents SET reviewed_by = ? WHERE doc_id = ?", proposed_by, doc_id)
            await _write_tags_txn(conn, doc_id, meta)
            if first is not None:
                file_id, sha256, file, note = first
                await _add_version_txn(conn, doc_id, 1, file_id, sha256, file, note, proposed_by, now_ms)
            doc = await _get_txn(conn, doc_id)
        assert doc is not None  # inserted just now, in this transaction
        return doc

    async def get_document(self, doc_id: str) -> Document | None:
        row = await self._db.fetch_one(f"SELECT {DOC_COLUMNS} {DOC_FROM} WHERE d.doc_id = ?", doc_id)
        return None if row is None else document_from_row(row)

    async def update_document(self, doc_id: str, meta: DocMeta, now_ms: int) -> Document | None:
        sort_en, sort_zh, search = sort_keys(meta.title_en, meta.title_zh)
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                UPDATE_META, meta.title_en, meta.title_zh, meta.description, meta.doc_type, meta.language,
                meta.year, meta.source, json.dumps(list(meta.sectors)), json.dumps(list(meta.cities)),
                sort_en, sort_zh, search, now_ms, doc_id)
            if not changed:
                return None
            await _write_tags_txn(conn, doc_id, meta)
            return await _get_txn(conn, doc_id)

    async def review_document(self, doc_id: str, from_states: tuple[DocState, ...], state: DocState,
                              reviewer_id: int, reason: str, now_ms: int) -> Document | None:
        async with self._db.transaction() as conn:
            doc = await _get_txn(conn, doc_id, lock=True)
            if doc is None or doc.state not in from_states:
                return None
            listed = now_ms if state == "published" else doc.listed_at_ms
            await conn.execute(
                "UPDATE documents SET state = ?, reason = ?, reviewed_by = ?, updated_at_ms = ?,"
                " listed_at_ms = ? WHERE doc_id = ?", state, reason, reviewer_id, now_ms, listed, doc_id)
            if state != "published":  # never findable once withdrawn, even if the node stops now
                await self._unindex_txn(conn, "document", [doc_id])
            return await _get_txn(conn, doc_id)

    async def add_document_version(self, doc_id: str, file_id: str, sha256: str, file: dict[str, Any],
                                   note: str, uploaded_by: int, now_ms: int) -> int | None:
        async with self._db.transaction() as conn:
            doc = await _get_txn(conn, doc_id, lock=True)
            if doc is None:
                return None
            version = doc.current_version + 1
            await _add_version_txn(conn, doc_id, version, file_id, sha256, file, note, uploaded_by, now_ms)
        return version

    async def document_versions(self, doc_id: str) -> list[DocVersion]:
        rows = await self._db.fetch(
            f"SELECT {VERSION_COLUMNS} FROM document_versions v JOIN users u ON u.user_id = v.uploaded_by"
            " WHERE v.doc_id = ? ORDER BY v.version DESC", doc_id)
        return [version_from_row(row) for row in rows]

    async def count_download(self, doc_id: str) -> None:
        await self._db.execute("UPDATE documents SET downloads = downloads + 1 WHERE doc_id = ?", doc_id)

    async def list_documents(self, query: LibraryQuery) -> list[Document]:
        conditions: list[Fragment] = [Fragment("d.state = ?", (query.state,))]
        if query.viewer_id is not None and query.state != "published":
            conditions.append(Fragment("d.proposed_by = ?", (query.viewer_id,)))
        for tag in (query.sector, query.city):
            if tag is not None:
                conditions.append(Fragment(
                    "EXISTS (SELECT 1 FROM document_tags t WHERE t.doc_id = d.doc_id AND t.room_id = ?)", (tag,)))
        if query.language is not None:
            languages: list[str] = [query.language] if query.language == "both" else [query.language, "both"]
            conditions.append(self._db.dialect.in_list("d.language", languages, "text"))
        if query.doc_type is not None:
            conditions.append(Fragment("d.doc_type = ?", (query.doc_type,)))
        if query.year is not None:
            conditions.append(Fragment("d.year = ?", (query.year,)))
        if query.q:
            conditions.append(Fragment("d.search_text LIKE ? ESCAPE '\\'", (like_pattern(query.q),)))
        column, direction = SORTS[f"title_{query.lang}" if query.sort == "title" else query.sort]
        ordered = self._db.dialect.code_point_order(column) if query.sort == "title" else column
        doc_order = self._db.dialect.code_point_order("d.doc_id")
        if query.after is not None:
            key, after_id = query.after
            beyond = "<" if direction == "DESC" else ">"
            conditions.append(Fragment(
                f"({ordered} {beyond} ? OR ({column} = ? AND {doc_order} {beyond} ?))", (key, key, after_id)))
        where = " AND ".join("{}" for _ in conditions)
        sql, params = bind(
            f"SELECT {DOC_COLUMNS} {DOC_FROM} WHERE {where}"
            f" ORDER BY {ordered} {direction}, {doc_order} {direction} LIMIT ?",
            *conditions, query.limit)
        return [document_from_row(row) for row in await self._db.fetch(sql, *params)]

    async def add_document_mention(self, doc_id: str, room_id: str, message_id: str, at_ms: int) -> bool:
        changed = await self._db.execute(
            "INSERT INTO document_mentions (doc_id, room_id, message_id, at_ms)"
            " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM documents WHERE doc_id = ?)"
            " ON CONFLICT (doc_id, message_id) DO NOTHING", doc_id, room_id, message_id, at_ms, doc_id)
        return changed > 0

    async def document_mentions(self, doc_id: str, limit: int) -> list[DocMention]:
        rows = await self._db.fetch(
            "SELECT doc_id, room_id, message_id, at_ms FROM document_mentions WHERE doc_id = ?"
            " ORDER BY at_ms DESC, message_id DESC LIMIT ?", doc_id, limit)
        return [DocMention(row[0], row[1], row[2], int(row[3])) for row in rows]

    async def find_document_file(self, sha256: str, title_en: str, title_zh: str) -> str | None:
        params: list[Param] = [sha256, title_en, title_zh]
        row = await self._db.fetch_one(
            "SELECT d.doc_id FROM document_versions v JOIN documents d ON d.doc_id = v.doc_id"
            " WHERE v.sha256 = ? AND d.title_en = ? AND d.title_zh = ? AND d.state <> 'withdrawn'"
            " ORDER BY d.doc_id LIMIT 1", *params)
        return None if row is None else str(row[0])

    async def first_admin(self) -> User | None:
        row = await self._db.fetch_one(
            f"SELECT {USER_COLUMNS} FROM users WHERE role = 'admin' AND guest_of IS NULL ORDER BY user_id LIMIT 1")
        return None if row is None else user_from_row(row)
