"""The message box as people use it: a draft per room (kept across a reload, never carried to
another room), the server's length limit shown before it is reached and a refused send's text
put back with the reason; the keyboard (Enter and Escape in an edit, ↑ to edit the last
message, Alt+Shift+M to the box, Ctrl+K to switch rooms); confirmation before deleting a
message or leaving a conversation; a reply quoting a message; the emoji picker. In English
and Chinese, on a desktop and on a 390×844 touch phone."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, expect

from tests.browser.helpers import Member, no_axe_violations
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT = 100  # the node's ECOLINK_MAX_BODY_CHARS in these tests

WORDS = {
    "en": {"left": "5 characters left (at most 100)", "too_long": "Too long by 1 characters (at most 100)",
           "edit_too_long": "Too long to save: at most 100 characters.",
           "not_sent": "Not sent. The message is too long. Your text is back in the message box."},
    "zh": {"left": "还可输入 5 个字符（上限 100）", "too_long": "超出 1 个字符（上限 100）",
           "edit_too_long": "太长，无法保存：最多 100 个字符。",
           "not_sent": "未发送。消息太长。文字已放回输入框。"},
}


async def open_member(new_context, url: str, lang: str, screen: str) -> Member:
    """A member in English (Berlin) or Chinese (Shanghai), on a desktop or a touch phone."""
    options = {"locale": "zh-CN" if lang == "zh" else "en-GB",
               "timezone_id": "Asia/Shanghai" if lang == "zh" else "Europe/Berlin"}
    if screen == "phone":
        options.update(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    else:
        options.update(viewport={"width": 1280, "height": 800})
    context = await new_context(**options)
    page = await context.new_page()
    member = Member(context, page, url, lang)
    await page.goto(url + "/", wait_until="domcontentloaded", timeout=60000)
    await page.locator("#app main").first.wait_for(timeout=30000)
    return member


async def no_violations_in_the_room(page: Page, where: str, screen: str) -> None:
    """axe on the whole page on a desktop; on a phone on the room (message list, notice and
    box): the phone's shell (header, sidebar) is another change's, checked there."""
    if screen == "desktop":
        await no_axe_violations(page, where)
        return
    result = await Axe().run(page, context=".room")
    assert result.violations_count == 0, (where, result.generate_report())


async def claim_a_higher_limit(route: Route) -> None:
    """GET /api/v1/sessions as the node answers it, but with a higher limit: the client lets a
    longer body through, so the node's own refusal is what the member meets."""
    response = await route.fetch()
    doc = await response.json()
    doc["limits"]["max_body_chars"] = 10 * LIMIT
    await route.fulfill(response=response, body=json.dumps(doc))


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_a_draft_stays_in_its_room_and_a_refused_message_is_never_lost(
        make_settings, new_context, lang, screen):
    async with running_nodes(make_settings(max_body_chars=LIMIT)) as [node]:
        member = await open_member(new_context, node.url, lang, screen)
        await member.register("Anna Schmidt" if lang == "en" else "李华", f"{lang}-{screen}@example.test")
        page, words = member.page, WORDS[lang]
        box = page.get_by_label(member.text["compose"])

        # one draft per room: what is typed in one room is not in the next, and comes back
        await member.go("#/room/urban-renewal")
        await box.fill("for urban renewal only")
        await member.go("#/room/green-buildings")
        await expect(box).to_have_value("")
        await box.fill("about green roofs")
        await member.go("#/room/urban-renewal")
        await expect(box).to_have_value("for urban renewal only")
        # ... across a reload too
        await page.reload(wait_until="domcontentloaded")
        await member.connected()
        await expect(box).to_have_value("for urban renewal only")
        await member.go("#/room/green-buildings")
        await expect(box).to_have_value("about green roofs")
        # Enter posts the draft of the room shown, and only there
        await box.press("Enter")
        await member.sees("about green roofs")
        await expect(box).to_have_value("")
        # an edit over the limit is not sent either: the form stays, with its text
        await box.press("ArrowUp")
        edit = page.locator(".msg form.edit textarea")
        await expect(edit).to_have_value("about green roofs")
        await edit.fill("d" * (LIMIT + 1))
        await expect(edit).to_have_value("d" * (LIMIT + 1))
        await edit.press("Enter")
        await expect(page.locator(".msg form.edit").get_by_role("alert")).to_have_text(words["edit_too_long"])
        await expect(edit).to_have_value("d" * (LIMIT + 1))
        await edit.press("Escape")
        await member.sees("about green roofs")
        await member.go("#/room/urban-renewal")
        await expect(box).to_have_value("for urban renewal only")
        await expect(page.locator(".messages .msg", has_text="about green roofs")).to_have_count(0)
        await box.fill("")

        # the limit shows before it is reached; over it the text stays and nothing is sent
        await expect(page.locator("#composer-count")).to_have_count(0)
        await box.fill("a" * (LIMIT - 5))
        await expect(page.locator("#composer-count")).to_have_text(words["left"])
        await box.fill("b" * (LIMIT + 1))
        await expect(page.get_by_role("alert")).to_contain_text(words["too_long"])
        await expect(box).to_have_attribute("aria-invalid", "true")
        await box.press("Enter")
        await expect(box).to_have_value("b" * (LIMIT + 1))
        await expect(page.locator(".messages .msg")).to_have_count(0)
        await no_violations_in_the_room(page, f"counter over the limit, {lang} {screen}", screen)

        # a send the node refuses puts its text back, and says why
        await page.route("**/api/v1/sessions", claim_a_higher_limit)
        await page.reload(wait_until="domcontentloaded")
        await member.connected()
        await expect(box).to_have_value("b" * (LIMIT + 1))  # the draft, kept over the reload
        await expect(page.get_by_role("alert")).to_have_count(0)  # 101 of "1000" is not near it
        await box.press("Enter")
        await expect(page.get_by_role("alert")).to_contain_text(words["not_sent"], timeout=15000)
        await expect(box).to_have_value("b" * (LIMIT + 1))
        await expect(page.locator(".messages .msg")).to_have_count(0)
        await no_violations_in_the_room(page, f"refused send, {lang} {screen}", screen)
        # refused after a room switch: the text goes back to its own room, not the one shown
        await box.fill("c" * (LIMIT + 2))
        await box.press("Enter")
        await member.go("#/room/green-buildings")
        await expect(box).to_have_value("")
        await member.go("#/room/urban-renewal")
        await expect(box).to_have_value("c" * (LIMIT + 2), timeout=15000)
        # refused sends are the only errors in the console (Chromium logs none for a frame)
        assert member.errors == [], member.errors


async def test_keyboard_edit_shortcuts_and_the_room_switcher(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        anna = await open_member(new_context, node.url, "en", "desktop")
        await anna.register("Anna Schmidt", "anna@example.eu")
        page = anna.page
        box = page.get_by_label("Write a message")
        await anna.go("#/room/clean-energy")
        await expect(page.locator("#room-title")).to_have_text("Clean Energy Utilization")
        await expect(box).to_be_focused()  # an opened room is ready to write in
        await box.fill("Solar on every school")
        await box.press("Enter")
        await anna.sees("Solar on every school")

        # ↑ in the empty box edits the last message; Enter saves, focus goes back to the box
        await box.press("ArrowUp")
        edit = page.locator(".msg form.edit textarea")
        await expect(edit).to_be_focused()
        await expect(edit).to_have_value("Solar on every school")
        await edit.press("End")
        await edit.press_sequentially(" roof")
        await edit.press("Enter")
        await anna.sees("Solar on every school roof")
        await expect(page.locator(".msg form.edit")).to_have_count(0)
        await expect(box).to_be_focused()
        # Escape cancels: nothing changes
        await box.press("ArrowUp")
        await edit.fill("thrown away")
        await edit.press("Escape")
        await expect(page.locator(".msg form.edit")).to_have_count(0)
        await anna.sees("Solar on every school roof")
        await expect(box).to_be_focused()
        # ↑ in a box with text is the caret's, not an edit
        await box.fill("not empty")
        await box.press("ArrowUp")
        await expect(page.locator(".msg form.edit")).to_have_count(0)
        await box.fill("")
        # the Edit tool opens the form focused too
        await page.locator(".msg", has_text="school roof").get_by_role("button", name="Edit", exact=True).click()
        await expect(edit).to_be_focused()
        await edit.press("Escape")

        # Alt+Shift+M and the skip link go to the message box
        await page.locator("#lang-switch").focus()
        await page.keyboard.press("Alt+Shift+M")
        await expect(box).to_be_focused()
        await page.locator(".skip").focus()
        await page.keyboard.press("Enter")
        await expect(box).to_be_focused()
        # forms take focus when opened
        await page.get_by_role("button", name="Start a topic", exact=True).click()
        await expect(page.get_by_label("Topic title")).to_be_focused()

        # Ctrl+K: the room switcher; typing filters, Enter opens, focus lands in the box
        await page.keyboard.press("Control+k")
        switcher = page.get_by_role("dialog", name="Go to a room")
        await expect(switcher).to_be_visible()
        filter_box = switcher.get_by_role("combobox", name="Type to filter")
        await expect(filter_box).to_be_focused()
        await filter_box.fill("wat")
        await expect(switcher.get_by_role("option")).to_have_text(["Water Management"])
        await no_axe_violations(page, "room switcher")
        await filter_box.press("Enter")
        await expect(page.locator("#room-title")).to_have_text("Water Management")
        await expect(switcher).to_have_count(0)
        await expect(box).to_be_focused()
        # ↓ chooses among several; Escape closes and changes nothing
        await page.keyboard.press("Control+k")
        await filter_box.fill("green")
        await expect(switcher.get_by_role("option")).to_have_text(["Green Buildings", "Green Transport"])
        await filter_box.press("ArrowDown")
        await expect(switcher.get_by_role("option", name="Green Transport")).to_have_attribute("aria-selected", "true")
        await filter_box.press("Escape")
        await expect(switcher).to_have_count(0)
        await expect(page.locator("#room-title")).to_have_text("Water Management")
        await page.keyboard.press("Control+k")
        await filter_box.fill("green")
        await filter_box.press("ArrowDown")
        await filter_box.press("Enter")
        await expect(page.locator("#room-title")).to_have_text("Green Transport")
        assert anna.errors == [], anna.errors


async def test_confirm_before_delete_and_leave_reply_and_emoji_picker(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        anna = await open_member(new_context, node.url, "en", "desktop")
        li = await open_member(new_context, node.url, "zh", "desktop")
        await anna.register("Anna Schmidt", "anna@example.eu")
        await li.register("李华", "li@example.cn")
        for member in (anna, li):
            await member.go("#/room/solid-waste")
        await anna.send("Sorting rates doubled in Guilin")
        await li.sees("Sorting rates doubled in Guilin")
        message_id = await li.page.locator(".msg", has_text="Sorting rates doubled").get_attribute("data-id")
        message = li.page.locator(f'.msg[data-id="{message_id}"]')  # the reply quotes it below

        # Li replies: a quote of the first line, linking to the message, goes into her box
        await message.get_by_role("button", name="回复").click()
        box = li.page.get_by_label("输入消息")
        await expect(box).to_be_focused()
        await expect(box).to_have_value(f"> [Anna Schmidt](#/room/solid-waste/message/{message_id}): Sorting rates doubled in Guilin\n\n")
        await box.press("End")
        await box.press_sequentially("桂林的经验值得推广")
        await box.press("Enter")
        reply = anna.page.locator(".msg", has_text="桂林的经验值得推广")
        await expect(reply.locator("blockquote")).to_contain_text("Anna Schmidt: Sorting rates doubled in Guilin", timeout=15000)
        link = reply.locator(f'blockquote a[href="#/room/solid-waste/message/{message_id}"]')
        await expect(link).to_have_text("Anna Schmidt")
        await link.click()  # the link opens the message's room
        await expect(anna.page.locator("#room-title")).to_have_text("Solid Waste Management")

        # Li reacts with the picker: arrows move, Enter picks, focus goes back to its button
        picker = message.get_by_role("button", name="更多表情")
        await picker.click()
        grid = li.page.get_by_role("group", name="选择表情回应")
        await expect(grid.get_by_role("button", name="回应 👍")).to_be_focused()
        await no_axe_violations(li.page, "emoji picker")
        for key in ("ArrowRight", "ArrowDown", "ArrowLeft"):
            await li.page.keyboard.press(key)
        await expect(grid.get_by_role("button", name="回应 🤝")).to_be_focused()
        await li.page.keyboard.press("Enter")
        await expect(grid).to_have_count(0)
        await expect(picker).to_be_focused()
        theirs = anna.page.locator(f'.msg[data-id="{message_id}"]').get_by_role("button", name="React 🤝")
        await expect(theirs).to_have_text("🤝 1", timeout=15000)
        await picker.click()
        await expect(grid.get_by_role("button", name="回应 👍")).to_be_focused()
        await li.page.keyboard.press("Escape")  # closes, reacts with nothing
        await expect(grid).to_have_count(0)
        await expect(picker).to_be_focused()

        # Delete asks first: Cancel (and Escape) keep the message, Delete deletes it
        mine = anna.page.locator(f'.msg[data-id="{message_id}"]')
        await mine.get_by_role("button", name="Delete").click()
        dialog = anna.page.get_by_role("alertdialog", name="Delete this message?")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await no_axe_violations(anna.page, "confirm delete")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_have_count(0)
        await mine.get_by_role("button", name="Delete").click()
        await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        await anna.page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await li.sees("Sorting rates doubled in Guilin")
        await mine.get_by_role("button", name="Delete").click()
        await dialog.get_by_role("button", name="Delete").click()
        await expect(li.page.locator(".msg .deleted")).to_have_text("此消息已删除。", timeout=15000)

        # Leaving a conversation asks first too
        await li.go("#/directory")
        await li.page.get_by_role("button", name="给 Anna Schmidt 发私信").click()
        await expect(li.page.locator("#room-title")).to_have_text("Anna Schmidt")
        # what is typed there stays there: a public room opened from the sidebar has its own box
        await box.fill("只给 Anna 看")
        await li.page.locator(".sidebar a", has_text="城市更新").click()
        await expect(li.page.locator("#room-title")).to_have_text("城市更新")
        await expect(box).to_have_value("")
        await li.page.locator(".sidebar a", has_text="Anna Schmidt").click()
        await expect(box).to_have_value("只给 Anna 看")
        await li.page.get_by_role("button", name="退出对话").click()
        leave = li.page.get_by_role("alertdialog", name="退出这个对话？")
        await expect(leave).to_contain_text("退出后任何人都无法再把你加回")
        await no_axe_violations(li.page, "confirm leave")
        await leave.get_by_role("button", name="取消").click()
        await expect(leave).to_have_count(0)
        await expect(li.page.locator(".sidebar a", has_text="Anna Schmidt")).to_have_count(1)
        await li.page.get_by_role("button", name="退出对话").click()
        await leave.get_by_role("button", name="退出对话").click()
        await expect(li.page.locator(".sidebar a", has_text="Anna Schmidt")).to_have_count(0)
        assert anna.errors == [] and li.errors == [], (anna.errors, li.errors)

