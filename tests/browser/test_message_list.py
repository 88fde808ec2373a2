"""The message list as people read it (web/src/views/messagelist.js, message.js): one tab stop
with the arrow keys inside, the main task (open a room, read, reply) by keyboard in a handful
of key presses, a room with unread messages opening at the first of them under a "new
messages" line and keeping its count until they were on screen, day lines and grouped
messages, "1 reply"/"2 replies", long words and headings that keep the list readable, and
"… typing" gone when the typer's message comes. In English and Chinese, on a desktop and
(for the unread line) on a 390×844 touch phone. Embedded nodes (SQLite, in-process broker)."""

from __future__ import annotations

import re

from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from chat.models import User
from tests.browser.helpers import PHONE, Member, no_axe_violations, read_position_reaches
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "green-transport"
TITLE = {"en": "Green Transport", "zh": "绿色交通"}
HOME = {"en": "Urban Renewal", "zh": "城市更新"}
WORDS = {
    "en": {"new": "New messages", "today": "Today", "yesterday": "Yesterday", "typing": "typing",
           "one": "1 reply", "two": "2 replies", "filter": "Type to filter", "switcher": "Go to a room",
           "messages": "Messages"},
    "zh": {"new": "新消息", "today": "今天", "yesterday": "昨天", "typing": "正在输入",
           "one": "1 条回复", "two": "2 条回复", "filter": "输入以筛选", "switcher": "前往房间",
           "messages": "消息"},
}
ROWS = ".messages .msg[data-id]"
BADGE = f'.sidebar a[href="#/room/{ROOM}"] .badge'


async def seeder(node: NodeServer, name: str = "Seeder") -> User:
    session = await node.node.accounts.register(f"{name.lower()}@example.test", "a long secret", name)
    return session.user


async def seed(node: NodeServer, user: User, count: int, room: str = ROOM, prefix: str = "seed") -> None:
    for n in range(1, count + 1):  # one by one: seq order is the order written here
        await node.node.rooms.send(user, room, f"{prefix}{n}", f"{prefix} {n}")


async def member(new_context, node: NodeServer, lang: str, name: str, **options) -> Member:
    joined = await Member.open(new_context, node.url, lang, **options)
    await joined.register(name, f"{name.split()[0].lower()}-{lang}@example.test")
    return joined


async def focused(page: Page) -> str:
    """What has focus: the message box, the list, a message (by its body) or another element."""
    return await page.evaluate("""() => {
      const el = document.activeElement;
      if (el.id === 'composer') return 'composer';
      if (el.classList.contains('messages')) return 'list';
      if (el.matches('li.msg')) return 'msg:' + el.querySelector('.body').textContent.trim();
      return el.tagName + '.' + el.className;
    }""")


# cpu_slowdown: Chromium's CPU throttled 8x, as on a slow phone or a loaded machine, where Home's
# slide back used to finish after End and freeze the list again (a "Jump to latest" button
# where Tab should reach the box); unthrottled that window is shorter than a frame.
@pytest.mark.parametrize(("lang", "cpu_slowdown"), [("zh", 1), ("en", 8)])
async def test_the_list_is_one_tab_stop_and_the_keyboard_walk_takes_a_handful_of_keys(
        make_settings, new_context, lang, cpu_slowdown):
    words = WORDS[lang]
    async with running_nodes(make_settings()) as [node]:
        author = await seeder(node)
        await seed(node, author, 200)
        reader = await member(new_context, node, lang, "Kim Reader")
        page = reader.page
        if cpu_slowdown > 1:
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
        presses = 0

        async def press(key: str) -> None:
            nonlocal presses
            presses += 1
            await page.keyboard.press(key)

        async def type_text(text: str) -> None:
            nonlocal presses
            presses += len(text)
            await page.keyboard.type(text)

        # open a room: Ctrl+K, a few letters, Enter; focus lands in the box
        await press("Control+k")
        switcher = page.get_by_role("dialog")
        await expect(switcher).to_be_visible()
        await type_text("transp" if lang == "en" else "交通")
        await expect(switcher.get_by_role("option")).to_have_count(1)
        await press("Enter")
        await expect(page.locator("#room-title")).to_have_text(TITLE[lang])
        await expect(page.locator(f'{ROWS}[data-seq="200"]')).to_be_in_viewport()
        assert await focused(page) == "composer"

        # read: Shift+Tab to the list (one stop), ↑ to the latest message, ↑ ↑ back, ↓ forward
        await press("Shift+Tab")
        assert await focused(page) == "list"
        await press("ArrowUp")
        assert await focused(page) == "msg:seed 200"
        await press("ArrowUp")
        await press("ArrowUp")
        assert await focused(page) == "msg:seed 198"
        await press("ArrowDown")
        assert await focused(page) == "msg:seed 199"
        await expect(page.locator(".messages .msg:focus")).to_be_in_viewport()
        await press("Home")
        first = await focused(page)
        assert first.startswith("msg:seed ") and int(first.split()[-1]) < 199
        await press("End")
        assert await focused(page) == "msg:seed 200"

        # Enter opens the message's tools, Tab walks them, Escape comes back to the message
        await press("Enter")
        tool = page.locator('.messages .msg[data-seq="200"] .actions button').first
        await expect(tool).to_be_focused()
        await press("Escape")
        assert await focused(page) == "msg:seed 200"

        # reply: Tab from the list goes straight to the box (no tab stop per message), type, Enter
        await press("Tab")
        assert await focused(page) == "composer"
        await type_text("ok")
        await press("Enter")
        await reader.sees("ok")
        assert presses < 25, presses  # with six tab stops a message this took over 1000

        # from the list itself Tab lands in the box too, and Shift+Tab from the box in the list
        await page.locator(".messages").focus()
        await page.keyboard.press("Tab")
        assert await focused(page) == "composer"
        # the list takes no more tab stops than it has list: one, whatever its length
        stops = await page.evaluate("""() => [...document.querySelectorAll('.messages, .messages *')]
          .filter((el) => el.tabIndex >= 0 && !el.closest('[hidden]') && !el.disabled).length""")
        assert stops == 1, stops
        await expect(page.locator(".messages")).to_have_attribute("aria-label", words["messages"])
        await no_axe_violations(page, f"keyboard walk {lang}")
        assert reader.errors == [], reader.errors


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_unread_messages_open_under_a_new_line_and_count_until_seen(make_settings, new_context, lang, screen):
    words = WORDS[lang]
    async with running_nodes(make_settings()) as [node]:
        author = await seeder(node)
        await seed(node, author, 60, prefix="old")
        options = PHONE if screen == "phone" else {}
        reader = await member(new_context, node, lang, "Kim Reader", **options)
        page = reader.page
        # read the room once, then away
        await reader.go(f"#/room/{ROOM}")
        await expect(page.locator(f'{ROWS}[data-seq="60"]')).to_be_in_viewport()
        await expect(page.locator(BADGE)).to_have_count(0)
        await expect(page.locator(".messages .new-line")).to_have_count(0)
        await read_position_reaches(reader, ROOM, 60)
        await reader.go("#/room/urban-renewal")
        await expect(page.locator("#room-title")).to_have_text(HOME[lang])
        await seed(node, author, 40, prefix="new")
        if screen == "desktop":
            await expect(page.locator(BADGE)).to_have_text("40")

        # opened: the line is on screen, the first unread right under it, the count kept
        await reader.go(f"#/room/{ROOM}")
        line = page.locator(".messages .new-line")
        await expect(line).to_have_text(words["new"])
        await expect(line).to_be_in_viewport()
        first_new = page.locator(ROWS, has_text="new 1").first
        await expect(first_new).to_be_in_viewport()
        assert await page.evaluate("() => document.querySelector('.new-line').nextElementSibling.dataset.seq") == "61"
        await expect(page.locator(f'{ROWS}[data-seq="100"]')).not_to_be_in_viewport()
        if screen == "desktop":
            # What is on screen is read, what is below is not (the badge may be redrawn meanwhile).
            await expect(page.locator(BADGE)).to_have_text(re.compile(r"^([1-9]|[1-3][0-9])$"))
        if screen == "desktop":
            await no_axe_violations(page, f"unread line {lang}")
        else:
            result = await Axe().run(page, context=".room")
            assert result.violations_count == 0, result.generate_report()

        # scrolled to the end: all seen, the count goes; the line stays while the room is open
        await page.evaluate("() => { const l = document.querySelector('.messages'); l.scrollTop = l.scrollHeight; }")
        await expect(page.locator(f'{ROWS}[data-seq="100"]')).to_be_in_viewport()
        await expect(page.locator(BADGE)).to_have_count(0)
        await expect(line).to_have_count(1)
        # the server has the read position too: after a reload nothing is unread and no line
        await read_position_reaches(reader, ROOM, 100)
        await page.reload()
        await reader.connected()
        await reader.go(f"#/room/{ROOM}")
        await expect(page.locator(f'{ROWS}[data-seq="100"]')).to_be_in_viewport()
        await expect(page.locator(".messages .new-line")).to_have_count(0)
        await expect(page.locator(BADGE)).to_have_count(0)
        assert reader.errors == [], reader.errors


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_day_lines_grouping_plurals_long_words_headings_and_typing(make_settings, new_context, lang):
    words = WORDS[lang]
    # typing frames pass on at once (not batched per 3 s), so one comes before the message
    async with running_nodes(make_settings(typing_interval_s=0)) as [node]:
        author = await seeder(node, "Seeder")
        await seed(node, author, 3)
        reader = await member(new_context, node, lang, "Kim Reader")
        writer = await member(new_context, node, "en" if lang == "zh" else "zh", "Wen Writer")
        page = reader.page
        await reader.go(f"#/room/{ROOM}")
        await writer.go(f"#/room/{ROOM}")
        await reader.sees("seed 3")

        # one day line over today's messages; the seeder's three under one name
        await expect(page.locator(".messages .day")).to_have_text([words["today"]])
        classes = await page.locator(ROWS).evaluate_all("rows => rows.map((r) => r.classList.contains('grouped'))")
        assert classes == [False, True, True], classes
        await expect(page.locator(f"{ROWS}.grouped .meta strong").first).not_to_be_in_viewport()
        # another author's message is not grouped under the seeder's
        await writer.send("from the writer")
        await reader.sees("from the writer")
        await expect(page.locator(ROWS).last).not_to_have_class("msg grouped")

        # the next day, the same messages are yesterday's
        await page.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=1))
        await writer.send("a day later")
        await reader.sees("a day later")
        await expect(page.locator(".messages .day").first).to_have_text(words["yesterday"])

        # one long word wraps inside the list instead of widening it; headings stay small
        await writer.send("x" * 600)
        await writer.send("# A heading")
        await reader.sees("A heading")
        overflow = await page.evaluate("""() => {
          const list = document.querySelector('.messages');
          const body = [...list.querySelectorAll('.msg .body')].find((b) => b.textContent.includes('xxxx'));
          return {list: list.clientWidth, body: body.getBoundingClientRect().width,
                  scroll: list.scrollWidth, page: document.documentElement.scrollWidth, view: innerWidth};
        }""")
        assert overflow["body"] <= overflow["list"] and overflow["scroll"] <= overflow["list"], overflow
        assert overflow["page"] <= overflow["view"], overflow
        sizes = await page.evaluate("""() => {
          if (document.querySelector('.messages .msg .body :is(h1, h2, h3, h4, h5, h6)')) return [0, -1];
          const h = document.querySelector('.messages .msg .body .md-h1');
          return [parseFloat(getComputedStyle(h).fontSize), parseFloat(getComputedStyle(document.body).fontSize)];
        }""")
        assert sizes[0] <= 1.3 * sizes[1], sizes

        # "… typing" goes with the typer's message, not seconds later
        box = writer.page.locator("#composer")
        await writer.page.wait_for_timeout(2100)  # the writer's typing goes out at most every 2 s
        await box.fill("")
        await box.press_sequentially("still typ")
        typing = page.locator(".room .typing")
        await expect(typing).to_contain_text(words["typing"])
        await box.press_sequentially("ing")
        await box.press("Enter")
        await reader.sees("still typing")
        assert await typing.inner_text() == ""  # drawn in the same render as the message

        # "1 reply", "2 replies" (Chinese has one form)
        assert await page.evaluate("""async () => {
          const { translate } = await import('/src/i18n.js');
          return [1, 2, 0].map((count) => translate('en', 'room.replies', { count }))
            .concat([1, 2].map((count) => translate('zh', 'room.replies', { count })));
        }""") == ["1 reply", "2 replies", "0 replies", "1 条回复", "2 条回复"]
        topic = await node.node.conversations.create_topic(author, ROOM, "Night buses", "", [], None)
        await node.node.rooms.send(author, topic.topic_id, "r1", "first reply")
        await page.reload()
        await reader.connected()
        await reader.go(f"#/room/{ROOM}")
        await expect(page.locator(".side .threads li", has_text="Night buses")).to_contain_text(words["one"])
        await node.node.rooms.send(author, topic.topic_id, "r2", "second reply")
        await page.reload()
        await reader.connected()
        await reader.go(f"#/room/{ROOM}")
        await expect(page.locator(".side .threads li", has_text="Night buses")).to_contain_text(words["two"])
        await no_axe_violations(page, f"day lines {lang}")
        assert reader.errors == [] and writer.errors == [], (reader.errors, writer.errors)

