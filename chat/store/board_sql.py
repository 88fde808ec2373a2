"""The SQL of the webinar board (chat/store/board.py): questions, votes, polls and poll answers,
shared by both stores (`?` placeholders; a `{}` is a dialect fragment filled by `bind()` or
the row lock). Booleans read back as bool (PostgreSQL) or 0/1 (SQLite): converters call bool()."""

from __future__ import annotations

import json
from typing import Any

from chat.models import Poll, PollOption, Question
from chat.store.database import Row
from chat.store.rows import author_role_sql

QUESTION_COLUMNS = (
    "q.question_id, q.room_id, q.author_id, a.display_name, " + author_role_sql("a") + ","
    " q.cid, q.anonymous, q.body, q.state, q.pinned, q.answer, q.answer_html, q.answered_by,"
    " b.display_name, q.votes, q.votes_version, q.version, q.created_at_ms, q.updated_at_ms"
)
_QUESTIONS = (
    f"SELECT {QUESTION_COLUMNS} FROM webinar_questions q JOIN users a ON a.user_id = q.author_id"
    " LEFT JOIN users b ON b.user_id = q.answered_by"
)
QUESTIONS_FROM = _QUESTIONS  # also the index's source of questions (chat/store/search_sources.py)
QUESTION = _QUESTIONS + " WHERE q.question_id = ?"
QUESTION_BY_CID = _QUESTIONS + " WHERE q.room_id = ? AND q.author_id = ? AND q.cid = ?"
# The board: every question (hosts) or the visible ones and the viewer's own pending ones.
ALL_QUESTIONS = _QUESTIONS + " WHERE q.room_id = ? ORDER BY q.created_at_ms DESC, q.question_id LIMIT ?"
VISIBLE_QUESTIONS = (
    _QUESTIONS + " WHERE q.room_id = ? AND (q.state IN ('open', 'answering', 'answered')"
    " OR (q.state = 'pending' AND q.author_id = ?)) ORDER BY q.created_at_ms DESC, q.question_id LIMIT ?"
)
INSERT_QUESTION = (
    "INSERT INTO webinar_questions (question_id, room_id, author_id, cid, anonymous, body, state,"
    " created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (room_id, author_id, cid) DO NOTHING"
)
# (open questions: pending, open or answering; the latest ask's time) of one asker.
ASKER_LIMITS = (
    "SELECT (SELECT count(*) FROM webinar_questions WHERE room_id = ? AND author_id = ?"
    " AND state IN ('pending', 'open', 'answering')),"
    " (SELECT max(created_at_ms) FROM webinar_questions WHERE room_id = ? AND author_id = ?)"
)
# A change: {} is "column = ?, …" from a fixed list (chat/store/board.py), {} the states it may leave.
CHANGE_QUESTION = (
    "UPDATE webinar_questions SET {}version = version + 1, updated_at_ms = ?"
    " WHERE question_id = ? AND {}"
)
LOCK_WEBINAR = "SELECT state FROM webinars WHERE room_id = ?{}"
# An asker's limits are checked and their question inserted under the webinar's row lock (taken
# first, as every webinar change does: webinar, then question or poll, then the room's head), so
# two asks of one attendee on two nodes cannot both pass the count.
# Answering now is one question at a time: whichever was, goes back to open.
CLEAR_ANSWERING = (
    "UPDATE webinar_questions SET state = 'open', version = version + 1, updated_at_ms = ?"
    " WHERE room_id = ? AND state = 'answering' AND question_id <> ? RETURNING question_id"
)
# (state, premoderated, results_public, the user's role among its people or NULL)
CONTEXT = (
    "SELECT w.state, w.premoderated, w.results_public, p.role FROM webinars w"
    " LEFT JOIN webinar_people p ON p.room_id = w.room_id AND p.user_id = ? WHERE w.room_id = ?"
)
PEOPLE = "SELECT user_id, role FROM webinar_people WHERE room_id = ? ORDER BY user_id"
# Who sees a webinar's pending questions and private counts live: its hosts and panelists, and
# the platform's moderators and admins who are neither (as "moderator").
BOARD_STAFF = (
    "SELECT user_id, role FROM webinar_people WHERE room_id = ?"
    " UNION ALL SELECT user_id, 'moderator' FROM users WHERE role IN ('moderator', 'admin')"
    " AND user_id NOT IN (SELECT user_id FROM webinar_people WHERE room_id = ?) ORDER BY 1"
)

# A vote is taken only for an open or answering question of a webinar not over, not the voter's
# own. _VOTE_TARGET: the facts that decide it, also returned so a refusal can say why.
_VOTE_TARGET = (
    "SELECT q.question_id, q.state, q.author_id, w.state AS webinar_state, q.votes, q.votes_version"
    " FROM webinar_questions q JOIN webinars w ON w.room_id = q.room_id"
    " WHERE q.question_id = ? AND q.room_id = ?"
)
_VOTABLE = ("state IN ('open', 'answering') AND webinar_state IN ('scheduled', 'live')"
            " AND author_id <> ?")
# One statement (PostgreSQL: data-modifying CTEs, Dialect.data_modifying_cte): the check, the
# vote row and the counter with its version, and the facts; (changed, votes, votes_version,
# question state, author, webinar state), no row for no such question in this webinar.
# Params: question, webinar, voter, voter.
VOTE_ADD_ONE = (
    f"WITH target AS ({_VOTE_TARGET}),"
    " added AS (INSERT INTO webinar_votes (question_id, user_id)"
    f" SELECT question_id, CAST(? AS BIGINT) FROM target WHERE {_VOTABLE}"
    " ON CONFLICT (question_id, user_id) DO NOTHING RETURNING question_id),"
    " counted AS (UPDATE webinar_questions SET votes = votes + 1, votes_version = votes_version + 1"
    " WHERE question_id IN (SELECT question_id FROM added) RETURNING votes, votes_version)"
    " SELECT EXISTS (SELECT 1 FROM counted), COALESCE((SELECT votes FROM counted), t.votes),"
    " COALESCE((SELECT votes_version FROM counted), t.votes_version), t.state, t.author_id,"
    " t.webinar_state FROM target t"
)
VOTE_REMOVE_ONE = (
    f"WITH target AS ({_VOTE_TARGET}),"
    " removed AS (DELETE FROM webinar_votes WHERE user_id = ? AND question_id IN"
    f" (SELECT question_id FROM target WHERE {_VOTABLE}) RETURNING question_id),"
    " counted AS (UPDATE webinar_questions SET votes = votes - 1, votes_version = votes_version + 1"
    " WHERE question_id IN (SELECT question_id FROM removed) RETURNING votes, votes_version)"
    " SELECT EXISTS (SELECT 1 FROM counted), COALESCE((SELECT votes FROM counted), t.votes),"
    " COALESCE((SELECT votes_version FROM counted), t.votes_version), t.state, t.author_id,"
    " t.webinar_state FROM target t"
)
# The same in steps, in one transaction (SQLite: no data-modifying CTE; in-process, so steps
# cost no round trips). Params of VOTE_TARGET: question, webinar.
VOTE_TARGET = f"SELECT state, author_id, webinar_state, votes, votes_version FROM ({_VOTE_TARGET}) t"
ADD_VOTE = ("INSERT INTO webinar_votes (question_id, user_id) VALUES (?, ?)"
            " ON CONFLICT (question_id, user_id) DO NOTHING")
REMOVE_VOTE = "DELETE FROM webinar_votes WHERE question_id = ? AND user_id = ?"
COUNT_VOTE = (
    "UPDATE webinar_questions SET votes = votes + ?, votes_version = votes_version + 1"
    " WHERE question_id = ? RETURNING votes, votes_version"
)
MY_VOTES = (
    "SELECT v.question_id FROM webinar_votes v JOIN webinar_questions q ON q.question_id = v.question_id"
    " WHERE q.room_id = ? AND v.user_id = ? ORDER BY v.question_id"
)

POLL_COLUMNS = (
    "poll_id, room_id, question_en, question_zh, options, multiple, state, results_public, counts,"
    " answers, counts_version, created_by, created_at_ms, updated_at_ms, opened_at_ms, closed_at_ms"
)
INSERT_POLL = (
    "INSERT INTO webinar_polls (poll_id, room_id, question_en, question_zh, options, multiple,"
    " results_public, counts, created_by, created_at_ms, updated_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
POLL = f"SELECT {POLL_COLUMNS} FROM webinar_polls WHERE poll_id = ?"
POLLS = f"SELECT {POLL_COLUMNS} FROM webinar_polls WHERE room_id = ? ORDER BY created_at_ms, poll_id"
OPEN_POLL = ("UPDATE webinar_polls SET state = 'open', opened_at_ms = ?, updated_at_ms = ?"
             " WHERE poll_id = ? AND state = 'draft'")
CLOSE_POLL = ("UPDATE webinar_polls SET state = 'closed', closed_at_ms = ?, updated_at_ms = ?"
              " WHERE poll_id = ? AND state = 'open'")
# Closing every open poll of a webinar that ends (or is cancelled), with its final counts.
CLOSE_OPEN_POLLS = (
    "UPDATE webinar_polls SET state = 'closed', closed_at_ms = ?, updated_at_ms = ?"
    f" WHERE room_id = ? AND state = 'open' RETURNING {POLL_COLUMNS}"
)
PUBLISH_POLL = ("UPDATE webinar_polls SET results_public = TRUE, updated_at_ms = ?"
                " WHERE poll_id = ? AND NOT results_public")
# The poll, locked, and the member's current answer (NULL: none), in one read. Params: user, poll.
LOCK_POLL = (
    f"SELECT {POLL_COLUMNS}, (SELECT a.choices FROM webinar_poll_answers a"
    " WHERE a.poll_id = webinar_polls.poll_id AND a.user_id = ?) FROM webinar_polls WHERE poll_id = ?{}"
)
UPSERT_ANSWER = (
    "INSERT INTO webinar_poll_answers (poll_id, user_id, choices, answered_at_ms) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (poll_id, user_id) DO UPDATE SET choices = excluded.choices,"
    " answered_at_ms = excluded.answered_at_ms"
)
COUNT_ANSWER = (
    "UPDATE webinar_polls SET counts = ?, answers = ?, counts_version = counts_version + 1"
    " WHERE poll_id = ?"
)
MY_ANSWERS = (
    "SELECT a.poll_id, a.choices FROM webinar_poll_answers a JOIN webinar_polls p ON p.poll_id = a.poll_id"
    " WHERE p.room_id = ? AND a.user_id = ? ORDER BY a.poll_id"
)


def question_from_row(row: Row) -> Question:
    return Question(
        question_id=row[0], webinar_id=row[1], author_id=row[2], author_name=row[3],
        author_role=row[4], cid=row[5], anonymous=bool(row[6]), body=row[7], state=row[8],
        pinned=bool(row[9]), answer=row[10], answer_html=row[11], answered_by=row[12],
        answered_by_name=row[13], votes=row[14], votes_version=row[15], version=row[16],
        created_at_ms=row[17], updated_at_ms=row[18])


def poll_from_row(row: Row) -> Poll:
    return Poll(
        poll_id=row[0], webinar_id=row[1], question_en=row[2], question_zh=row[3],
        options=tuple(PollOption(o["en"], o["zh"]) for o in json.loads(row[4])),
        multiple=bool(row[5]), state=row[6], results_public=bool(row[7]),
        counts=tuple(json.loads(row[8])), answers=row[9], counts_version=row[10], created_by=row[11],
        created_at_ms=row[12], updated_at_ms=row[13], opened_at_ms=row[14], closed_at_ms=row[15])


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
