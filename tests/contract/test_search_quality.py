"""Search quality on each store (issue 14, "Quality, measured"): the bilingual evaluation corpus
(tests/support/search_corpus: 3,000 messages and 200 documents in the sector and city rooms,
some 400 queries whose expected hits an index-independent oracle judged) written into a real
store, every query asked through the real SearchService as a member of none of the private
rooms.

Asserted: every expected hit is found, by every query type (English words and phrases, Chinese
two-character words inside longer words, Chinese phrases, names, mixed, traditional and
full-width variants), except the queries with a documented gap (the English stemmer keeps
bus and buses apart), which their type's target covers: recall >= 0.95 for each type, as issue
14 asks for Chinese two-character words and English words; no near miss is ever returned
(公共交通 for 公交, 城市总体规划 for 城市规划, planet for plan, "Schmidt, Anna" for the phrase
"Anna Schmidt"); no result comes from the direct conversation that holds a copy of every tenth
message, while one of its members does find them there; and for every private message, its
whole text and each of its words, asked as the outsider within that room, find nothing.
Precision@10 is reported by `scripts/bench search-quality` (docs/benchmarks.md, "Search
quality"), not asserted.
"""

from __future__ import annotations

from chat.models import SearchQuery
from chat.search import tokens
from chat.search.query import parse
from chat.search.service import SearchParams
from tests.support.search_corpus import QUERY_TYPES, corpus
from tests.support.search_corpus.metrics import by_type
from tests.support.search_corpus.run import PRIVATE_ROOM, evaluate, load, service

TARGET_RECALL = 0.95


async def test_every_expected_hit_is_found_and_nothing_private_or_near_missed(store):
    data = corpus()
    loaded = await load(store, data)
    outcomes = await evaluate(store, data, loaded)  # raises PrivateLeak at a private hit

    missed = {o.query.q: sorted(o.missed)[:5] for o in outcomes if o.missed and not o.query.known_gap}
    assert missed == {}
    forbidden = {o.query.q: sorted(o.forbidden)[:5] for o in outcomes if o.forbidden}
    assert forbidden == {}
    summaries = by_type(outcomes)
    assert set(summaries) == {*QUERY_TYPES, "all"}
    low = {t: round(s.recall, 3) for t, s in summaries.items() if s.recall < TARGET_RECALL}
    assert low == {}
    # The documented gaps are real (else the exception should go), and every query found
    # something in its first page by relevance.
    assert any(o.missed for o in outcomes if o.query.known_gap)
    assert [o.query.q for o in outcomes if not o.top] == []

    # The private copies are in the index: a member of that conversation finds them.
    page = await service(store).search(loaded.insider, SearchParams("planning", rooms=(PRIVATE_ROOM,)))
    assert page.results and all(result["room_id"] == PRIVATE_ROOM for result in page.results)
    await no_word_of_any_private_message_reaches_an_outsider(store, data, loaded)


async def no_word_of_any_private_message_reaches_an_outsider(store, data, loaded):
    """Issue 14: "no result ever from a room the searcher cannot read". For every message of
    the private conversation, its whole text as a phrase and each of its words (a Latin word,
    a Chinese run, as the tokenizer cuts them), asked of the store restricted to that room:
    the insider finds the message, the outsider (member of every public room) nothing."""
    private = [t for t in data.texts if t.kind == "message"][::10]
    assert len(private) == loaded.private_copies
    words: set[str] = set()
    for text in private:
        folded = tokens.fold(text.body)
        words.update(run for _, run, _ in tokens.runs(folded))
        phrase = await store.search(SearchQuery(terms=parse(f'"{folded}"').terms, room_ids=(PRIVATE_ROOM,),
                                                limit=1), loaded.insider.user_id, None)
        assert phrase, text.text_id  # the insider finds it: the query reaches the message
        assert await store.search(SearchQuery(terms=parse(f'"{folded}"').terms, room_ids=(PRIVATE_ROOM,),
                                              limit=1), loaded.searcher.user_id, None) == []
    assert len(words) > 500
    for word in sorted(words):
        query = SearchQuery(terms=parse(word).terms, room_ids=(PRIVATE_ROOM,), limit=1)
        assert await store.search(query, loaded.searcher.user_id, None) == [], word
