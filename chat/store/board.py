"""The webinar board: questions (and their one-at-a-time "answering now"), votes, polls and poll
answers. One implementation for both stores over the database handle (chat/store/database.py)
and the SQL of chat/store/board_sql.py.

Every change of a question or poll and the log entry that tells of it (made by the caller's
entry maker from the row as the change leaves it) commit in one transaction, through the append
writer's room step: the log is the record. An attendee's limits are counted and their question
inserted under the webinar's row lock (locks are taken webinar, then question or poll, then the
room's head, by every change). A vote and its question's counter (`votes`, `votes_version`)
change together (one statement on PostgreSQL), as a poll answer and its poll's `counts` and
`counts_version` do (under the poll's row lock), so a count read back is always the count of the
rows (tests/contract/test_board_store.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from chat.errors import Conflict, NotFound, QuestionTooSoon, TooManyOpenQuestions
from chat.models import AskLimits, Message, Poll, Question, QuestionChange, SearchEntry, SearchKind, SendRequest
from chat.search.entries import question_entries
from chat.store import board_sql as q
from chat.store.append import AppendMixin
from chat.store.database import Connection, Database, bind

# How the store makes a change's log entry from the question (or poll) as the change leaves it,
# read inside the change's transaction (None: nothing to log, e.g. a pending question):
# chat/webinars/board.py builds them, without I/O.
QuestionEntryFor = Callable[[Question], SendRequest | None]
PollEntryFor = Callable[[Poll], SendRequest]
# (the question, whether this call stored it, the entries it appended)
Asked = tuple[Question, bool, list[Message]]
# (changed, votes, votes_version, question state, author, webinar state)
VoteTaken = tuple[bool, int, int, str, int, str]

# Columns a change may set, in this order (never names from input).
CHANGEABLE = ("state", "pinned", "body", "answer", "answer_html", "answered_by")


class BoardMixin(AppendMixin):
    """Mixed into each store (tests/contract/test_board_store.py). Each change of a question
    sets its search entries (and its answer's) in the change's transaction, as the question
    leaves it: found while on the board (open, answering, answered), gone otherwise
    (chat/search/entries.py, question_entries)."""

    _db: Database

    if TYPE_CHECKING:  # SearchMixin's (chat/store/search.py), later in each store's bases
        async def _index_txn(self, conn: Connection, entries: list[SearchEntry]) -> None: ...

        async def _unindex_txn(self, conn: Connection, kind: SearchKind, ref_ids: list[str]) -> int: ...

    async def _index_question_txn(self, conn: Connection, question: Question) -> None:
        entries = question_entries(question)
        if entries:
            await self._index_txn(conn, entries)
        kinds: tuple[SearchKind, ...] = ("question", "answer")
        for kind in kinds:
            if not any(entry.kind == kind for entry in entries):
                await self._unindex_txn(conn, kind, [question.question_id])

    async def board_context(self, webinar_id: str, user_id: int) -> tuple[str, bool, bool, str | None] | None:
        row = await self._db.fetch_one(q.CONTEXT, user_id, webinar_id)
        return None if row is None else (row[0], bool(row[1]), bool(row[2]), row[3])

    async def webinar_people(self, webinar_id: str) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._db.fetch(q.PEOPLE, webinar_id)]

    async def board_staff(self, webinar_id: str) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._db.fetch(q.BOARD_STAFF, webinar_id, webinar_id)]

    # -- questions -------------------------------------------------------------------------

    async def ask_question(self, question: Question, entry: QuestionEntryFor | None = None, *,
                           limits: AskLimits | None = None) -> Asked:
        x = question
        async with self._db.transaction() as conn:
            locked = await conn.fetch_one(q.LOCK_WEBINAR.format(conn.dialect.row_lock), x.webinar_id)
            if locked is None:
                raise NotFound("no such webinar")
            repeat = await conn.fetch_one(q.QUESTION_BY_CID, x.webinar_id, x.author_id, x.cid)
            if repeat is not None:
                return q.question_from_row(repeat), False, []  # a retry: whatever the limits say now
            if locked[0] in ("ended", "cancelled"):
                raise Conflict(f"the webinar is {locked[0]}: its board takes nothing more")
            if limits is not None:
                row = await conn.fetch_one(q.ASKER_LIMITS, x.webinar_id, x.author_id, x.webinar_id, x.author_id)
                assert row is not None
                wait_ms = 0 if row[1] is None else row[1] + limits.interval_ms - x.created_at_ms
                if wait_ms > 0:
                    raise QuestionTooSoon(f"one question every {limits.interval_ms // 1000} s",
                                          retry_after_s=wait_ms / 1000)
                if row[0] >= limits.open_questions:
                    raise TooManyOpenQuestions(
                        f"at most {limits.open_questions} open questions each: wait for one to be answered")
            await conn.execute(
                q.INSERT_QUESTION, x.question_id, x.webinar_id, x.author_id, x.cid, x.anonymous, x.body,
                x.state, x.created_at_ms, x.updated_at_ms)
            asked = await self._question_txn(conn, x.question_id)
            assert asked is not None
            await self._index_question_txn(conn, asked)
            logged = await self._log_txn(conn, [entry(asked)] if entry is not None else [], x.created_at_ms)
        return asked, True, logged

    async def question_by_cid(self, webinar_id: str, author_id: int, cid: str) -> Question | None:
        row = await self._db.fetch_one(q.QUESTION_BY_CID, webinar_id, author_id, cid)
        return None if row is None else q.question_from_row(row)

    async def asker_limits(self, webinar_id: str, user_id: int) -> tuple[int, int | None]:
        row = await self._db.fetch_one(q.ASKER_LIMITS, webinar_id, user_id, webinar_id, user_id)
        assert row is not None
        return row[0], row[1]

    async def get_question(self, question_id: str) -> Question | None:
        row = await self._db.fetch_one(q.QUESTION, question_id)
        return None if row is None else q.question_from_row(row)

    async def board_questions(self, webinar_id: str, viewer_id: int | None, limit: int) -> list[Question]:
        if viewer_id is None:
            rows = await self._db.fetch(q.ALL_QUESTIONS, webinar_id, limit)
        else:
            rows = await self._db.fetch(q.VISIBLE_QUESTIONS, webinar_id, viewer_id, limit)
        return [q.question_from_row(row) for row in rows]

    async def change_question(self, question_id: str, change: QuestionChange, now_ms: int,
                              entry: QuestionEntryFor | None = None) -> tuple[Question, list[Message]] | None:
        async with self._db.transaction() as conn:
            if not await self._change_txn(conn, question_id, change, now_ms):
                return None
            changed = await self._question_txn(conn, question_id)
            assert changed is not None
            await self._index_question_txn(conn, changed)
            return changed, await self._log_txn(conn, [entry(changed)] if entry is not None else [], now_ms)

    async def _change_txn(self, conn: Connection, question_id: str, change: QuestionChange, now_ms: int) -> bool:
        values = [(column, getattr(change, column)) for column in CHANGEABLE
                  if getattr(change, column) is not None]
        assignments = "".join(f"{column} = ?, " for column, _ in values)
        sql, params = bind(q.CHANGE_QUESTION.replace("{}", assignments, 1), *(value for _, value in values),
                           now_ms, question_id,
                           conn.dialect.in_list("state", [str(state) for state in change.only_from], "text"))
        return bool(await conn.execute(sql, *params))

    async def _question_txn(self, conn: Connection, question_id: str) -> Question | None:
        row = await conn.fetch_one(q.QUESTION, question_id)
        return None if row is None else q.question_from_row(row)

    async def _log_txn(self, conn: Connection, entries: list[SendRequest | None], now_ms: int) -> list[Message]:
        """Append the entries (None: nothing to log) to their rooms' logs in the caller's
        transaction: the change and its events commit together or not at all."""
        logged = []
        for request in entries:
            if request is None:
                continue
            outcome = (await self._append_room_txn(conn, request.room_id, [(0, request)], now_ms))[0]
            if outcome.message is None:
                raise RuntimeError(f"the board's entry was refused: {outcome.error}")
            logged.append(outcome.message)
        return logged

    async def answer_now(self, webinar_id: str, question_id: str, now_ms: int,
                         entry: QuestionEntryFor | None = None, ended: QuestionEntryFor | None = None,
                         ) -> tuple[Question | None, list[str], list[Message]]:
        """Mark an open question "answering now", and the one answered now before it (if any)
        open again, in one transaction under the webinar's row lock (two hosts marking two
        questions at once leave one), with their entries (`ended` for those put back, then
        `entry`). (The question, or None when it was not open; the ids put back; the entries.)"""
        async with self._db.transaction() as conn:
            await conn.fetch_one(q.LOCK_WEBINAR.format(conn.dialect.row_lock), webinar_id)
            if not await self._change_txn(conn, question_id, QuestionChange(("open",), state="answering"), now_ms):
                return None, [], []
            cleared = sorted(row[0] for row in await conn.fetch(q.CLEAR_ANSWERING, now_ms, webinar_id, question_id))
            requests: list[SendRequest | None] = []
            for other_id in cleared:
                other = await self._question_txn(conn, other_id)
                if other is not None and ended is not None:
                    requests.append(ended(other))
            changed = await self._question_txn(conn, question_id)
            assert changed is not None
            await self._index_question_txn(conn, changed)  # those put back stay open: unchanged
            if entry is not None:
                requests.append(entry(changed))
            return changed, cleared, await self._log_txn(conn, requests, now_ms)

    # -- votes -----------------------------------------------------------------------------

    async def vote(self, webinar_id: str, question_id: str, user_id: int, add: bool) -> VoteTaken | None:
        """Add (or take back) the user's vote, if the question is in the webinar, open or
        answering, not the user's own, and the webinar not over; the counter and its version
        change with it. Idempotent: a second vote (or taking back one never given) changes
        nothing. One statement where the dialect allows (Dialect.data_modifying_cte), else one
        transaction. (changed, votes, votes_version, question state, author, webinar state),
        or None for no such question in this webinar."""
        if self._db.dialect.data_modifying_cte:
            row = await self._db.fetch_one(q.VOTE_ADD_ONE if add else q.VOTE_REMOVE_ONE,
                                           question_id, webinar_id, user_id, user_id)
            return None if row is None else (bool(row[0]), row[1], row[2], row[3], row[4], row[5])
        async with self._db.transaction() as conn:
            found = await conn.fetch_one(q.VOTE_TARGET, question_id, webinar_id)
            if found is None:
                return None
            state, author_id, webinar_state, votes, version = found
            if state not in ("open", "answering") or webinar_state not in ("scheduled", "live") \
                    or author_id == user_id:
                return False, votes, version, state, author_id, webinar_state
            changed = await conn.execute(q.ADD_VOTE if add else q.REMOVE_VOTE, question_id, user_id)
            if changed:
                row = await conn.fetch_one(q.COUNT_VOTE, 1 if add else -1, question_id)
                assert row is not None
                votes, version = row[0], row[1]
        return bool(changed), votes, version, state, author_id, webinar_state

    async def my_votes(self, webinar_id: str, user_id: int) -> list[str]:
        return [row[0] for row in await self._db.fetch(q.MY_VOTES, webinar_id, user_id)]

    # -- polls -----------------------------------------------------------------------------

    async def create_poll(self, poll: Poll) -> None:
        p = poll
        await self._db.execute(
            q.INSERT_POLL, p.poll_id, p.webinar_id, p.question_en, p.question_zh,
            q.json_text([{"en": o.en, "zh": o.zh} for o in p.options]), p.multiple, p.results_public,
            q.json_text([0] * len(p.options)), p.created_by, p.created_at_ms, p.updated_at_ms)

    async def get_poll(self, poll_id: str) -> Poll | None:
        row = await self._db.fetch_one(q.POLL, poll_id)
        return None if row is None else q.poll_from_row(row)

    async def webinar_polls(self, webinar_id: str) -> list[Poll]:
        return [q.poll_from_row(row) for row in await self._db.fetch(q.POLLS, webinar_id)]

    async def move_poll(self, poll_id: str, change: str, now_ms: int,
                        entry: PollEntryFor | None = None) -> tuple[Poll, list[Message]] | None:
        """"open" (from draft), "close" (from open) or "publish" (its results, once), with its
        entry in one transaction; None when it was not in the state the change leaves."""
        async with self._db.transaction() as conn:
            if change == "publish":
                moved = await conn.execute(q.PUBLISH_POLL, now_ms, poll_id)
            else:
                statement = {"open": q.OPEN_POLL, "close": q.CLOSE_POLL}[change]
                moved = await conn.execute(statement, now_ms, now_ms, poll_id)
            if not moved:
                return None
            row = await conn.fetch_one(q.POLL, poll_id)
            assert row is not None
            poll = q.poll_from_row(row)
            return poll, await self._log_txn(conn, [entry(poll)] if entry is not None else [], now_ms)

    async def answer_poll(self, poll_id: str, user_id: int, choices: list[int],
                          now_ms: int) -> tuple[bool, bool, Poll | None]:
        """Set the user's answer to an open poll (replacing theirs) and the poll's counts with
        it, under the poll's row lock: (whether the poll was open, whether anything changed,
        the poll after it or None when there is no such poll)."""
        chosen = sorted(set(choices))
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(q.LOCK_POLL.format(conn.dialect.row_lock), user_id, poll_id)
            if row is None:
                return False, False, None
            poll = q.poll_from_row(row)
            if poll.state != "open":
                return False, False, poll
            counts = list(poll.counts)
            before = None if row[-1] is None else list(json.loads(row[-1]))
            if before == chosen:
                return True, False, poll
            for index in before or []:
                counts[index] -= 1
            for index in chosen:
                counts[index] += 1
            answers = poll.answers + (before is None)
            await conn.execute(q.UPSERT_ANSWER, poll_id, user_id, q.json_text(chosen), now_ms)
            await conn.execute(q.COUNT_ANSWER, q.json_text(counts), answers, poll_id)
        return True, True, replace(poll, counts=tuple(counts), answers=answers,
                                   counts_version=poll.counts_version + 1)

    async def my_answers(self, webinar_id: str, user_id: int) -> dict[str, list[int]]:
        return {row[0]: list(json.loads(row[1])) for row in await self._db.fetch(q.MY_ANSWERS, webinar_id, user_id)}
