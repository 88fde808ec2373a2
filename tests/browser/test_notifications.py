"""Notifications and the composer's mention list in headless Chromium: two members in two
browser contexts, each on its own node (production mode: PostgreSQL + Redis), one in English
and one in Chinese. Every wait is Playwright's `expect`; nothing is timed."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.helpers import Member, no_axe_violations, two_members
from tests.support.client import WsClient, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIVE_MS = 15000  # cross-node delivery: Redis, then the notification writer, then a frame


async def test_mention_picked_from_the_list_notifies_across_nodes_and_is_read_on_following(
        two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    chen = (await register(two_nodes[0].url, "Chen"))["user"]  # never connected: in the directory only
    await anna.go("#/notifications")
    await expect(anna.page.locator(".notes-empty")).to_have_text("No notifications yet.")
    await expect(anna.notification_badge()).to_have_count(0)

    # Li, in a sector room, types "@An": Anna is offered, from presence and the directory
    await li.go("#/room/green-transport")
    await expect(li.page.locator("#room-title")).to_have_text("绿色交通")
    composer = li.page.get_by_label(li.text["compose"])
    await composer.press_sequentially("请看 @An")
    options = li.mention_options()
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("Anna Schmidt")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await expect(composer).to_have_attribute("aria-controls", "mention-list")
    await expect(composer).to_have_attribute("aria-activedescendant", re.compile(r"^mention-\d+$"))
    # an Enter that ends an input method's composition neither picks nor sends
    await composer.dispatch_event("keydown", {"key": "Enter", "isComposing": True, "bubbles": True})
    await expect(composer).to_have_value("请看 @An")
    await expect(options).to_have_count(1)
    # Escape closes the list, and it stays closed for this "@"; a new "@" opens it again
    await composer.press("Escape")
    await expect(options).to_have_count(0)
    await expect(composer).not_to_have_attribute("aria-activedescendant", re.compile(".+"))
    await composer.press_sequentially("n")
    await expect(options).to_have_count(0)
    for _ in range(4):
        await composer.press("Backspace")
    await expect(composer).to_have_value("请看 ")
    await composer.press_sequentially("@An")
    await expect(options).to_have_count(1)
    await composer.press("ArrowDown")
    await composer.press("ArrowUp")
    await composer.press("Enter")  # picks, does not send
    await expect(composer).to_have_value("请看 @Anna Schmidt ")
    await expect(options).to_have_count(0)
    # Chen is not online here: offered from the directory, picked with Tab
    await composer.press_sequentially("和 @Che")
    await expect(options).to_have_count(1)
    await expect(options.first.locator(".name")).to_have_text("Chen")  # after its avatar
    await composer.press("Tab")
    await expect(composer).to_have_value("请看 @Anna Schmidt 和 @Chen ")
    await expect(composer).to_be_focused()
    await composer.press_sequentially("交通数据在这里")
    await composer.press("Enter")
    body = "请看 @Anna Schmidt 和 @Chen 交通数据在这里"
    await li.sees(body)
    await expect(li.page.locator(".messages .msg")).to_have_count(1)
    sent = await li.page.evaluate("fetch('/api/v1/rooms/green-transport/messages').then(r => r.json())")
    assert sorted(sent["messages"][0]["mentions"]) == sorted([await anna.user_id(), chen["id"]])

    # Anna (another node, another view) gets it live
    badge = anna.notification_badge()
    await expect(badge).to_have_text("1", timeout=LIVE_MS)
    await expect(badge).to_have_attribute("aria-label", "1 unread")
    note = anna.page.locator(".note")
    await expect(note).to_have_count(1)
    await expect(note).to_have_class(re.compile(r"\bunread\b"))
    await expect(note.locator(".note-kind")).to_have_text("Mention")
    await expect(note.locator(".note-new")).to_have_text("Unread")
    await expect(note.get_by_role("link")).to_have_text("李华 mentioned you in Green Transport")
    await expect(note.locator(".note-excerpt")).to_have_text(body)

    # Li waits in his notifications; Anna follows hers: the room opens and her badge clears
    await li.go("#/notifications")
    await expect(li.page.locator(".notes-empty")).to_have_text("还没有通知。")
    await note.get_by_role("link").click()
    await expect(anna.page.locator("#room-title")).to_have_text("Green Transport")
    await anna.sees(body)
    await expect(badge).to_have_count(0)

    # Anna mentions Li: "@李" (Chinese), picked with the mouse
    composer = anna.page.get_by_label(anna.text["compose"])
    await composer.press_sequentially("@李")
    await anna.mention_options().filter(has_text="李华").click()
    await expect(composer).to_have_value("@李华 ")
    await expect(composer).to_be_focused()
    await composer.press_sequentially("the tram figures are attached")
    await composer.press("Enter")
    await anna.sees("@李华 the tram figures are attached")

    await expect(li.notification_badge()).to_have_text("1", timeout=LIVE_MS)
    await expect(li.notification_badge()).to_have_attribute("aria-label", "1 条未读")
    li_note = li.page.locator(".note")
    await expect(li_note).to_have_count(1)
    await expect(li_note.locator(".note-kind")).to_have_text("提及")
    await expect(li_note.locator(".note-new")).to_have_text("未读")
    await expect(li_note.get_by_role("link")).to_have_text("Anna Schmidt 在「绿色交通」中提到了你")
    await li.screenshot(screenshots, "notifications")
    await no_axe_violations(li.page)

    # Anna's own list in English: read now, and it stays so after a reload
    await anna.go("#/notifications")
    await expect(anna.page.locator(".note")).to_have_count(1)
    await expect(anna.page.locator(".note.unread")).to_have_count(0)
    await anna.page.reload()
    await anna.connected()
    await expect(anna.page.locator(".note")).to_have_count(1)
    await expect(anna.page.locator(".note.unread")).to_have_count(0)
    await expect(anna.notification_badge()).to_have_count(0)


async def test_direct_messages_notify_and_mark_all_read_reaches_every_connection(
        two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    # Anna's second connection, on the other node (the session cookie is the same)
    other = await anna.context.new_page()
    await other.goto(two_nodes[1].url + "/#/news", wait_until="domcontentloaded")
    await expect(other.locator(".conn")).to_have_attribute("data-state", "online", timeout=15000)
    other_badge = other.locator('.sidebar a[href="#/notifications"] .badge')

    await anna.go("#/room/water-management")  # in a room, but not the direct one
    await li.go("#/directory")
    await li.page.get_by_role("button", name="给 Anna Schmidt 发私信").click()
    await expect(li.page.locator("#room-title")).to_have_text("Anna Schmidt")
    await li.send("明天可以通话吗？")
    await li.sees("明天可以通话吗？")
    await li.send("关于柳州的有轨电车。")
    await li.sees("关于柳州的有轨电车。")

    await expect(anna.notification_badge()).to_have_text("2", timeout=LIVE_MS)
    await expect(other_badge).to_have_text("2", timeout=LIVE_MS)
    await anna.go("#/notifications")
    notes = anna.page.locator(".note")
    await expect(notes).to_have_count(2)
    await expect(notes.locator(".note-kind")).to_have_text(["Direct message", "Direct message"])
    await expect(notes.first.get_by_role("link")).to_have_text("李华 sent you a direct message")
    await expect(notes.locator(".note-excerpt")).to_have_text(["关于柳州的有轨电车。", "明天可以通话吗？"])  # newest first
    await expect(anna.page.locator(".note.unread")).to_have_count(2)
    await anna.screenshot(screenshots, "notifications")
    await no_axe_violations(anna.page)

    await anna.page.get_by_role("button", name="Mark all as read").click()
    await expect(anna.notification_badge()).to_have_count(0)
    await expect(anna.page.locator(".note.unread")).to_have_count(0)
    await expect(anna.page.get_by_role("button", name="Mark all as read")).to_have_count(0)
    await expect(other_badge).to_have_count(0, timeout=LIVE_MS)  # through the live frame
    assert anna.errors == [] and li.errors == [], (anna.errors, li.errors)


async def test_older_notifications_come_page_by_page(two_nodes, new_context):
    anna = await Member.open(new_context, two_nodes[0].url, "en")
    await anna.register("Anna Schmidt", "anna@example.eu")
    bot_token = (await register(two_nodes[1].url, "Bot"))["token"]
    async with httpx.AsyncClient(base_url=two_nodes[1].url,
                                 headers={"Authorization": f"Bearer {bot_token}"}) as http:
        response = await http.post("/api/v1/direct", json={"members": [await anna.user_id()]})
        assert response.status_code == 201, response.text
        room = response.json()["room"]["id"]
    bot = await WsClient.connect(two_nodes[1].ws_url, bot_token)
    try:
        for n in range(1, 33):  # 32 messages, 32 notifications: more than one page (30)
            await bot.send_frame({"type": "send", "room": room, "body": f"note {n}", "cid": f"n{n}"})
            await asyncio.sleep(1 / 40)  # under the per-connection rate limit (50/s)
        await bot.recv_until(lambda f: f.get("type") == "ack" and f.get("cid") == "n32")
    finally:
        await bot.ws.close()
    await expect(anna.notification_badge()).to_have_text("32", timeout=LIVE_MS)

    await anna.go("#/notifications")
    notes = anna.page.locator(".note")
    await expect(notes).to_have_count(30)
    await expect(notes.first.locator(".note-excerpt")).to_have_text("note 32")
    await anna.page.get_by_role("button", name="Show older").click()
    await expect(notes).to_have_count(32)
    await expect(notes.last.locator(".note-excerpt")).to_have_text("note 1")
    await expect(anna.page.get_by_role("button", name="Show older")).to_have_count(0)
    await expect(notes.nth(30).get_by_role("link")).to_be_focused()  # the button is gone: focus moved on

    # opening the conversation marks its notifications read, all 32 (two pages)
    await notes.nth(5).get_by_role("link").click()
    await anna.sees("note 32")
    await expect(anna.notification_badge()).to_have_count(0, timeout=LIVE_MS)
