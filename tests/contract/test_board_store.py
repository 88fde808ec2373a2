"""The Store contract for the webinar board (chat/store/board.py), on SQLite and PostgreSQL:
questions, one-at-a-time answering, idempotent votes with their counter, polls and answers;
each change and its log entry commit together or not at all (a failure injected in the
database's insert of the entry leaves neither); an attendee's limits hold under concurrent
asks; a webinar's end closes its open polls with their entries."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

import pytest

from chat.errors import Conflict, QuestionTooSoon, TooManyOpenQuestions
from chat.models import AskLimits, Poll, PollOption, Question, QuestionChange, SendRequest, WebinarPerson
from tests.contract.test_webinars_store import told, webinar
from tests.support.store_data import NOW, users

W = "webinar-0000000000000001"


def question(question_id: str, author: int, cid: str, *, state: str = "open", anonymous: bool = False) -> Question:
    return Question(
        question_id=question_id, webinar_id=W, author_id=author, author_name="", author_role="member",
        cid=cid, anonymous=anonymous, body="Why green roofs?", state=state, pinned=False, answer="",
        answer_html="", answered_by=None, answered_by_name=None, votes=0, votes_version=0, version=0,
        created_at_ms=NOW, updated_at_ms=NOW)


async def setup(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.create_webinar(webinar(W, ann.user_id, people=(WebinarPerson(ann.user_id, "ann", "host"),)))
    return ann, bob, cat


async def test_a_question_is_stored_once_per_cid_and_read_with_its_asker(store):
    ann, bob, _ = await setup(store)
    asked, created, _ = await store.ask_question(question("q-0000000000000001", bob.user_id, "c1", anonymous=True))
    assert created and (asked.author_name, asked.anonymous, asked.state, asked.votes, asked.version) == (
        "bob", True, "open", 0, 0)
    again, created, _ = await store.ask_question(question("q-0000000000000002", bob.user_id, "c1"))
    assert not created and again.question_id == "q-0000000000000001"
    assert await store.get_question("q-0000000000000002") is None
    assert (await store.question_by_cid(W, bob.user_id, "c1")).question_id == "q-0000000000000001"
    assert await store.asker_limits(W, bob.user_id) == (1, NOW)
    assert await store.asker_limits(W, ann.user_id) == (0, None)
    assert await store.board_context(W, ann.user_id) == ("scheduled", True, False, "host")
    assert await store.board_context(W, bob.user_id) == ("scheduled", True, False, None)
    assert await store.board_context("webinar-x", bob.user_id) is None
    assert await store.webinar_people(W) == [(ann.user_id, "host")]


async def test_pending_questions_are_seen_by_their_asker_and_the_hosts_only(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", bob.user_id, "c1", state="pending"))
    await store.ask_question(question("q-0000000000000002", cat.user_id, "c2"))
    ids = lambda found: sorted(x.question_id for x in found)  # noqa: E731
    assert ids(await store.board_questions(W, bob.user_id, 10)) == ["q-0000000000000001", "q-0000000000000002"]
    assert ids(await store.board_questions(W, cat.user_id, 10)) == ["q-0000000000000002"]
    assert ids(await store.board_questions(W, None, 10)) == ["q-0000000000000001", "q-0000000000000002"]
    approved, _ = await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"), NOW + 1)
    assert (approved.state, approved.version, approved.updated_at_ms) == ("open", 1, NOW + 1)
    assert await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"), NOW + 2) is None
    answered, _ = await store.change_question("q-0000000000000001", QuestionChange(
        ("open", "answering"), state="answered", answer="**Yes**", answer_html="<p><strong>Yes</strong></p>",
        answered_by=ann.user_id), NOW + 3)
    assert (answered.state, answered.answer, answered.answered_by_name, answered.version) == (
        "answered", "**Yes**", "ann", 2)


async def test_answering_now_is_one_question_at_a_time(store):
    _, bob, cat = await setup(store)
    for n, who in ((1, bob), (2, cat), (3, bob)):
        await store.ask_question(question(f"q-000000000000000{n}", who.user_id, f"c{n}"))
    first, cleared, _ = await store.answer_now(W, "q-0000000000000001", NOW)
    assert first.state == "answering" and cleared == []
    second, cleared, _ = await store.answer_now(W, "q-0000000000000002", NOW)
    assert second.state == "answering" and cleared == ["q-0000000000000001"]
    assert (await store.get_question("q-0000000000000001")).state == "open"
    # Two at once (two hosts): one stays answering.
    await asyncio.gather(store.answer_now(W, "q-0000000000000001", NOW), store.answer_now(W, "q-0000000000000003", NOW))
    states = [(await store.get_question(f"q-000000000000000{n}")).state for n in (1, 2, 3)]
    assert states.count("answering") == 1
    missing, cleared, _ = await store.answer_now(W, "q-0000000000000009", NOW)
    assert missing is None and cleared == []


async def test_votes_are_idempotent_and_counted_exactly_under_concurrency(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", ann.user_id, "c1"))
    vote = lambda who, add: store.vote(W, "q-0000000000000001", who, add)  # noqa: E731
    assert await vote(bob.user_id, True) == (True, 1, 1, "open", ann.user_id, "scheduled")
    assert await vote(bob.user_id, True) == (False, 1, 1, "open", ann.user_id, "scheduled")
    assert await vote(cat.user_id, False) == (False, 1, 1, "open", ann.user_id, "scheduled")
    assert await store.my_votes(W, bob.user_id) == ["q-0000000000000001"]
    assert await vote(bob.user_id, False) == (True, 0, 2, "open", ann.user_id, "scheduled")
    assert await store.my_votes(W, bob.user_id) == []
    voters = await users(store, *[f"v{n}" for n in range(12)])
    await asyncio.gather(*(vote(v.user_id, add) for v in voters for add in (True, True)))
    await asyncio.gather(*(vote(v.user_id, False) for v in voters[:5]))
    got = await store.get_question("q-0000000000000001")
    assert got.votes == 7 and got.votes_version == 2 + 12 + 5


async def test_a_vote_is_refused_with_its_reason_and_changes_nothing(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", bob.user_id, "c1"))
    await store.ask_question(question("q-0000000000000002", cat.user_id, "c2", state="pending"))
    # Own question, a pending one, another webinar's id, an unknown one.
    assert await store.vote(W, "q-0000000000000001", bob.user_id, True) == (False, 0, 0, "open", bob.user_id, "scheduled")
    assert await store.vote(W, "q-0000000000000002", bob.user_id, True) == (False, 0, 0, "pending", cat.user_id, "scheduled")
    assert await store.vote("webinar-x", "q-0000000000000001", cat.user_id, True) is None
    assert await store.vote(W, "q-0000000000000009", cat.user_id, True) is None
    assert await store.my_votes(W, bob.user_id) == [] and await store.my_votes(W, cat.user_id) == []
    # Once the webinar is over, neither a vote nor taking one back.
    assert await store.vote(W, "q-0000000000000001", cat.user_id, True) == (True, 1, 1, "open", bob.user_id, "scheduled")
    await store.set_webinar_state(W, "live", NOW)
    await store.set_webinar_state(W, "ended", NOW + 1)
    assert await store.vote(W, "q-0000000000000001", ann.user_id, True) == (False, 1, 1, "open", bob.user_id, "ended")
    assert await store.vote(W, "q-0000000000000001", cat.user_id, False) == (False, 1, 1, "open", bob.user_id, "ended")
    got = await store.get_question("q-0000000000000001")
    assert (got.votes, got.votes_version) == (1, 1)


def poll(poll_id: str, creator: int, *, multiple: bool = False) -> Poll:
    return Poll(poll_id=poll_id, webinar_id=W, question_en="Which?", question_zh="哪个？",
                options=(PollOption("A", "甲"), PollOption("B", "乙"), PollOption("C", "")),
                multiple=multiple, state="draft", results_public=True, counts=(0, 0, 0), answers=0,
                counts_version=0, created_by=creator, created_at_ms=NOW, updated_at_ms=NOW)


async def test_poll_answers_change_the_counts_only_while_open(store):
    ann, bob, cat = await setup(store)
    await store.create_poll(poll("p-0000000000000001", ann.user_id, multiple=True))
    got = await store.get_poll("p-0000000000000001")
    assert (got.state, got.counts, got.options[0], got.multiple) == ("draft", (0, 0, 0), PollOption("A", "甲"), True)
    assert (await store.answer_poll("p-0000000000000001", bob.user_id, [0], NOW))[:2] == (False, False)
    assert await store.move_poll("p-0000000000000001", "open", NOW) is not None
    assert await store.move_poll("p-0000000000000001", "open", NOW) is None
    assert (await store.answer_poll("p-0000000000000001", bob.user_id, [0, 2], NOW))[:2] == (True, True)
    assert (await store.answer_poll("p-0000000000000001", bob.user_id, [2, 0], NOW))[:2] == (True, False)
    assert (await store.answer_poll("p-0000000000000001", cat.user_id, [1], NOW))[:2] == (True, True)
    _, _, after = await store.answer_poll("p-0000000000000001", bob.user_id, [1], NOW)
    assert (after.counts, after.answers, after.counts_version) == ((0, 2, 0), 2, 3)
    got = await store.get_poll("p-0000000000000001")
    assert (got.counts, got.answers, got.counts_version) == ((0, 2, 0), 2, 3)
    assert await store.my_answers(W, bob.user_id) == {"p-0000000000000001": [1]}
    voters = await users(store, *[f"v{n}" for n in range(10)])
    await asyncio.gather(*(store.answer_poll("p-0000000000000001", v.user_id, [n % 3], NOW)
                           for n, v in enumerate(voters)))
    assert await store.move_poll("p-0000000000000001", "close", NOW + 1) is not None
    assert (await store.answer_poll("p-0000000000000001", cat.user_id, [0], NOW))[:2] == (False, False)
    got = await store.get_poll("p-0000000000000001")
    assert (got.state, got.counts, got.answers, got.closed_at_ms) == ("closed", (4, 5, 3), 12, NOW + 1)
    assert await store.move_poll("p-0000000000000001", "publish", NOW) is None  # already public
    assert [p.poll_id for p in await store.webinar_polls(W)] == ["p-0000000000000001"]


_cids = itertools.count(1)


def event(kind: str, change: str):
    """The entry a question's change appends (as the service's, without the view)."""
    def make(x: Question) -> SendRequest:
        return SendRequest(x.webinar_id, x.author_id, "", f"~q{next(_cids)}", "", kind=kind,
                           target_id=x.question_id, data={"change": change, "state": x.state})
    return make


def poll_event(change: str):
    def make(p: Poll, *_: object) -> SendRequest:
        return SendRequest(p.webinar_id, p.created_by, "", f"~p{next(_cids)}", "", kind="poll",
                           target_id=p.poll_id, data={"change": change, "counts": list(p.counts)})
    return make


async def fail_entries_of_kind(store, kind: str) -> None:
    """From now on the database itself refuses to insert log entries of `kind` (a CHECK on
    PostgreSQL, a trigger on SQLite, which has no ALTER TABLE … ADD CONSTRAINT)."""
    if store._db.dialect.name == "postgres":
        await store._db.execute(f"ALTER TABLE messages ADD CONSTRAINT refuse_{kind} CHECK (kind <> '{kind}') NOT VALID")
    else:
        await store._db.execute(f"CREATE TRIGGER refuse_{kind} BEFORE INSERT ON messages"
                                f" WHEN NEW.kind = '{kind}' BEGIN SELECT RAISE(ABORT, 'refused'); END")


async def log_of(store) -> list[tuple[int, str, str | None]]:
    return [(m.seq, m.kind, m.target_id) for m in await store.messages_after(W, 0, 100)]


async def test_a_change_and_its_entry_commit_together(store):
    ann, bob, cat = await setup(store)
    start = await log_of(store)
    asked, created, logged = await store.ask_question(question("q-0000000000000001", bob.user_id, "c1"),
                                                      event("question", "asked"))
    assert created and [(m.kind, m.target_id, m.data["change"]) for m in logged] == [
        ("question", "q-0000000000000001", "asked")]
    # A retry of the cid appends nothing; a pending question has no entry (the maker says None).
    assert (await store.ask_question(question("q-0000000000000009", bob.user_id, "c1"),
                                     event("question", "asked")))[1:] == (False, [])
    _, _, logged_pending = await store.ask_question(
        question("q-0000000000000002", cat.user_id, "c2", state="pending"), lambda x: None)
    assert logged_pending == []
    changed, pinned = await store.change_question(
        "q-0000000000000001", QuestionChange(("open",), pinned=True), NOW + 1, event("question_state", "pin"))
    assert changed.pinned and pinned[0].data == {"change": "pin", "state": "open"}
    assert await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"),
                                       NOW + 1, event("question_state", "x")) is None
    # Answering now: the one put back to open is told first, then the new one.
    await store.change_question("q-0000000000000002", QuestionChange(("pending",), state="open"), NOW + 2,
                                event("question", "approved"))
    await store.answer_now(W, "q-0000000000000001", NOW + 3, event("question_state", "answering"),
                           event("question_state", "answering_ended"))
    _, cleared, answering = await store.answer_now(W, "q-0000000000000002", NOW + 4,
                                                   event("question_state", "answering"),
                                                   event("question_state", "answering_ended"))
    assert cleared == ["q-0000000000000001"]
    assert [(m.target_id, m.data["change"]) for m in answering] == [
        ("q-0000000000000001", "answering_ended"), ("q-0000000000000002", "answering")]
    await store.create_poll(poll("p-0000000000000001", ann.user_id))
    opened, opened_logged = await store.move_poll("p-0000000000000001", "open", NOW + 5, poll_event("opened"))
    assert opened.state == "open" and [m.data["change"] for m in opened_logged] == ["opened"]
    everything = [*logged, *pinned, *answering, *opened_logged]
    assert {m.message_id for m in everything} <= {m.message_id for m in await store.messages_after(W, 0, 100)}
    assert [seq for seq, _, _ in await log_of(store)] == list(range(1, len(start) + 8))


async def test_a_failing_entry_leaves_neither_the_change_nor_the_entry(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", bob.user_id, "c1"), event("question", "asked"))
    await store.create_poll(poll("p-0000000000000001", ann.user_id))
    await store.move_poll("p-0000000000000001", "open", NOW, poll_event("opened"))
    before = await log_of(store)
    for kind in ("question", "question_state", "poll"):
        await fail_entries_of_kind(store, kind)
    with pytest.raises(Exception):  # noqa: B017 - the database's own error, whichever driver
        await store.ask_question(question("q-0000000000000002", cat.user_id, "c2"), event("question", "asked"))
    assert await store.get_question("q-0000000000000002") is None
    assert await store.question_by_cid(W, cat.user_id, "c2") is None
    with pytest.raises(Exception):  # noqa: B017
        await store.change_question("q-0000000000000001", QuestionChange(("open",), state="dismissed"), NOW + 1,
                                    event("question_state", "dismiss"))
    with pytest.raises(Exception):  # noqa: B017
        await store.answer_now(W, "q-0000000000000001", NOW + 1, event("question_state", "answering"))
    got = await store.get_question("q-0000000000000001")
    assert (got.state, got.version) == ("open", 0)
    with pytest.raises(Exception):  # noqa: B017
        await store.move_poll("p-0000000000000001", "close", NOW + 1, poll_event("closed"))
    assert (await store.get_poll("p-0000000000000001")).state == "open"
    # Ending the webinar closes its open poll with an entry: refused, the webinar stays live.
    await store.set_webinar_state(W, "live", NOW + 2, told("live"))
    live_log = await log_of(store)
    with pytest.raises(Exception):  # noqa: B017
        await store.set_webinar_state(W, "ended", NOW + 3, told("ended"), poll_event("closed"))
    assert (await store.get_webinar(W)).state == "live"
    assert (await store.get_poll("p-0000000000000001")).state == "open"
    assert await log_of(store) == live_log and live_log[:-1] == before


async def test_a_webinar_ending_closes_its_open_polls_with_their_final_counts(store):
    ann, bob, cat = await setup(store)
    for n in (1, 2, 3):
        await store.create_poll(poll(f"p-000000000000000{n}", ann.user_id))
    for n in (1, 2):
        await store.move_poll(f"p-000000000000000{n}", "open", NOW)
    await store.answer_poll("p-0000000000000001", bob.user_id, [2], NOW)
    await store.set_webinar_state(W, "live", NOW, told("live"))
    ended = await store.set_webinar_state(W, "ended", NOW + 1, told("ended"), poll_event("closed"))
    assert [(m.target_id, m.data) for m in ended.also] == [
        ("p-0000000000000001", {"change": "closed", "counts": [0, 0, 1]}),
        ("p-0000000000000002", {"change": "closed", "counts": [0, 0, 0]})]
    assert [m.seq for m in ended.also] == [ended.entry.seq - 2, ended.entry.seq - 1]
    states = [(p.poll_id, p.state, p.closed_at_ms) for p in await store.webinar_polls(W)]
    assert states == [("p-0000000000000001", "closed", NOW + 1), ("p-0000000000000002", "closed", NOW + 1),
                      ("p-0000000000000003", "draft", None)]
    # The sweep too, and a cancelled webinar's open poll (polls open while scheduled).
    other = "webinar-0000000000000002"
    await store.create_webinar(webinar(other, ann.user_id, starts=NOW - 3 * 3600_000))
    await store.create_poll(replace(poll("p-0000000000000004", ann.user_id), webinar_id=other))
    await store.move_poll("p-0000000000000004", "open", NOW)
    await store.set_webinar_state(other, "live", NOW, told("live"))
    swept = await store.end_overdue_webinars(NOW, NOW + 2, 10, told("ended"), poll_event("closed"))
    assert [(c.webinar.webinar_id, [m.target_id for m in c.also]) for c in swept] == [(other, ["p-0000000000000004"])]
    third = "webinar-0000000000000003"
    await store.create_webinar(webinar(third, ann.user_id))
    await store.create_poll(replace(poll("p-0000000000000005", ann.user_id), webinar_id=third))
    await store.move_poll("p-0000000000000005", "open", NOW)
    cancelled = await store.set_webinar_state(third, "cancelled", NOW + 3, told("cancelled"), poll_event("closed"))
    assert [m.target_id for m in cancelled.also] == ["p-0000000000000005"]
    assert (await store.get_poll("p-0000000000000005")).state == "closed"


async def test_an_askers_limits_hold_under_concurrent_asks(store):
    ann, bob, cat = await setup(store)
    cap = AskLimits(open_questions=3, interval_ms=0)
    results = await asyncio.gather(*(
        store.ask_question(question(f"q-{n:016x}", bob.user_id, f"c{n}"), limits=cap) for n in range(1, 9)),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(results) - len(refused) == 3 and all(isinstance(r, TooManyOpenQuestions) for r in refused), results
    assert (await store.asker_limits(W, bob.user_id))[0] == 3
    # A retry of a stored cid answers the original whatever the limits say now.
    assert (await store.ask_question(question("q-00000000000000ff", bob.user_id, "c1"), limits=cap))[1] is False
    # The interval: the next question 10 s after the last, however the asks race.
    every_10s = AskLimits(open_questions=10, interval_ms=10_000)
    results = await asyncio.gather(*(store.ask_question(_at(n, NOW, cat.user_id), limits=every_10s)
                                     for n in range(20, 24)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 3 and all(isinstance(r, QuestionTooSoon) for r in refused), results
    with pytest.raises(QuestionTooSoon) as soon:
        await store.ask_question(_at(30, NOW + 4_000, cat.user_id), limits=every_10s)
    assert soon.value.retry_after_s == 6
    assert (await store.ask_question(_at(31, NOW + 10_000, cat.user_id), limits=every_10s))[1] is True
    # Nothing once the webinar ended, limits or not.
    await store.set_webinar_state(W, "live", NOW)
    await store.set_webinar_state(W, "ended", NOW + 1)
    with pytest.raises(Conflict):
        await store.ask_question(question("q-0000000000000fff", ann.user_id, "late"))


def _at(n: int, ms: int, author: int) -> Question:
    return replace(question(f"q-{n:016x}", author, f"d{n}"), created_at_ms=ms, updated_at_ms=ms)
