"""Logging out ends the session's WebSockets too, on every node: `DELETE /api/v1/sessions`
closes each socket of that token with close code 4001 (SESSION_ENDED), while the same user's
other sessions stay open. Through the broker (the sweep is slowed down so only the broker can
do it in time), in embedded mode, and with Redis killed (then only the sweep can)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from chat.accounts.service import token_hash
from chat.config import Settings
from chat.protocol import closecodes
from tests.support.client import WsClient, bearer, register
from tests.support.history import eventually
from tests.support.nodes import NodeServer, running_nodes
from tests.support.services import ThrowawayRedis
from tests.support.timing import timeout

ROOM = "green-transport"


async def login(node: NodeServer, email: str) -> str:
    async with httpx.AsyncClient(base_url=node.url, timeout=timeout(10)) as http:
        response = await http.post("/api/v1/sessions",
                                   json={"email": email, "password": "correct horse"})
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def logout(node: NodeServer, token: str) -> None:
    async with httpx.AsyncClient(base_url=node.url, timeout=timeout(10)) as http:
        assert (await http.delete("/api/v1/sessions", headers=bearer(token))).status_code == 204
        assert (await http.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def joined(node: NodeServer, token: str) -> WsClient:
    ws = await WsClient.connect(node.ws_url, token)
    await ws.send_frame({"type": "join", "room": ROOM})
    await ws.recv_until(lambda f: f["type"] == "joined")
    return ws


async def close_code(ws: WsClient) -> int | None:
    """Read until the server closes the socket; its close code. Fails if it stays open."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv(timeout(10))
    return closed.value.rcvd.code if closed.value.rcvd else None


async def still_served(ws: WsClient, sender: WsClient, body: str) -> None:
    """The socket answers a ping and gets room messages."""
    await ws.send_frame({"type": "ping"})
    await ws.recv_until(lambda f: f["type"] == "pong")
    await sender.send_frame({"type": "send", "room": ROOM, "body": body, "cid": body})
    await ws.recv_until(lambda f: f["type"] == "message" and f["body"] == body)


async def scenario(nodes: list[NodeServer], before_logout: Callable[[], Any] | None = None) -> None:
    first, last = nodes[0], nodes[-1]
    account = await register(first.url, "leaver")
    email = account["user"]["email"]
    ended, other = account["token"], await login(first, email)
    doomed = [await joined(node, ended) for node in nodes]
    doomed.append(await joined(last, ended))  # two sockets of the session on one node
    kept = await joined(last, other)  # the same user's other session
    sender = await joined(first, (await register(first.url, "sender"))["token"])
    await still_served(doomed[-1], sender, "before")

    if before_logout is not None:
        await before_logout()
    await logout(first, ended)

    for ws in doomed:
        assert await close_code(ws) == closecodes.SESSION_ENDED
    await still_served(kept, sender, "after")
    for node in nodes:
        await eventually(lambda node=node: token_hash(ended) not in node.node.hub.sessions,
                         "the node forgot the ended session's sockets")
    for ws in (kept, sender):
        await ws.ws.close()


async def test_logout_closes_the_sessions_sockets_on_both_production_nodes(
    production: Callable[..., Settings],
) -> None:
    # A sweep once a minute: only the broker (or the node itself) can close them in time.
    settings = production(sweep_interval_s=60)
    async with running_nodes(settings, settings) as nodes:
        await scenario(nodes)


async def test_logout_closes_the_sessions_sockets_in_embedded_mode(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_nodes(make_settings(sweep_interval_s=60)) as nodes:
        await scenario(nodes)


async def test_with_redis_down_the_sweep_still_closes_them(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis
) -> None:
    settings = production_private_redis()
    async with running_nodes(settings, settings) as nodes:

        async def kill_redis() -> None:
            private_redis.kill()  # the "session ended" publish is lost
            for node in nodes:
                await eventually(lambda node=node: not node.node.broker.healthy,
                                 "the node noticed Redis is gone")

        await scenario(nodes, kill_redis)
        await asyncio.to_thread(private_redis.start)
