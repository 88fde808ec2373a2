"""Webinars: the schedule row beside each webinar room, its hosts and panelists, the rooms it is
listed in, registrations, and the notifications its changes make. One implementation for both
stores over the database handle (chat/store/database.py) and the SQL of
chat/store/webinar_sql.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NamedTuple

from chat.models import (
    Message, Notification, NotificationKind, Poll, SendRequest, Webinar, WebinarChanges,
    WebinarPerson, WebinarPersonRole, WebinarState, WebinarWhen,
)
from chat.store import board_sql
from chat.store import webinar_sql as q
from chat.store.append import AppendMixin
from chat.store.database import Connection, Database, Row, bind
from chat.store.dialect import Param
from chat.store.notifications import excerpt

# Columns an edit may set, in this order (never names from input).
EDITABLE = ("title_en", "title_zh", "description", "description_html", "starts_at_ms",
            "ends_at_ms", "time_zone", "premoderated", "guests_allowed", "attachments")
STATE_CHANGES = {"live": q.START, "ended": q.END, "cancelled": q.CANCEL}
FIRST = (-1, "")
LAST = (2**62, "~")  # after every room id ([a-z0-9-])


# The log entry that tells of a change, made from the webinar as the change leaves it (read
# inside the change's transaction): chat/webinars/service.py builds it, without I/O.
EntryFor = Callable[[Webinar], SendRequest]
# The entry of a poll the webinar's end (or cancellation) closes, made from the poll as closed.
PollClosedFor = Callable[[Poll, Webinar], SendRequest]


class Changed(NamedTuple):
    """A webinar as its change left it, the change's entry, and the entries of what the change
    closed with it (its open polls, when it ended or was cancelled), all committed together."""

    webinar: Webinar
    entry: Message
    also: tuple[Message, ...] = ()


class WebinarsMixin(AppendMixin):
    """Mixed into each store (tests/contract/test_webinars_store.py). Every change of a webinar
    and the entry that tells of it in its room's log commit in one transaction (the append
    writer's, chat/store/append.py), so the log holds the changes in the order they happened."""

    _db: Database

    async def _told_txn(self, conn: Connection, webinar_id: str, entry: EntryFor | None, now_ms: int,
                        change: str) -> Changed:
        """The webinar as the transaction leaves it, and its entry appended to its log (without
        `entry`, a bare one: data {change}, by its creator)."""
        webinar = (await self._whole(await conn.fetch(q.BY_ID, webinar_id), conn))[0]
        request = entry(webinar) if entry is not None else SendRequest(
            webinar_id, webinar.created_by, "", f"~{change}-{now_ms}-{webinar.sequence}", "",
            kind="webinar", data={"change": change})
        outcome = (await self._append_room_txn(conn, request.room_id, [(0, request)], now_ms))[0]
        if outcome.message is None:
            raise RuntimeError(f"the webinar's entry was refused: {outcome.error}")
        return Changed(webinar, outcome.message)

    async def create_webinar(self, webinar: Webinar, entry: EntryFor | None = None) -> Changed:
        w = webinar
        async with self._db.transaction() as conn:
            await conn.execute(q.INSERT_ROOM, w.webinar_id, w.title_en, w.title_zh, w.created_by,
                               w.created_at_ms)
            await conn.execute(
                q.INSERT_WEBINAR, w.webinar_id, w.title_en, w.title_zh, w.description,
                w.description_html, w.starts_at_ms, w.ends_at_ms, w.time_zone, w.premoderated,
                w.chat_mode, w.slow_mode_s, w.guests_allowed, w.created_by, w.created_at_ms,
                w.updated_at_ms, json.dumps(list(w.attachments)))
            await conn.execute_many(q.INSERT_PERSON, [
                (w.webinar_id, person.user_id, person.role) for person in w.people])
            await conn.execute_many(q.INSERT_LISTING, [(w.webinar_id, room) for room in w.listed_in])
            return await self._told_txn(conn, w.webinar_id, entry, w.created_at_ms, "scheduled")

    async def get_webinar(self, webinar_id: str) -> Webinar | None:
        found = await self._whole(await self._db.fetch(q.BY_ID, webinar_id))
        return found[0] if found else None

    async def list_webinars(self, when: WebinarWhen, *, listed_in: str | None,
                            after: tuple[int, str] | None, limit: int) -> list[Webinar]:
        where: list[Param] = [] if listed_in is None else [listed_in]
        filter_sql = q.LISTED_IN if listed_in is not None else "TRUE"
        if when == "past":
            start_ms, room_id = after or LAST
            sql = q.LIST_PAST.format(filter_sql)
            rows = await self._db.fetch(sql, *where, start_ms, start_ms, room_id, limit)
        else:
            start_ms, room_id = after or FIRST
            sql = q.LIST_FORWARD.format(filter_sql)
            state = "scheduled" if when == "upcoming" else "live"
            rows = await self._db.fetch(sql, state, *where, start_ms, start_ms, room_id, limit)
        return await self._whole(rows)

    async def edit_webinar(self, webinar_id: str, changes: WebinarChanges, now_ms: int,
                           entry: EntryFor) -> Changed | None:
        values = [(column, getattr(changes, column)) for column in EDITABLE
                  if getattr(changes, column) is not None]
        assignments = "".join(f"{column} = ?, " for column, _ in values)
        async with self._db.transaction() as conn:
            changed = await conn.execute(q.EDIT.format(assignments), *(value for _, value in values),
                                         now_ms, webinar_id)
            if not changed:
                return None
            if changes.title_en is not None or changes.title_zh is not None:
                titles = await conn.fetch_one(q.ROOM_TITLES, webinar_id)
                assert titles is not None
                await conn.execute(q.SET_ROOM_TITLES, titles[0], titles[1], webinar_id)
            if changes.people is not None:
                await conn.execute(q.DELETE_PEOPLE, webinar_id)
                await conn.execute_many(q.INSERT_PERSON, [
                    (webinar_id, user_id, role) for user_id, role in changes.people])
            if changes.listed_in is not None:
                await conn.execute(q.DELETE_LISTINGS, webinar_id)
                await conn.execute_many(q.INSERT_LISTING, [(webinar_id, room) for room in changes.listed_in])
            return await self._told_txn(conn, webinar_id, entry, now_ms, "edited")

    async def set_webinar_state(self, webinar_id: str, state: WebinarState, now_ms: int,
                                entry: EntryFor | None = None, closing: PollClosedFor | None = None,
                                ) -> Changed | None:
        statement = STATE_CHANGES.get(state)
        if statement is None:
            raise ValueError(f"no way into state {state!r}")
        async with self._db.transaction() as conn:
            if not await conn.execute(statement, now_ms, now_ms, webinar_id):
                return None
            closed = await self._close_polls_txn(conn, webinar_id, now_ms, closing) \
                if state in ("ended", "cancelled") else []
            told = await self._told_txn(conn, webinar_id, entry, now_ms, state)
            return told._replace(also=tuple(closed))

    async def end_overdue_webinars(self, ends_before_ms: int, now_ms: int, limit: int,
                                   entry: EntryFor, closing: PollClosedFor | None = None) -> list[Changed]:
        async with self._db.transaction() as conn:
            rows = await conn.fetch(q.END_OVERDUE, now_ms, now_ms, ends_before_ms, limit)
            ended = []
            for webinar_id in sorted(row[0] for row in rows):
                closed = await self._close_polls_txn(conn, webinar_id, now_ms, closing)
                told = await self._told_txn(conn, webinar_id, entry, now_ms, "ended")
                ended.append(told._replace(also=tuple(closed)))
            return ended

    async def _close_polls_txn(self, conn: Connection, webinar_id: str, now_ms: int,
                               closing: PollClosedFor | None) -> list[Message]:
        """Close the webinar's open polls (it ends or is cancelled: its board takes no more
        answers) and append each one's entry (`closing`: the poll as closed, so the record holds
        its final counts), in the caller's transaction, before the webinar's own entry."""
        rows = await conn.fetch(board_sql.CLOSE_OPEN_POLLS, now_ms, now_ms, webinar_id)
        polls = sorted((board_sql.poll_from_row(row) for row in rows), key=lambda p: (p.created_at_ms, p.poll_id))
        if not polls or closing is None:
            return []
        webinar = (await self._whole(await conn.fetch(q.BY_ID, webinar_id), conn))[0]
        closed = []
        for poll in polls:
            request = closing(poll, webinar)
            outcome = (await self._append_room_txn(conn, request.room_id, [(0, request)], now_ms))[0]
            if outcome.message is None:
                raise RuntimeError(f"the poll's entry was refused: {outcome.error}")
            closed.append(outcome.message)
        return closed

    async def set_webinar_chat(self, webinar_id: str, mode: str, slow_mode_s: int, now_ms: int,
                               entry: EntryFor) -> Changed | None:
        async with self._db.transaction() as conn:
            if not await conn.execute(q.SET_CHAT, mode, slow_mode_s, now_ms, webinar_id):
                return None
            return await self._told_txn(conn, webinar_id, entry, now_ms, "chat")

    async def webinar_person_role(self, webinar_id: str, user_id: int) -> WebinarPersonRole | None:
        row = await self._db.fetch_one(q.PERSON_ROLE, webinar_id, user_id)
        return None if row is None else row[0]

    async def set_registration(self, webinar_id: str, user_id: int, registered: bool, now_ms: int) -> bool:
        if registered:
            return bool(await self._db.execute(q.REGISTER, webinar_id, user_id, now_ms))
        return bool(await self._db.execute(q.UNREGISTER, webinar_id, user_id))

    async def registered_for(self, user_id: int, webinar_ids: list[str]) -> set[str]:
        if not webinar_ids:
            return set()
        sql, params = bind(q.REGISTERED, user_id, self._db.dialect.in_list("room_id", webinar_ids, "text"))
        return {row[0] for row in await self._db.fetch(sql, *params)}

    async def webinar_chat_rules(self, webinar_id: str, user_id: int) -> tuple[str, str, int, str | None] | None:
        row = await self._db.fetch_one(q.CHAT_RULES, user_id, webinar_id)
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def last_chat_message(self, room_id: str, user_id: int, cid: str) -> tuple[bool, int | None]:
        row = await self._db.fetch_one(q.LAST_CHAT, room_id, user_id, cid, room_id, user_id)
        assert row is not None
        return bool(row[0]), row[1]

    async def notify_registered(self, webinar_id: str, message_id: str, kind: NotificationKind,
                                now_ms: int) -> list[Notification]:
        async with self._db.transaction() as conn:
            entry = await conn.fetch_one(q.ENTRY, message_id)
            if entry is None or entry[0] != webinar_id:
                return []
            rows = await conn.fetch(q.NOTIFY_REGISTERED, kind, now_ms, message_id, webinar_id)
        room_id, seq, actor_id, actor_name, body = entry
        return sorted((Notification(row[0], row[1], kind, room_id, seq, message_id, actor_id, actor_name,
                                    excerpt(body, False), now_ms) for row in rows),
                      key=lambda n: n.notification_id)

    async def _whole(self, rows: list[Row], handle: Connection | None = None) -> list[Webinar]:
        """Webinars with their people and listing rooms (two more queries for the page), read
        through `handle` (a transaction's connection) or the database."""
        db = handle or self._db
        if not rows:
            return []
        ids = [row[0] for row in rows]
        people: dict[str, list[WebinarPerson]] = {webinar_id: [] for webinar_id in ids}
        sql, params = bind(q.PEOPLE, db.dialect.in_list("p.room_id", ids, "text"))
        for webinar_id, user_id, name, role in await db.fetch(sql, *params):
            people[webinar_id].append(WebinarPerson(user_id, name, role))
        listed: dict[str, list[str]] = {webinar_id: [] for webinar_id in ids}
        sql, params = bind(q.LISTINGS, db.dialect.in_list("room_id", ids, "text"))
        for webinar_id, room_id in await db.fetch(sql, *params):
            listed[webinar_id].append(room_id)
        return [q.webinar_from_row(row, tuple(people[row[0]]), tuple(listed[row[0]])) for row in rows]
