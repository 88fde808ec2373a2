"""A test client: HTTP through httpx, the WebSocket through the `websockets` library, speaking
either subprotocol. It records every frame it receives."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
import msgpack
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from chat.accounts.challenge import solve
from tests.support.timing import timeout

_ids = itertools.count(1)
# One TLS context for every client made here: httpx builds (and loads the CA bundle into) a new
# one per client otherwise, ~10-50 ms of CPU each, and `call` makes a client per request (a
# test of a few hundred requests spent most of its time there). The nodes speak plain HTTP;
# the context is httpx's default, only built once.
_TLS = httpx.create_ssl_context()


async def proof(http: httpx.AsyncClient) -> dict[str, str] | None:
    """A solved registration challenge from the node `http` talks to (None if it asks none)."""
    answer = (await http.get("/api/v1/registration/challenge")).json()
    if answer["challenge"] is None:
        return None
    return {"challenge": answer["challenge"], "nonce": solve(answer["challenge"], answer["bits"])}


async def create_account(http: httpx.AsyncClient, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    """POST /api/v1/accounts with `body` and a solved challenge (unless `body` has a proof)."""
    if "proof" not in body:
        body = {**body, "proof": await proof(http)}
    return await http.post("/api/v1/accounts", json=body, **kwargs)


async def register(base_url: str, name: str | None = None) -> dict[str, Any]:
    """A fresh account; returns {user, token}."""
    n = next(_ids)
    name = name or f"user{n}"
    async with http_client(base_url) as http:
        response = await create_account(http, {
            "email": f"{name}-{n}-{id(http)}@example.test", "password": "correct horse",
            "display_name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def moderator(node: Any, name: str) -> dict[str, Any]:
    """A new member of a running node (tests/support/nodes.py), made a moderator."""
    account = await register(node.url, name)
    await node.node.profiles.set_role_by_email(account["user"]["email"], "moderator")
    return account


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a session token."""
    return {"Authorization": f"Bearer {token}"}


def http_client(base_url: str, *, wait_units: float = 10, **kwargs: Any) -> httpx.AsyncClient:
    """An HTTP client on a node that opens a connection per request: the test node's
    pre-bound socket lacks TCP_NODELAY, which costs a keep-alive request ~40 ms (Nagle +
    delayed ACK); the answers are the same."""
    return httpx.AsyncClient(base_url=base_url, timeout=timeout(wait_units), verify=_TLS,
                             limits=httpx.Limits(max_keepalive_connections=0), **kwargs)


def is_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    """A frame predicate for `WsClient.wait_for`: the frame type and the given field values."""
    return lambda f: f["type"] == kind and all(f.get(k) == v for k, v in fields.items())


async def call(node: Any, method: str, path: str, account: dict[str, Any] | None, *,
               headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    """One HTTP request to a node (tests/support/nodes.py) as `account` (what `register`
    returns; None: no credentials)."""
    headers = {**(bearer(account["token"]) if account else {}), **(headers or {})}
    async with http_client(node.url) as http:
        return await http.request(method, path, headers=headers, **kwargs)


async def login(node: Any, email: str, password: str = "correct horse", **extra: Any) -> httpx.Response:
    """POST /api/v1/sessions on a node (the password `register` gives, unless told)."""
    return await call(node, "POST", "/api/v1/sessions", None, json={"email": email, "password": password, **extra})


async def close_code(ws: WsClient) -> int | None:
    """Read until the server closes the socket; its close code (fails if it stays open)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await ws.recv(timeout(10))
    return closed.value.rcvd.code if closed.value.rcvd else None


async def sync(client: WsClient) -> None:
    """Every frame the server queued for this connection before now has arrived."""
    await client.send_frame({"type": "ping"})
    await client.recv_until(is_type("pong"))


async def send_acked(client: WsClient, room: str, body: str, cid: str, **extra: Any) -> dict[str, Any]:
    """Send a message and wait for its ack."""
    await client.send_frame({"type": "send", "room": room, "body": body, "cid": cid, **extra})
    return await client.wait_for(is_type("ack", cid=cid))


class WsClient:
    def __init__(self, ws: ClientConnection, binary: bool) -> None:
        self.ws = ws
        self.binary = binary
        self.frames: list[dict[str, Any]] = []
        self._cids = itertools.count(1)

    @classmethod
    async def connect(cls, ws_url: str, token: str | None, *, binary: bool = True,
                      headers: dict[str, str] | None = None, **kwargs: Any) -> WsClient:
        extra = dict(headers or {})
        if token:
            extra["Authorization"] = f"Bearer {token}"
        subprotocol = "ecolink.v1.msgpack" if binary else "ecolink.v1.json"
        ws = await websockets.connect(ws_url, subprotocols=[subprotocol],
                                      additional_headers=extra, open_timeout=timeout(10),
                                      **kwargs)
        return cls(ws, binary)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.ws.send(msgpack.packb(frame) if self.binary else json.dumps(frame))

    async def recv(self, wait_s: float | None = None) -> dict[str, Any]:
        data = await asyncio.wait_for(self.ws.recv(), wait_s if wait_s is not None else timeout(10))
        frame = msgpack.unpackb(data) if isinstance(data, bytes) else json.loads(data)
        self.frames.append(frame)
        return frame

    async def recv_until(self, predicate: Callable[[dict[str, Any]], bool],
                         wait_s: float | None = None) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + (wait_s or timeout(10))
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("the expected frame did not arrive")
            frame = await self.recv(left)
            if predicate(frame):
                return frame

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool],
                       wait_s: float | None = None) -> dict[str, Any]:
        """The first frame, received already or from now on, that matches."""
        for frame in self.frames:
            if predicate(frame):
                return frame
        return await self.recv_until(predicate, wait_s)

    async def join(self, room: str, since: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "room": room}
        if since is not None:
            frame["since"] = since
        await self.send_frame(frame)
        return await self.recv_until(lambda f: f["type"] in ("joined", "error"))

    async def send(self, room: str, body: str, cid: str | None = None) -> str:
        cid = cid or f"c{next(self._cids)}"
        await self.send_frame({"type": "send", "room": room, "body": body, "cid": cid})
        return cid

    def messages(self, room: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "message" and f["room"] == room]

    async def close(self) -> None:
        await self.ws.close()
