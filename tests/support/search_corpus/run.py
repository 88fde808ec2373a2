"""The corpus in a real store, and every query through the real SearchService (used by
tests/contract/test_search_quality.py and bench/suites/search_quality.py).

load() writes the messages with store.append_batch (so the append writer indexes them, as in
production), the documents with store.index_entries (as the library service does after
extracting their text), and a copy of every tenth message into a direct conversation of two
other members: the searcher must never see any of it. evaluate() runs each query twice: by
relevance, one page of ten (precision@10), and newest first through every page by cursor
(recall, and no hit from the private room).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from chat.models import Room, SearchEntry, SendRequest, User
from chat.search.service import MAX_LIMIT, SearchParams, SearchService
from tests.support.search_corpus import Corpus, Query
from tests.support.search_corpus.generate import START_MS
from tests.support.search_corpus.metrics import Outcome

PRIVATE_ROOM = "d-quality-private"
BATCH = 250  # sends per append_batch: a busy group commit's size


@dataclass(frozen=True)
class Loaded:
    searcher: User  # a member of every public room and of no direct conversation
    insider: User  # a member of the private conversation
    text_of: dict[tuple[str, str], str]  # (kind, ref_id) of an entry → text_id
    private_copies: int


async def load(store: Any, corpus: Corpus) -> Loaded:
    authors = sorted({text.author for text in corpus.texts})
    users: dict[str, User] = {}
    for index, name in enumerate(authors):
        users[name] = await store.create_user(f"author{index}@example.test", name, "h", "member", START_MS)
    searcher = await store.create_user("searcher@example.test", "searcher", "h", "member", START_MS)
    ann = await store.create_user("ann@example.test", "ann", "h", "member", START_MS)
    bob = await store.create_user("bob@example.test", "bob", "h", "member", START_MS)
    await store.open_direct(PRIVATE_ROOM, [ann.user_id, bob.user_id], ann.user_id, "", START_MS)

    text_of: dict[tuple[str, str], str] = {}
    messages = [t for t in corpus.texts if t.kind == "message"]
    for start in range(0, len(messages), BATCH):
        batch = messages[start:start + BATCH]
        sends = [SendRequest(t.room_id or "", users[t.author].user_id, t.author, t.text_id, t.body) for t in batch]
        outcomes = await store.append_batch(sends, batch[-1].created_at_ms)
        for text, outcome in zip(batch, outcomes, strict=True):
            assert outcome.message is not None, outcome.error
            text_of[("message", outcome.message.message_id)] = text.text_id
    private = messages[::10]
    for start in range(0, len(private), BATCH):
        batch = private[start:start + BATCH]
        sends = [SendRequest(PRIVATE_ROOM, ann.user_id, "ann", f"p-{t.text_id}", t.body) for t in batch]
        outcomes = await store.append_batch(sends, batch[-1].created_at_ms)
        assert all(o.message is not None for o in outcomes)
    documents = [t for t in corpus.texts if t.kind == "document"]
    await store.index_entries([
        SearchEntry(kind="document", ref_id=t.text_id, room_id=None, seq=None, author_id=users[t.author].user_id,
                    created_at_ms=t.created_at_ms, title=t.title, body=t.body)
        for t in documents])
    text_of.update({("document", t.text_id): t.text_id for t in documents})
    return Loaded(searcher, ann, text_of, len(private))


def service(store: Any) -> SearchService:
    async def list_rooms(user: User) -> list[Room]:
        rooms: list[Room] = await store.list_rooms(("sector", "city"))
        return rooms

    return SearchService(store, list_rooms)


class PrivateLeak(AssertionError):
    """A search returned an entry from a room the searcher cannot read."""


async def evaluate(store: Any, corpus: Corpus, loaded: Loaded, concurrency: int = 4) -> list[Outcome]:
    """Every query's outcome, in the corpus's order (`concurrency` queries at a time, as
    several members would ask); raises PrivateLeak at a hit from the private room."""
    searching = service(store)
    gate = asyncio.Semaphore(concurrency)

    async def one(query: Query) -> Outcome:
        async with gate:
            top_page = await searching.search(loaded.searcher, SearchParams(query.q, order="relevance", limit=10))
            found: set[str] = set()
            cursor: str | None = None
            while True:
                page = await searching.search(loaded.searcher, SearchParams(query.q, cursor=cursor, limit=MAX_LIMIT))
                for result in page.results:
                    if result["room_id"] == PRIVATE_ROOM:
                        raise PrivateLeak(f"query {query.query_id} found a message of {PRIVATE_ROOM}")
                    found.add(loaded.text_of[(result["kind"], result["id"])])
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        top = tuple(loaded.text_of[(r["kind"], r["id"])] for r in top_page.results)
        return Outcome(query, frozenset(found), top)

    return list(await asyncio.gather(*(one(query) for query in corpus.queries)))
