"""Abuse limits per member and per address, over real uvicorn sockets on both backends.

Reproduces the attacks: one member on several sockets multiplying the frame rate; HTTP writes
(topics listed in many rooms, direct conversations) with no limit; hundreds of sockets per
member; endless failed handshakes; replays (`join` with `since`) as cheap as a ping; mentions
flooding a victim's notifications. Each test sets a small budget and counts what passed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.support.client import WsClient, bearer, http_client, register
from tests.support.nodes import running_nodes
from tests.support.history import eventually

pytestmark = pytest.mark.asyncio

ROOM = "green-transport"
# The member's budget refills so slowly that no token comes back during a test; the
# per-connection limit is out of the way, so only the member budget can refuse.
SLOW = {"member_rate_per_s": 0.001, "ws_rate_per_s": 100_000, "ws_rate_burst": 100_000}


async def answers(ws: WsClient, cids: list[str]) -> dict[str, dict[str, Any]]:
    """The ack or error of each cid."""
    got: dict[str, dict[str, Any]] = {}
    while len(got) < len(cids):
        frame = await ws.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("cid") in cids)
        got[frame["cid"]] = frame
    return got


async def test_one_budget_for_all_of_a_members_sockets(backend):
    async with running_nodes(backend(member_rate_burst=10, **SLOW)) as [node]:
        mallory, olga = await register(node.url, "mallory"), await register(node.url, "olga")
        sockets = [await WsClient.connect(node.ws_url, mallory["token"]) for _ in range(3)]
        for n, ws in enumerate(sockets):
            for k in range(10):
                await ws.send(ROOM, f"spam {n}.{k}", cid=f"s{n}.{k}")
        results = [await answers(ws, [f"s{n}.{k}" for k in range(10)]) for n, ws in enumerate(sockets)]
        kinds = [f["type"] for got in results for f in got.values()]
        # 10 tokens for the member, not 10 per socket (each socket's own limit is far away).
        assert kinds.count("ack") == 10 and kinds.count("error") == 20
        assert {f["code"] for got in results for f in got.values() if f["type"] == "error"} == {"rate_limited"}
        # Another member's budget is their own.
        other = await WsClient.connect(node.ws_url, olga["token"])
        await other.send(ROOM, "hello", cid="o1")
        assert (await answers(other, ["o1"]))["o1"]["type"] == "ack"
        for ws in [*sockets, other]:
            await ws.close()


async def test_http_writes_spend_the_same_budget_and_get_429_with_retry_after(backend):
    async with running_nodes(backend(member_rate_burst=40, **SLOW)) as [node]:
        mallory, olga = await register(node.url, "mallory"), await register(node.url, "olga")
        async with http_client(node.url) as client:
            # A topic listed in 3 rooms costs 1 + 3 x 10 tokens: one passes, the next does not.
            topic = {"title": "buy now", "also_in": ["zhuhai", "luoyang"]}
            first = await client.post(f"/api/v1/rooms/{ROOM}/topics", json=topic, headers=bearer(mallory["token"]))
            second = await client.post(f"/api/v1/rooms/{ROOM}/topics", json=topic, headers=bearer(mallory["token"]))
            assert first.status_code == 201
            assert second.status_code == 429, second.text
            assert second.json()["error"]["code"] == "rate_limited"
            assert second.json()["error"]["retry"] is True  # the client need not know the code
            assert int(second.headers["Retry-After"]) >= 1
            # 9 tokens are left: nine messages over the WebSocket, not ten.
            ws = await WsClient.connect(node.ws_url, mallory["token"])
            for k in range(10):
                await ws.send(ROOM, f"m{k}", cid=f"m{k}")
            got = await answers(ws, [f"m{k}" for k in range(10)])
            assert [got[f"m{k}"]["type"] for k in range(10)] == ["ack"] * 9 + ["error"]
            assert (got["m9"]["code"], got["m9"]["retry"]) == ("rate_limited", True)
            # Now every write of the member is refused, cheap ones too; reads still answer.
            direct = await client.post("/api/v1/direct", json={"members": [olga["user"]["id"]]},
                                       headers=bearer(mallory["token"]))
            assert direct.status_code == 429
            read = await client.get(f"/api/v1/rooms/{ROOM}/topics", headers=bearer(mallory["token"]))
            assert read.status_code == 200 and len(read.json()["topics"]) == 1
            # Someone else writes as before.
            theirs = await client.post(f"/api/v1/rooms/{ROOM}/topics", json=topic, headers=bearer(olga["token"]))
            assert theirs.status_code == 201
            await ws.close()


async def test_sockets_per_member_are_capped(backend):
    async with running_nodes(backend(max_sockets_per_member=3)) as [node]:
        mallory, olga = await register(node.url, "mallory"), await register(node.url, "olga")
        sockets = [await WsClient.connect(node.ws_url, mallory["token"]) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await WsClient.connect(node.ws_url, mallory["token"])
        response = refused.value.response
        assert response.status_code == 429
        # The same error body and Retry-After as an HTTP route's 429 (chat/transport/errors.py).
        assert json.loads(bytes(response.body))["error"] == {
            "code": "too_many_connections", "retry": True, "retry_after": 1,
            "message": "a member may have at most 3 connections to a node; close some"}
        assert response.headers["Retry-After"] == "1"
        other = await WsClient.connect(node.ws_url, olga["token"])  # not counted against her
        await sockets.pop().close()
        for _ in range(100):  # the node sees the close a moment later
            try:
                sockets.append(await WsClient.connect(node.ws_url, mallory["token"]))
                break
            except InvalidStatus:
                continue
        assert len(sockets) == 3
        await sockets[-1].send_frame({"type": "ping"})
        assert (await sockets[-1].recv_until(lambda f: f["type"] == "pong"))["type"] == "pong"
        for ws in [*sockets, other]:
            await ws.close()


async def test_failed_handshakes_per_address_are_capped(backend):
    async with running_nodes(backend(handshake_failures_max=5)) as [node]:
        ann = await register(node.url, "ann")
        statuses = []
        for _ in range(5):
            with pytest.raises(InvalidStatus) as bad:
                await WsClient.connect(node.ws_url, "not-a-token")
            statuses.append(bad.value.response.status_code)
        assert statuses == [401] * 5
        # From now on the address is refused before its credentials are even looked at.
        with pytest.raises(InvalidStatus) as refused:
            await WsClient.connect(node.ws_url, ann["token"])
        assert refused.value.response.status_code == 429
        assert b'"rate_limited"' in refused.value.response.body
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        async with http_client(node.url) as client:  # HTTP is not affected
            assert (await client.get("/healthz")).status_code == 200


async def test_a_replay_costs_more_than_a_plain_join(backend):
    async with running_nodes(backend(member_rate_burst=300, **SLOW)) as [node]:
        seeder, mallory = await register(node.url, "seeder"), await register(node.url, "mallory")
        ws = await WsClient.connect(node.ws_url, seeder["token"])
        cids = [f"seed{k}" for k in range(200)]
        for cid in cids:
            await ws.send(ROOM, cid, cid=cid)
        assert {f["type"] for f in (await answers(ws, cids)).values()} == {"ack"}
        await ws.close()
        attacker = await WsClient.connect(node.ws_url, mallory["token"], max_queue=None)
        replays = 0
        for _ in range(100):
            answer = await attacker.join(ROOM, since=0)
            if answer["type"] == "error":
                assert answer["code"] == "rate_limited"
                break
            replays += 1
            await attacker.recv_until(lambda f: f["type"] == "message" and f["seq"] == 200)
        # Each replay of 200 entries costs 1 + 200/20 = 11 tokens: 28 fit in 300 (the last
        # one on credit), where plain joins would have had 300.
        assert replays == 28
        await attacker.close()


async def test_mentions_cost_their_sender(backend):
    async with running_nodes(backend(member_rate_burst=30, **SLOW)) as [node]:
        mallory, victim = await register(node.url, "mallory"), await register(node.url, "victim")
        ws = await WsClient.connect(node.ws_url, mallory["token"])
        cids = [f"at{k}" for k in range(10)]
        for cid in cids:
            await ws.send_frame({"type": "send", "room": ROOM, "body": "hey @victim", "cid": cid,
                                 "mentions": [victim["user"]["id"]]})
        got = await answers(ws, cids)
        # 1 + 4 tokens each: six of the ten pass.
        assert [got[cid]["type"] for cid in cids] == ["ack"] * 6 + ["error"] * 4
        async with http_client(node.url) as client:
            async def unread() -> int:
                response = await client.get("/api/v1/notifications/count", headers=bearer(victim["token"]))
                return response.json()["unread"]

            # Notifications are written just after the commit: wait for them, then count.
            async def six() -> bool:
                return await unread() >= 6

            await eventually(six, "six mention notifications")
            assert await unread() == 6
        await ws.close()
