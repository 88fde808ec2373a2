"""A send is kept until its ack: one the server has not acknowledged survives a reload or a
closed tab (kept in local storage), shows greyed meanwhile, and goes again under its original
cid on the next load, so another member gets it exactly once; a refusal then still puts the
text back into its room's box and says why. The sender's socket is routed through Playwright
(page.route_web_socket) so that its sends, or the server's acks, can be held back. In English
and Chinese, on a desktop and a 390x844 touch phone (the other member on the other)."""

from __future__ import annotations

import json
import re

import msgpack
import pytest
from playwright.async_api import BrowserContext, Route, WebSocketRoute, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT = 100  # the node's ECOLINK_MAX_BODY_CHARS here
ROOM = "green-transport"
NOT_SENT = {"en": "Not sent. The message is too long. Your text is back in the message box.",
            "zh": "未发送。消息太长。文字已放回输入框。"}


class Gate:
    """The sender's WebSocket, routed: frames pass both ways unless `sends` (the page's send
    frames are dropped: they never reach the server) or `acks` (the server's acks are dropped:
    the message is stored, but the page never hears so)."""

    def __init__(self) -> None:
        self.sends = False
        self.acks = False

    async def install(self, context: BrowserContext) -> None:
        await context.route_web_socket(re.compile(r"/ws$"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(data: str | bytes) -> None:
            if not (self.sends and kind(data) == "send"):
                server.send(data)

        def from_server(data: str | bytes) -> None:
            if not (self.acks and kind(data) == "ack"):
                ws.send(data)

        ws.on_message(from_page)
        server.on_message(from_server)


def kind(data: str | bytes) -> str | None:
    frame = msgpack.unpackb(data) if isinstance(data, bytes) else json.loads(data)
    return frame.get("type") if isinstance(frame, dict) else None


async def claim_a_higher_limit(route: Route) -> None:
    """The client is told a higher limit than the node's, so a long body leaves the page and
    the node's own refusal is what the member meets."""
    response = await route.fetch()
    doc = await response.json()
    doc["limits"]["max_body_chars"] = 10 * LIMIT
    await route.fulfill(response=response, body=json.dumps(doc))


async def stored_sends(member: Member) -> list:
    return await member.page.evaluate(
        "id => JSON.parse(localStorage.getItem(`ecolink.outbox.${id}`) || '[]')", await member.user_id())


async def reload(member: Member) -> None:
    await member.page.reload(wait_until="domcontentloaded")
    await member.connected()


def pending(member: Member, text: str):
    return member.page.locator(".messages .msg.pending", has_text=text)


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_a_send_without_its_ack_survives_a_reload_and_a_closed_tab_and_arrives_once(
        production, new_context, lang, screen):
    other_lang, other_screen = ("zh" if lang == "en" else "en"), ("desktop" if screen == "phone" else "phone")
    devices = {"desktop": {}, "phone": PHONE}
    async with running_nodes(production(max_body_chars=LIMIT)) as [node]:
        sender = await Member.open(new_context, node.url, lang, **devices[screen])
        reader = await Member.open(new_context, node.url, other_lang, **devices[other_screen])
        gate = Gate()
        await gate.install(sender.context)
        await sender.register("Anna Schmidt" if lang == "en" else "李华", f"sender-{lang}-{screen}@example.test")
        await reader.register("Bo Jensen" if other_lang == "en" else "王芳", f"reader-{lang}-{screen}@example.test")
        for member in (sender, reader):
            await member.go(f"#/room/{ROOM}")
        box = sender.page.get_by_label(sender.text["compose"])

        # 1. The send never reaches the server: it stays greyed, across a reload too.
        gate.sends = True
        await sender.send("held on its way out")
        await expect(pending(sender, "held on its way out")).to_have_count(1)
        await expect(box).to_have_value("")
        await reload(sender)
        await expect(pending(sender, "held on its way out")).to_have_count(1)
        await expect(box).to_have_value("")  # the text is in the outbox, not back in the draft
        assert [s["body"] for s in await stored_sends(sender)] == ["held on its way out"]
        await no_axe_violations(sender.page, f"a send kept over a reload, {lang} {screen}")
        # Delivery again: the next load sends it, and it arrives.
        gate.sends = False
        await reload(sender)
        await reader.sees("held on its way out")
        await sender.sees("held on its way out")
        await expect(pending(sender, "held on its way out")).to_have_count(0)
        assert await stored_sends(sender) == []

        # 2. Stored, but the ack is lost, and the tab is closed: a new tab sends it again under
        # its cid, the server acks the stored one, and nobody gets it twice.
        gate.acks = True
        await sender.send("stored, its ack lost")
        await reader.sees("stored, its ack lost")
        await sender.sees("stored, its ack lost")
        await expect(pending(sender, "stored, its ack lost")).to_have_count(1)
        [kept] = await stored_sends(sender)
        await sender.page.close()
        gate.acks = False
        page = await sender.context.new_page()
        sender = Member(sender.context, page, node.url, lang)
        await page.goto(node.url + f"/#/room/{ROOM}", wait_until="domcontentloaded")
        await sender.connected()
        box = page.get_by_label(sender.text["compose"])
        await expect(pending(sender, "stored, its ack lost")).to_have_count(0)
        assert await stored_sends(sender) == []
        await sender.send("and then one more")
        await reader.sees("and then one more")  # after any second copy, in the room's order
        await reader.sees("stored, its ack lost")  # still exactly one
        await sender.sees("stored, its ack lost")
        history = await reader.page.evaluate(f"fetch('/api/v1/rooms/{ROOM}/messages').then(r => r.json())")
        bodies = [m["body"] for m in history["messages"]]
        assert bodies == ["held on its way out", "stored, its ack lost", "and then one more"], bodies
        assert kept["cid"] and kept["room"] == ROOM

        # 3. A send the node refuses after a reload: its text goes back into its room's box,
        # with the reason, and leaves the outbox.
        await sender.context.route("**/api/v1/sessions", claim_a_higher_limit)
        await reload(sender)
        gate.sends = True
        await sender.send("x" * (LIMIT + 1))
        await expect(pending(sender, "x" * (LIMIT + 1))).to_have_count(1)
        await reload(sender)
        await expect(pending(sender, "x" * (LIMIT + 1))).to_have_count(1)
        gate.sends = False
        await reload(sender)
        await expect(sender.page.get_by_role("alert")).to_contain_text(NOT_SENT[lang], timeout=15000)
        await expect(box).to_have_value("x" * (LIMIT + 1))
        await expect(pending(sender, "x" * (LIMIT + 1))).to_have_count(0)
        assert await stored_sends(sender) == []
        await no_axe_violations(sender.page, f"a kept send refused after a reload, {lang} {screen}")
        await expect(reader.page.locator(".messages .msg")).to_have_count(3)
        assert sender.errors == [] and reader.errors == [], (sender.errors, reader.errors)
