"""The webinar board: questions (and their one-at-a-time "answering now"), votes, polls and poll
answers. One implementation for both stores over the database handle (chat/store/database.py)
and the SQL of chat/store/board_sql.py.

A vote and its question's counter (`votes`, `votes_version`) change in one transaction, as a
poll answer and its poll's `counts` and `counts_version` do (under the poll's row lock), so a
count read back is always the count of the rows (tests/contract/test_board_store.py)."""

from __future__ import annotations

import json

from chat.models import Poll, Question, QuestionChange
from chat.store import board_sql as q
from chat.store.database import Connection, Database, bind

# Columns a change may set, in this order (never names from input).
CHANGEABLE = ("state", "pinned", "body", "answer", "answer_html", "answered_by")


class BoardMixin:
    """Mixed into each store (tests/contract/test_board_store.py)."""

    _db: Database

    async def board_context(self, webinar_id: str, user_id: int) -> tuple[str, bool, bool, str | None] | None:
        row = await self._db.fetch_one(q.CONTEXT, user_id, webinar_id)
        return None if row is None else (row[0], bool(row[1]), bool(row[2]), row[3])

    async def webinar_people(self, webinar_id: str) -> list[tuple[int, str]]:
        return [(row[0], row[1]) for row in await self._db.fetch(q.PEOPLE, webinar_id)]

    # -- questions -------------------------------------------------------------------------

    async def ask_question(self, question: Question) -> tuple[Question, bool]:
        x = question
        changed = await self._db.execute(
            q.INSERT_QUESTION, x.question_id, x.webinar_id, x.author_id, x.cid, x.anonymous, x.body,
            x.state, x.created_at_ms, x.updated_at_ms)
        row = await self._db.fetch_one(q.QUESTION_BY_CID, x.webinar_id, x.author_id, x.cid)
        assert row is not None
        return q.question_from_row(row), bool(changed)

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

    async def change_question(self, question_id: str, change: QuestionChange, now_ms: int) -> Question | None:
        async with self._db.transaction() as conn:
            if not await self._change_txn(conn, question_id, change, now_ms):
                return None
        return await self.get_question(question_id)

    async def _change_txn(self, conn: Connection, question_id: str, change: QuestionChange, now_ms: int) -> bool:
        values = [(column, getattr(change, column)) for column in CHANGEABLE
                  if getattr(change, column) is not None]
        assignments = "".join(f"{column} = ?, " for column, _ in values)
        sql, params = bind(q.CHANGE_QUESTION.replace("{}", assignments, 1), *(value for _, value in values),
                           now_ms, question_id,
                           conn.dialect.in_list("state", [str(state) for state in change.only_from], "text"))
        return bool(await conn.execute(sql, *params))

    async def answer_now(self, webinar_id: str, question_id: str, now_ms: int) -> tuple[Question | None, list[str]]:
        """Mark an open question "answering now", and the one answered now before it (if any)
        open again, in one transaction under the webinar's row lock (two hosts marking two
        questions at once leave one). (The question, or None when it was not open; the ids
        put back to open.)"""
        async with self._db.transaction() as conn:
            await conn.fetch_one(q.LOCK_WEBINAR.format(conn.dialect.row_lock), webinar_id)
            if not await self._change_txn(conn, question_id, QuestionChange(("open",), state="answering"), now_ms):
                return None, []
            cleared = [row[0] for row in await conn.fetch(q.CLEAR_ANSWERING, now_ms, webinar_id, question_id)]
        return await self.get_question(question_id), sorted(cleared)

    # -- votes -----------------------------------------------------------------------------

    async def vote(self, question_id: str, user_id: int, add: bool) -> tuple[bool, int, int]:
        """Add (or take back) the user's vote: (whether it changed anything, votes, version).
        Idempotent: a second vote (or taking back one never given) changes nothing."""
        async with self._db.transaction() as conn:
            if add:
                changed = await conn.execute(q.ADD_VOTE, question_id, user_id)
            else:
                changed = await conn.execute(q.REMOVE_VOTE, question_id, user_id)
            if changed:
                row = await conn.fetch_one(q.COUNT_VOTE, 1 if add else -1, question_id)
            else:
                row = await conn.fetch_one(q.VOTES, question_id)
        assert row is not None
        return bool(changed), row[0], row[1]

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

    async def move_poll(self, poll_id: str, change: str, now_ms: int) -> bool:
        """"open" (from draft), "close" (from open) or "publish" (its results, once); False when
        it was not in the state the change leaves."""
        if change == "publish":
            return bool(await self._db.execute(q.PUBLISH_POLL, now_ms, poll_id))
        statement = {"open": q.OPEN_POLL, "close": q.CLOSE_POLL}[change]
        return bool(await self._db.execute(statement, now_ms, now_ms, poll_id))

    async def answer_poll(self, poll_id: str, user_id: int, choices: list[int], now_ms: int) -> tuple[bool, bool]:
        """Set the user's answer to an open poll (replacing theirs) and the poll's counts with
        it, under the poll's row lock: (whether the poll was open, whether anything changed)."""
        chosen = sorted(set(choices))
        async with self._db.transaction() as conn:
            row = await conn.fetch_one(q.LOCK_POLL.format(conn.dialect.row_lock), poll_id)
            if row is None or row[0] != "open":
                return False, False
            counts, answers = list(json.loads(row[1])), row[2]
            old = await conn.fetch_one(q.ANSWER, poll_id, user_id)
            before = None if old is None else list(json.loads(old[0]))
            if before == chosen:
                return True, False
            for index in before or []:
                counts[index] -= 1
            for index in chosen:
                counts[index] += 1
            await conn.execute(q.UPSERT_ANSWER, poll_id, user_id, q.json_text(chosen), now_ms)
            await conn.execute(q.COUNT_ANSWER, q.json_text(counts), answers + (before is None), poll_id)
        return True, True

    async def my_answers(self, webinar_id: str, user_id: int) -> dict[str, list[int]]:
        return {row[0]: list(json.loads(row[1])) for row in await self._db.fetch(q.MY_ANSWERS, webinar_id, user_id)}
