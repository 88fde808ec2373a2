"""The keyboard, in the cases test_message_list.py and test_composer.py leave out: the main task
(open a room, read, reply) on a 390 x 844 touch phone with a keyboard attached, in both
languages, in a handful of key presses (an opened room does not take the focus there: it would
pop up the on-screen keyboard, so Alt+Shift+M goes to the box); and in Chinese on a desktop:
↑ edits the last message, Enter saves, Escape cancels, the skip link and Alt+Shift+M go to the
box, forms take the focus when opened, the room switcher. With axe checks."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "green-transport"
TITLE = {"en": "Green Transport", "zh": "绿色交通"}
FILTER = {"en": "transp", "zh": "交通"}
REPLY = {"en": "ok, thanks", "zh": "好的"}


async def seed(node: NodeServer, count: int) -> None:
    session = await node.node.accounts.register("seeder@example.test", "a long secret", "Seeder")
    for n in range(1, count + 1):  # one by one: seq order is the order written here
        await node.node.rooms.send(session.user, ROOM, f"seed{n}", f"seed {n}")


async def focused(page: Page) -> str:
    """What has focus: the message box, the list, a message (by its body) or another element."""
    return await page.evaluate("""() => {
      const el = document.activeElement;
      if (el.id === 'composer') return 'composer';
      if (el.classList.contains('messages')) return 'list';
      if (el.matches('li.msg')) return 'msg:' + el.querySelector('.body').textContent.trim();
      return el.tagName + '.' + el.className;
    }""")


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_the_keyboard_walk_on_a_phone_takes_a_handful_of_keys(make_settings, new_context, lang):
    async with running_nodes(make_settings()) as [node]:
        await seed(node, 40)
        reader = await Member.open(new_context, node.url, lang, **PHONE)
        await reader.register("Kim Reader" if lang == "en" else "金读者", f"walk-{lang}@example.test")
        page = reader.page
        presses = 0

        async def press(key: str) -> None:
            nonlocal presses
            presses += 1
            await page.keyboard.press(key)

        async def type_text(text: str) -> None:
            nonlocal presses
            presses += len(text)
            await page.keyboard.type(text)

        # open a room: Ctrl+K, a few letters, Enter (the drawer stays closed)
        await press("Control+k")
        switcher = page.get_by_role("dialog")
        await expect(switcher).to_be_visible()
        await type_text(FILTER[lang])
        await expect(switcher.get_by_role("option")).to_have_count(1)
        await no_axe_violations(page, f"room switcher on a phone {lang}")
        await press("Enter")
        await expect(page.locator("#room-title")).to_have_text(TITLE[lang])
        await expect(page.locator('.messages .msg[data-seq="40"]')).to_be_in_viewport()
        await expect(page.locator(".sidebar")).to_have_count(0)
        assert await focused(page) != "composer"  # no on-screen keyboard popping up unasked
        await press("Alt+Shift+M")
        assert await focused(page) == "composer"

        # read: Shift+Tab to the list (one stop), ↑ to the latest message, ↑ ↑ back, ↓ forward
        await press("Shift+Tab")
        assert await focused(page) == "list"
        await press("ArrowUp")
        assert await focused(page) == "msg:seed 40"
        await press("ArrowUp")
        await press("ArrowUp")
        assert await focused(page) == "msg:seed 38"
        await press("ArrowDown")
        assert await focused(page) == "msg:seed 39"
        await expect(page.locator(".messages .msg:focus")).to_be_in_viewport()

        # reply: Tab goes straight to the box, type, Enter
        await press("Tab")
        assert await focused(page) == "composer"
        await type_text(REPLY[lang])
        await press("Enter")
        await reader.sees(REPLY[lang])
        assert presses <= 12 + len(FILTER[lang]) + len(REPLY[lang]), presses
        await no_axe_violations(page, f"keyboard walk on a phone {lang}")
        assert reader.errors == [], reader.errors


async def test_keyboard_edit_skip_link_shortcuts_and_forms_in_chinese(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        li = await Member.open(new_context, node.url, "zh")
        other = await Member.open(new_context, node.url, "en")
        await li.register("李华", "li-keys@example.test")
        await other.register("Anna Schmidt", "anna-keys@example.test")
        page = li.page
        box = page.get_by_label("输入消息")
        await li.go("#/room/clean-energy")
        await expect(page.locator("#room-title")).to_have_text("清洁能源利用")
        await expect(box).to_be_focused()  # an opened room is ready to write in
        await box.fill("每所学校都装太阳能")
        await box.press("Enter")
        await li.sees("每所学校都装太阳能")

        # ↑ in the empty box edits the last message; Enter saves, the box has the focus again
        await box.press("ArrowUp")
        edit = page.locator(".msg form.edit textarea")
        await expect(edit).to_be_focused()
        await expect(edit).to_have_value("每所学校都装太阳能")
        await edit.press("End")
        await edit.press_sequentially("屋顶")
        await edit.press("Enter")
        await li.sees("每所学校都装太阳能屋顶")
        await expect(page.locator(".msg form.edit")).to_have_count(0)
        await expect(box).to_be_focused()
        # Escape cancels: nothing changes
        await box.press("ArrowUp")
        await expect(edit).to_be_focused()
        await edit.press("Control+a")
        await edit.press_sequentially("不要了")
        await edit.press("Escape")
        await expect(page.locator(".msg form.edit")).to_have_count(0)
        await li.sees("每所学校都装太阳能屋顶")
        await expect(box).to_be_focused()
        # the Edit tool opens the form focused too
        await page.locator(".msg", has_text="屋顶").get_by_role("button", name="编辑", exact=True).click()
        await expect(edit).to_be_focused()
        await no_axe_violations(page, "an edit open, zh")
        await edit.press("Escape")

        # Alt+Shift+M and the skip link go to the message box
        await page.locator("#lang-switch").focus()
        await page.keyboard.press("Alt+Shift+M")
        await expect(box).to_be_focused()
        await page.locator(".skip").focus()
        await expect(page.locator(".skip")).to_be_in_viewport()  # shown when focused
        await page.keyboard.press("Enter")
        await expect(box).to_be_focused()
        # forms take the focus when opened: a topic, and adding someone to a conversation
        await page.get_by_role("button", name="发起话题", exact=True).click()
        await expect(page.get_by_label("话题标题")).to_be_focused()
        await li.go("#/directory")
        await page.get_by_role("button", name="给 Anna Schmidt 发私信").click()
        await expect(page.locator("#room-title")).to_have_text("Anna Schmidt")
        await page.get_by_role("button", name="添加成员").click()
        await expect(page.get_by_label("按姓名或机构查找成员")).to_be_focused()

        # Ctrl+K: the room switcher in Chinese; Enter opens, the focus lands in the box
        await page.keyboard.press("Control+k")
        switcher = page.get_by_role("dialog", name="转到房间")
        filter_box = switcher.get_by_role("combobox", name="输入以筛选")
        await expect(filter_box).to_be_focused()
        await filter_box.fill("水")
        await expect(switcher.get_by_role("option")).to_have_text(["水资源管理"])
        await no_axe_violations(page, "room switcher, zh")
        await filter_box.press("Enter")
        await expect(page.locator("#room-title")).to_have_text("水资源管理")
        await expect(switcher).to_have_count(0)
        await expect(box).to_be_focused()
        assert li.errors == [] and other.errors == [], (li.errors, other.errors)
