"""Fault tests (invariants 1-5 under failure): Redis killed and restarted, the pub/sub
connection cut or silently wedged, PostgreSQL restarted — each while messages flow between two nodes. Each uses
private servers (tests/e2e/conftest.py) so killing them disturbs no other test. Afterwards the
history checker (tests/support/history.py) proves that every ack was durable and stored once,
and that no live reader missed, repeated or reordered anything."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
import redis.asyncio as aioredis

from chat.config import Settings
from chat.errors import Unavailable
from chat.models import SendRequest
from chat.store.postgres import PostgresStore
from tests.support.blackhole import BlackholeProxy
from tests.support.client import WsClient, bearer, register
from tests.support.history import Peer, check, eventually, stored_messages
from tests.support.nodes import NodeServer, running_nodes
from tests.support.probes import readyz
from tests.support.services import ThrowawayPostgres, ThrowawayRedis, create_database
from tests.support.timing import timeout

pytestmark = pytest.mark.slow

ROOM = "clean-energy"
QUIET = "solid-waste"
FAST = {"ws_rate_per_s": 10000, "ws_rate_burst": 10000,
        "member_rate_per_s": 10000, "member_rate_burst": 10000}


class Traffic:
    """Readers and senders on every node of one room; senders send until stopped."""

    def __init__(self, nodes: list[NodeServer]) -> None:
        self.nodes = nodes
        self.readers: list[Peer] = []
        self.senders: list[Peer] = []
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[list[str]]] = []

    async def start(self, readers_per_node: int = 2, senders_per_node: int = 2) -> Traffic:
        for n, node in enumerate(self.nodes):
            for i in range(readers_per_node):
                peer = await Peer.connect(node.ws_url, await register(node.url, f"r{n}.{i}"),
                                          binary=i % 2 == 0)
                await peer.join(ROOM)
                self.readers.append(peer)
            for i in range(senders_per_node):
                self.senders.append(
                    await Peer.connect(node.ws_url, await register(node.url, f"s{n}.{i}")))
        self._tasks = [asyncio.create_task(s.send_until(ROOM, self.stop, pause_s=0.02))
                       for s in self.senders]
        return self

    def acked(self) -> int:
        return sum(len(s.log.acks) for s in self.senders)

    async def more_acks(self, count: int, what: str) -> None:
        """Wait until `count` more sends were acked than now (failing fast if a sender died)."""
        target = self.acked() + count
        await eventually(lambda: self._raise_if_failed() or self.acked() >= target, what)

    async def readers_catch_up(self, what: str) -> None:
        """Wait until every reader has the highest seq acked so far (senders keep going)."""
        head = max(a.seq for s in self.senders for a in s.log.acks)
        await eventually(lambda: self._raise_if_failed() or
                         all(r.has_seq(ROOM, head) for r in self.readers), f"{what} (seq {head})")

    def _raise_if_failed(self) -> bool:
        for task in self._tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()
        return False

    async def finish(self) -> None:
        """Stop sending, wait for every answer, then until every reader has the last ack."""
        self.stop.set()
        await asyncio.gather(*self._tasks)
        head = max(a.seq for s in self.senders for a in s.log.acks)
        await eventually(lambda: all(r.has_seq(ROOM, head) for r in self.readers),
                         f"every reader has seq {head}", timeout(15))

    async def check(self) -> None:
        store = await stored_messages(self.nodes[0].node.store, [ROOM])
        summary = check(store, [p.log for p in self.readers + self.senders])
        assert summary.acked == len(store) > 0

    async def close(self) -> None:
        for peer in self.readers + self.senders:
            await peer.close()


async def ready_status(node: NodeServer) -> tuple[int, str]:
    status, body = await readyz(node.url)
    return status, body["status"]


# -- Redis --------------------------------------------------------------------------------


async def test_redis_killed_then_restarted_loses_nothing_acked(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis
):
    settings = production_private_redis(**FAST)
    async with running_nodes(settings, settings) as nodes:
        traffic = await Traffic(nodes).start()
        # A quiet room with a reader only on node 1 and a sender only on node 0: no local
        # commit on node 1 reveals a gap there, so while Redis is down only polling the store
        # can bring node 0's messages.
        quiet_reader = await Peer.connect(nodes[1].ws_url, await register(nodes[1].url, "q-r"))
        await quiet_reader.join(QUIET)
        quiet_sender = await Peer.connect(nodes[0].ws_url, await register(nodes[0].url, "q-s"))
        await traffic.more_acks(40, "traffic before the fault")

        private_redis.kill()  # SIGKILL: connections drop, everything published meanwhile is lost
        for node in nodes:
            await eventually(lambda node=node: _is(node, (503, "degraded")),
                             f"node {node.port} reports degraded")
        # The store is the truth: sends are still acked while Redis is down, and they still
        # reach the readers on the other node (the hub polls the store).
        await traffic.more_acks(60, "acks while Redis is down")
        await traffic.readers_catch_up("readers on both nodes get messages while Redis is down")
        await quiet_sender.send_many(QUIET, 3)
        await quiet_reader.until(lambda: quiet_reader.has_seq(QUIET, 3),
                                 "the other node's messages while Redis is down")
        assert await ready_status(nodes[0]) == (503, "degraded")

        await asyncio.to_thread(private_redis.start)  # same port, empty
        for node in nodes:
            await eventually(lambda node=node: _is(node, (200, "ready")),
                             f"node {node.port} ready again", timeout(15))
        await traffic.more_acks(40, "traffic after Redis is back")
        await traffic.finish()
        assert all(s.log.errors == [] for s in traffic.senders)
        await traffic.check()
        quiet = await stored_messages(nodes[0].node.store, [QUIET])
        assert check(quiet, [quiet_reader.log, quiet_sender.log]).stored == {QUIET: 3}
        await traffic.close()
        await quiet_reader.close()
        await quiet_sender.close()


async def test_pubsub_connection_cut_while_messages_flow_loses_nothing(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis
):
    # A long sweep interval: what brings back the messages published while a node had no
    # subscription must be the broker's reconnect (and seq gap detection), not the timer.
    settings = production_private_redis(**FAST, sweep_interval_s=60)
    admin = aioredis.Redis.from_url(private_redis.url)
    try:
        async with running_nodes(settings, settings) as nodes:
            # The broker and presence share one pub/sub connection per node
            # (chat/redis/listener.py).
            assert len(await admin.client_list(_type="pubsub")) == len(nodes)
            traffic = await Traffic(nodes).start()
            await traffic.more_acks(30, "traffic before the fault")
            for _ in range(3):
                # Each cut finds every node subscribed again (a loaded machine may not have
                # reconnected them within the last round's traffic).
                await eventually(lambda: _pubsub_clients(admin, len(nodes)), "every node subscribed")
                killed = await admin.client_kill_filter(_type="pubsub")
                assert killed >= len(nodes)  # one subscriber connection per node
                await traffic.more_acks(30, "traffic after cutting pub/sub")
            # A last cut with the senders stopping at once: what was published while a node
            # resubscribed has no later message to reveal the gap; only the backfill on
            # reconnect brings it.
            await eventually(lambda: _pubsub_clients(admin, len(nodes)), "every node subscribed")
            assert await admin.client_kill_filter(_type="pubsub") >= len(nodes)
            await traffic.finish()
            assert all(s.log.errors == [] for s in traffic.senders)
            await traffic.check()
            for node in nodes:  # and each node is subscribed again
                await eventually(lambda node=node: _is(node, (200, "ready")),
                                 f"node {node.port} ready again")
            await traffic.close()
    finally:
        await admin.aclose()


async def test_a_silently_wedged_subscription_is_detected_resubscribed_and_backfilled(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis
):
    """Issue 16, case 3. Node A reaches Redis through a proxy that then wedges every connection
    (tests/support/blackhole.py: open, silent, no FIN): nothing tells A its subscription is
    dead but the missing PONGs. With the default ECOLINK_REDIS_SILENCE_S, A's readiness leaves
    "ready" within the issue's 10 s, comes back only once A resubscribed and backfilled, and
    the checker finds nothing lost. A long sweep interval, so the timer cannot hide a miss.
    (The figures: `scripts/bench slow`, docs/reliability.md section 3.)"""
    settings = production_private_redis(**FAST, sweep_interval_s=60)
    assert settings.redis_silence_s <= 6  # the default is what is tested
    async with BlackholeProxy.running("127.0.0.1", private_redis.port) as proxy, \
            running_nodes(settings.model_copy(update={"redis_url": proxy.url}), settings) as nodes:
        wedged_node = nodes[0]
        traffic = await Traffic(nodes).start()
        await traffic.more_acks(30, "traffic before the wedge")
        assert await ready_status(wedged_node) == (200, "ready")

        loop = asyncio.get_running_loop()
        wedged_at = loop.time()
        assert proxy.wedge() >= 1  # the subscriber, and the publisher and presence clients
        states = await _watch_readiness(wedged_node, until=(200, "ready"), limit_s=timeout(30))
        detected_s = next(t for t, state in states if state != (200, "ready")) - wedged_at
        assert detected_s < 10, f"the wedge was noticed after {detected_s:.1f} s"
        assert {state for _, state in states} <= {(200, "ready"), (503, "degraded")}
        # Messages flowed meanwhile (node B's publishes missed A's dead subscription).
        await traffic.more_acks(30, "traffic after the wedge")
        await traffic.finish()
        assert all(s.log.errors == [] for s in traffic.senders)
        await traffic.check()
        assert proxy.open_connections() >= 1  # A reconnected through the proxy
        print(f"wedge detected after {detected_s:.2f} s, ready again after "
              f"{states[-1][0] - wedged_at:.2f} s")
        await traffic.close()


async def _watch_readiness(node: NodeServer, until: tuple[int, str],
                           limit_s: float) -> list[tuple[float, tuple[int, str]]]:
    """Poll /readyz until it has left `until` and come back to it; (time, state) pairs."""
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, tuple[int, str]]] = []
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        state = await ready_status(node)
        seen.append((loop.time(), state))
        if state == until and any(s != until for _, s in seen):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"readiness never left and came back to {until}: {seen[-5:]}")


async def test_a_member_removed_while_redis_is_down_is_evicted_on_every_node(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis
):
    """A removal tells the other nodes through Redis (Hub.evict); while Redis is down that
    message is lost. The sweep that brings the other node the new messages meanwhile re-checks
    who may see the private rooms first: the removed member's connection there gets `left`
    for the room and its thread and never a message sent after the removal, while the member
    who stays keeps receiving them, then and after Redis is back."""
    settings = production_private_redis()
    async with running_nodes(settings, settings) as [node_a, node_b], \
            httpx.AsyncClient(base_url=node_a.url) as http:
        ann, bob, eve = [await register(node_a.url, name) for name in ("Ann", "Bob", "Eve")]
        await node_a.node.store.set_role(ann["user"]["id"], "admin")
        as_ann = bearer(ann["token"])
        room = (await http.post("/api/v1/direct", headers=as_ann, json={
            "members": [bob["user"]["id"], eve["user"]["id"]]})).json()["room"]["id"]
        topic = (await http.post(f"/api/v1/rooms/{room}/topics", headers=as_ann,
                                 json={"title": "inner"})).json()["topic"]["id"]
        a = await WsClient.connect(node_a.ws_url, ann["token"])
        b = await WsClient.connect(node_b.ws_url, bob["token"])
        e = await WsClient.connect(node_b.ws_url, eve["token"])
        for client in (a, b, e):
            for joined in (room, topic):
                assert (await client.join(joined))["type"] == "joined"
        await a.send(room, "before", cid="m1")
        for client in (b, e):
            await client.wait_for(lambda f: f.get("body") == "before")

        private_redis.kill()
        for node in (node_a, node_b):
            await eventually(lambda node=node: _is(node, (503, "degraded")),
                             f"node {node.port} reports degraded")
        assert (await http.delete(f"/api/v1/rooms/{room}/members/{eve['user']['id']}",
                                  headers=as_ann)).status_code == 204
        after = {room: "after the removal", topic: "in the thread after the removal"}
        for where, body in after.items():
            await a.send(where, body)
        for where in after:
            left = await e.wait_for(lambda f, where=where: f["type"] == "left" and f["room"] == where)
            assert left["reason"] == "removed"
        for body in after.values():
            await b.wait_for(lambda f, body=body: f.get("body") == body)
        # Bob has both, so they were fanned out on node B: a frame for Eve would be queued
        # before the answer to her ping.
        await e.send_frame({"type": "ping"})
        await e.recv_until(lambda f: f["type"] == "pong")
        assert not [f for f in e.frames if f.get("body") in after.values()]

        await asyncio.to_thread(private_redis.start)  # same port, empty
        for node in (node_a, node_b):
            await eventually(lambda node=node: _is(node, (200, "ready")),
                             f"node {node.port} ready again", timeout(15))
        await b.send(room, "Redis is back", cid="b1")
        await a.wait_for(lambda f: f.get("body") == "Redis is back")
        await a.send(topic, "still private", cid="m4")
        await b.wait_for(lambda f: f.get("body") == "still private")
        refused = await e.join(room)
        assert refused["type"] == "error" and refused["code"] == "not_found"
        await e.send_frame({"type": "ping"})
        await e.recv_until(lambda f: f["type"] == "pong")
        assert not [f for f in e.frames if f.get("body") in {*after.values(), "Redis is back",
                                                              "still private"}]
        for client in (a, b, e):
            await client.close()


async def _is(node: NodeServer, expected: tuple[int, str]) -> bool:
    return await ready_status(node) == expected


# -- PostgreSQL ---------------------------------------------------------------------------


async def test_postgres_restart_acks_are_durable_and_resends_are_idempotent(
    make_settings: Callable[..., Settings], private_postgres: ThrowawayPostgres,
    redis_url: str, redis_prefix: str,
):
    dsn = await create_database(private_postgres.dsn, "ecolink_fault")
    # A short sweep interval, so the hub's background reads also meet the outage.
    settings = make_settings(database_url=dsn, redis_url=redis_url, redis_prefix=redis_prefix,
                             auto_migrate=True, sweep_interval_s=0.2, **FAST)
    async with running_nodes(settings, settings) as nodes:
        traffic = await Traffic(nodes).start()
        await traffic.more_acks(40, "traffic before the fault")

        # pg_ctl blocks; run it off the event loop so the nodes keep serving meanwhile.
        await asyncio.to_thread(private_postgres.stop, "fast")
        await eventually(lambda: _is(nodes[0], (503, "unavailable")), "readyz says unavailable")
        # Sends while the database is down are refused with `unavailable` and their cid
        # (the client retries them with the same cid), never acked.
        await eventually(lambda: all(s.log.error_codes()["unavailable"] >= 15
                                     for s in traffic.senders),
                         "sends refused while PostgreSQL is down")
        acked_while_down = traffic.acked()

        await asyncio.to_thread(private_postgres.start)
        await eventually(lambda: _is(nodes[0], (200, "ready")), "readyz says ready again")
        await traffic.more_acks(40, "acks after PostgreSQL is back")
        assert traffic.acked() > acked_while_down
        await traffic.finish()

        for sender in traffic.senders:
            codes = set(sender.log.error_codes())
            assert codes <= {"unavailable"}, sender.log.errors
            assert all("cid" in e for e in sender.log.errors)
            # Resend everything that was refused (or never answered) with the same cid.
            for sent in sender.log.unacked(ROOM):
                await sender.send(ROOM, sent.body, sent.cid)
            await sender.until(lambda sender=sender: sender.log.unacked(ROOM) == [],
                               "an ack for every resent cid")
        head = max(a.seq for s in traffic.senders for a in s.log.acks)
        await eventually(lambda: all(r.has_seq(ROOM, head) for r in traffic.readers),
                         f"every reader has seq {head}")
        await traffic.check()
        resent = sum(len(s.log.errors) for s in traffic.senders)
        sent = {(s.log.author_id, x.cid) for s in traffic.senders for x in s.log.sends}
        store = await stored_messages(nodes[0].node.store, [ROOM])
        # Every cid ever sent ends up stored exactly once: nothing lost, nothing doubled.
        assert {(m.author_id, m.cid) for m in store} == sent and len(store) == len(sent)
        assert resent > 0
        await traffic.close()


async def test_postgres_stopping_under_an_idle_pool_reads_as_unavailable(
    private_postgres: ThrowawayPostgres,
):
    """Every store call while PostgreSQL shuts down fails with Unavailable — the one error the
    hub retries and the transport maps to `unavailable` — never a raw driver error. (A raw one
    escaped the feed's retry: a `join` then never got its answer and the connection's frame
    loop hung.) The race is made exact: the event loop is held while the server stops, then
    turned `spins` times, so the pooled connection has read the server's FATAL notice but not
    yet its EOF when the next query starts."""
    dsn = await create_database(private_postgres.dsn, "ecolink_idle_pool")
    async with PostgresStore.open(dsn, min_size=1, max_size=1) as store:
        await store.migrate()
        calls = {
            "room_heads": lambda: store.room_heads([ROOM]),
            "messages_after": lambda: store.messages_after(ROOM, 0, 10),
            "append_batch": lambda: store.append_batch([SendRequest(ROOM, 1, "x", "c1", "b")], 0),
        }
        cases = [("room_heads", spins) for spins in range(4)]
        cases += [("messages_after", 2), ("append_batch", 2)]
        for name, spins in cases:
            await store.ping()  # one idle connection in the pool
            private_postgres.stop("fast")  # on purpose without to_thread: the loop is held
            for _ in range(spins):
                await asyncio.sleep(0)
            with pytest.raises(Unavailable):
                await calls[name]()
            await asyncio.to_thread(private_postgres.start)
            await eventually(lambda: _store_answers(store), f"the store answers after {name}")


async def _store_answers(store: PostgresStore) -> bool:
    try:
        await store.ping()
    except Unavailable:
        return False
    return True


async def _pubsub_clients(admin: aioredis.Redis, count: int) -> bool:
    return len(await admin.client_list(_type="pubsub")) >= count
