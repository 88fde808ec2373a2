"""Registration's challenge and blocking in Chromium, in both languages: the registration form
solves the challenge in a Web Worker; a member blocks another from a message's actions, the
blocked member's messages in a shared room collapse ("show" opens one), and the profile card
unblocks them; axe checks and screenshots."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.models import User
from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import register
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "clean-energy"
TEXT = {
    "en": {"block": "Block Pushy", "collapsed": "Message from a member you blocked", "show": "Show",
           "hide": "Hide again", "unblock_name": "Unblock {name}", "close": "Close"},
    "zh": {"block": "屏蔽 Pushy", "collapsed": "来自你已屏蔽成员的消息", "show": "显示",
           "hide": "再次隐藏", "unblock_name": "取消屏蔽 {name}", "close": "关闭"},
}


async def write(node, account: dict, body: str, cid: str) -> None:
    user = await node.node.accounts.authenticate(account["token"])
    assert isinstance(user, User)
    await node.node.rooms.send(user, ROOM, cid, body)


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_register_with_the_challenge_then_block_collapse_show_and_unblock(
        production, new_context, screenshots, lang, screen):
    text = TEXT[lang]
    async with running_nodes(production(registration_pow_bits=10)) as [node]:
        viewer = await Member.open(new_context, node.url, lang, **(PHONE if screen == "phone" else {}))
        workers: list[str] = []
        viewer.page.on("worker", lambda worker: workers.append(worker.url))
        await viewer.register("Viewer", f"viewer-{lang}-{screen}@example.test")
        assert any(url.split("?")[0].endswith("/src/workers/pow.js") for url in workers), workers
        pusher = await register(node.url, "Pushy")
        friend = await register(node.url, "Friendly")
        await write(node, pusher, "Buy my solar panels, best prices", "p1")
        await write(node, friend, "Anyone measured the heat pumps in winter?", "f1")

        await viewer.go(f"#/room/{ROOM}")
        page = viewer.page
        pushed = page.locator(".messages .msg", has_text="Buy my solar panels")
        await expect(pushed).to_be_visible()
        if screen == "phone":
            await pushed.focus()  # the keyboard opens a message's tools (a hold does too)
            await pushed.press("Enter")
        else:
            await pushed.hover()
        await pushed.get_by_role("button", name=text["block"], exact=True).click()

        collapsed = page.locator(".messages .msg.blocked-msg")
        await expect(collapsed).to_have_count(1)
        await expect(collapsed).to_contain_text(text["collapsed"])
        await expect(page.locator(".messages")).not_to_contain_text("Buy my solar panels")
        await expect(page.locator(".messages")).to_contain_text("Anyone measured the heat pumps")
        await no_axe_violations(page, f"a blocked member's message collapsed, {lang} {screen}")
        await viewer.screenshot(screenshots, f"blocked-message-{screen}")

        # New messages of theirs arrive collapsed too; "show" opens one, "hide again" closes it.
        # A phone's message tools can leave the list above its live end: back to it first.
        jump = page.locator(".jump-latest")
        if await jump.is_visible():
            await jump.click()
        await write(node, pusher, "Second offer, even cheaper", "p2")
        await expect(collapsed).to_have_count(2)
        await collapsed.first.get_by_role("button", name=text["show"]).click()
        await expect(page.locator(".messages")).to_contain_text("Buy my solar panels")
        await expect(collapsed).to_have_count(1)
        shown = page.locator(".messages .msg", has_text="Buy my solar panels")
        if screen == "phone":
            await shown.focus()
            await shown.press("Enter")
        else:
            await shown.hover()
        await shown.get_by_role("button", name=text["hide"]).click()
        await expect(collapsed).to_have_count(2)

        # The profile card, from the directory, unblocks; the server agrees.
        await viewer.go("#/directory")
        await page.get_by_role("button", name="Pushy", exact=True).first.click()
        card = page.locator("dialog.profile-card")
        await expect(card).to_be_visible()
        await no_axe_violations(page, f"the profile card of a blocked member, {lang} {screen}")
        await viewer.screenshot(screenshots, f"blocked-card-{screen}")
        await card.get_by_role("button", name=text["unblock_name"].format(name="Pushy")).click()
        await expect(card.get_by_role("button", name=text["unblock_name"].format(name="Pushy"))).to_have_count(0)
        await card.get_by_role("button", name=text["close"]).click()
        blocks = await page.evaluate("fetch('/api/v1/me/blocks').then(r => r.json())")
        assert blocks["blocked"] == []
        await viewer.go(f"#/room/{ROOM}")
        await expect(page.locator(".messages .msg.blocked-msg")).to_have_count(0)
        await expect(page.locator(".messages")).to_contain_text("Second offer, even cheaper")
        assert not viewer.foreign_urls()
