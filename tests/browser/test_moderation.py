"""Moderation in the web client (docs/operations.md, "Moderator's guide"), in Chromium, both
languages, on two production nodes: a member reports a message (its Report action) and a member
(their profile card), the dialog asking for a reason first; a moderator on the other node sees
both in #/moderation, removes the message, which goes from the reporter's page, dismisses the
other report, and suspends the author from their record and lifts it; a moderator warns and
mutes a member (their page on the other node told at once) and bans them from their record, and the member's page, connected to the other node, is signed
out at once and their login refused; the audit log names the actions. axe on every new screen,
screenshots of the dialog, the queue and the record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.helpers import Member, no_axe_violations
from tests.support.client import WsClient, call, is_type, moderator, register, send_acked

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "green-transport"
# What the reader sees (web/src/i18n.js).
WORDS = {
    "en": {"report": "Report", "report_member": "Report this member", "dialog": "Report to the moderators",
           "send": "Send report", "need_reason": "Choose a reason.", "spam": "Spam or advertising",
           "harassment": "Harassment", "note": "Anything the moderators should know (optional)",
           "thanks": "Thank you.", "close": "Close", "moderation": "Moderation", "reports": "Reports",
           "remove": "Remove the message", "deleted": "This message was deleted", "ban": "Ban",
           "ban_title": "Ban this member?", "record": "Record of {name}", "in_force": "in force",
           "banned": "This account is banned.", "login": "Log in", "admin": "Administration",
           "audit_ban": "Banned a member", "audit_remove": "Removed a reported message", "open": "Open",
           "warned": "A moderator warned you about how you take part here.",
           "wrote": "{name} wrote, as reported", "dismiss": "Dismiss", "empty": "No open reports.",
           "suspend": "Suspend", "unsuspend": "Lift the suspension", "lifted": "lifted", "warn": "Warn",
           "mute": "Mute in the room", "muted": "A moderator muted you in"},
    "zh": {"report": "举报", "report_member": "举报该成员", "dialog": "向管理员举报", "send": "提交举报",
           "need_reason": "请选择原因。", "spam": "垃圾信息或广告", "harassment": "骚扰",
           "note": "需要告诉管理员的情况（可选）", "thanks": "谢谢。", "close": "关闭", "moderation": "内容管理",
           "reports": "举报", "remove": "删除该消息", "deleted": "此消息已删除", "ban": "封禁",
           "ban_title": "封禁该成员？", "record": "{name} 的记录", "in_force": "生效中",
           "banned": "该账号已被封禁。", "login": "登录", "admin": "管理", "audit_ban": "封禁了成员",
           "audit_remove": "删除了被举报的消息", "open": "待处理",
           "warned": "管理员就你在此的言行向你发出了警告。", "wrote": "{name} 写道（举报时的原文）",
           "dismiss": "驳回", "empty": "没有待处理的举报。", "suspend": "暂停账号", "unsuspend": "解除暂停",
           "lifted": "已解除", "warn": "警告", "mute": "在聊天室禁言", "muted": "管理员已在"},
}


async def as_staff(member: Member, node, role: str) -> None:
    await node.node.store.set_role(await member.user_id(), role)
    await member.page.reload()
    await member.connected()


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_reporting_a_message_and_a_member_and_the_queue_on_the_other_node(
        two_nodes, new_context, lang, screenshots: Path):
    words = WORDS[lang]
    n1, n2 = two_nodes
    author = await register(n2.url, "SpammySam")
    ws = await WsClient.connect(n2.ws_url, author["token"])
    await ws.join(ROOM)
    sent = await send_acked(ws, ROOM, "Cheap pills, click here", "spam-1")

    reporter = await Member.open(new_context, n1.url, lang)
    await reporter.register("Ann Reporter" if lang == "en" else "安举报", f"reporter-{lang}@example.test")
    await reporter.go(f"#/room/{ROOM}")
    await reporter.sees("Cheap pills, click here")
    page = reporter.page
    message = page.locator(".messages .msg").filter(has_text="Cheap pills, click here")
    await message.hover()
    await message.get_by_role("button", name=words["report"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["dialog"])
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name=words["send"]).click()
    await expect(dialog.get_by_role("alert")).to_have_text(words["need_reason"])
    await no_axe_violations(page, f"report dialog {lang}")
    await dialog.get_by_role("radio", name=words["spam"]).check()
    await dialog.get_by_label(words["note"]).fill("链接是广告 / the link is an ad")
    await reporter.screenshot(screenshots, "report-dialog")
    await dialog.get_by_role("button", name=words["send"]).click()
    await expect(dialog.get_by_role("status")).to_contain_text(words["thanks"])
    await dialog.get_by_role("button", name=words["close"]).click()
    await expect(dialog).to_be_hidden()

    # The author's name opens their card; "Report this member" files a report of the member.
    await message.get_by_role("button", name="SpammySam", exact=True).click()
    card = page.get_by_role("dialog", name="SpammySam")
    await card.get_by_role("button", name=words["report_member"]).click()
    member_dialog = page.get_by_role("dialog", name=words["dialog"])
    await member_dialog.get_by_role("radio", name=words["harassment"]).check()
    await member_dialog.get_by_role("button", name=words["send"]).click()
    await expect(member_dialog.get_by_role("status")).to_contain_text(words["thanks"])
    await no_axe_violations(page, f"report a member {lang}")
    await member_dialog.get_by_role("button", name=words["close"]).click()
    reports = await n1.node.store.report_page(True, None, 10)
    assert [(r.reason, r.message_id is not None) for r in reports] == [("spam", True), ("harassment", False)]
    assert reports[0].note == "链接是广告 / the link is an ad"
    # Edited after the report, the message is quoted in the queue as it was reported (as text).
    await ws.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "nothing to see here",
                         "cid": "spam-edit"})
    await ws.wait_for(is_type("ack", cid="spam-edit"))

    # A moderator on the other node works the queue: the message goes from every page.
    moderator = await Member.open(new_context, n2.url, lang)
    await moderator.register("Mona Lee" if lang == "en" else "莫娜", f"mod-{lang}@example.test")
    await expect(moderator.page.get_by_role("link", name=words["moderation"], exact=True)).to_have_count(0)
    await as_staff(moderator, n2, "moderator")
    await moderator.page.get_by_role("link", name=words["moderation"], exact=True).click()
    queue = moderator.page.locator(".report-list > li")
    await expect(queue).to_have_count(2)
    await expect(queue.first).to_contain_text("SpammySam")
    await expect(queue.first).to_contain_text("链接是广告")
    quoted = queue.first.locator(".reported-message")
    await expect(quoted.locator("blockquote")).to_have_text("Cheap pills, click here")
    await expect(quoted.locator("figcaption")).to_contain_text(words["wrote"].format(name="SpammySam"))
    await no_axe_violations(moderator.page, f"moderation queue {lang}")
    await moderator.screenshot(screenshots, "moderation-queue")
    await queue.first.get_by_role("button", name=words["remove"]).click()
    await expect(queue).to_have_count(1)
    await expect(page.locator(".messages .msg .deleted")).to_have_count(1)
    # The member report is dismissed: the queue is empty.
    await queue.first.get_by_role("button", name=words["dismiss"]).click()
    await expect(moderator.page.locator(".moderation-page")).to_contain_text(words["empty"])
    # From the author's record: a suspension for the chosen time, then lifted.
    await moderator.go(f"#/moderation/member/{author['user']['id']}")
    mpage = moderator.page
    await expect(mpage.get_by_role("heading", name=words["record"].format(name="SpammySam"))).to_be_visible()
    actions = mpage.get_by_role("group", name=re.compile("."))
    await actions.get_by_role("combobox").select_option(index=0)
    await actions.get_by_role("button", name=words["suspend"], exact=True).click()
    suspension = mpage.locator('.sanctions li[data-kind="suspend"]')
    await expect(suspension).to_contain_text(words["in_force"])
    assert (await call(n2, "GET", "/api/v1/me", author)).status_code == 401  # its sessions ended
    await mpage.get_by_role("button", name=words["unsuspend"]).click()
    await expect(suspension).to_contain_text(words["lifted"])
    assert not reporter.errors and not moderator.errors, (reporter.errors, moderator.errors)
    await ws.close()


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_a_ban_signs_the_member_out_at_once_on_the_other_node(two_nodes, new_context, lang, screenshots: Path):
    words = WORDS[lang]
    n1, n2 = two_nodes
    member = await Member.open(new_context, n2.url, lang)
    email = f"banned-{lang}@example.test"
    name = "Bob Banned" if lang == "en" else "鲍被封"
    await member.register(name, email)
    await member.go(f"#/room/{ROOM}")
    member_id = await member.user_id()

    staff = await Member.open(new_context, n1.url, lang)
    await staff.register("Ada Lovelace" if lang == "en" else "艾达", f"staff-{lang}@example.test")
    await as_staff(staff, n1, "admin")
    await staff.go(f"#/moderation/member/{member_id}")
    page = staff.page
    await expect(page.get_by_role("heading", name=words["record"].format(name=name))).to_be_visible()
    await no_axe_violations(page, f"member record {lang}")
    await staff.screenshot(screenshots, "moderation-record")
    # A warning and a mute in the member's room reach their page on the other node at once.
    actions = page.get_by_role("group", name=re.compile("."))
    await actions.get_by_role("button", name=words["warn"], exact=True).click()
    await expect(member.page.get_by_role("alert").filter(has_text=words["warned"])).to_be_visible()
    await page.locator("#record-room").select_option(ROOM)
    await actions.get_by_role("button", name=words["mute"], exact=True).click()
    await expect(member.page.get_by_role("alert").filter(has_text=words["muted"])).to_be_visible()
    await expect(page.locator('.sanctions li[data-kind="mute"]')).to_contain_text(words["in_force"])
    await expect(page.locator('.sanctions li[data-kind="warn"]')).to_have_count(1)
    await actions.get_by_role("button", name=words["ban"], exact=True).click()
    confirm = page.get_by_role("alertdialog", name=words["ban_title"])
    await no_axe_violations(page, f"ban confirmation {lang}")
    await confirm.get_by_role("button", name=words["ban"], exact=True).click()

    # The member's page, on the other node, is signed out at once (its socket closed: 4001).
    await expect(member.page.get_by_role("button", name=member.text["register_link"])).to_be_visible(timeout=20000)
    await expect(page.locator('.sanctions li[data-kind="ban"]')).to_contain_text(words["in_force"])
    await member.page.get_by_label(member.text["email"]).fill(email)
    await member.page.get_by_label(member.text["password"]).fill("a long secret")
    await member.page.get_by_role("button", name=words["login"], exact=True).click()
    await expect(member.page.get_by_text(words["banned"])).to_be_visible()
    await no_axe_violations(member.page, f"banned login {lang}")

    # The audit log names the act in the reader's language.
    await page.get_by_role("link", name=words["admin"], exact=True).click()
    entry = page.locator('.audit-entry[data-action="moderation.ban"]')
    await expect(entry).to_contain_text(words["audit_ban"])
    await expect(entry).to_contain_text(name)
    await no_axe_violations(page, f"audit log with moderation {lang}")
    assert not staff.errors, staff.errors


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_a_warning_made_while_the_member_was_away_shows_when_they_come_back(
    two_nodes, new_context, lang, screenshots: Path,
) -> None:
    n1, n2 = two_nodes
    member = await Member.open(new_context, n2.url, lang)
    await member.register("Wendy Warned" if lang == "en" else "温被警告", f"warned-{lang}@example.test")
    member_id = await member.user_id()
    await member.page.goto("about:blank")  # away: no page of theirs is open to get the frame
    mod = await moderator(n1, "Moddy")
    warned = await call(n1, "POST", f"/api/v1/moderation/members/{member_id}/actions", mod,
                        json={"action": "warn", "reason": "no adverts"})
    assert warned.status_code == 200, warned.text

    await member.page.goto(f"{n2.url}/#/room/{ROOM}")
    notice = member.page.get_by_role("alert").filter(has_text=WORDS[lang]["warned"])
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("no adverts")
    await no_axe_violations(member.page, f"warning on return {lang}")
    await member.screenshot(screenshots, "moderation-warning-on-return")
    await notice.get_by_role("button", name=WORDS[lang]["close"]).click()
    await expect(notice).to_have_count(0)
    await member.page.reload()  # dismissed here: not shown again at the next start
    await member.connected()
    await expect(member.page.locator(".moderation-notice")).to_have_count(0)
    assert not member.errors, member.errors
