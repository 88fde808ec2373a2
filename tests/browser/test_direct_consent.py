"""Consent in direct conversations in the web client: a conversation someone else started is
declined in one click (and its starter blocked), they cannot add the member back (the refusal
is shown, the same as for anyone not addable), blocking and unblocking from the directory, and
coming back by one's own hand. Anna (English) and 李华 (Chinese) on two nodes."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import no_axe_violations, two_members

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_decline_and_block_then_come_back(two_nodes, new_context):
    anna, li = await two_members(new_context, two_nodes)
    await anna.go("#/directory")
    await anna.page.get_by_role("button", name="Message 李华").click()
    await expect(anna.page.locator("#room-title")).to_have_text("李华")
    room = (await anna.page.evaluate("location.hash")).removeprefix("#/room/")
    await anna.send("Would you join our heat pump survey?")
    # Anna opened it herself: nothing to decline on her side.
    await expect(anna.page.locator(".added-by")).to_have_count(0)

    link = li.page.locator(".sidebar a", has_text="Anna Schmidt")
    await expect(link).to_be_visible(timeout=15000)
    await link.click()
    await li.sees("Would you join our heat pump survey?")
    request = li.page.get_by_role("group", name="对话请求")
    await expect(request).to_contain_text("Anna Schmidt 将你加入了此对话。")
    await no_axe_violations(li.page, "a conversation request")
    await request.get_by_role("button", name="拒绝并屏蔽 Anna Schmidt").click()
    # Gone from her sidebar, and unreadable for her.
    await expect(li.page.locator(".sidebar a", has_text="Anna Schmidt")).to_have_count(0)
    await expect(li.page.locator("#dir-title")).to_be_visible()
    assert li.errors == [], li.errors
    status = await li.page.evaluate(f"fetch('/api/v1/rooms/{room}/messages').then(r => r.status)")
    assert status == 404

    # Anna's view follows live; her attempt to add Li back is refused, and the view says so.
    await expect(anna.page.locator("#room-title")).not_to_have_text("李华", timeout=15000)
    await anna.page.get_by_role("button", name="Add someone").click()
    await anna.page.get_by_label("Find a member by name or organisation").fill("李")
    await anna.page.get_by_role("button", name="Add 李华").click()
    await anna.page.get_by_role("dialog").get_by_role("button", name="Add 李华 here (sees the earlier messages)").click()
    await expect(anna.page.locator(".add-member [role=alert]")).to_have_text(
        "Something went wrong: This member cannot be added to this conversation.")
    # "Message 李华" from the directory finds the same conversation, without her: the view
    # says she left rather than show a conversation she is not in without a word.
    await anna.go("#/directory")
    await anna.page.get_by_role("button", name="Message 李华").click()
    await expect(anna.page.locator(".notice[role=alert]")).to_have_text(
        "李华 left this conversation and is no longer a member. Only they can start it again.Dismiss")
    assert (await anna.page.evaluate("location.hash")) == f"#/room/{room}"
    await anna.page.get_by_role("button", name="Dismiss").click()
    await expect(anna.page.locator(".notice")).to_have_count(0)

    # Li sees Anna as blocked in the directory, unblocks her, and opens the conversation
    # again herself: the same one, with no request box (she came back by her own hand).
    entry = li.page.locator(".member", has_text="Anna Schmidt")
    await expect(entry.get_by_role("button", name="取消屏蔽 Anna Schmidt")).to_be_visible()
    await entry.get_by_role("button", name="取消屏蔽 Anna Schmidt").click()
    await expect(entry.get_by_role("button", name="屏蔽 Anna Schmidt", exact=True)).to_be_visible()
    await entry.get_by_role("button", name="给 Anna Schmidt 发私信").click()
    await expect(li.page.locator("#room-title")).to_have_text("Anna Schmidt")
    assert (await li.page.evaluate("location.hash")) == f"#/room/{room}"
    await li.sees("Would you join our heat pump survey?")
    await expect(li.page.locator(".added-by")).to_have_count(0)
    await expect(anna.page.locator("#room-title")).to_have_text("李华", timeout=15000)

    # Anna blocks Li from the conversation's header; the button turns into Unblock.
    await anna.page.get_by_role("button", name="Block 李华").click()
    await expect(anna.page.get_by_role("button", name="Unblock 李华")).to_be_visible()
    await no_axe_violations(anna.page, "the direct header with block tools")
    # the errors the consoles show: Anna's refused add and the 404 Li was asked for above
    # (Chromium logs every 4xx)
    assert len(anna.errors) == 1 and "403" in anna.errors[0], anna.errors
    assert len(li.errors) == 1 and "404" in li.errors[0], li.errors
