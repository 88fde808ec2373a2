"""Attention in headless Chromium: the unread count in the tab title, desktop notifications for
a tab in the background (asked for with a button, per-room levels, muted rooms silent), the
mute following the member to another browser, "mark read" and "mark all read", notifications
and copied links that open the room at the message, highlighted. Two members on two nodes
(production mode), one in English and one in Chinese. Headless Chromium shows no desktop
notification, so window.Notification is wrapped to record what the page asks for; the page is
put "in the background" by making document.visibilityState answer "hidden"."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import WsClient, register, send_acked

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIVE_MS = 15000  # cross-node delivery: Redis, then the notification writer, then a frame
PASSWORD = "a long secret"

# Runs before the app in every page of the context: records each Notification the page makes
# (the browser's own permission still rules), counted on <html data-notes> for expect() (the
# page's CSP refuses the eval of wait_for_function), and lets the test send the tab to the background.
HOOKS = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  class Recorded {
    constructor(title, options = {}) {
      this.title = title; this.body = options.body; this.tag = options.tag; this.onclick = null;
      window.__notes.push(this);
      document.documentElement.dataset.notes = String(window.__notes.length);  // for expect()
    }
    close() { this.closed = true; }
    static get permission() { return Real.permission; }
    static requestPermission() { return Real.requestPermission(); }
  }
  window.Notification = Recorded;
  window.__hidden = false;
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (window.__hidden ? "hidden" : "visible")});
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
})();
"""
PERMISSIONS = ["notifications", "clipboard-read", "clipboard-write"]


async def member(new_context, url: str, lang: str, name: str, email: str) -> Member:
    someone = await Member.open(new_context, url, lang, permissions=PERMISSIONS)
    await someone.context.add_init_script(HOOKS)
    await someone.register(name, email)
    await someone.page.reload()
    await someone.connected()
    return someone


async def background(someone: Member, hidden: bool) -> None:
    await someone.page.evaluate("h => { window.__hidden = h; }", hidden)


async def notes(someone: Member) -> list[dict]:
    return await someone.page.evaluate(
        "window.__notes.map(n => ({title: n.title, body: n.body, tag: n.tag}))")


def room_link(someone: Member, room: str):
    return someone.page.locator(f'.sidebar a[href="#/room/{room}"]')


async def test_desktop_notifications_title_count_and_mute_across_devices(two_nodes, new_context, screenshots):
    anna = await member(new_context, two_nodes[0].url, "en", "Anna Schmidt", "anna@example.eu")
    li = await member(new_context, two_nodes[1].url, "zh", "李华", "li@example.cn")
    await expect(anna.page).to_have_title("EcoLink chat")

    # Asked for with a press in the notifications view, never on load.
    await anna.go("#/notifications")
    switch = anna.page.get_by_role("button", name="Desktop notifications while this tab is in the background")
    await expect(switch).to_have_attribute("aria-pressed", "false")
    await switch.click()
    await expect(switch).to_have_attribute("aria-pressed", "true")
    await no_axe_violations(anna.page, "notifications with the desktop switch")
    await li.go("#/notifications")
    await expect(li.page.get_by_role("button", name="标签页在后台时显示桌面通知")).to_have_attribute(
        "aria-pressed", "false")  # Li never turned them on: he gets none

    # Anna's tab goes to the background; Li writes to her directly.
    await anna.go("#/room/water-management")
    await background(anna, True)
    await li.go("#/directory")
    await li.page.get_by_role("button", name="给 Anna Schmidt 发私信").click()
    await expect(li.page.locator("#room-title")).to_have_text("Anna Schmidt")
    direct = li.page.url.rsplit("/", 1)[1]
    await li.send("明天可以通话吗？")
    await li.sees("明天可以通话吗？")
    await expect(anna.page.locator("html")).to_have_attribute("data-notes", "1", timeout=LIVE_MS)
    [shown] = await notes(anna)
    assert shown["title"] == "李华"  # a two-person conversation is named by the other: said once
    assert shown["body"] == "明天可以通话吗？"
    await expect(anna.page).to_have_title("(1) EcoLink chat")
    assert await notes(li) == []

    # Clicking it focuses the tab and opens the room at the message, highlighted.
    await background(anna, False)
    await anna.page.evaluate("window.__notes[0].onclick()")
    await expect(anna.page).to_have_url(re.compile(rf"#/room/{direct}/message/{shown['tag']}$"))
    await expect(anna.page.locator("#room-title")).to_have_text("李华")
    await expect(anna.page.locator(f'.msg.flash[data-id="{shown["tag"]}"]')).to_have_count(1)
    await expect(anna.page).to_have_title("EcoLink chat")

    # Anna mutes the conversation: it says so in the sidebar, and no longer notifies or counts.
    notify = anna.page.get_by_label("Notify me")
    await expect(notify).to_have_value("all")  # the default in a direct conversation
    await notify.select_option("none")
    await expect(room_link(anna, direct).locator(".muted-mark")).to_have_text("muted")
    await no_axe_violations(anna.page, "a muted direct conversation")
    await anna.go("#/room/water-management")
    await background(anna, True)
    await li.send("关于柳州的有轨电车。")
    await li.sees("关于柳州的有轨电车。")
    await expect(room_link(anna, direct).locator(".badge.quiet")).to_have_text("1", timeout=LIVE_MS)
    await expect(anna.notification_badge()).to_have_text("1", timeout=LIVE_MS)  # the frame came
    assert len(await notes(anna)) == 1  # ... and made no desktop notification
    await expect(anna.page).to_have_title("EcoLink chat")  # a muted room does not count

    # The mute is on the server: Anna's other browser (the other node) shows it too.
    other = await Member.open(new_context, two_nodes[1].url, "en")
    response = await other.page.request.post(two_nodes[1].url + "/api/v1/sessions",
                                             data={"email": "anna@example.eu", "password": PASSWORD})
    assert response.ok
    await other.page.reload()
    await other.connected()
    await expect(room_link(other, direct).locator(".muted-mark")).to_have_text("muted")
    await other.go(f"#/room/{direct}")
    await expect(other.page.get_by_label("Notify me")).to_have_value("none")
    await other.page.get_by_label("Notify me").select_option("mentions")
    await expect(room_link(other, direct).locator(".muted-mark")).to_have_count(0)
    await expect(room_link(anna, direct).locator(".muted-mark")).to_have_count(0, timeout=LIVE_MS)  # live

    # Chinese, for Li: the level and the muted mark in his language.
    await li.page.get_by_label("通知我").select_option("none")
    await expect(room_link(li, direct).locator(".muted-mark")).to_have_text("免打扰")
    await li.screenshot(screenshots, "attention-muted")
    await no_axe_violations(li.page, "a muted conversation in Chinese")
    assert anna.errors == [] and li.errors == [] and other.errors == [], (anna.errors, li.errors, other.errors)


async def test_mark_read_mark_all_read_and_copied_links_open_at_the_message(two_nodes, new_context):
    anna = await member(new_context, two_nodes[0].url, "en", "Anna Schmidt", "anna@example.eu")
    li = await member(new_context, two_nodes[1].url, "zh", "李华", "li@example.cn")
    await anna.go("#/news")
    await li.go("#/news")
    bot = await register(two_nodes[1].url, "Bot")
    client = await WsClient.connect(two_nodes[1].ws_url, bot["token"])
    try:
        acks = [await send_acked(client, room, f"{room} update {n}", f"{room}{n}")
                for room, n in (("hefei", 1), ("hefei", 2), ("zhuhai", 1))]
    finally:
        await client.ws.close()
    for someone in (anna, li):
        await expect(room_link(someone, "hefei").locator(".badge")).to_have_text("2", timeout=LIVE_MS)
        await expect(room_link(someone, "zhuhai").locator(".badge")).to_have_text("1", timeout=LIVE_MS)
    await expect(anna.page).to_have_title("(3) EcoLink chat")
    await expect(li.page).to_have_title("(3) EcoLink 交流")
    await no_axe_violations(anna.page, "sidebar with mark-read buttons")

    # One room, without opening it; then all of them.
    await anna.page.get_by_role("button", name="Mark Hefei read").click()
    await expect(room_link(anna, "hefei").locator(".badge")).to_have_count(0)
    await expect(anna.page).to_have_title("(1) EcoLink chat")
    await anna.page.get_by_role("button", name="Mark all rooms read").click()
    await expect(anna.page.locator(".sidebar .badge")).to_have_count(0)
    await expect(anna.page).to_have_title("EcoLink chat")
    await expect(anna.page.get_by_role("button", name="Mark all rooms read")).to_have_count(0)
    await anna.page.reload()  # on the server, not just on screen
    await anna.connected()
    await expect(room_link(anna, "zhuhai")).to_be_visible()
    await expect(anna.page.locator(".sidebar .badge")).to_have_count(0)

    await li.page.get_by_role("button", name="将「合肥」标为已读").click()
    await expect(li.page).to_have_title("(1) EcoLink 交流")
    await li.page.get_by_role("button", name="全部聊天室标为已读").click()
    await expect(li.page).to_have_title("EcoLink 交流")
    await expect(li.page.locator(".sidebar .badge")).to_have_count(0)

    # Copy link on a message, followed in another browser: the room opens there, highlighted.
    await anna.go("#/room/hefei")
    await anna.sees("hefei update 1")
    first = anna.page.locator(".msg").filter(has_text="hefei update 1")
    await first.hover()
    await first.get_by_role("button", name="Copy link").click()
    await expect(first.get_by_role("button", name="Link copied")).to_be_visible()
    copied = await anna.page.evaluate("navigator.clipboard.readText()")
    message_id = acks[0]["id"]
    assert copied == f"{two_nodes[0].url}/#/room/hefei/message/{message_id}"
    await li.go("#" + copied.split("#", 1)[1])
    await expect(li.page.locator("#room-title")).to_have_text("合肥")
    await expect(li.page.locator(f'.msg.flash[data-id="{message_id}"]')).to_have_count(1)
    await no_axe_violations(li.page, "a message opened from its link")
    assert anna.errors == [] and li.errors == [], (anna.errors, li.errors)


async def test_on_a_phone_mark_read_and_the_notify_level_are_reachable_by_finger(two_nodes, new_context):
    li = await Member.open(new_context, two_nodes[0].url, "zh", **PHONE)
    await li.register("李华", "li@example.cn")
    bot = await register(two_nodes[1].url, "Bot")
    client = await WsClient.connect(two_nodes[1].ws_url, bot["token"])
    try:
        for n in range(2):
            await send_acked(client, "guilin", f"guilin update {n}", f"g{n}")
    finally:
        await client.ws.close()
    await li.go("#/news")
    await expect(li.page).to_have_title("(2) EcoLink 交流", timeout=LIVE_MS)
    await li.page.locator(".menu").click()  # the sidebar is a drawer on a phone
    for name in ("将「桂林」标为已读", "全部聊天室标为已读"):
        box = await li.page.get_by_role("button", name=name).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, (name, box)
    await no_axe_violations(li.page, "the drawer with mark-read buttons")
    await li.page.get_by_role("button", name="将「桂林」标为已读").click()
    await expect(li.page).to_have_title("EcoLink 交流")
    await li.go("#/room/guilin")
    level = li.page.get_by_label("通知我")
    await expect(level).to_have_value("mentions")  # the default in a city room
    box = await level.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["viewport"]["width"], box
    await level.select_option("all")
    await expect(level).to_have_value("all")
    await no_axe_violations(li.page, "a room's notify level on a phone")
    assert li.errors == [], li.errors
