"""Presence and typing end to end: real uvicorn nodes, real WebSocket clients, both backends
(embedded: SQLite + in-process; production: PostgreSQL + Redis), several nodes, a node killed
with SIGKILL. No timing of the server is asserted: the coalescing test bounds the number of
frames by the interval and the time the client itself measured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat.config import Settings
from tests.support import services
from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

ROOM = "green-buildings"
FAST = {"presence_interval_s": 0.1, "ws_rate_per_s": 10000, "ws_rate_burst": 10000,
        "member_rate_per_s": 10000, "member_rate_burst": 10000}


class Watcher:
    """A client that keeps the presence of one room as the frames describe it."""

    def __init__(self, client: WsClient, room: str = ROOM) -> None:
        self.client = client
        self.room = room
        self.online: dict[int, str] | None = None  # None until the first full frame
        self.presence_frames: list[dict[str, Any]] = []

    def apply(self, frame: dict[str, Any]) -> None:
        if frame["type"] != "presence" or frame["room"] != self.room:
            return
        self.presence_frames.append(frame)
        came = {user["id"]: user["name"] for user in frame["online"]}
        if frame["full"]:
            assert frame["offline"] == []
            self.online = came
            return
        assert self.online is not None, "a change arrived before the snapshot"
        self.online.update(came)
        for user_id in frame["offline"]:
            self.online.pop(user_id, None)

    async def until(self, expected: set[int], wait_s: float | None = None) -> dict[int, str]:
        """Read frames until the room's online users are exactly `expected`."""
        deadline = asyncio.get_running_loop().time() + (wait_s or timeout(10))
        while self.online is None or set(self.online) != expected:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"presence is {self.online}, expected {sorted(expected)}")
            self.apply(await self.client.recv(left))
        return self.online


async def watch(node, account: dict[str, Any], room: str = ROOM, *, binary: bool = True) -> Watcher:
    client = await WsClient.connect(node.ws_url, account["token"], binary=binary)
    watcher = Watcher(client, room)
    assert (await client.join(room))["type"] == "joined"
    return watcher


def uid(account: dict[str, Any]) -> int:
    return account["user"]["id"]


async def get_presence(node, account: dict[str, Any] | None, room: str = ROOM) -> httpx.Response:
    headers = bearer(account["token"]) if account else {}
    async with httpx.AsyncClient(base_url=node.url, timeout=timeout(10)) as http:
        return await http.get(f"/api/v1/rooms/{room}/presence", headers=headers)


# -- presence on one node ----------------------------------------------------------------


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_a_joiner_gets_the_room_presence_then_sees_members_come_and_go(backend, binary):
    async with running_nodes(backend(**FAST)) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "王芳")
        a = await WsClient.connect(node.ws_url, ann["token"], binary=binary)
        assert (await a.join(ROOM))["type"] == "joined"
        # Right after `joined`: the snapshot, as this node's members were last told. Ann is in
        # it if her own arrival was written first, else she arrives in the next change.
        snapshot = await a.recv()
        assert snapshot["type"] == "presence" and snapshot["full"] is True
        assert snapshot["online"] in ([], [{"id": uid(ann), "name": "Ann"}])
        watcher = Watcher(a)
        watcher.apply(snapshot)
        await watcher.until({uid(ann)})

        b = await watch(node, bob, binary=not binary)
        assert await b.client.recv_until(lambda f: f["type"] == "presence") == {
            "type": "presence", "room": ROOM, "full": True,
            "online": [{"id": uid(ann), "name": "Ann"}], "offline": []}
        assert (await watcher.until({uid(ann), uid(bob)}))[uid(bob)] == "王芳"

        await b.client.send_frame({"type": "leave", "room": ROOM})
        await watcher.until({uid(ann)})
        assert watcher.presence_frames[-1]["offline"] == [uid(bob)]

        # A connection that simply goes away counts as leaving.
        b2 = await watch(node, bob)
        await watcher.until({uid(ann), uid(bob)})
        b2.client.ws.transport.abort()
        await watcher.until({uid(ann)})
        # One snapshot per join, then only changes.
        assert [f["full"] for f in watcher.presence_frames].count(True) == 1
        await a.close()
        await b.client.close()


async def test_a_member_online_on_two_devices_stays_online_until_both_leave(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        ann, bob, chen = [await register(node.url, n) for n in ("Ann", "Bob", "Chen")]
        watcher = await watch(node, ann)
        phone, laptop = await watch(node, bob), await watch(node, bob)
        await watcher.until({uid(ann), uid(bob)})
        await phone.client.send_frame({"type": "leave", "room": ROOM})
        # A later change proves the tick after the leave ran and Bob stayed.
        await watch(node, chen)
        assert set(await watcher.until({uid(ann), uid(bob), uid(chen)})) == {uid(ann), uid(bob), uid(chen)}
        assert all(uid(bob) not in f["offline"] for f in watcher.presence_frames)
        await laptop.client.close()
        await watcher.until({uid(ann), uid(chen)})


async def test_the_http_view_lists_who_is_online_to_those_who_may_see_the_room(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a = await watch(node, ann)
        assert (await get_presence(node, bob)).json() == {
            "room": ROOM, "online": [{"id": uid(ann), "name": "Ann"}]}
        assert (await get_presence(node, bob, "hefei")).json() == {"room": "hefei", "online": []}
        missing = await get_presence(node, bob, "no-such-room")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert (await get_presence(node, None)).status_code == 401
        bad = await get_presence(node, bob, "Not_A_Slug")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
        await a.client.close()
        async with asyncio.timeout(timeout(5)):
            while (await get_presence(node, bob)).json()["online"]:
                await asyncio.sleep(0.02)


async def test_a_burst_of_joins_and_leaves_reaches_an_observer_coalesced(backend):
    """200 joins and 200 leaves: the observer gets at most one frame per interval, and ends
    with the right state."""
    interval_s = 0.25
    async with running_nodes(backend(**{**FAST, "presence_interval_s": interval_s})) as [node]:
        observer_account = await register(node.url, "observer")
        observer = await watch(node, observer_account)
        await observer.until({uid(observer_account)})
        accounts = [await register(node.url, f"member{i}") for i in range(20)]
        clients = [await WsClient.connect(node.ws_url, account["token"])
                   for account in accounts for _device in range(2)]
        loop = asyncio.get_running_loop()
        observer.presence_frames.clear()
        started = loop.time()
        members = {uid(account) for account in accounts} | {uid(observer_account)}
        for round_no in range(5):
            for client in clients:
                await client.send_frame({"type": "join", "room": ROOM})
            if round_no == 0:  # everyone shows up at least once, however it is coalesced
                await observer.until(members)
            for client in clients:
                await client.send_frame({"type": "leave", "room": ROOM})
        for client in clients:
            left = 0
            while left < 5:
                left += (await client.recv())["type"] == "left"
        await observer.until({uid(observer_account)})
        elapsed_s = loop.time() - started
        frames = len(observer.presence_frames)
        # Frames leave at ticks at least interval_s apart, all after `started`: k frames take
        # at least (k - 1) intervals. Without coalescing there would be up to 400.
        assert 2 <= frames <= elapsed_s / interval_s + 1, (frames, elapsed_s)
        for frame in observer.presence_frames:
            assert {user["id"] for user in frame["online"]} <= members
        for client in clients:
            await client.close()
        await observer.client.close()


# -- presence across nodes ---------------------------------------------------------------


async def test_presence_spans_nodes_and_devices_on_different_nodes(production):
    async with running_nodes(production(**FAST), production(**FAST)) as [n1, n2]:
        ann, xu, bob = [await register(n1.url, name) for name in ("Ann", "Xu", "Bob")]
        on_n1, on_n2 = await watch(n1, ann), await watch(n2, xu)
        await on_n1.until({uid(ann), uid(xu)})
        await on_n2.until({uid(ann), uid(xu)})
        bob_n1, bob_n2 = await watch(n1, bob), await watch(n2, bob)
        everyone = {uid(ann), uid(xu), uid(bob)}
        await on_n1.until(everyone)
        await on_n2.until(everyone)
        for node in (n1, n2):
            listed = (await get_presence(node, ann)).json()["online"]
            assert [user["id"] for user in listed] == sorted(everyone)

        await bob_n1.client.send_frame({"type": "leave", "room": ROOM})  # still online on n2
        carl = await register(n1.url, "Carl")
        await watch(n2, carl)
        await on_n1.until(everyone | {uid(carl)})
        await on_n2.until(everyone | {uid(carl)})
        assert all(uid(bob) not in f["offline"] for f in on_n1.presence_frames + on_n2.presence_frames)

        await bob_n2.client.close()
        await on_n1.until({uid(ann), uid(xu), uid(carl)})
        await on_n2.until({uid(ann), uid(xu), uid(carl)})


async def test_a_node_that_stops_cleanly_takes_its_users_at_once(production):
    """A graceful shutdown removes the node's entries without waiting for the TTL."""
    ttl_s = 60.0  # far longer than the test waits
    settings = production(**FAST, presence_ttl_s=ttl_s)
    async with running_nodes(settings) as [staying]:
        leaving_nodes = running_nodes(production(**FAST, presence_ttl_s=ttl_s))
        [leaving] = await leaving_nodes.__aenter__()
        ann, bob = await register(staying.url, "Ann"), await register(staying.url, "Bob")
        watcher = await watch(staying, ann)
        bob_client = await watch(leaving, bob)
        await watcher.until({uid(ann), uid(bob)})
        await leaving_nodes.__aexit__(None, None, None)
        await watcher.until({uid(ann)}, wait_s=timeout(10))
        with contextlib.suppress(Exception):
            await bob_client.client.close()


@contextlib.asynccontextmanager
async def serve_process(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, subprocess.Popen]]:
    """`ecolink serve` as a child process (so it can be SIGKILLed), with the given settings."""
    port = services.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")}
    env.update({
        "ECOLINK_DATABASE_URL": settings.database_url or "",
        "ECOLINK_REDIS_URL": settings.redis_url or "",
        "ECOLINK_REDIS_PREFIX": settings.redis_prefix,
        "ECOLINK_PRESENCE_TTL_S": str(settings.presence_ttl_s),
        "ECOLINK_PRESENCE_INTERVAL_S": str(settings.presence_interval_s),
        "ECOLINK_ARGON2_PROFILE": "cheapest",
        "ECOLINK_LOG_LEVEL": "warning",
        "ECOLINK_DATA_DIR": str(tmp_path / "child-data"),
    })
    ecolink = Path(sys.executable).parent / "ecolink"
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(ecolink), "serve", "--port", str(port)], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = asyncio.get_running_loop().time() + timeout(30)
        async with httpx.AsyncClient(base_url=url, timeout=timeout(5)) as http:
            while True:
                assert proc.poll() is None, log_path.read_text(errors="replace")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                assert asyncio.get_running_loop().time() < deadline, "the child node never got ready"
                await asyncio.sleep(0.05)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


async def test_a_node_that_dies_takes_its_users_with_it_within_the_ttl(production, tmp_path):
    ttl_s = 2.0
    settings = production(**FAST, presence_ttl_s=ttl_s)
    async with running_nodes(settings) as [staying], serve_process(settings, tmp_path) as (url, proc):
        ann, bob = await register(staying.url, "Ann"), await register(staying.url, "Bob")
        watcher = await watch(staying, ann)
        doomed = await WsClient.connect(url.replace("http://", "ws://") + "/ws", bob["token"])
        assert (await doomed.join(ROOM))["type"] == "joined"
        await watcher.until({uid(ann), uid(bob)})
        # Outlive a few of the dying node's heartbeats first, so its entry is a refreshed one.
        await asyncio.sleep(ttl_s)
        assert set(watcher.online or {}) == {uid(ann), uid(bob)}
        killed_at = asyncio.get_running_loop().time()
        os.kill(proc.pid, signal.SIGKILL)  # no goodbye: only the TTL can remove Bob
        await watcher.until({uid(ann)}, wait_s=ttl_s + timeout(5))
        faded_after_s = asyncio.get_running_loop().time() - killed_at
        # Bob's entry expires at most ttl_s after the node's last heartbeat, which came before
        # the kill; the surviving node looks just after the expiry (plus one interval).
        assert faded_after_s < ttl_s + FAST["presence_interval_s"] + timeout(1), faded_after_s
        assert (await get_presence(staying, ann)).json()["online"] == [{"id": uid(ann), "name": "Ann"}]
        await watcher.client.close()


# -- typing ------------------------------------------------------------------------------


async def test_typing_reaches_the_members_throttled_and_is_never_stored(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"], binary=False)
        await a.join(ROOM)
        await b.join(ROOM)
        for _ in range(5):  # a burst of keystrokes: one indicator, the rest silently dropped
            await a.send_frame({"type": "typing", "room": ROOM})
        await a.send(ROOM, "done typing")
        # Typing and the message share the room's feed, in order: every typing frame is in
        # before the message.
        await b.recv_until(lambda f: f["type"] == "message")
        typing = [f for f in b.frames if f["type"] == "typing"]
        assert typing == [{"type": "typing", "room": ROOM, "users": [{"id": uid(ann), "name": "Ann"}]}]
        # The typer gets its own indicator too (one broadcast to every member).
        await a.recv_until(lambda f: f["type"] == "message")
        assert [f for f in a.frames if f["type"] == "typing"] == typing
        assert not [f for f in a.frames if f["type"] == "error"]
        # Nothing of it entered the room's sequence or history.
        assert [f["seq"] for f in b.messages(ROOM)] == [1]
        async with httpx.AsyncClient(base_url=node.url) as http:
            page = (await http.get(f"/api/v1/rooms/{ROOM}/messages",
                                   headers=bearer(bob["token"]))).json()
        assert [m["body"] for m in page["messages"]] == ["done typing"]
        await a.close()
        await b.close()


async def test_typing_goes_out_again_after_the_interval(backend):
    interval_s = 0.3
    async with running_nodes(backend(**FAST, typing_interval_s=interval_s)) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a, b = await watch(node, ann), await watch(node, bob)
        await a.client.send_frame({"type": "typing", "room": ROOM})
        await b.client.recv_until(lambda f: f["type"] == "typing")
        await asyncio.sleep(interval_s * 1.5)
        await a.client.send_frame({"type": "typing", "room": ROOM})
        await b.client.recv_until(lambda f: f["type"] == "typing")
        await a.client.close()
        await b.client.close()


async def test_many_typers_at_once_arrive_in_a_few_frames(backend):
    """Typing is batched per room like presence: the first indicator after a quiet spell goes
    out at once, the rest together at the next interval."""
    async with running_nodes(backend(**FAST)) as [node]:
        accounts = [await register(node.url, f"typist{i}") for i in range(10)]
        observer = await watch(node, await register(node.url, "observer"))
        typists = [await watch(node, account) for account in accounts]
        started = asyncio.get_running_loop().time()
        for typist in typists:
            await typist.client.send_frame({"type": "typing", "room": ROOM})
        seen: set[int] = set()
        frames = 0
        while seen != {uid(account) for account in accounts}:
            frame = await observer.client.recv_until(lambda f: f["type"] == "typing")
            frames += 1
            seen.update(user["id"] for user in frame["users"])
        elapsed_s = asyncio.get_running_loop().time() - started
        # As for presence: batches leave at least an interval apart (10 frames unbatched).
        assert frames <= elapsed_s / FAST["presence_interval_s"] + 1, (frames, elapsed_s)
        for client in [observer, *typists]:
            await client.client.close()


async def test_typing_crosses_nodes(production):
    async with running_nodes(production(**FAST), production(**FAST)) as [n1, n2]:
        ann, bob = await register(n1.url, "Ann"), await register(n2.url, "Bob")
        a, b = await watch(n1, ann), await watch(n2, bob)
        await a.until({uid(ann), uid(bob)})  # both nodes subscribed to the room by now
        await a.client.send_frame({"type": "typing", "room": ROOM})
        got = await b.client.recv_until(lambda f: f["type"] == "typing")
        assert got["users"] == [{"id": uid(ann), "name": "Ann"}]
        await a.client.close()
        await b.client.close()


async def test_typing_in_a_room_not_joined_is_refused_with_not_joined(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a, b = await watch(node, ann), await watch(node, bob)
        await a.client.send_frame({"type": "typing", "room": "hefei"})
        error = await a.client.recv_until(lambda f: f["type"] == "error")
        assert error["code"] == "not_joined"
        await a.client.send_frame({"type": "leave", "room": ROOM})
        await a.client.recv_until(lambda f: f["type"] == "left")
        await a.client.send_frame({"type": "typing", "room": ROOM})
        assert (await a.client.recv_until(lambda f: f["type"] == "error"))["code"] == "not_joined"
        await a.client.send(ROOM, "after")  # sending needs no join: a barrier for Bob
        await b.client.recv_until(lambda f: f["type"] == "message")
        assert not [f for f in b.client.frames if f["type"] == "typing"]
        await a.client.close()
        await b.client.close()


@pytest.mark.parametrize("frame, code", [
    ({"type": "typing"}, "invalid"),
    ({"type": "typing", "room": "Not A Room"}, "invalid"),
    ({"type": "typing", "room": 7}, "invalid"),
    ({"type": "typing", "room": "x" * 65}, "invalid"),
    ({"type": "presence", "room": ROOM}, "unknown_type"),  # presence is server → client only
])
async def test_bad_typing_and_presence_frames_get_an_error_and_change_nothing(backend, frame, code):
    async with running_nodes(backend(**FAST)) as [node]:
        ann = await register(node.url, "Ann")
        a = await watch(node, ann)
        await a.until({uid(ann)})
        await a.client.send_frame(frame)
        error = await a.client.recv_until(lambda f: f["type"] in ("error", "typing"))
        assert error["type"] == "error" and error["code"] == code
        await a.client.send_frame({"type": "ping"})
        assert (await a.client.recv_until(lambda f: f["type"] in ("pong", "error")))["type"] == "pong"
        assert (await get_presence(node, ann)).json()["online"] == [{"id": uid(ann), "name": "Ann"}]
        await a.client.close()
