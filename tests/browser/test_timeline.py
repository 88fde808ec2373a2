"""Adding someone to a direct conversation, and what happened there shown in its timeline:
before adding, the person adding chooses between adding them here (they will see the earlier
messages) and starting a new conversation with everyone (they will not); status changes and
members added or leaving show as lines among the messages. Anna (English) on one node, 李华
(Chinese, on a phone) and Bo (English) on the other."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def three_members(new_context, nodes) -> tuple[Member, Member, Member]:
    anna = await Member.open(new_context, nodes[0].url, "en")
    li = await Member.open(new_context, nodes[1].url, "zh", **PHONE)
    bo = await Member.open(new_context, nodes[1].url, "en")
    await anna.register("Anna Schmidt", "anna@example.eu")
    await li.register("李华", "li@example.cn")
    await bo.register("Bo Jensen", "bo@example.dk")
    return anna, li, bo


async def open_direct(anna: Member, li: Member, body: str) -> str:
    """Anna writes to Li; Li opens the conversation. Returns its room id."""
    await anna.go("#/directory")
    await anna.page.get_by_role("button", name="Message 李华").click()
    await expect(anna.page.locator("#room-title")).to_have_text("李华")
    room = (await anna.page.evaluate("location.hash")).removeprefix("#/room/")
    await anna.send(body)
    await anna.sees(body)
    await li.go(f"#/room/{room}")
    await li.sees(body)
    return room


async def test_status_and_membership_lines(two_nodes, new_context):
    anna, li, bo = await three_members(new_context, two_nodes)
    room = await open_direct(anna, li, "Could you check the Liuzhou figures?")

    # A status change is a line in both timelines, in each reader's language.
    await anna.page.get_by_label("Consultation status").select_option("answered")
    await expect(anna.page.locator(".messages .event")).to_have_text(["Anna Schmidt set the status to Answered"])
    await expect(li.page.locator(".messages .event")).to_have_text(["Anna Schmidt 将状态改为“已答复”"], timeout=15000)

    # Adding Bo asks first: here (with the history) or a new conversation.
    await anna.page.get_by_role("button", name="Add someone").click()
    await anna.page.get_by_label("Find a member by name or organisation").fill("Bo")
    await anna.page.get_by_role("button", name="Add Bo Jensen").click()
    choice = anna.page.get_by_role("dialog", name="Add Bo Jensen?")
    await expect(choice).to_contain_text("Bo Jensen will see all the earlier messages of this conversation")
    await expect(choice.get_by_role("button", name="Cancel")).to_be_focused()
    await no_axe_violations(anna.page, "the add choice")
    await choice.get_by_role("button", name="Add Bo Jensen here (sees the earlier messages)").click()
    await expect(choice).to_have_count(0)
    await expect(anna.page.locator(".members-line")).to_contain_text("Bo Jensen")
    await expect(anna.page.locator(".messages .event")).to_have_text(
        ["Anna Schmidt set the status to Answered", "Anna Schmidt added Bo Jensen"], timeout=15000)
    await expect(li.page.locator(".messages .event")).to_have_text(
        ["Anna Schmidt 将状态改为“已答复”", "Anna Schmidt 添加了 Bo Jensen"], timeout=15000)

    # Bo reads the history he was let into, then leaves: a line for the others.
    await bo.go(f"#/room/{room}")
    await bo.sees("Could you check the Liuzhou figures?")
    await bo.page.get_by_role("button", name="Leave conversation").click()
    await bo.page.get_by_role("alertdialog").get_by_role("button", name="Leave conversation").click()
    await expect(anna.page.locator(".messages .event")).to_have_text(
        ["Anna Schmidt set the status to Answered", "Anna Schmidt added Bo Jensen", "Bo Jensen left"], timeout=15000)
    await expect(li.page.locator(".messages .event")).to_have_text(
        ["Anna Schmidt 将状态改为“已答复”", "Anna Schmidt 添加了 Bo Jensen", "Bo Jensen 退出了对话"], timeout=15000)

    await anna.page.mouse.move(0, 0)  # no message's tools shown under the pointer (once faded out)
    tools = anna.page.locator(".msg .actions .tool")
    for i in range(await tools.count()):
        await expect(tools.nth(i)).to_have_css("opacity", "0")
    await no_axe_violations(anna.page, "timeline lines")
    await no_axe_violations(li.page, "timeline lines on a phone")

    # A message after the lines comes after them.
    await li.send("数据已更新")
    await anna.sees("数据已更新")
    last = anna.page.locator(".messages ol > li").last
    await expect(last).to_contain_text("数据已更新")

    # After a reload the lines are still there, in order, between the same messages: they
    # come with the history page (its `events`), not only live or on a replay.
    english = ["Could you check the Liuzhou figures?", "Anna Schmidt set the status to Answered",
               "Anna Schmidt added Bo Jensen", "Bo Jensen left", "数据已更新"]
    chinese = ["Could you check the Liuzhou figures?", "Anna Schmidt 将状态改为“已答复”",
               "Anna Schmidt 添加了 Bo Jensen", "Bo Jensen 退出了对话", "数据已更新"]
    rows = ".messages ol > li.msg .body, .messages ol > li.event"
    for member, lines in ((anna, english), (li, chinese)):
        await member.page.reload(wait_until="domcontentloaded")
        await member.connected()
        await member.sees("数据已更新")
        await expect(member.page.locator(rows)).to_have_text(lines)
    await no_axe_violations(anna.page, "timeline lines after a reload")
    await no_axe_violations(li.page, "timeline lines after a reload, on a phone")
    # ... and in a browser that never saw them live: each language on the other screen size.
    for lang, email, lines, screen in (("zh", "anna@example.eu", chinese, PHONE), ("en", "li@example.cn", english, {})):
        member = await Member.open(new_context, two_nodes[0].url, lang, **screen)
        await member.log_in(email)
        await member.go(f"#/room/{room}")
        await member.sees("数据已更新")
        await expect(member.page.locator(rows)).to_have_text(lines)
        await no_axe_violations(member.page, f"timeline lines in a new browser, {lang}")
        assert member.errors == [], member.errors
    assert anna.errors == [] and li.errors == [] and bo.errors == [], (anna.errors, li.errors, bo.errors)


async def test_new_conversation_instead_keeps_the_history_private(two_nodes, new_context):
    anna, li, bo = await three_members(new_context, two_nodes)
    room = await open_direct(anna, li, "Private: the draft budget")

    # Li (Chinese, phone) would add Bo, and starts a new conversation with everyone instead.
    await li.page.get_by_role("button", name="添加成员").click()
    await li.page.get_by_label("按姓名或机构查找成员").fill("Bo")
    await li.page.get_by_role("button", name="添加 Bo Jensen").click()
    choice = li.page.get_by_role("dialog", name="添加 Bo Jensen？")
    await expect(choice).to_contain_text("Bo Jensen 将看到此对话之前的全部消息")
    await no_axe_violations(li.page, "the add choice, Chinese, phone")
    await choice.get_by_role("button", name="与此处所有人及 Bo Jensen 新建对话").click()
    await expect(li.page.locator("#room-title")).to_contain_text("Anna Schmidt")
    await expect(li.page.locator("#room-title")).to_contain_text("Bo Jensen")
    fresh = (await li.page.evaluate("location.hash")).removeprefix("#/room/")
    assert fresh != room
    await expect(li.page.locator(".messages .msg")).to_have_count(0)
    await li.send("新对话：预算讨论")

    # Bo is in the new one only: he sees its message, and the first conversation is not his.
    await bo.go(f"#/room/{fresh}")
    await bo.sees("新对话：预算讨论")
    status = await bo.page.evaluate(f"fetch('/api/v1/rooms/{room}/messages').then(r => r.status)")
    assert status in (403, 404), status
    # The first conversation is unchanged: Anna and Li only, no membership line.
    await expect(anna.page.locator(".members-line")).to_have_count(0)
    await expect(anna.page.locator(".messages .event")).to_have_count(0)
    assert anna.errors == [] and li.errors == [], (anna.errors, li.errors)
    assert len(bo.errors) <= 1, bo.errors  # Chromium logs the refused fetch above
