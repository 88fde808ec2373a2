"""The Store contract for what enters the search index besides messages (chat/search/entries.py,
chat/store/search_sources.py), on SQLite and PostgreSQL: topics and news posts, webinar
questions and answers, projects and published documents are found right after the transaction
that makes or changes them and gone after the one that takes them off; pending, dismissed and
withdrawn questions are never found; an anonymous question hides its asker from the author
filter; rebuilding (search_sources) makes the entries the live path made."""

from __future__ import annotations

from dataclasses import replace

from chat.models import (
    DocMeta, ProjectChanges, ProjectDocument, QuestionChange, SearchEntry, SearchKind, SearchQuery,
    SearchTerm, Topic,
)
from chat.search import tokens
from chat.search.entries import document_entry
from tests.contract.test_board_store import W, question, setup
from tests.contract.test_projects_store import project
from tests.support.store_data import NOW, users


def term(word: str) -> SearchTerm:
    """A word as the query parser makes it: a Latin word's stem; a CJK word's bigrams as a
    phrase (without the run's trailing single character, which only ends the indexed run)."""
    found = tokens.terms(word)
    if tokens.is_cjk(word[-1]) and len(found) > 1:
        found = found[:-1]
    return SearchTerm(tuple(found), text=tokens.fold(word))


async def found(store, user, *words: str, kinds: tuple[SearchKind, ...] = (), authors: tuple[int, ...] = (),
                guest_of: str | None = None) -> list[tuple[str, str]]:
    hits = await store.search(SearchQuery(tuple(term(w) for w in words), kinds=kinds, author_ids=authors),
                              user.user_id, guest_of)
    return [(hit.kind, hit.ref_id) for hit in hits]


async def sources(store, kind: SearchKind) -> list[SearchEntry]:
    out, after = [], ""
    while page := await store.search_sources(kind, after, 2):  # pages of two: the paging counts
        out.extend(page)
        after = page[-1].ref_id
    return out


def topic(topic_id: str, author, kind: str = "topic", rooms=("green-buildings",), **fields) -> Topic:
    base = Topic(
        topic_id=topic_id, kind=kind, title="Rooftop solar in Zhuhai", summary="光伏屋顶 pilots",
        body="Which **inverters** did the district choose?", body_html="", author_id=author.user_id,
        author_name=author.display_name, created_at_ms=NOW, last_activity_ms=NOW, reply_count=0,
        resolved=False, pinned=False, room_ids=rooms,
        attachments=({"id": "f-1", "name": "tender-specification.pdf"},))
    return replace(base, **fields)


async def test_topics_and_news_are_found_in_their_own_thread_with_title_body_and_file_names(store):
    ann, bob = await users(store, "ann", "bob")
    await store.create_topic(topic("t-0001", ann))
    await store.create_topic(topic("t-0002", ann, kind="news", title="海绵城市 news", summary="", body="Rain gardens",
                                   attachments=()))
    assert await found(store, bob, "inverter") == [("topic", "t-0001")]
    assert await found(store, bob, "光伏") == [("topic", "t-0001")]
    assert await found(store, bob, "tender") == [("topic", "t-0001")]  # an attachment's name
    assert await found(store, bob, "海绵") == [("news", "t-0002")]
    assert await found(store, bob, "solar", kinds=("news",)) == []
    hit, = await store.search(SearchQuery((term("rooftop"),)), bob.user_id, None)
    assert (hit.room_id, hit.title, hit.author_id, hit.has_files, hit.created_at_ms) == (
        "t-0001", "Rooftop solar in Zhuhai", ann.user_id, True, NOW)
    assert "光伏屋顶 pilots" in hit.body and "inverters" in hit.body
    # Rebuilt from the tables: the same entries, by kind.
    assert [e.ref_id for e in await sources(store, "topic")] == ["t-0001"]
    news, = await sources(store, "news")
    assert (news.kind, news.room_id, news.title, news.has_files) == ("news", "t-0002", "海绵城市 news", False)


async def test_a_topic_in_a_direct_room_is_found_by_its_members_only(store):
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    room, _ = await store.open_direct("d-ab", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    await store.create_topic(topic("t-0001", ann, rooms=(room.room_id,)))
    assert await found(store, bob, "inverter") == [("topic", "t-0001")]
    assert await found(store, cat, "inverter") == []


async def test_questions_are_found_while_on_the_board_and_answers_once_given(store):
    ann, bob, cat = await setup(store)
    await store.ask_question(replace(question("q-0000000000000001", bob.user_id, "c1", state="pending"),
                                     body="Who pays for the 绿色屋顶 upkeep?"))
    assert await found(store, cat, "upkeep") == []  # pending: a moderator has not let it in
    assert await found(store, bob, "upkeep") == []  # not even for its asker
    await store.change_question("q-0000000000000001", QuestionChange(("pending",), state="open"), NOW + 1)
    assert await found(store, cat, "upkeep") == [("question", "q-0000000000000001")]
    assert await found(store, cat, "绿色") == [("question", "q-0000000000000001")]
    # An edit changes what finds it.
    await store.change_question("q-0000000000000001", QuestionChange(("open",), body="Who pays for maintenance?"), NOW + 2)
    assert await found(store, cat, "upkeep") == []
    assert await found(store, cat, "maintenance") == [("question", "q-0000000000000001")]
    await store.answer_now(W, "q-0000000000000001", NOW + 3)
    assert await found(store, cat, "maintenance") == [("question", "q-0000000000000001")]
    await store.change_question("q-0000000000000001", QuestionChange(
        ("open", "answering"), state="answered", answer="The district's 物业 fund pays.", answer_html="",
        answered_by=ann.user_id), NOW + 4)
    assert await found(store, cat, "fund") == [("answer", "q-0000000000000001")]
    assert await found(store, cat, "物业") == [("answer", "q-0000000000000001")]
    answer, = await store.search(SearchQuery((term("fund"),)), cat.user_id, None)
    assert (answer.room_id, answer.author_id, answer.body) == (W, ann.user_id, "The district's 物业 fund pays.")
    question_, = await store.search(SearchQuery((term("maintenance"),)), cat.user_id, None)
    assert (question_.room_id, question_.author_id) == (W, bob.user_id)
    # Rebuilt from the tables: the same.
    assert [(e.kind, e.ref_id, e.author_id, e.body) for e in await sources(store, "question")] == [
        ("question", "q-0000000000000001", bob.user_id, "Who pays for maintenance?")]
    assert [(e.kind, e.ref_id, e.author_id) for e in await sources(store, "answer")] == [
        ("answer", "q-0000000000000001", ann.user_id)]
    # Dismissed: neither is found, nor rebuilt.
    await store.change_question("q-0000000000000001", QuestionChange(("answered",), state="dismissed"), NOW + 5)
    assert await found(store, cat, "maintenance") == [] and await found(store, cat, "fund") == []
    assert await sources(store, "question") == [] and await sources(store, "answer") == []


async def test_a_withdrawn_question_is_gone_and_a_guest_finds_their_webinars_questions(store):
    _, bob, cat = await setup(store)
    await store.ask_question(replace(question("q-0000000000000001", bob.user_id, "c1"), body="Heat pumps in winter?"))
    await store.ask_question(replace(question("q-0000000000000002", bob.user_id, "c2"), body="Heat pumps cost?"))
    assert await found(store, cat, "pump", guest_of=W) == [("question", "q-0000000000000002"),
                                                          ("question", "q-0000000000000001")]
    assert await found(store, cat, "pump", guest_of="webinar-0000000000000009") == []
    await store.change_question("q-0000000000000002", QuestionChange(("open",), state="withdrawn"), NOW + 1)
    assert await found(store, cat, "pump") == [("question", "q-0000000000000001")]


async def test_an_anonymous_question_never_names_its_asker(store):
    _, bob, cat = await setup(store)
    await store.ask_question(replace(question("q-0000000000000001", bob.user_id, "c1", anonymous=True),
                                     body="District heating tariffs?"))
    await store.ask_question(replace(question("q-0000000000000002", bob.user_id, "c2"), body="District cooling?"))
    hits = await store.search(SearchQuery((term("district"),)), cat.user_id, None)
    assert {hit.ref_id: (hit.author_id, hit.author_name) for hit in hits} == {
        "q-0000000000000001": (None, ""), "q-0000000000000002": (bob.user_id, "bob")}
    assert await found(store, cat, "district", authors=(bob.user_id,)) == [("question", "q-0000000000000002")]
    assert [e.author_id for e in await sources(store, "question")] == [None, bob.user_id]


async def test_projects_are_found_by_every_member_but_guests_and_follow_their_edits(store):
    mod, ann = await users(store, "mod", "ann")
    await project(store, mod, "p-0001")
    assert await found(store, ann, "香洲", kinds=("project",)) == [("project", "p-0001")]
    assert await found(store, ann, "insulation", kinds=("project",)) == [("project", "p-0001")]
    assert await found(store, ann, "GIZ", kinds=("project",)) == [("project", "p-0001")]  # an organisation
    assert await found(store, ann, "珠海", kinds=("project",)) == [("project", "p-0001")]  # its city's title
    assert await found(store, ann, "insulation", kinds=("project",), guest_of=W) == []
    hit, = await store.search(SearchQuery((term("insulation"),), kinds=("project",)), ann.user_id, None)
    assert (hit.room_id, hit.title, hit.author_id, hit.has_files) == (
        None, "Xiangzhou retrofit / 香洲改造", mod.user_id, False)
    await store.edit_project("p-0001", ProjectChanges(name_en="Xiangzhou heat pumps", description="Heat pumps."), NOW + 1)
    assert await found(store, ann, "insulation", kinds=("project",)) == []
    assert await found(store, ann, "pump", kinds=("project",)) == [("project", "p-0001")]
    await store.add_project_document("p-0001", ProjectDocument("d-1", "doc", {}, mod.user_id, NOW + 2))
    hit, = await store.search(SearchQuery((term("pump"),), kinds=("project",)), ann.user_id, None)
    assert hit.has_files
    rebuilt, = await sources(store, "project")
    assert (rebuilt.ref_id, rebuilt.title, rebuilt.has_files, rebuilt.room_id) == (
        "p-0001", "Xiangzhou heat pumps / 香洲改造", True, None)


async def test_documents_rebuild_from_published_ones_with_titles_and_description(store):
    mod, = await users(store, "mod")
    meta = DocMeta("Sponge city guide", "海绵城市指南", "Rain gardens.", "guide", "both", 2021, "", (), ())
    await store.create_document("d-0000000000000001", meta, "published", mod.user_id, NOW, None)
    await store.create_document("d-0000000000000002", meta, "proposed", mod.user_id, NOW, None)
    await store.create_document("d-0000000000000003", replace(meta, title_zh=""), "published", mod.user_id, NOW, None)
    await store.review_document("d-0000000000000003", ("published",), "withdrawn", mod.user_id, "", NOW + 1)
    entry, = await sources(store, "document")
    assert entry == SearchEntry(kind="document", ref_id="d-0000000000000001", room_id=None, seq=None,
                                author_id=mod.user_id, created_at_ms=NOW, title="Sponge city guide / 海绵城市指南",
                                body="Rain gardens.", has_files=True)



async def test_a_withdrawn_document_leaves_the_index_in_the_withdrawals_own_transaction(store):
    """Taking a document off the library unindexes it in the same transaction: a node that
    stops (or a database error) between the withdrawal and the library service's own
    unindexing must not leave its text findable."""
    mod, ann = await users(store, "mod", "ann")
    meta = DocMeta("Sponge city guide", "海绵城市指南", "Rain gardens.", "guide", "both", 2021, "", (), ())
    doc = await store.create_document("d-0000000000000004", meta, "published", mod.user_id, NOW, None)
    await store.index_entries([document_entry(doc, "bioswale sizing")])
    assert await found(store, ann, "bioswale") == [("document", "d-0000000000000004")]
    await store.review_document("d-0000000000000004", ("published",), "withdrawn", mod.user_id, "", NOW + 1)
    assert await found(store, ann, "bioswale") == []
