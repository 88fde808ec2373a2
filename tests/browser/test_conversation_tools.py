"""The tools around messages in the web client: earlier versions of an edited message, a topic
started from a message (and a refused start, shown), resolving and pinning, "seen by" in a
direct conversation, adding someone to it and leaving it. Two members on two nodes, one in
English and one in Chinese."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import Member, no_axe_violations, two_members

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_edit_history_topic_from_a_message_resolve_and_pin(two_nodes, new_context):
    anna, li = await two_members(new_context, two_nodes)
    await two_nodes[0].node.store.set_role(await anna.user_id(), "moderator")
    await anna.page.reload()
    await anna.connected()
    for member in (anna, li):
        await member.go("#/room/water-management")

    await anna.send("Sponge city pilots: **16** so far")
    await li.sees("Sponge city pilots: 16 so far")
    mine = anna.page.locator(".msg", has_text="Sponge city pilots")
    await mine.get_by_role("button", name="Edit").click()
    await mine.get_by_role("textbox").fill("Sponge city pilots: **30** so far")
    await mine.get_by_role("button", name="Save").click()
    await li.sees("Sponge city pilots: 30 so far")
    # Li opens the earlier versions: the first body, as its author wrote it
    edited = li.page.locator(".msg", has_text="30 so far").get_by_role("button", name="（已编辑）")
    await edited.click()
    await expect(edited).to_have_attribute("aria-expanded", "true")
    await expect(li.page.locator(".msg .versions")).to_contain_text("Sponge city pilots: **16** so far")
    await expect(li.page.locator(".msg .versions")).to_contain_text("第 1 版")

    # a topic from that message; a blank title is refused by the server and the form says so
    await li.page.locator(".msg", has_text="30 so far").get_by_role("button", name="就此发起话题").click()
    form = li.page.locator(".msg form.topic-form")
    await form.get_by_label("话题标题").fill("   ")
    await form.get_by_role("button", name="发起").click()
    await expect(form.get_by_role("alert")).to_contain_text("出错了")
    await form.get_by_label("话题标题").fill("海绵城市试点")
    await form.get_by_role("button", name="发起").click()
    await expect(li.page.locator("#room-title")).to_have_text("海绵城市试点")
    await expect(li.page.locator(".origin blockquote")).to_contain_text("Sponge city pilots: 30 so far")
    await expect(li.page.locator(".origin figcaption")).to_contain_text("Anna Schmidt，于 水资源管理")

    # Anna (a moderator) sees it listed, opens it and pins it; Li sees the pin live
    listed = anna.page.locator(".threads a", has_text="海绵城市试点")
    await expect(listed).to_be_visible(timeout=15000)
    await listed.click()
    await expect(anna.page.locator("#room-title")).to_have_text("海绵城市试点")
    await anna.page.get_by_role("button", name="Pin", exact=True).click()
    await expect(anna.page.get_by_role("button", name="Unpin")).to_be_visible()
    await expect(li.page.locator(".topic-state .pinned")).to_have_text("置顶", timeout=15000)
    for page in (anna.page, li.page):  # the topic view, its state and actions
        await no_axe_violations(page)
    # Li, its author, marks it resolved; Anna's view and the room's list show it
    await li.page.get_by_role("button", name="标记为已解决").click()
    await expect(li.page.get_by_role("button", name="重新打开")).to_be_visible()
    await expect(anna.page.locator(".topic-state .resolved")).to_have_text("Resolved", timeout=15000)
    await anna.go("#/room/water-management")
    entry = anna.page.locator(".threads li", has_text="海绵城市试点")
    await expect(entry.locator(".resolved")).to_be_visible()
    await expect(entry.locator(".pinned")).to_be_visible()
    # Li is no moderator: no pin button for her
    await expect(li.page.get_by_role("button", name="置顶")).to_have_count(0)
    # the one error either console shows is the refused blank title (Chromium logs every 4xx)
    assert anna.errors == [] and len(li.errors) == 1 and "422" in li.errors[0], (anna.errors, li.errors)


async def test_seen_by_adding_someone_and_leaving_a_direct_conversation(two_nodes, new_context):
    anna, li = await two_members(new_context, two_nodes)
    bo = await Member.open(new_context, two_nodes[1].url, "en")
    await bo.register("Bo Jensen", "bo@example.dk")
    await anna.go("#/directory")
    await anna.page.get_by_role("button", name="Message 李华").click()
    await expect(anna.page.locator("#room-title")).to_have_text("李华")
    room = (await anna.page.evaluate("location.hash")).removeprefix("#/room/")
    await anna.send("Could you share the Liuzhou figures?")
    await expect(anna.page.locator(".read-by")).to_have_text("")

    direct_link = li.page.locator(".sidebar a", has_text="Anna Schmidt")
    await expect(direct_link).to_be_visible(timeout=15000)
    await direct_link.click()
    await li.sees("Could you share the Liuzhou figures?")
    await expect(anna.page.locator(".read-by")).to_have_text("Seen by 李华", timeout=15000)

    # Anna brings Bo in from the directory search
    await anna.page.get_by_role("button", name="Add someone").click()
    await anna.page.get_by_label("Find a member by name or organisation").fill("Bo")
    await expect(anna.page.get_by_role("button", name="Add Bo Jensen")).to_be_visible()
    await no_axe_violations(anna.page)  # the direct view with "seen by" and the add form open
    await anna.page.get_by_role("button", name="Add Bo Jensen").click()
    await anna.page.get_by_role("dialog").get_by_role("button", name="Add Bo Jensen here (sees the earlier messages)").click()
    await expect(anna.page.locator(".members-line")).to_contain_text("Bo Jensen")
    # live, on the other node: Li's header lists Bo, and Bo's sidebar has the conversation
    await expect(li.page.locator(".members-line")).to_contain_text("Bo Jensen", timeout=15000)
    bo_link = bo.page.locator(".sidebar a", has_text="Anna Schmidt, 李华")
    await expect(bo_link).to_be_visible(timeout=15000)
    await bo_link.click()
    await bo.sees("Could you share the Liuzhou figures?")

    # Li leaves: the conversation goes from her sidebar, and she can no longer read it
    await li.page.get_by_role("button", name="退出对话").click()
    await li.page.get_by_role("alertdialog").get_by_role("button", name="退出对话").click()  # confirmed
    await expect(li.page.locator(".sidebar a", has_text="Anna Schmidt")).to_have_count(0)
    await expect(li.page.locator("#dir-title")).to_be_visible()
    assert li.errors == [], li.errors
    status = await li.page.evaluate(f"fetch('/api/v1/rooms/{room}/messages').then(r => r.status)")
    assert status == 404
    # Anna's view follows live: the title is the others' names
    await expect(anna.page.locator("#room-title")).to_have_text("Bo Jensen", timeout=15000)
    assert anna.errors == [] and bo.errors == [], (anna.errors, bo.errors)
