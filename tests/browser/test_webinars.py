"""Webinars in the web client (docs/protocol.md, "Webinars"): a moderator schedules one listed in
a sector room; a member on the other node finds it (upcoming, and in the sector room), registers,
downloads its calendar file; the host starts it, the member is notified and the page follows
live; the audience chat; slow mode and the chat switched off, refused in place with the reason;
the host ends it and the chat is read-only. Desktop and phone, English and Chinese, axe on each
view."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations, two_members
from tests.browser.test_phone import no_horizontal_overflow, no_small_targets
from tests.support.client import call, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

TITLE_EN, TITLE_ZH = "Green roofs in Hefei", "合肥的绿色屋顶"


def wall(zone: str, delta: timedelta) -> str:
    """A wall time in `zone`, as an <input type="datetime-local"> takes it."""
    return (datetime.now(ZoneInfo(zone)) + delta).strftime("%Y-%m-%dT%H:%M")


async def test_schedule_register_go_live_chat_slow_off_and_end_across_nodes(two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    await two_nodes[0].node.store.set_role(await anna.user_id(), "moderator")
    await anna.page.reload()
    await anna.connected()
    page = anna.page

    # Anna schedules it (times in her zone, Berlin; the host's zone Shanghai), listed in a sector
    # room. An end before the start is refused beside the end field, which takes the focus.
    await anna.go("#/webinars")
    await page.get_by_role("button", name="Schedule a webinar").click()
    form = page.locator("form.webinar-form")
    await form.get_by_label("Title (English)").fill(TITLE_EN)
    await form.get_by_label("Title (Chinese)").fill(TITLE_ZH)
    await form.get_by_label("Description (Markdown)").fill("Why **roofs** matter")
    typed_start = wall("Europe/Berlin", timedelta(hours=2))
    await form.get_by_label("Start (Berlin time)").fill(typed_start)
    await form.get_by_label("End (Berlin time)").fill(wall("Europe/Berlin", timedelta(hours=1)))
    await form.get_by_label("Host's time zone").select_option("Asia/Shanghai")
    await form.get_by_label("Green Transport").check()
    await no_axe_violations(page, "schedule form")
    await form.get_by_role("button", name="Schedule", exact=True).click()
    ends = form.get_by_label("End (Berlin time)")
    await expect(ends).to_have_attribute("aria-invalid", "true")
    await expect(form.locator("#webinar-ends_at-error")).to_contain_text("End:")
    await expect(ends).to_be_focused()
    await ends.fill(wall("Europe/Berlin", timedelta(hours=3)))
    await form.get_by_role("button", name="Schedule", exact=True).click()
    await expect(page).to_have_url(re.compile(r"#/webinar/webinar-[0-9a-f]{16}$"), timeout=15000)
    webinar_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#room-title")).to_have_text(TITLE_EN)
    # The wall time typed in Berlin is the instant stored, and the host's zone is Shanghai.
    stored = (await page.evaluate(f"fetch('/api/v1/webinars/{webinar_id}').then(r => r.json())"))["webinar"]
    assert datetime.fromisoformat(stored["starts_at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M") == typed_start, stored
    assert stored["time_zone"] == "Asia/Shanghai" and stored["rooms"] == ["green-transport"], stored
    # Both zones, named by city: hers and the host's.
    await expect(page.locator(".webinar-head .when-mine")).to_contain_text("Berlin time")
    await expect(page.locator(".webinar-head .when-host")).to_contain_text("Beijing time, the host's time")
    await expect(page.locator(".messages .event")).to_contain_text(["Anna Schmidt scheduled the webinar"], timeout=15000)

    # 李华, on the other node, finds it under upcoming (in Chinese) and in the sector room.
    await li.go("#/webinars")
    card = li.page.locator(f'.webinar-card[data-id="{webinar_id}"]')
    await expect(card.get_by_role("link", name=TITLE_ZH, exact=True)).to_be_visible(timeout=15000)
    await expect(card.locator(".webinar-state")).to_have_text("已安排")
    await expect(card.locator(".when-mine")).to_contain_text("北京时间")
    await no_axe_violations(li.page, "webinars zh")
    await li.go("#/room/green-transport")
    await expect(li.page.locator(".room-webinars")).to_contain_text(TITLE_ZH, timeout=15000)
    await expect(li.page.locator(".messages .event")).to_contain_text([f"已安排研讨会：{TITLE_ZH}"])
    await li.go("#/webinars")
    await card.get_by_role("button", name=f"报名参加 {TITLE_ZH}").click()
    await expect(card.get_by_role("button", name=f"取消报名 {TITLE_ZH}")).to_have_attribute("aria-pressed", "true")
    await expect(card).to_contain_text("1 人已报名")
    await li.screenshot(screenshots, "webinars")
    async with li.page.expect_download() as info:
        await card.get_by_role("link", name=re.compile("添加到日历")).click()
    ics = Path(await (await info.value).path()).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR"), ics[:200]
    assert f"SUMMARY:{TITLE_ZH}" in ics, ics
    assert f"/#/webinar/{webinar_id}" in ics.replace("\r\n ", "")

    await anna.go("#/webinars")
    await expect(page.locator(f'.webinar-card[data-id="{webinar_id}"]')).to_contain_text(TITLE_EN)
    await no_axe_violations(page, "webinars en")
    await anna.screenshot(screenshots, "webinars")

    # Both on its page; Anna starts it: 李华's page follows live, and the line says so.
    await anna.go(f"#/webinar/{webinar_id}")
    await li.go(f"#/webinar/{webinar_id}")
    await expect(li.page.locator("#room-title")).to_have_text(TITLE_ZH)
    await expect(li.page.locator(".messages .event")).to_contain_text(["Anna Schmidt 安排了研讨会"], timeout=15000)
    await expect(li.page.get_by_role("button", name="开始研讨会")).to_have_count(0)  # not a host
    await page.get_by_role("button", name="Start the webinar").click()
    await expect(li.page.locator(".webinar-head .webinar-state")).to_have_text("直播中", timeout=15000)
    await expect(li.page.locator(".messages .event").filter(has_text="研讨会正在直播")).to_have_count(1)
    await expect(page.locator(".messages .event").filter(has_text="The webinar is live")).to_have_count(1)

    # The audience chat, both ways across the nodes.
    await li.send("大家好，来自合肥")
    await anna.sees("大家好，来自合肥")
    await anna.send("Welcome, everyone")
    await li.sees("Welcome, everyone")
    await no_axe_violations(li.page, "webinar zh")
    await no_axe_violations(page, "webinar en")
    await li.screenshot(screenshots, "webinar")
    await anna.screenshot(screenshots, "webinar")

    # Slow mode (20 s): 李华 wrote a moment ago, so the next one waits, and the page says why.
    await page.locator("#chat-mode").select_option("slow")
    await page.get_by_label("Seconds between messages").fill("20")
    await page.get_by_role("button", name="Apply").click()
    await expect(li.page.locator(".messages .event")).to_contain_text(
        ["Anna Schmidt 将聊天切换为慢速模式（20 秒）"], timeout=15000)
    await expect(li.page.locator(".chat-state")).to_have_text("慢速模式：每 20 秒一条消息。")
    await li.send("第二条消息")
    await expect(li.page.locator(".notice")).to_contain_text("慢速模式（每 20 秒一条消息）：你的消息将在", timeout=15000)
    await expect(li.page.locator(".messages .msg.pending")).to_have_count(1)

    # The chat off: the waiting message is refused when it goes out, in place, with the reason.
    await page.locator("#chat-mode").select_option("off")
    await page.get_by_role("button", name="Apply").click()
    await expect(li.page.locator(".chat-state")).to_have_text("主持人已关闭聊天。", timeout=15000)
    await expect(li.page.get_by_label(li.text["compose"])).to_have_count(0)
    await expect(page.get_by_label(anna.text["compose"])).to_be_visible()  # hosts still write
    await expect(li.page.locator("p.error")).to_contain_text("聊天现在不接收消息。", timeout=40000)
    await expect(li.page.locator(".messages .msg.pending")).to_have_count(0)

    # The live notification: in 李华's list, opening the webinar's page.
    await li.go("#/notifications")
    note = li.page.locator('.note[data-kind="webinar_live"]')
    await expect(note).to_contain_text("你报名的研讨会正在直播")
    await expect(note.get_by_role("link")).to_have_attribute("href", f"#/webinar/{webinar_id}")
    await note.get_by_role("link").click()
    await expect(li.page.locator("#room-title")).to_have_text(TITLE_ZH)

    # Anna ends it (confirmed): the chat is read-only for everyone.
    await page.get_by_role("button", name="End the webinar").click()
    await page.locator("dialog.confirm").get_by_role("button", name="End the webinar").click()
    await expect(li.page.locator(".webinar-head .webinar-state")).to_have_text("已结束", timeout=15000)
    await expect(li.page.locator(".chat-state")).to_have_text("研讨会已结束：聊天为只读。")
    await expect(page.locator(".chat-state")).to_have_text("The webinar has ended: the chat is read-only.")
    for member in (anna, li):
        await expect(member.page.get_by_label(member.text["compose"])).to_have_count(0)
    await expect(li.page.locator(".messages .event").filter(has_text="研讨会已结束")).to_have_count(1)
    await li.go("#/webinars")
    await li.page.get_by_role("button", name="往期").click()
    await expect(li.page.locator(f'.webinar-card[data-id="{webinar_id}"] .webinar-state')).to_have_text("已结束")
    # (the one refused schedule is the browser's only complaint)
    assert [e for e in anna.errors if "422" not in e] == [] and not li.errors, (anna.errors, li.errors)


async def test_webinars_on_a_phone_in_both_languages(two_nodes, new_context, screenshots):
    """The drawer leads to the webinars; the list, the page and its details panel fit a phone,
    every control a finger can hit; the host starts it from the phone."""
    host = await Member.open(new_context, two_nodes[0].url, "en", **PHONE)
    guest = await Member.open(new_context, two_nodes[1].url, "zh", **PHONE)
    await host.register("Anna Schmidt", "anna@example.eu")
    await guest.register("李华", "li@example.cn")
    moderator = await register(two_nodes[0].url, "Mia")
    await two_nodes[0].node.store.set_role(moderator["user"]["id"], "moderator")
    starts = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(hours=2)
    answer = await call(two_nodes[0], "POST", "/api/v1/webinars", moderator, json={
        "title": {"en": TITLE_EN, "zh": TITLE_ZH}, "description": "Why **roofs** matter",
        "starts_at": starts.isoformat(timespec="seconds"),
        "ends_at": (starts + timedelta(hours=1)).isoformat(timespec="seconds"),
        "time_zone": "Europe/Berlin", "rooms": ["green-transport"], "hosts": [await host.user_id()]})
    assert answer.status_code == 201, answer.text
    webinar_id = answer.json()["webinar"]["id"]
    names = {"en": ("Rooms", "Webinars", "Q&A and details", "Back to the chat", "Register"),
             "zh": ("聊天室", "网络研讨会", "问答与详情", "返回聊天", "报名")}
    for member in (host, guest):
        menu, webinars, details, back, register_label = names[member.lang]
        page = member.page
        await page.get_by_role("button", name=re.compile(menu)).click()
        await page.locator(".drawer").get_by_role("link", name=webinars).click()
        card = page.locator(f'.webinar-card[data-id="{webinar_id}"]')
        await expect(card).to_be_visible(timeout=15000)
        await card.get_by_role("button", name=re.compile(register_label)).click()
        await expect(card.locator(".register button")).to_have_attribute("aria-pressed", "true")
        await no_horizontal_overflow(page, f"webinars {member.lang}")
        await no_small_targets(page, f"webinars {member.lang}")
        await no_axe_violations(page, f"webinars phone {member.lang}")
        await member.screenshot(screenshots, "webinars-phone")
        await card.locator("h3 a").click()
        await expect(page.locator("#room-title")).to_have_text(TITLE_EN if member.lang == "en" else TITLE_ZH)
        await expect(page.locator(".messages")).to_be_visible()
        await no_horizontal_overflow(page, f"webinar {member.lang}")
        await no_small_targets(page, f"webinar {member.lang}")
        await no_axe_violations(page, f"webinar phone {member.lang}")
        await member.screenshot(screenshots, "webinar-phone")
        toggle = page.get_by_role("button", name=details, exact=True)
        await toggle.click()
        side = page.locator("#room-side")
        await expect(side).to_contain_text("Anna Schmidt")
        await no_axe_violations(page, f"webinar details phone {member.lang}")
        await page.keyboard.press("Escape")
        await expect(side).to_have_count(0)
        await expect(toggle).to_be_focused()
        await expect(page.get_by_role("button", name=back)).to_have_count(0)
    # The host (named by the moderator) starts it from the phone; the guest's page follows.
    await host.page.get_by_role("button", name="Start the webinar").click()
    await expect(guest.page.locator(".webinar-head .webinar-state")).to_have_text("直播中", timeout=15000)
    await guest.send("你好")
    await host.sees("你好")
    assert not host.errors and not guest.errors, (host.errors, guest.errors)


async def test_a_host_edits_and_cancels_and_registered_members_see_it_live(two_nodes, new_context, screenshots):
    """A host named by a moderator (not staff themselves) edits it (an empty title refused
    beside the titles) and cancels it (confirmed); a registered member's page and notifications
    follow."""
    anna, li = await two_members(new_context, two_nodes)
    moderator = await register(two_nodes[0].url, "Mia")
    await two_nodes[0].node.store.set_role(moderator["user"]["id"], "moderator")
    starts = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=5)
    answer = await call(two_nodes[0], "POST", "/api/v1/webinars", moderator, json={
        "title": {"en": TITLE_EN, "zh": TITLE_ZH}, "starts_at": starts.isoformat(timespec="seconds"),
        "ends_at": (starts + timedelta(hours=1)).isoformat(timespec="seconds"), "time_zone": "Asia/Shanghai",
        "hosts": [await anna.user_id()], "panelists": [await li.user_id()]})
    assert answer.status_code == 201, answer.text
    webinar_id = answer.json()["webinar"]["id"]
    for member in (anna, li):
        await member.go(f"#/webinar/{webinar_id}")
    # Li is a panelist: the badge says so, and the controls are the hosts' only.
    side = li.page.locator("#room-side")
    await expect(side.locator(".webinar-people").filter(has_text="嘉宾")).to_contain_text("李华")
    await expect(li.page.get_by_role("group", name="主持研讨会")).to_have_count(0)
    await li.page.get_by_role("button", name=f"报名参加 {TITLE_ZH}").click()
    await expect(li.page.get_by_role("button", name=f"取消报名 {TITLE_ZH}")).to_be_visible()

    page = anna.page
    await page.get_by_role("button", name="Edit the webinar").click()
    form = page.locator("form.webinar-form")
    # The form holds the webinar as it is: its start in Anna's zone (Berlin).
    await expect(form.get_by_label("Start (Berlin time)")).to_have_value(
        starts.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M"))
    await expect(form.get_by_label("Host's time zone")).to_have_value("Asia/Shanghai")
    await form.get_by_label("Title (English)").fill("")
    await form.get_by_label("Title (Chinese)").fill("")
    await form.get_by_role("button", name="Save changes").click()
    await expect(form.locator("#webinar-title-error")).to_contain_text("Title:")
    await expect(form.get_by_label("Title (English)")).to_be_focused()
    await expect(form.get_by_label("Title (Chinese)")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Title (English)").fill("Green roofs in Hefei, part 2")
    await form.get_by_label("Title (Chinese)").fill("合肥的绿色屋顶（二）")
    await form.get_by_label("Description (Markdown)").fill("Now with **solar** panels")
    await no_axe_violations(page, "edit form")
    await form.get_by_role("button", name="Save changes").click()
    await expect(form).to_have_count(0)
    await expect(page.locator("#room-title")).to_have_text("Green roofs in Hefei, part 2")
    # 李华's page follows, description too; the line says who changed it.
    await expect(li.page.locator("#room-title")).to_have_text("合肥的绿色屋顶（二）", timeout=15000)
    await expect(side.locator(".webinar-description")).to_contain_text("Now with solar panels")
    await expect(li.page.locator(".messages .event").filter(has_text="Anna Schmidt 修改了研讨会信息")).to_have_count(1)

    await page.get_by_role("button", name="Cancel the webinar").click()
    dialog = page.locator("dialog.confirm")
    await dialog.get_by_role("button", name="Cancel", exact=True).click()  # the safe answer first
    await expect(page.locator(".webinar-head .webinar-state")).to_have_text("Scheduled")
    await page.get_by_role("button", name="Cancel the webinar").click()
    await dialog.get_by_role("button", name="Cancel it").click()
    await expect(li.page.locator(".webinar-head .webinar-state")).to_have_text("已取消", timeout=15000)
    await expect(li.page.locator(".chat-state")).to_have_text("研讨会已取消：聊天为只读。")
    await expect(li.page.get_by_role("button", name=re.compile("报名"))).to_have_count(0)
    await li.go("#/notifications")
    await expect(li.page.locator('.note[data-kind="webinar_cancelled"]')).to_contain_text("Anna Schmidt 取消了你报名的研讨会")
    await expect(li.page.locator('.note[data-kind="webinar_edited"]')).to_contain_text("Anna Schmidt 修改了你报名的研讨会")
    await no_axe_violations(li.page, "notifications zh")
    assert [e for e in anna.errors if "422" not in e] == [] and not li.errors, (anna.errors, li.errors)
    # A link to no webinar (or to a room that is none) says so.
    for wrong in ("webinar-0000000000000000", "green-transport"):
        await li.go(f"#/webinar/{wrong}")
        await expect(li.page.locator("#room-title")).to_have_text("该研讨会不存在。")
        await expect(li.page.get_by_role("link", name="全部研讨会")).to_be_visible()
