"""A long-polling client for the tests (docs/protocol.md, "Long-polling fallback"): a Peer
(tests/support/history.py) whose frames go over POST /api/v1/poll/{session} and come back from
GET /api/v1/poll/{session}?after=N, so the same history checks apply to it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from tests.support.client import bearer, http_client
from tests.support.history import ClientLog, Peer

GONE = "poll_session_gone"


class PollTransport:
    """What a Peer needs of its client: `frames` received and `send_frame`."""

    def __init__(self, base_url: str, token: str, session: str, wait_s: float) -> None:
        self.base_url = base_url
        self.token = token
        self.session = session
        self.wait_s = wait_s
        self.frames: list[dict[str, Any]] = []
        self.last = 0  # the number of the last frame received

    @property
    def path(self) -> str:
        return f"/api/v1/poll/{self.session}"

    def http(self) -> httpx.AsyncClient:
        return http_client(self.base_url, wait_units=self.wait_s + 10, headers=bearer(self.token))

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.post([frame])

    async def post(self, frames: list[Any]) -> httpx.Response:
        async with self.http() as http:
            response = await http.post(self.path, json=frames)
        assert response.status_code == 202, response.text
        return response

    async def get(self, after: int) -> httpx.Response:
        async with self.http() as http:
            return await http.get(self.path, params={"after": after})


async def open_session(base_url: str, token: str) -> dict[str, Any]:
    async with http_client(base_url, headers=bearer(token)) as http:
        response = await http.post("/api/v1/poll")
    assert response.status_code == 201, response.text
    return response.json()


class PollPeer(Peer):
    """A Peer on a polling session. `close_code` is the session's close code once it ended;
    `gone` is set when the node answered `poll_session_gone`."""

    client: PollTransport  # type: ignore[assignment]

    def __init__(self, client: PollTransport, log: ClientLog) -> None:
        self.gone = False
        super().__init__(client, log)  # type: ignore[arg-type]

    @classmethod
    async def open(cls, base_url: str, account: dict[str, Any],  # type: ignore[override]
                   log: ClientLog | None = None) -> PollPeer:
        if log is None:
            log = ClientLog(account["user"]["name"], account["user"]["id"])
        opened = await open_session(base_url, account["token"])
        assert opened["protocol"] == "ecolink.v1.json"
        return cls(PollTransport(base_url, account["token"], opened["session"], opened["wait_s"]), log)

    async def _read_forever(self) -> None:
        client = self.client
        try:
            while True:
                try:
                    response = await client.get(client.last)
                except httpx.TransportError:
                    self.gone = True  # the node went away
                    return
                if response.status_code == 404 and response.json()["error"]["code"] == GONE:
                    self.gone = True
                    return
                assert response.status_code == 200, response.text
                answer = response.json()
                assert answer["last"] == client.last + len(answer["frames"])
                for frame in answer["frames"]:
                    client.frames.append(frame)
                    self.log.received(frame)
                client.last = answer["last"]
                self._changed.set()
                if "closed" in answer:
                    self.close_code = answer["closed"]["code"]
                    return
        finally:
            self.closed.set()
            self._changed.set()

    async def close(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            async with self.client.http() as http:
                await http.delete(self.client.path)
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._pump
