"""Eco-city projects: the page of each project, its partner members, documents, timeline of
updates and followers, and the notifications an update makes. One implementation for both
stores over the database handle (chat/store/database.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chat.models import (
    Notification, Project, ProjectChanges, ProjectDocument, ProjectFigure, ProjectUpdate, SearchEntry,
)
from chat.store.database import Connection, Database, Row, bind
from chat.store.dialect import Param
from chat.store.notifications import excerpt
from chat.store.search_sources import project_entry_txn

# Columns an edit may set, in this order (never names from input); the JSON ones are encoded.
EDITABLE = ("name_en", "name_zh", "city", "sectors", "status", "description", "figures", "organisations")

COLUMNS = (
    "p.project_id, p.name_en, p.name_zh, p.city, p.sectors, p.status, p.description, p.figures,"
    " p.organisations, p.topic_id, p.created_by, p.created_at_ms, p.updated_at_ms,"
    " (SELECT count(*) FROM project_followers f WHERE f.project_id = p.project_id),"
    " EXISTS (SELECT 1 FROM project_followers f WHERE f.project_id = p.project_id AND f.user_id = ?)"
)  # binds the viewer
INSERT = (
    "INSERT INTO projects (project_id, name_en, name_zh, city, sectors, status, description, figures,"
    " organisations, topic_id, created_by, created_at_ms, updated_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
BY_ID = f"SELECT {COLUMNS} FROM projects p WHERE p.project_id = ?"
# Newest first, keyset paging on (created_at_ms, project_id). {}: the filters (or TRUE).
LIST = (
    f"SELECT {COLUMNS} FROM projects p WHERE {{}}"
    " AND (p.created_at_ms < ? OR (p.created_at_ms = ? AND p.project_id{} < ?))"
    " ORDER BY p.created_at_ms DESC, p.project_id{} DESC LIMIT ?"
)
EDIT = "UPDATE projects SET {}updated_at_ms = ? WHERE project_id = ?"
TOUCH = "UPDATE projects SET updated_at_ms = ? WHERE project_id = ?"
MEMBERS = (
    "SELECT m.project_id, m.user_id, u.display_name FROM project_members m"
    " JOIN users u ON u.user_id = m.user_id WHERE {} ORDER BY m.project_id, u.display_name, m.user_id"
)  # {}: m.project_id in the projects
IS_MEMBER = "SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?"
INSERT_MEMBER = "INSERT INTO project_members (project_id, user_id) VALUES (?, ?)"
DELETE_MEMBERS = "DELETE FROM project_members WHERE project_id = ?"
FOLLOW = (
    "INSERT INTO project_followers (project_id, user_id, followed_at_ms) VALUES (?, ?, ?)"
    " ON CONFLICT (project_id, user_id) DO NOTHING"
)
UNFOLLOW = "DELETE FROM project_followers WHERE project_id = ? AND user_id = ?"
DOCUMENTS = (
    "SELECT project_id, item_id, kind, wire, added_by, added_at_ms FROM project_documents"
    " WHERE {} ORDER BY project_id, added_at_ms, item_id"
)  # {}: project_id in the projects
ADD_DOCUMENT = (
    "INSERT INTO project_documents (project_id, item_id, kind, wire, added_by, added_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, item_id) DO NOTHING"
)
REMOVE_DOCUMENT = "DELETE FROM project_documents WHERE project_id = ? AND item_id = ? RETURNING kind"
INSERT_UPDATE = (
    "INSERT INTO project_updates (update_id, project_id, author_id, happened_on, body, html,"
    " attachments, message_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SET_UPDATE_MESSAGE = "UPDATE project_updates SET message_id = ? WHERE update_id = ?"
_UPDATE_COLUMNS = (
    "SELECT d.update_id, d.project_id, d.author_id, u.display_name, d.happened_on, d.body, d.html,"
    " d.attachments, d.created_at_ms, d.message_id FROM project_updates d"
    " JOIN users u ON u.user_id = d.author_id"
)
UPDATE_BY_ID = _UPDATE_COLUMNS + " WHERE d.update_id = ?"
# Newest first: by the date it happened, then when it was posted; keyset paging on all three.
UPDATES = (
    _UPDATE_COLUMNS + " WHERE d.project_id = ? AND (d.happened_on < ? OR (d.happened_on = ?"
    " AND (d.created_at_ms < ? OR (d.created_at_ms = ? AND d.update_id{} < ?))))"
    " ORDER BY d.happened_on DESC, d.created_at_ms DESC, d.update_id{} DESC LIMIT ?"
)
# Followers and members of the project, but the update's author, each once.
NOTIFY = (
    "INSERT INTO notifications (user_id, kind, room_id, seq, message_id, actor_id, created_at_ms)"
    " SELECT w.user_id, 'project_update', m.room_id, m.seq, m.message_id, m.author_id, CAST(? AS BIGINT)"
    " FROM (SELECT user_id FROM project_followers WHERE project_id = ?"
    " UNION SELECT user_id FROM project_members WHERE project_id = ?) w"
    " JOIN messages m ON m.message_id = ? WHERE w.user_id <> m.author_id"
    " RETURNING notification_id, user_id"
)
ENTRY = (
    "SELECT m.room_id, m.seq, m.author_id, u.display_name, m.body FROM messages m"
    " JOIN users u ON u.user_id = m.author_id WHERE m.message_id = ?"
)
TOPIC_OF = "SELECT topic_id FROM projects WHERE project_id = ?"

# Past every cursor of a newest-first list.
NEWEST_MS = 2**62
LAST_ID = "~"  # after every id ([a-z0-9-])
LAST_DAY = "9999-99-99"


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def figures_json(figures: tuple[ProjectFigure, ...]) -> str:
    return json_text([{"label_en": f.label_en, "label_zh": f.label_zh, "value": f.value, "unit": f.unit}
                      for f in figures])


def _figures(raw: str) -> tuple[ProjectFigure, ...]:
    return tuple(ProjectFigure(f["label_en"], f["label_zh"], f["value"], f["unit"]) for f in json.loads(raw))


def _stored(column: str, value: Any) -> Param:
    if column == "figures":
        return figures_json(value)
    if column in ("sectors", "organisations"):
        return json_text(list(value))
    value_: Param = value
    return value_


def _update(row: Row) -> ProjectUpdate:
    return ProjectUpdate(
        update_id=row[0], project_id=row[1], author_id=row[2], author_name=row[3], happened_on=row[4],
        body=row[5], html=row[6], attachments=tuple(json.loads(row[7])), created_at_ms=row[8],
        message_id=row[9])


class ProjectsMixin:
    """Mixed into each store (tests/contract/test_projects_store.py). A project's search entry
    is written in the transaction of each change of its page or its documents; its timeline's
    updates are messages of its thread, indexed as messages (chat/search/entries.py)."""

    _db: Database

    if TYPE_CHECKING:  # SearchMixin's (chat/store/search.py), later in each store's bases
        async def _index_txn(self, conn: Connection, entries: list[SearchEntry]) -> None: ...

    async def _index_project_txn(self, conn: Connection, project_id: str) -> None:
        entry = await project_entry_txn(conn, project_id)
        if entry is not None:
            await self._index_txn(conn, [entry])

    async def create_project(self, project: Project) -> None:
        p = project
        async with self._db.transaction() as conn:
            await conn.execute(
                INSERT, p.project_id, p.name_en, p.name_zh, p.city, json_text(list(p.sectors)), p.status,
                p.description, figures_json(p.figures), json_text(list(p.organisations)), p.topic_id,
                p.created_by, p.created_at_ms, p.updated_at_ms)
            await self._set_members_txn(conn, p.project_id, [user_id for user_id, _ in p.members],
                                        p.created_at_ms)
            await self._index_project_txn(conn, p.project_id)

    async def _set_members_txn(self, conn: Connection, project_id: str, user_ids: list[int],
                               now_ms: int) -> None:
        """The project's members are these; each follows it (once)."""
        await conn.execute(DELETE_MEMBERS, project_id)
        unique = list(dict.fromkeys(user_ids))
        await conn.execute_many(INSERT_MEMBER, [(project_id, user_id) for user_id in unique])
        await conn.execute_many(FOLLOW, [(project_id, user_id, now_ms) for user_id in unique])

    async def get_project(self, project_id: str, viewer_id: int) -> Project | None:
        found = await self._whole_projects(await self._db.fetch(BY_ID, viewer_id, project_id))
        return found[0] if found else None

    async def list_projects(self, viewer_id: int, *, city: str | None, sector: str | None,
                            status: str | None, after: tuple[int, str] | None, limit: int) -> list[Project]:
        clauses: list[str] = []
        params: list[Param] = [viewer_id]
        if city is not None:
            clauses.append("p.city = ?")
            params.append(city)
        if sector is not None:
            # Room ids are [a-z0-9-]: nothing in the pattern is a LIKE wildcard.
            clauses.append("p.sectors LIKE ?")
            params.append(f'%"{sector}"%')
        if status is not None:
            clauses.append("p.status = ?")
            params.append(status)
        created_ms, project_id = after or (NEWEST_MS, LAST_ID)
        order = self._db.dialect.code_point_order("")
        sql = LIST.format(" AND ".join(clauses) or "TRUE", order, order)
        rows = await self._db.fetch(sql, *params, created_ms, created_ms, project_id, limit)
        return await self._whole_projects(rows)

    async def edit_project(self, project_id: str, changes: ProjectChanges, now_ms: int) -> bool:
        values = [(column, getattr(changes, column)) for column in EDITABLE
                  if getattr(changes, column) is not None]
        assignments = "".join(f"{column} = ?, " for column, _ in values)
        async with self._db.transaction() as conn:
            changed = await conn.execute(EDIT.format(assignments),
                                         *(_stored(column, value) for column, value in values),
                                         now_ms, project_id)
            if not changed:
                return False
            if changes.members is not None:
                await self._set_members_txn(conn, project_id, list(changes.members), now_ms)
            await self._index_project_txn(conn, project_id)
            return True

    async def is_project_member(self, project_id: str, user_id: int) -> bool:
        return await self._db.fetch_one(IS_MEMBER, project_id, user_id) is not None

    async def set_following(self, project_id: str, user_id: int, following: bool, now_ms: int) -> bool:
        if following:
            return bool(await self._db.execute(FOLLOW, project_id, user_id, now_ms))
        return bool(await self._db.execute(UNFOLLOW, project_id, user_id))

    async def add_project_document(self, project_id: str, document: ProjectDocument) -> bool:
        d = document
        async with self._db.transaction() as conn:
            added = await conn.execute(ADD_DOCUMENT, project_id, d.item_id, d.kind, json_text(d.wire),
                                       d.added_by, d.added_at_ms)
            if added:
                await conn.execute(TOUCH, d.added_at_ms, project_id)
                await self._index_project_txn(conn, project_id)  # it has files now
        return bool(added)

    async def remove_project_document(self, project_id: str, item_id: str, now_ms: int) -> bool:
        async with self._db.transaction() as conn:
            removed = await conn.fetch(REMOVE_DOCUMENT, project_id, item_id)
            if removed:
                await conn.execute(TOUCH, now_ms, project_id)
                await self._index_project_txn(conn, project_id)
        return bool(removed)

    async def add_project_update(self, update: ProjectUpdate) -> None:
        u = update
        async with self._db.transaction() as conn:
            await conn.execute(INSERT_UPDATE, u.update_id, u.project_id, u.author_id, u.happened_on, u.body,
                               u.html, json_text(list(u.attachments)), u.message_id, u.created_at_ms)
            await conn.execute(TOUCH, u.created_at_ms, u.project_id)

    async def get_project_update(self, update_id: str) -> ProjectUpdate | None:
        row = await self._db.fetch_one(UPDATE_BY_ID, update_id)
        return None if row is None else _update(row)

    async def project_updates(self, project_id: str, *, before: tuple[str, int, str] | None,
                              limit: int) -> list[ProjectUpdate]:
        day, created_ms, update_id = before or (LAST_DAY, NEWEST_MS, LAST_ID)
        order = self._db.dialect.code_point_order("")
        rows = await self._db.fetch(UPDATES.format(order, order), project_id, day, day, created_ms,
                                    created_ms, update_id, limit)
        return [_update(row) for row in rows]

    async def notify_project_update(self, project_id: str, update_id: str, message_id: str,
                                    now_ms: int) -> list[Notification]:
        async with self._db.transaction() as conn:
            await conn.execute(SET_UPDATE_MESSAGE, message_id, update_id)
            entry = await conn.fetch_one(ENTRY, message_id)
            topic = await conn.fetch_one(TOPIC_OF, project_id)
            if entry is None or topic is None or entry[0] != topic[0]:
                return []
            rows = await conn.fetch(NOTIFY, now_ms, project_id, project_id, message_id)
        room_id, seq, actor_id, actor_name, body = entry
        return sorted((Notification(row[0], row[1], "project_update", room_id, seq, message_id, actor_id,
                                    actor_name, excerpt(body, False), now_ms, project_id=project_id)
                       for row in rows), key=lambda n: n.notification_id)

    async def _whole_projects(self, rows: list[Row]) -> list[Project]:
        """Projects with their members and documents (two more queries for the page)."""
        if not rows:
            return []
        ids = [row[0] for row in rows]
        members: dict[str, list[tuple[int, str]]] = {project_id: [] for project_id in ids}
        sql, params = bind(MEMBERS, self._db.dialect.in_list("m.project_id", ids, "text"))
        for project_id, user_id, name in await self._db.fetch(sql, *params):
            members[project_id].append((user_id, name))
        documents: dict[str, list[ProjectDocument]] = {project_id: [] for project_id in ids}
        sql, params = bind(DOCUMENTS, self._db.dialect.in_list("project_id", ids, "text"))
        for project_id, item_id, kind, wire, added_by, added_at_ms in await self._db.fetch(sql, *params):
            documents[project_id].append(ProjectDocument(item_id, kind, json.loads(wire), added_by, added_at_ms))
        return [Project(
            project_id=row[0], name_en=row[1], name_zh=row[2], city=row[3], sectors=tuple(json.loads(row[4])),
            status=row[5], description=row[6], figures=_figures(row[7]), organisations=tuple(json.loads(row[8])),
            topic_id=row[9], created_by=row[10], created_at_ms=row[11], updated_at_ms=row[12],
            members=tuple(members[row[0]]), documents=tuple(documents[row[0]]), followers=row[13],
            following=bool(row[14])) for row in rows]
