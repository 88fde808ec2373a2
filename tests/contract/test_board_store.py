"""The Store contract for the webinar board (chat/store/board.py), on SQLite and PostgreSQL:
questions, one-at-a-time answering, idempotent votes with their counter, polls and answers."""

from __future__ import annotations

import asyncio

from chat.models import Poll, PollOption, Question, QuestionChange, WebinarPerson
from tests.contract.test_webinars_store import webinar
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
    asked, created = await store.ask_question(question("q-0000000000000001", bob.user_id, "c1", anonymous=True))
    assert created and (asked.author_name, asked.anonymous, asked.state, asked.votes, asked.version) == (
        "bob", True, "open", 0, 0)
    again, created = await store.ask_question(question("q-0000000000000002", bob.user_id, "c1"))
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
    approved = await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"), NOW + 1)
    assert (approved.state, approved.version, approved.updated_at_ms) == ("open", 1, NOW + 1)
    assert await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"), NOW + 2) is None
    answered = await store.change_question("q-0000000000000001", QuestionChange(
        ("open", "answering"), state="answered", answer="**Yes**", answer_html="<p><strong>Yes</strong></p>",
        answered_by=ann.user_id), NOW + 3)
    assert (answered.state, answered.answer, answered.answered_by_name, answered.version) == (
        "answered", "**Yes**", "ann", 2)


async def test_answering_now_is_one_question_at_a_time(store):
    _, bob, cat = await setup(store)
    for n, who in ((1, bob), (2, cat), (3, bob)):
        await store.ask_question(question(f"q-000000000000000{n}", who.user_id, f"c{n}"))
    first, cleared = await store.answer_now(W, "q-0000000000000001", NOW)
    assert first.state == "answering" and cleared == []
    second, cleared = await store.answer_now(W, "q-0000000000000002", NOW)
    assert second.state == "answering" and cleared == ["q-0000000000000001"]
    assert (await store.get_question("q-0000000000000001")).state == "open"
    # Two at once (two hosts): one stays answering.
    await asyncio.gather(store.answer_now(W, "q-0000000000000001", NOW), store.answer_now(W, "q-0000000000000003", NOW))
    states = [(await store.get_question(f"q-000000000000000{n}")).state for n in (1, 2, 3)]
    assert states.count("answering") == 1
    missing, cleared = await store.answer_now(W, "q-0000000000000009", NOW)
    assert missing is None and cleared == []


async def test_votes_are_idempotent_and_counted_exactly_under_concurrency(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(question("q-0000000000000001", ann.user_id, "c1"))
    assert await store.vote("q-0000000000000001", bob.user_id, True) == (True, 1, 1)
    assert await store.vote("q-0000000000000001", bob.user_id, True) == (False, 1, 1)
    assert await store.vote("q-0000000000000001", cat.user_id, False) == (False, 1, 1)
    assert await store.my_votes(W, bob.user_id) == ["q-0000000000000001"]
    assert await store.vote("q-0000000000000001", bob.user_id, False) == (True, 0, 2)
    assert await store.my_votes(W, bob.user_id) == []
    voters = await users(store, *[f"v{n}" for n in range(12)])
    await asyncio.gather(*(store.vote("q-0000000000000001", v.user_id, add) for v in voters for add in (True, True)))
    await asyncio.gather(*(store.vote("q-0000000000000001", v.user_id, False) for v in voters[:5]))
    got = await store.get_question("q-0000000000000001")
    assert got.votes == 7 and got.votes_version == 2 + 12 + 5


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
    assert await store.answer_poll("p-0000000000000001", bob.user_id, [0], NOW) == (False, False)
    assert await store.move_poll("p-0000000000000001", "open", NOW) is True
    assert await store.move_poll("p-0000000000000001", "open", NOW) is False
    assert await store.answer_poll("p-0000000000000001", bob.user_id, [0, 2], NOW) == (True, True)
    assert await store.answer_poll("p-0000000000000001", bob.user_id, [2, 0], NOW) == (True, False)
    assert await store.answer_poll("p-0000000000000001", cat.user_id, [1], NOW) == (True, True)
    assert await store.answer_poll("p-0000000000000001", bob.user_id, [1], NOW) == (True, True)
    got = await store.get_poll("p-0000000000000001")
    assert (got.counts, got.answers, got.counts_version) == ((0, 2, 0), 2, 3)
    assert await store.my_answers(W, bob.user_id) == {"p-0000000000000001": [1]}
    voters = await users(store, *[f"v{n}" for n in range(10)])
    await asyncio.gather(*(store.answer_poll("p-0000000000000001", v.user_id, [n % 3], NOW)
                           for n, v in enumerate(voters)))
    assert await store.move_poll("p-0000000000000001", "close", NOW + 1) is True
    assert await store.answer_poll("p-0000000000000001", cat.user_id, [0], NOW) == (False, False)
    got = await store.get_poll("p-0000000000000001")
    assert (got.state, got.counts, got.answers, got.closed_at_ms) == ("closed", (4, 5, 3), 12, NOW + 1)
    assert await store.move_poll("p-0000000000000001", "publish", NOW) is False  # already public
    assert [p.poll_id for p in await store.webinar_polls(W)] == ["p-0000000000000001"]
