"""The one-round-trip append on PostgreSQL (migration 0031, chat/store/postgres/history.py): a
batch of plain messages is one statement on the wire, and it stores what the group commit's
transaction stores for the same sends (tests/contract/test_store.py holds the shared contract:
gapless seqs, repeated cids, unknown rooms, concurrency, on both stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from chat.models import SendRequest, Topic
from chat.store.postgres import PostgresStore
from chat.store.postgres.base import POOL_OPTIONS

NOW = 1_700_000_000_000


@pytest.fixture
async def logged(pg_dsn: str) -> AsyncIterator[tuple[PostgresStore, list[str]]]:
    """A migrated PostgresStore, its pool made as PostgresStore.open makes it, whose every
    statement on the wire is logged (asyncpg's query logger on each pooled connection)."""
    statements: list[str] = []

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: statements.append(record.query))

    pool = await asyncpg.create_pool(pg_dsn, min_size=1, max_size=1, init=log_queries, **POOL_OPTIONS)
    try:
        store = PostgresStore(pool)
        await store.migrate()
        yield store, statements
    finally:
        await pool.close()


async def test_a_batch_of_plain_messages_is_one_statement(logged):
    store, statements = logged
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    bob = await store.create_user("bob@example.test", "bob", "h", "member", NOW)
    # The first call on a connection makes asyncpg read the array types' codecs, once.
    await store.append_batch([SendRequest("weihai", ann.user_id, "ann", "c0", "warm-up")], NOW)
    statements.clear()
    outcomes = await store.append_batch([
        SendRequest("zhuhai", ann.user_id, "ann", "c1", "hello @bob", mentions=(bob.user_id,)),
        SendRequest("luoyang", bob.user_id, "bob", "c1", "洛阳 water"),
        SendRequest("zhuhai", bob.user_id, "bob", "c2", "second"),
    ], NOW)
    assert len(statements) == 1 and "ecolink_append_messages" in statements[0], statements
    assert [(o.created, o.message.room_id, o.message.seq) for o in outcomes] == [
        (True, "zhuhai", 1), (True, "luoyang", 1), (True, "zhuhai", 2)]
    # What the transaction would have stored with it: the head, the mention, the search entry.
    assert await store.room_heads(["zhuhai", "luoyang"]) == {"zhuhai": 2, "luoyang": 1}
    assert [tuple(row) for row in await store._db.fetch("SELECT message_id, user_id FROM mentions")] == [
        (outcomes[0].message.message_id, bob.user_id)]
    entries = await store._db.fetch("SELECT ref_id, room_id, seq, terms FROM search_entries"
                                    " WHERE room_id <> 'weihai'")
    assert sorted((e[1], e[2]) for e in entries) == [("luoyang", 1), ("zhuhai", 1), ("zhuhai", 2)]
    assert "洛阳" in next(e[3] for e in entries if e[1] == "luoyang")


async def test_an_edit_in_the_batch_takes_the_transaction(logged):
    store, statements = logged
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    [first] = await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "c1", "hello")], NOW)
    statements.clear()
    [message, edit] = await store.append_batch([
        SendRequest("zhuhai", ann.user_id, "ann", "c2", "more"),
        SendRequest("zhuhai", ann.user_id, "ann", "c3", "hello!", kind="edit", target_id=first.message.message_id),
    ], NOW + 1)
    assert statements[0] == "BEGIN;" and len(statements) > 1, statements
    assert (message.message.seq, edit.message.seq) == (2, 3)
    [stored] = await store.messages_after("zhuhai", 0, 1)
    assert stored.body == "hello!"


async def test_a_repeated_cid_comes_back_as_stored_from_the_same_call(logged):
    store, statements = logged
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    [first] = await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "c1", "hello")], NOW)
    statements.clear()
    again, new, copy = await store.append_batch([
        SendRequest("zhuhai", ann.user_id, "ann", "c1", "hello (resent)"),
        SendRequest("zhuhai", ann.user_id, "ann", "c2", "next"),
        SendRequest("zhuhai", ann.user_id, "ann", "c2", "next (resent)"),
    ], NOW + 5)
    assert (again.created, again.message) == (False, first.message)
    assert (new.created, new.message.seq, copy.created, copy.message) == (True, 2, False, new.message)
    assert len(statements) == 1, statements  # repeats come back whole from the one call
    assert await store.room_heads(["zhuhai"]) == {"zhuhai": 2}


async def test_a_topic_counts_its_replies(logged):
    store, _ = logged
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    await store.create_topic(Topic(
        topic_id="t-heat", kind="topic", title="Heat pumps", summary="", body="", body_html="",
        author_id=ann.user_id, author_name="ann", created_at_ms=NOW, last_activity_ms=NOW,
        reply_count=0, resolved=False, pinned=False, room_ids=("green-buildings",)))
    await store.append_batch([SendRequest("t-heat", ann.user_id, "ann", f"r{n}", f"reply {n}")
                              for n in range(3)], NOW + 10)
    topic = await store.get_topic("t-heat")
    assert (topic.reply_count, topic.last_activity_ms) == (3, NOW + 10)


async def test_the_work_per_send_does_not_grow_with_the_room(pg_dsn):
    """A send's dedupe goes through the unique (room, author, cid) index whatever plan the
    function's statements get. A soak found a lookup whose cached generic plan, made while the
    table was small (and never replanned without ANALYZE), walked the room's whole log for every
    send: its commits grew with the room until they took 200 ms. Here every statement is
    planned generic, and a room of 3,000 messages is appended to in one transaction; the heap
    tuples its index scans fetched are counted (pg_stat_get_xact_tuples_fetched)."""
    async with PostgresStore.open(pg_dsn, min_size=1, max_size=1) as store:
        ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    conn = await asyncpg.connect(pg_dsn, server_settings={"plan_cache_mode": "force_generic_plan"})
    try:
        call = ("SELECT o_seq, o_message_id FROM ecolink_append_messages($1, $2, $3, $4, $5, $6, $7, $8,"
                " $9, $10, $11, $12, $13, $14)")

        def batch(cids: list[str]) -> list[object]:
            n = len(cids)
            return [NOW, ["zhuhai"] * n, [ann.user_id] * n, cids, [f"id-{c}" for c in cids], ["b"] * n,
                    [""] * n, ["{}"] * n, [], [], True, ["en"] * n, ["b"] * n, [False] * n]

        await conn.execute("ANALYZE messages")  # statistics of an empty log, as a new node's
        await conn.fetch(call, *batch(["c0"]))  # plans made against them, then cached
        for start in range(1, 3_000, 500):
            await conn.fetch(call, *batch([f"c{n}" for n in range(start, min(start + 500, 3_000))]))
        async with conn.transaction():
            rows = await conn.fetch(call, *batch(["new-1", "c7", "new-2"]))  # c7: a repeat
            fetched = await conn.fetchval("SELECT pg_stat_get_xact_tuples_fetched('messages'::regclass)")
    finally:
        await conn.close()
    assert [(r[0], r[1]) for r in rows] == [(3001, "id-new-1"), (8, "id-c7"), (3002, "id-new-2")]
    assert fetched <= 10, fetched  # a few index probes, not the room's 3,000 messages
