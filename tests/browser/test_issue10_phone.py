"""The message tools on a 390 x 844 touch phone, in both languages, each behind a touch-and-hold
as a finger reaches them: reply with a quote, copy a link that opens the message highlighted,
the emoji picker, Delete asking first, a topic started from a message with its form in view
("1 reply" in the side panel); the room as read on a phone (the drawer's unread count until
read, day line, grouping, a bare URL as a link to a new tab without an opener, a long word
wrapping, a modest heading, muted from its header); the author's profile card with the city's
local time and Message, and Leave asking first. axe on every view. The desktop and the
keyboard have theirs in test_composer.py, test_people.py, test_message_list.py and
test_attention.py; docs/client-tests.md lists which test proves what."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.browser.test_phone import no_horizontal_overflow, no_small_targets
from tests.support.client import call, http_client, create_account
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "water-management"
URL = "https://example.org/sponge-city/plan?year=2025"
WORDS = {
    "en": {"title": "Water Management", "today": "Today", "reply": "Reply", "copy": "Copy link",
           "copied": "Link copied", "more": "More reactions", "pick": "Pick a reaction", "react": "React {}",
           "delete": "Delete", "delete_title": "Delete this message?", "cancel": "Cancel", "deleted": "This message was deleted.",
           "from": "Start a topic from this", "topic_title": "Topic title", "zone": "Berlin time",
           "message": "Message", "leave": "Leave conversation", "leave_title": "Leave this conversation?",
           "city": "City", "notify": "Notify me", "muted": "muted", "side": "Topics and news",
           "back": "Back to the conversation", "one_reply": "1 reply", "create": "Start topic"},
    "zh": {"title": "水资源管理", "today": "今天", "reply": "回复", "copy": "复制链接",
           "copied": "链接已复制", "more": "更多表情", "pick": "选择表情回应", "react": "回应 {}",
           "delete": "删除", "delete_title": "删除这条消息？", "cancel": "取消", "deleted": "此消息已删除。",
           "from": "就此发起话题", "topic_title": "话题标题", "zone": "柏林时间",
           "message": "发私信", "leave": "退出对话", "leave_title": "退出这个对话？", "city": "城市",
           "notify": "通知我", "muted": "免打扰", "side": "话题与新闻", "back": "返回对话", "one_reply": "1 条回复",
           "create": "发起"},
}
AUTHOR = "Jonas Weber"  # in Berlin, at the city's water board


async def author(node: NodeServer) -> dict:
    """Another member, writing from the server side: a profile with a city and a time zone."""
    async with http_client(node.url) as http:
        response = await create_account(http, {
            "email": "jonas@example.de", "password": "a long secret", "display_name": AUTHOR})
    assert response.status_code == 201, response.text
    account = response.json()
    response = await call(node, "PATCH", "/api/v1/me/profile", account, json={
        "organisation": "Berliner Wasserbetriebe", "city": "Berlin", "time_zone": "Europe/Berlin"})
    assert response.status_code == 200, response.text
    return account


async def write(node: NodeServer, account: dict, bodies: list[str], room: str = ROOM) -> None:
    user = await node.node.accounts.authenticate(account["token"])
    for n, body in enumerate(bodies):  # one by one: the order written here is the room's
        await node.node.rooms.send(user, room, f"w{n}-{len(body)}", body)


def message(page: Page, text: str):
    return page.locator(".messages .msg[data-id]", has_text=text).last


async def tools_of(page: Page, text: str, tool: str, on: str = ".body"):
    """The message's tool, shown by a touch-and-hold on the message (hidden before): by
    default with a finger on the first letter of its text (on no link: a link's long press is
    the browser's)."""
    row = message(page, text)
    button = row.get_by_role("button", name=tool, exact=True)
    await expect(button).to_be_hidden()
    await row.scroll_into_view_if_needed()
    box = await row.locator(on).first.bounding_box()
    point = {"x": box["x"] + min(4, box["width"] / 2), "y": box["y"] + min(8, box["height"] / 2)}
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    try:
        await expect(button).to_be_visible(timeout=10000)
    finally:
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        await cdp.detach()
    return button


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_message_tools_by_touch_and_hold_and_the_room_as_read_on_a_phone(
        make_settings, new_context, screenshots, lang):
    words = WORDS[lang]
    async with running_nodes(make_settings()) as [node]:
        other = await author(node)
        await write(node, other, ["Sponge city pilots: 30 so far", f"The plan: {URL}", "# Rain gardens",
                                  "Drainpipe" + "x" * 300])
        me = await Member.open(new_context, node.url, lang, permissions=["clipboard-read", "clipboard-write"],
                               **PHONE)
        await me.register("Mei Wong" if lang == "en" else "王梅", f"phone-tools-{lang}@example.test")
        page = me.page
        # Unread, in the drawer: the count stays until the messages were on screen.
        badge = page.locator(f'.sidebar a[href="#/room/{ROOM}"] .badge')
        await page.locator("button.menu").tap()
        await expect(badge).to_have_text("4")
        await page.keyboard.press("Escape")
        await expect(page.locator(".sidebar")).to_have_count(0)
        await me.go(f"#/room/{ROOM}")
        await expect(page.locator("#room-title")).to_have_text(words["title"])
        await expect(message(page, "Drainpipe")).to_be_in_viewport()

        # Read on a phone: one day line, the author's four messages under one name, the bare URL
        # a link to a new tab without an opener, the long word wrapped, the heading modest.
        await expect(page.locator(".messages .day")).to_have_text([words["today"]])
        grouped = await page.locator(".messages .msg[data-id]").evaluate_all(
            "rows => rows.map((r) => r.classList.contains('grouped'))")
        assert grouped == [False, True, True, True], grouped
        link = page.locator(".messages .msg .body a", has_text=URL)
        await expect(link).to_have_attribute("href", URL)
        await expect(link).to_have_attribute("target", "_blank")
        await expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
        await no_horizontal_overflow(page, "a long word")
        wide = await page.evaluate("""() => {
          const list = document.querySelector('.messages');
          return {list: list.clientWidth, scroll: list.scrollWidth};
        }""")
        assert wide["scroll"] <= wide["list"], wide
        heading = await page.evaluate("""() => {
          const h = document.querySelector('.messages .msg .body .md-h1, .messages .msg .body h1');
          return [parseFloat(getComputedStyle(h).fontSize), parseFloat(getComputedStyle(document.body).fontSize)];
        }""")
        assert heading[0] <= 1.3 * heading[1], heading
        await no_axe_violations(page, f"room read on a phone {lang}")
        # read: no count in the drawer any more
        await page.locator("button.menu").tap()
        await expect(page.locator(".sidebar")).to_be_visible()
        await expect(badge).to_have_count(0)
        await page.keyboard.press("Escape")
        await expect(page.locator(".sidebar")).to_have_count(0)

        # Reply: a touch-and-hold shows the tools; Reply puts a quote in the box, which is
        # full width; the reply shows the quote.
        # held on the author's name, the tools show and lifting the finger opens no card
        reply = await tools_of(page, "Sponge city pilots", words["reply"], on=".meta .person")
        await no_small_targets(page, f"message tools {lang}")
        await me.screenshot(screenshots, "tools-phone")
        await reply.tap()
        await expect(page.get_by_role("dialog", name=AUTHOR)).to_be_hidden()  # events come in order: no click came before this tap
        box = page.get_by_label(me.text["compose"])
        await expect(box).to_have_value(re.compile(rf"^> \[{AUTHOR}\]\(#/room/{ROOM}/message/[^)]+\): Sponge city pilots: 30 so far\n\n$"))
        assert (await box.bounding_box())["width"] >= 300
        await box.press("End")
        await box.press_sequentially("Guilin has 12" if lang == "en" else "桂林有 12 个")
        await me.screenshot(screenshots, "reply-phone")
        await box.press("Enter")
        mine = message(page, "Guilin has 12" if lang == "en" else "桂林有 12 个")
        await expect(mine.locator("blockquote")).to_contain_text(f"{AUTHOR}: Sponge city pilots: 30 so far")
        await expect(mine).not_to_have_class(re.compile(r"\bpending\b"))
        await no_axe_violations(page, f"a reply on a phone {lang}")

        # Muted from the room's header: the drawer says so.
        await page.get_by_label(words["notify"]).select_option("none")
        await page.locator("button.menu").tap()
        await expect(page.locator(f'.sidebar a[href="#/room/{ROOM}"] .muted-mark')).to_have_text(words["muted"])
        await page.keyboard.press("Escape")
        await expect(page.locator(".sidebar")).to_have_count(0)

        # The emoji picker: one of its reactions, tapped, is on the message.
        more = await tools_of(page, "Rain gardens", words["more"])
        await more.tap()
        grid = page.get_by_role("group", name=words["pick"])
        await expect(grid).to_be_visible()
        await no_small_targets(page, f"emoji picker {lang}")
        await no_axe_violations(page, f"emoji picker on a phone {lang}")
        await grid.get_by_role("button", name=words["react"].format("🤝")).tap()
        await expect(grid).to_have_count(0)
        await expect(message(page, "Rain gardens").get_by_role("button", name=words["react"].format("🤝"))).to_have_text("🤝 1")

        # Copy link: the link opens the room at the message, highlighted.
        copy = await tools_of(page, "The plan", words["copy"])
        await copy.tap()
        await expect(message(page, "The plan").get_by_role("button", name=words["copied"])).to_be_visible()
        copied = await page.evaluate("navigator.clipboard.readText()")
        target = await message(page, "The plan").get_attribute("data-id")
        assert copied == f"{node.url}/#/room/{ROOM}/message/{target}", copied
        await me.go("#/news")
        await expect(page.locator("#room-title")).to_have_count(0)
        await me.go("#" + copied.split("#", 1)[1])
        await expect(page.locator(f'.msg.flash[data-id="{target}"]')).to_be_in_viewport()

        # Delete asks first, in a dialog a finger can use: Cancel keeps the message.
        delete = await tools_of(page, "Guilin has 12" if lang == "en" else "桂林有 12 个", words["delete"])
        await delete.tap()
        dialog = page.get_by_role("alertdialog", name=words["delete_title"])
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("button", name=words["cancel"])).to_be_focused()
        await no_small_targets(page, f"confirm delete {lang}")
        await no_axe_violations(page, f"confirm delete on a phone {lang}")
        await dialog.get_by_role("button", name=words["cancel"]).tap()
        await expect(dialog).to_have_count(0)
        await expect(page.locator(".messages .msg .deleted")).to_have_count(0)
        await delete.tap()  # the tools stay shown until another touch-and-hold
        await dialog.get_by_role("button", name=words["delete"]).tap()
        await expect(page.locator(".messages .msg .deleted")).to_have_text([words["deleted"]])

        # A topic from the latest message: its form in view, the title ready to type.
        start = await tools_of(page, "Drainpipe", words["from"])
        await start.tap()
        title = page.get_by_label(words["topic_title"]).last
        await expect(title).to_be_focused()
        await expect(title).to_be_in_viewport()
        await no_axe_violations(page, f"topic from a message on a phone {lang}")
        await title.fill("Drainpipes" if lang == "en" else "排水管")
        await title.press("Enter")
        await expect(page.locator("#room-title")).to_have_text("Drainpipes" if lang == "en" else "排水管")
        topic = (await page.evaluate("location.hash")).removeprefix("#/room/")
        await write(node, other, ["Ours are 30 years old"], room=topic)
        await me.sees("Ours are 30 years old")
        await me.go(f"#/room/{ROOM}")

        # The author's card: organisation, city, local time by city name, and Message, which
        # opens a direct conversation showing the local time too.
        await page.reload(wait_until="domcontentloaded")
        await me.connected()
        # The topic, in the side panel behind its button: "1 reply" ("1 条回复").
        await page.get_by_role("button", name=words["side"]).tap()
        await expect(page.locator(".side .threads li", has_text="Drainpipes" if lang == "en" else "排水管")).to_contain_text(
            words["one_reply"])
        await page.get_by_role("button", name=words["back"]).tap()
        await message(page, "Sponge city pilots").locator(".meta").get_by_role("button", name=AUTHOR).tap()
        card = page.get_by_role("dialog", name=AUTHOR)
        await expect(card).to_contain_text("Berliner Wasserbetriebe")
        await expect(card.locator("dt", has_text=words["city"])).to_have_count(1)
        await expect(card).to_contain_text(words["zone"])
        await expect(card).not_to_contain_text("Europe/Berlin")
        await no_axe_violations(page, f"profile card with a local time on a phone {lang}")
        await card.get_by_role("button", name=words["message"], exact=True).tap()
        await expect(page.locator("#room-title")).to_have_text(AUTHOR)
        await expect(page.locator(".their-time")).to_contain_text(words["zone"])
        await no_horizontal_overflow(page, "direct conversation")
        await no_small_targets(page, f"direct conversation {lang}")

        # Leave asks first too; Cancel keeps the conversation, Leave leaves it.
        leave = page.get_by_role("button", name=words["leave"])
        await leave.tap()
        ask = page.get_by_role("alertdialog", name=words["leave_title"])
        await expect(ask.get_by_role("button", name=words["cancel"])).to_be_focused()
        await no_small_targets(page, f"confirm leave {lang}")
        await no_axe_violations(page, f"confirm leave on a phone {lang}")
        await ask.get_by_role("button", name=words["cancel"]).tap()
        await expect(ask).to_have_count(0)
        await expect(page.locator("#room-title")).to_have_text(AUTHOR)
        await leave.tap()
        await ask.get_by_role("button", name=words["leave"]).tap()
        await expect(page.locator("#dir-title")).to_be_visible()  # left: the directory
        await page.locator("button.menu").tap()
        await expect(page.locator(".sidebar a", has_text=AUTHOR)).to_have_count(0)
        assert me.errors == [], me.errors
