"""Email notifications in headless Chromium, in both languages: the account section's
preferences (kinds, digest and its rooms, the mail's language, which also follows the interface
language), and the unsubscribe link of a real email (read from the test SMTP server) opened in
the browser: the page changes nothing until its button is pressed. axe on both pages."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from playwright.async_api import expect

from chat.mail.letters import Letter, render
from chat.mail.service import Mail
from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.history import eventually
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

WORDS = {
    "en": {"section": "Email notifications", "mention": "Mentions of me left unread", "weekly": "Weekly",
           "rooms": "Rooms in the digest", "room": "Zhuhai", "language": "Language of emails",
           "save": "Save email settings", "saved": "Email settings saved.", "switch": "中文"},
    "zh": {"section": "邮件通知", "mention": "未读的提及", "weekly": "每周", "rooms": "摘要包含的聊天室",
           "room": "珠海", "language": "邮件语言", "save": "保存邮件设置", "saved": "邮件设置已保存。",
           "switch": "English"},
}


async def preferences(member: Member) -> dict:
    return await member.page.evaluate("fetch('/api/v1/me/mail-preferences').then(r => r.json())")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_email_preferences_are_set_in_the_account_page_and_unsubscribe_works(
        lang, make_settings, mailbox, new_context, screenshots):
    words = WORDS[lang]
    async with running_nodes(make_settings(**mailbox.settings)) as [node]:
        member = await Member.open(new_context, node.url, lang)
        email = f"mail-{lang}@example.org"
        await member.register("Mei" if lang == "zh" else "May", email)
        await member.go("#/account")
        section = member.page.locator("section.account-mail")
        await expect(section.get_by_role("heading", name=words["section"])).to_be_visible()
        mention = section.get_by_label(words["mention"])
        await expect(mention).to_be_checked()
        await expect(section.get_by_role("group", name=words["rooms"])).to_have_count(0)
        await mention.uncheck()
        await section.get_by_label(words["weekly"], exact=True).check()
        await section.get_by_role("group", name=words["rooms"]).get_by_label(words["room"], exact=True).check()
        await section.get_by_label(words["language"]).select_option(lang)
        await section.get_by_role("button", name=words["save"]).click()
        await expect(section.get_by_role("status")).to_have_text(words["saved"])
        stored = await preferences(member)
        assert (stored["mention"], stored["direct"], stored["digest"]) == (False, True, "weekly")
        assert (stored["digest_rooms"], stored["language"]) == (["zhuhai"], lang)
        await no_axe_violations(member.page, f"email preferences ({lang})")
        await member.screenshot(screenshots, "account-email")

        # The interface language picked becomes the mail's language too.
        other = "zh" if lang == "en" else "en"
        await member.page.locator("#lang-switch").select_option(other)
        await expect(member.page.locator("html")).to_have_attribute("lang", re.compile(f"^{other}"))

        async def follows() -> bool:
            return (await preferences(member))["language"] == other

        await eventually(follows, "the mail's language follows the interface's")

        # A real email's unsubscribe link, opened in the browser.
        user_id = await member.user_id()
        letter = Letter("Unread mention", "未读提及", ("You were mentioned.",), ("有人提及了您。",))
        await node.node.mail.enqueue(Mail(email, "direct", render(letter, None), user_id=user_id, unsubscribe=True))
        message = await mailbox.wait_for(to=email, subject="Unread mention")
        link = message["List-Unsubscribe"].strip("<>")
        page = member.page
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Unsubscribe / 退订")).to_be_visible()
        await no_axe_violations(page, "unsubscribe page")
        assert await node.node.mail.wants(user_id, "direct")  # opening it changed nothing
        await page.get_by_role("button", name="Unsubscribe / 退订").click()
        await expect(page.get_by_role("heading", name="Unsubscribed / 已退订")).to_be_visible()
        assert not await node.node.mail.wants(user_id, "direct")
        assert not await node.node.mail.wants(user_id, "mention")  # as set before
        assert await node.node.mail.wants(user_id, "reply")
        assert member.foreign_urls() == []


async def test_email_preferences_fit_a_phone(make_settings, new_context, screenshots):
    async with running_nodes(make_settings()) as [node]:
        member = await Member.open(new_context, node.url, "zh", **PHONE)
        await member.register("手机用户", "phone-mail@example.cn")
        await member.go("#/account")
        section = member.page.locator("section.account-mail")
        await expect(section.get_by_role("heading", name="邮件通知")).to_be_visible()
        await section.get_by_label("每天", exact=True).check()
        rooms = section.get_by_role("group", name="摘要包含的聊天室")
        await expect(rooms).to_be_visible()
        width = await member.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
        await section.get_by_role("button", name="保存邮件设置").scroll_into_view_if_needed()
        await no_axe_violations(member.page, "email preferences on a phone")
        await member.screenshot(screenshots, "account-email-phone")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_mail_language_is_the_interfaces_from_registration_and_sign_in(lang, make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        member = await Member.open(new_context, node.url, lang)
        email = f"lang-{lang}@example.org"
        await member.register("Lan", email)

        async def language_is(expected) -> bool:
            return (await preferences(member))["language"] == expected

        await eventually(lambda: language_is(lang), "registration sets the mail's language")
        # A member whose mail language is unset (registered before this) gets it at sign-in.
        user_id = await member.user_id()
        await node.node.mail.set_preferences(user_id, replace(await node.node.mail.preferences(user_id), language=None))
        assert (await node.node.mail.preferences(user_id)).language is None
        await member.context.close()
        again = await Member.open(new_context, node.url, lang)
        await again.log_in(email)
        member = again
        await eventually(lambda: language_is(lang), "sign-in sets the mail's language")
