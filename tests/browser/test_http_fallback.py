"""The web client behind a proxy that blocks WebSockets (as some corporate proxies do): it falls
back to long-polling over plain HTTP (web/src/poll.js; docs/protocol.md, "Long-polling
fallback"), says so in the connection badge in either language, talks both ways with a member
on a WebSocket to the other node, resumes without a hole when its polling session is gone, and
moves back to a WebSocket once the proxy lets one through. Desktop and phone."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import WsClient, register
from tests.support.history import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

FALLBACK = {"en": "Connected over HTTP (fallback)", "zh": "已通过 HTTP 连接（备用方式）"}
ROOM = "green-transport"
REFUSAL = b"WebSockets are blocked here\n"
BLOCKED = (b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n"
           b"connection: close\r\n\r\n%s" % (len(REFUSAL), REFUSAL))


class BlockingProxy:
    """A reverse proxy on 127.0.0.1 that passes plain HTTP to the node (one request per
    connection, Host unchanged so the node's Origin check sees the proxy's origin) and answers
    every WebSocket upgrade with 403 while `blocking` (else it passes the upgrade through)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.blocking = True


@contextlib.asynccontextmanager
async def blocking_proxy(upstream_port: int) -> AsyncIterator[BlockingProxy]:

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(Exception):
            writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        upgrade = any(re.match(r"(?i)upgrade:\s*websocket", line) for line in lines)
        if upgrade and proxy.blocking:
            client_writer.write(BLOCKED)
            await client_writer.drain()
            client_writer.close()
            return
        if upgrade:
            forwarded = head  # a tunnel from now on
        else:
            kept = [line for line in lines[1:] if line and not re.match(r"(?i)(connection|keep-alive):", line)]
            forwarded = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        node_reader, node_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        node_writer.write(forwarded)
        upload = asyncio.create_task(pipe(client_reader, node_writer))
        await pipe(node_reader, client_writer)
        upload.cancel()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    proxy = BlockingProxy(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    try:
        yield proxy
    finally:
        server.close()


def console_problems(member: Member) -> list[str]:
    """Console errors but the browser's own notes on what the proxy refused (the blocked
    upgrade) and on the 404 that tells the client its polling session is gone."""
    return [e for e in member.errors
            if "WebSocket" not in e and "404" not in e and "Failed to load resource" not in e]


async def bodies(member: Member) -> list[str]:
    # Once nothing of its own waits for an ack: over HTTP the others may see a message before
    # the sender's next poll brings its ack.
    await expect(member.page.locator(".messages .msg.pending")).to_have_count(0)
    return [text.strip() for text in
            await member.page.locator(".messages .msg:not(.pending) .body").all_inner_texts()]


@pytest.mark.parametrize("lang,options", [("en", {}), ("zh", PHONE)], ids=["desktop-en", "phone-zh"])
async def test_behind_a_proxy_that_blocks_websockets_the_client_polls_over_http(
        two_nodes, new_context, screenshots, lang, options):
    proxied_node, other_node = two_nodes
    async with blocking_proxy(proxied_node.port) as proxy:
        behind = await Member.open(new_context, proxy.url, lang, **options)
        await behind.register("Behind Proxy", f"proxy-{lang}@example.org")
        badge = behind.page.locator(".conn")
        await expect(badge).to_have_attribute("data-via", "http")
        await expect(badge).to_have_text(FALLBACK[lang])
        other_lang = "zh" if lang == "en" else "en"
        direct = await Member.open(new_context, other_node.url, other_lang)
        await direct.register("On WebSocket", f"direct-{lang}@example.org")
        await expect(direct.page.locator(".conn")).to_have_attribute("data-via", "ws")
        await expect(direct.page.locator(".conn")).not_to_have_text(FALLBACK[other_lang])

        for member in (behind, direct):
            await member.go(f"#/room/{ROOM}")
        await behind.send("hello over plain HTTP")
        await direct.sees("hello over plain HTTP")
        await direct.send("hello over the WebSocket")
        await behind.sees("hello over the WebSocket")
        await no_axe_violations(behind.page, f"fallback {lang}")
        await behind.screenshot(screenshots, f"http-fallback-{'phone' if options else 'desktop'}")

        # The node forgets the polling session (as after an expiry, or another node): the client
        # opens a new one and resumes the room with `since`. A bot writes meanwhile.
        polls = proxied_node.app.state.polls
        sessions = list(polls._sessions.values())
        assert len(sessions) == 1
        bot_account = await register(other_node.url, "bot")
        bot = await WsClient.connect(other_node.ws_url, bot_account["token"])
        try:
            polls.forget(sessions[0])
            for i in range(1, 6):
                await bot.send(ROOM, f"while away {i}", cid=f"away-{i}")
            await bot.recv_until(lambda f: f["type"] == "ack" and f["cid"] == "away-5")
        finally:
            await bot.close()
        await eventually(lambda: len(polls._sessions) == 1 and sessions[0].session_id not in polls._sessions,
                         "a new polling session")
        await behind.sees("while away 5")
        await behind.send("back again")
        await direct.sees("back again")
        seen = await bodies(behind)
        expected = ["hello over plain HTTP", "hello over the WebSocket",
                    *[f"while away {i}" for i in range(1, 6)], "back again"]
        assert seen == expected, seen  # no hole, no duplicate, in order
        await expect(badge).to_have_text(FALLBACK[lang])
        assert any(url.startswith("ws://") for url in direct.urls)

        # The proxy lets WebSockets through now (another network): back online, the client
        # tries one, moves to it and resumes, without a hole or a duplicate.
        proxy.blocking = False
        await behind.page.evaluate("window.dispatchEvent(new Event('online'))")
        await expect(badge).to_have_attribute("data-via", "ws")
        await expect(badge).to_have_text(behind.text["connected"])
        await direct.send("and now over the WebSocket too")
        await behind.sees("and now over the WebSocket too")
        await behind.send("switched")
        await direct.sees("switched")
        assert await bodies(behind) == [*expected, "and now over the WebSocket too", "switched"]
        await eventually(lambda: len(polls._sessions) == 0, "the polling session closed by the client")
        assert console_problems(behind) == [], behind.errors
        assert direct.errors == [], direct.errors
