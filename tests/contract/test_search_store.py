"""The Store contract for search (chat/store/search.py, migration 0022), on SQLite and
PostgreSQL: both full-text indexes split our terms exactly at spaces, so the same queries find
the same entries; messages index themselves in the append writer's transaction; access is
decided at query time; filters, both orders and their paging."""

from __future__ import annotations

import asyncio

import pytest

from chat.errors import InvalidInput
from chat.models import SearchEntry, SearchQuery, SearchTerm, SendRequest, Topic
from chat.search import tokens
from tests.contract.test_webinars_store import create, webinar
from tests.support.store_data import NOW, users

ROOM = "zhuhai"
WID = "webinar-00000000000000b7"


def word(text: str, *, prefix: bool = False, negated: bool = False) -> SearchTerm:
    """A query item as the parser makes it: the text's terms (a phrase when several)."""
    return SearchTerm(tuple(tokens.terms(text)), prefix=prefix, negated=negated, text=text)


def cjk(text: str) -> SearchTerm:
    """A CJK query word: one character → a prefix term; more → its bigrams as a phrase,
    without the trailing single character (docs: chat/search/query.py)."""
    folded = tokens.fold(text)
    if len(folded) == 1:
        return SearchTerm((folded,), prefix=True, text=folded)
    return SearchTerm(tuple(tokens.bigrams(folded)), text=folded)


def entry(ref_id: str, body: str, *, kind="document", room_id=None, at=NOW, title="", author=None,
          has_files=False, extra="") -> SearchEntry:
    return SearchEntry(kind=kind, ref_id=ref_id, room_id=room_id, seq=None, author_id=author,
                       created_at_ms=at, title=title, body=body, has_files=has_files, extra=extra)


async def found(store, user, *terms: SearchTerm, guest_of=None, **filters) -> list[str]:
    hits = await store.search(SearchQuery(terms=terms, **filters), user.user_id, guest_of)
    return [hit.ref_id for hit in hits]


def send(user, cid, body="", *, room=ROOM, kind="message", target=None, data=None):
    return SendRequest(room, user.user_id, user.display_name, cid, body, kind=kind, target_id=target,
                       html=f"<p>{body}</p>" if body else "", data=data or {})


async def test_both_indexes_split_terms_exactly_at_spaces(store):
    """The contract both dialects rest on: a term is one token (a CJK bigram, a stem with
    digits), a phrase is terms adjacent in order, a prefix matches a term's start."""
    [ann] = await users(store, "ann")
    await store.index_entries([entry("d1", "城市更新 BRT2030 planning"), entry("d2", "更新城市 plans")])
    assert tokens.index_terms("城市更新 BRT2030 planning") == "城市 市更 更新 新 brt2030 plan"
    assert await found(store, ann, SearchTerm(("城市", "市更"))) == ["d1"]  # phrase, in order
    assert await found(store, ann, SearchTerm(("市更", "城市"))) == []
    assert sorted(await found(store, ann, SearchTerm(("城市",)))) == ["d1", "d2"]
    assert await found(store, ann, SearchTerm(("城",))) == []  # no term is one character of a pair
    assert sorted(await found(store, ann, SearchTerm(("城",), prefix=True))) == ["d1", "d2"]
    assert await found(store, ann, SearchTerm(("市",))) == ["d2"]  # a run's last character alone
    assert await found(store, ann, SearchTerm(("新城",))) == ["d2"]
    assert await found(store, ann, SearchTerm(("brt2030",))) == ["d1"]
    assert await found(store, ann, SearchTerm(("brt",))) == []
    assert await found(store, ann, SearchTerm(("brt",), prefix=True)) == ["d1"]
    assert sorted(await found(store, ann, SearchTerm(("plan",)))) == ["d1", "d2"]
    # Quotes inside a lexeme are escaped, never syntax: no "or" sneaks in.
    assert await found(store, ann, SearchTerm(("zzz' | 'plan",))) == []
    assert await found(store, ann, SearchTerm(('zzz" OR "plan',))) == []


async def test_index_upserts_by_kind_and_ref_and_unindex_removes(store):
    [ann] = await users(store, "ann")
    await store.index_entries([entry("d1", "solar roofs"), entry("d1", "solar roofs", kind="project")])
    await store.index_entries([entry("d1", "wind farms", title="Offshore")])
    assert await found(store, ann, word("solar")) == ["d1"]  # the project's
    [hit] = await store.search(SearchQuery(terms=(word("wind"),)), ann.user_id, None)
    assert (hit.kind, hit.title, hit.body, hit.language, hit.room_id) == ("document", "Offshore", "wind farms", "en", None)
    assert await found(store, ann, word("offshore")) == ["d1"]  # the title is indexed
    assert await store.unindex_entries("document", ["d1", "d-none"]) == 1
    assert await found(store, ann, word("wind")) == []
    assert await store.unindex_entries("document", []) == 0
    sizes = await store.search_index_size()
    assert sizes["project"] == 1 and "document" not in sizes and sizes["bytes"] > 0
    assert await store.clear_search_index(("document",)) == 0
    assert await store.clear_search_index(()) == 1
    assert await found(store, ann, word("solar")) == []


async def test_messages_are_indexed_edited_and_deleted_with_their_batch(store):
    [ann] = await users(store, "ann")
    [sent, _] = await store.append_batch([
        send(ann, "m1", "Rooftop solar in 珠海",
             data={"attachments": [{"id": "f1", "name": "tariffs.pdf", "type": "application/pdf"}]}),
        send(ann, "m2", "nothing to see")], NOW)
    mid = sent.message.message_id
    [hit] = await store.search(SearchQuery(terms=(word("rooftop"),)), ann.user_id, None)
    assert (hit.ref_id, hit.kind, hit.room_id, hit.seq, hit.author_id, hit.author_name, hit.has_files) == (
        mid, "message", ROOM, 1, ann.user_id, "ann", True)
    assert (hit.room_kind, hit.room_title_en, hit.language, hit.created_at_ms) == ("city", "Zhuhai", "mixed", NOW)
    assert await found(store, ann, word("tariffs")) == [mid]  # attachment names are indexed
    await store.append_batch([send(ann, "e1", "Rooftop wind now", kind="edit", target=mid)], NOW + 1)
    assert await found(store, ann, word("solar")) == []
    assert await found(store, ann, word("wind")) == [mid]
    assert await found(store, ann, word("tariffs")) == [mid]  # still attached
    [hit] = await store.search(SearchQuery(terms=(word("wind"),)), ann.user_id, None)
    assert (hit.body, hit.language) == ("Rooftop wind now", "en")
    await store.append_batch([send(ann, "d1", kind="delete", target=mid)], NOW + 2)
    assert await found(store, ann, word("rooftop")) == []
    # Reactions and other events index nothing; the rebuild source reads messages back.
    [page] = [await store.search_sources("message", "", 10)]
    assert [(e.body, e.seq) for e in page] == [("nothing to see", 2)]
    assert await store.search_sources("message", page[0].ref_id, 10) == []


async def test_with_indexing_off_the_writer_indexes_nothing(store):
    [ann] = await users(store, "ann")
    store.search_indexing = False
    try:
        await store.append_batch([send(ann, "m1", "quiet bench")], NOW)
    finally:
        store.search_indexing = True
    assert await found(store, ann, word("bench")) == []
    assert (await store.search_index_size()).get("message", 0) == 0


async def test_chinese_and_mixed_text(store):
    [ann] = await users(store, "ann")
    await store.index_entries([
        entry("long", "珠海市快速公交系统明年开通"),
        entry("brt", "BRT快速公交"),
        entry("full", "ＢＲＴ２０３０规划"),
        entry("trad", "城市規劃與綠色建築"),
        entry("name", "李华说"),
        entry("en", "The planning of cities"),
    ])
    assert await found(store, ann, cjk("公交")) == ["brt", "long"]  # inside longer text; newest first by id
    assert await found(store, ann, cjk("快速公交")) == ["brt", "long"]
    assert await found(store, ann, cjk("李")) == ["name"]  # one character: a prefix
    assert await found(store, ann, cjk("华")) == ["name"]
    assert await found(store, ann, word("brt")) == ["brt"]
    assert await found(store, ann, word("BRT快速公交")) == ["brt"]  # mixed, as one phrase
    assert await found(store, ann, word("brt2030")) == ["full"]  # full-width finds half-width
    assert await found(store, ann, word("ＢＲＴ２０３０")) == ["full"]
    assert await found(store, ann, cjk("规划")) == ["trad", "full"]  # simplified finds traditional
    assert await found(store, ann, cjk("綠色")) == ["trad"]  # and traditional simplified
    assert await found(store, ann, word("plans")) == ["en"]  # stems
    assert await found(store, ann, word("city")) == ["en"]
    assert await found(store, ann, word("planning of cities")) == ["en"]  # phrase
    assert await found(store, ann, word("cities planning")) == []
    assert await found(store, ann, cjk("公交"), word("brt", negated=True)) == ["long"]
    assert await found(store, ann, cjk("公交"), cjk("珠海"), word("brt", negated=True)) == ["long"]
    with pytest.raises(InvalidInput):
        await found(store, ann, word("brt", negated=True))


async def test_access_is_decided_when_searching(store):
    ann, bob, cat, out = await users(store, "ann", "bob", "cat", "out")
    await store.open_direct("d-search", [ann.user_id, bob.user_id, cat.user_id], ann.user_id, "", NOW)
    await store.create_topic(Topic(
        topic_id="t-inner", kind="topic", title="Inner", summary="", body="", body_html="",
        author_id=ann.user_id, author_name="ann", created_at_ms=NOW, last_activity_ms=NOW,
        reply_count=0, resolved=False, pinned=False, room_ids=("d-search",)))
    await create(store, webinar(WID, ann.user_id))
    guest = await store.create_guest(WID, "guest:0b07", "Gao Wei", "!guest", NOW)
    await store.append_batch([send(ann, "p1", "secret heatpump", room="d-search"),
                              send(ann, "p2", "secret heatpump thread", room="t-inner"),
                              send(ann, "p3", "public heatpump"),
                              send(ann, "p4", "webinar heatpump", room=WID)], NOW)
    await store.index_entries([entry("doc", "heatpump manual", at=NOW - 1)])

    def rooms(hits):
        return sorted(h.room_id or "-" for h in hits)

    async def reach(user, guest_of=None):
        return rooms(await store.search(SearchQuery(terms=(word("heatpump"),)), user.user_id, guest_of))

    everyone = ["-", WID, ROOM]
    assert await reach(out) == everyone  # never the direct room or its thread
    assert await reach(cat) == sorted(everyone + ["d-search", "t-inner"])
    await store.remove_member("d-search", cat.user_id, NOW + 1)
    assert await reach(cat) == everyone  # at once
    assert await reach(guest, WID) == [WID]  # their webinar only, no room-less entries
    assert await found(store, out, word("secret")) == []


async def test_filters(store):
    ann, bob = await users(store, "ann", "bob")
    await store.create_topic(Topic(
        topic_id="t-open", kind="topic", title="Open", summary="", body="", body_html="",
        author_id=ann.user_id, author_name="ann", created_at_ms=NOW, last_activity_ms=NOW,
        reply_count=0, resolved=False, pinned=False, room_ids=(ROOM,)))
    await store.index_entries([
        entry("a", "grid storage", kind="message", room_id=ROOM, author=ann.user_id, at=NOW),
        entry("b", "grid 储能", kind="message", room_id="t-open", author=bob.user_id, at=NOW + 1, has_files=True),
        entry("c", "grid 电网储能", kind="topic", room_id="hefei", author=bob.user_id, at=NOW + 2),
        entry("d", "电网 grid", kind="document", at=NOW + 3, has_files=True),
        entry("e", "智能电网", kind="document", at=NOW + 4),
    ])
    g = word("grid")
    assert await found(store, ann, g) == ["d", "c", "b", "a"]
    assert await found(store, ann, g, kinds=("message", "topic")) == ["c", "b", "a"]
    assert await found(store, ann, g, room_ids=(ROOM,)) == ["b", "a"]  # and its threads
    assert await found(store, ann, g, room_ids=("hefei", "t-open")) == ["c", "b"]
    assert await found(store, ann, g, author_ids=(bob.user_id,)) == ["c", "b"]
    assert await found(store, ann, g, since_ms=NOW + 1, until_ms=NOW + 3) == ["c", "b"]
    assert await found(store, ann, g, language="en") == ["d", "b", "a"]  # en and mixed (c is zh)
    assert await found(store, ann, cjk("电网"), language="zh") == ["e", "d", "c"]
    assert await found(store, ann, g, has_files=True) == ["d", "b"]
    assert await found(store, ann, g, has_files=False) == ["c", "a"]
    assert await found(store, ann, language="zh") == ["e", "d", "c", "b"]  # filters alone: the newest


async def test_paging_in_both_orders_has_no_duplicates_or_holes(store):
    [ann] = await users(store, "ann")
    # Same created_at_ms for some: the entry id breaks ties.
    await store.index_entries([entry(f"e{n:02}", "tram " * (1 + n % 4) + "line", at=NOW + n // 3)
                               for n in range(25)])
    everything = await found(store, ann, word("tram"), limit=100)
    assert len(everything) == 25
    seen, after = [], None
    while True:
        hits = await store.search(SearchQuery(terms=(word("tram"),), after=after, limit=7), ann.user_id, None)
        seen += [h.ref_id for h in hits[:7]]
        if len(hits) <= 7:
            break
        after = (hits[6].created_at_ms, hits[6].entry_id)
    assert seen == everything
    ranked = await store.search(SearchQuery(terms=(word("tram"),), order="relevance", limit=100), ann.user_id, None)
    assert len(ranked) == 25 and all(a.rank >= b.rank for a, b in zip(ranked, ranked[1:], strict=False))
    assert ranked[0].rank > ranked[-1].rank  # four trams rank above one
    pages = []
    for offset in range(0, 25, 7):
        hits = await store.search(SearchQuery(terms=(word("tram"),), order="relevance", offset=offset, limit=7),
                                  ann.user_id, None)
        assert len(hits) == (8 if offset + 7 < 25 else 25 - offset)
        pages += [h.ref_id for h in hits[:7]]
    assert pages == [h.ref_id for h in ranked]


@pytest.mark.parametrize("indexing", [True, False])
async def test_the_store_takes_search_indexing_from_the_settings(make_settings, indexing):
    from chat.store.open import open_store

    async with open_store(make_settings(search_indexing=indexing)) as store:
        assert store.search_indexing is indexing


async def test_a_long_chinese_text_is_indexed_up_to_the_cut(store):
    """200,000 characters of varied Chinese make a tsvector over PostgreSQL's 1 MB: the terms
    are cut (the same on both stores), the entry is indexed, its start found."""
    import random

    rnd = random.Random(14)
    chars = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    text = "开头" + "".join(rnd.choice(chars) for _ in range(200_000))
    [ann] = await users(store, "ann")
    await store.index_entries([entry("big", text)])
    assert await found(store, ann, cjk("开头")) == ["big"]
    [row] = await store._db.fetch("SELECT terms FROM search_entries")
    assert 400_000 < len(row[0].encode()) <= 450_000 and row[0] == tokens.index_terms(text)[:len(row[0])]


async def test_a_rebuild_racing_a_delete_never_puts_its_text_back(store):
    """`ecolink reindex` while nodes run: a page read before a delete commits and written after
    it would make the deleted text findable again (the delete's own unindexing found nothing
    to remove). reindex_sources reads and writes a page in one transaction that no writer
    interleaves with (PostgreSQL: the rows locked, a locked one read again after a pause)."""
    [ann] = await users(store, "ann")
    [gone, kept] = await store.append_batch([send(ann, "m1", "Rooftop solar"), send(ann, "m2", "solar kept")], NOW)
    gone_id, kept_id = gone.message.message_id, kept.message.message_id
    await store.clear_search_index(("message",))
    # A delete in flight, as the append writer does it: the message blanked and its entry
    # removed (there is none: the index was just cleared), not yet committed.
    async with store._db.transaction() as conn:
        await conn.execute("UPDATE messages SET deleted = ?, body = '' WHERE message_id = ?", True, gone_id)
        await conn.execute("DELETE FROM search_entries WHERE kind = 'message' AND ref_id = ?", gone_id)
        rebuilding = asyncio.create_task(store.reindex_sources("message", "", 10))
        await asyncio.sleep(0.2)  # room for a rebuild that reads without waiting to read its page now
    assert [entry.ref_id for entry in await rebuilding] == [kept_id]
    assert await found(store, ann, word("solar")) == [kept_id]
    assert await store.reindex_sources("message", kept_id, 10) == []


async def test_from_finds_the_member_named_exactly_among_many_whose_names_hold_it(store):
    """from: asks the member directory, which matches a substring and pages in name order:
    the one named exactly must not be lost behind a page of others holding the name."""
    from chat.models import SearchParams
    from chat.search.service import SearchService

    many = await users(store, *(f"ali{n:03}" for n in range(120)))
    [li] = await users(store, "li")
    await store.append_batch([send(li, "m1", "solar by li"), send(many[0], "m2", "solar by ali")], NOW)

    async def no_rooms(user):
        return []

    page = await SearchService(store, no_rooms).search(many[1], SearchParams("solar from:li"))
    assert [result["author"]["user_id"] for result in page.results] == [li.user_id]
@pytest.mark.parametrize("window", [2, 5, 1000])
async def test_newest_phrase_pages_are_the_same_whatever_the_window(store, monkeypatch, window):
    """PostgreSQL looks for a phrase's newest page among the newest PHRASE_WINDOW entries first
    and searches everything when they hold less than a page: pages, with their cursors, are
    the same either way (on SQLite the window is never used)."""
    from chat.store import search_sql

    monkeypatch.setattr(search_sql, "PHRASE_WINDOW", window)
    [ann] = await users(store, "ann")
    # Phrase matches among others: dense among the newest, sparse among the oldest.
    bodies = ["快速公交 line" if n % 3 == 0 or n > 20 else ("公交快速 line" if n % 2 else "other line")
              for n in range(30)]
    await store.index_entries([entry(f"e{n:02}", body, at=NOW + n) for n, body in enumerate(bodies)])
    phrase = cjk("快速公交")
    expected = [f"e{n:02}" for n in reversed(range(30)) if bodies[n].startswith("快速公交")]
    seen, after = [], None
    while True:
        hits = await store.search(SearchQuery(terms=(phrase,), after=after, limit=3), ann.user_id, None)
        seen += [h.ref_id for h in hits[:3]]
        if len(hits) <= 3:
            break
        after = (hits[2].created_at_ms, hits[2].entry_id)
    assert seen == expected
    # A phrase and a word excluded: the window applies too, with the same answer.
    assert await found(store, ann, phrase, word("other", negated=True), limit=50) == expected


@pytest.mark.parametrize("recent", [3, 1000])
async def test_relevance_ranks_the_recent_entries_first_and_keeps_its_anchor(store, monkeypatch, recent):
    """By relevance, the matches among the newest RELEVANCE_RECENT entries up to the search's
    anchor come first, best first, then the older candidates, best first; a page lying among
    the recent matches is read from them alone, any other from everything, in the same order.
    Entries added after the anchor never enter its pages."""
    from chat.store import search_sql

    monkeypatch.setattr(search_sql, "RELEVANCE_RECENT", recent)
    [ann] = await users(store, "ann")
    # Strong matches among the oldest entries, weak ones among the newest (ranks: three
    # occurrences above one, on both stores).
    await store.index_entries([entry(f"e{n}", "solar solar solar" if n < 4 else "solar panel", at=NOW + n)
                               for n in range(8)])
    anchor = await store.search_anchor()
    strong, weak = ["e3", "e2", "e1", "e0"], ["e7", "e6", "e5", "e4"]
    expected = weak[:3] + strong + weak[3:] if recent == 3 else strong + weak
    await store.index_entries([entry("late", "solar solar solar solar", at=NOW + 99)])
    pages, offset = [], 0
    while True:
        hits = await store.search(SearchQuery(terms=(word("solar"),), order="relevance", offset=offset,
                                              anchor=anchor, limit=2), ann.user_id, None)
        pages += [h.ref_id for h in hits[:2]]
        if len(hits) <= 2:
            break
        offset += 2
    assert pages == expected
    # Without an anchor the store takes the newest entry's: the late one is in, first.
    hits = await store.search(SearchQuery(terms=(word("solar"),), order="relevance", limit=20), ann.user_id, None)
    assert [h.ref_id for h in hits][:1] == ["late"] and len(hits) == 9
    assert await store.search_anchor() > anchor
