"""Account recovery in headless Chromium, in both languages: a forgotten password reset by the
link mailed to the test SMTP server (tests/support/mailbox.py), the verify banner and link, and
the account page's email, password and sessions sections (one ended session signs its page
out; on a phone one session ended by its button, the password and the address changed, the
latter through the link mailed to the new address, the old one told), with axe checks and screenshots (the sessions section on a phone too)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import call, create_account, http_client
from tests.support.mailbox import Mailbox, text_of
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

WORDS = {
    "en": {"forgot": "Forgot password?", "send": "Send the link", "sent": "a link to reset its password is on its way",
           "new_password": "New password", "set": "Set the new password", "done": "Your password is set",
           "back": "Back to log in", "banner": "Please confirm your email address", "verified": "your email address is confirmed",
           "continue": "Continue to EcoLink", "confirmed": "Confirmed", "current": "Current password",
           "change_password": "Change the password", "password_done": "Your password is changed",
           "this": "This session", "end_others": "End all other sessions", "alone": "You are signed in here only",
           "wrong": "Wrong password or code.", "account": "Account and security",
           "new_email": "New email address", "change_email": "Change the address",
           "email_sent": "We sent a link to the new address", "email_done": "Your account now uses this email address.",
           "end_firefox": "End the session of Firefox · Windows", "alone_here": "You are signed in here only."},
    "zh": {"forgot": "忘记密码？", "send": "发送链接", "sent": "重置密码的链接已经发出",
           "new_password": "新密码", "set": "保存新密码", "done": "新密码已设置",
           "back": "返回登录", "banner": "请确认您的电子邮箱地址", "verified": "您的电子邮箱地址已确认",
           "continue": "进入 EcoLink", "confirmed": "已确认", "current": "当前密码",
           "change_password": "更改密码", "password_done": "密码已更改",
           "this": "当前会话", "end_others": "结束所有其他会话", "alone": "您只在这里登录",
           "wrong": "密码或验证码错误。", "account": "账户与安全",
           "new_email": "新的电子邮箱地址", "change_email": "更改地址",
           "email_sent": "我们已向新地址发送链接", "email_done": "您的账户现在使用此电子邮箱地址。",
           "end_firefox": "结束 Firefox · Windows 的会话", "alone_here": "您只在这里登录。"},
}


def token_in(message, kind: str) -> str:
    found = re.search(rf"#/{kind}/([A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


async def test_a_forgotten_password_is_reset_by_the_mailed_link(make_settings, new_context, mailbox: Mailbox,
                                                                  screenshots):
    async with running_nodes(make_settings(**mailbox.settings)) as [node]:
        for lang, words in WORDS.items():
            email = f"forgetful-{lang}@example.test"
            async with http_client(node.url) as http:
                registered = await create_account(http, {
                    "email": email, "password": "a long secret", "display_name": f"Forgetful {lang}"})
            assert registered.status_code == 201, registered.text
            member = await Member.open(new_context, node.url, lang)
            page = member.page
            await page.get_by_role("button", name=words["forgot"]).click()
            await page.get_by_label(member.text["email"]).fill(email)
            await no_axe_violations(page, f"forgot password ({lang})")
            await member.screenshot(screenshots, "forgot-password")
            await page.get_by_role("button", name=words["send"]).click()
            await expect(page.get_by_role("status")).to_contain_text(words["sent"])
            mail = await mailbox.wait_for(to=email, where=lambda m: "#/reset/" in text_of(m))
            link = re.search(r"https?://\S+#/reset/[A-Za-z0-9_-]+", text_of(mail))
            assert link and link.group(0).startswith(node.settings.public_base)
            await page.goto(f"{node.url}/#/reset/{token_in(mail, 'reset')}")
            field = page.get_by_label(words["new_password"], exact=True)
            await field.fill("password")  # a common one: refused, and the link still works
            await page.get_by_role("button", name=words["set"]).click()
            await expect(page.get_by_role("alert")).to_be_visible()
            await field.fill("a brand new secret")
            await page.get_by_role("button", name=words["set"]).click()
            await expect(page.get_by_role("status")).to_contain_text(words["done"])
            await no_axe_violations(page, f"password reset ({lang})")
            await member.screenshot(screenshots, "password-reset")
            await page.get_by_role("link", name=words["back"]).click()
            await page.get_by_label(member.text["email"]).fill(email)
            await page.get_by_label(member.text["password"]).fill("a brand new secret")
            await page.get_by_role("button", name=member.text["login"], exact=True).click()
            await member.connected()
            # The one console error is the refused password's 422.
            assert [e for e in member.errors if "422" not in e] == [], member.errors
            await member.context.close()


async def test_verify_banner_link_and_the_account_sections(make_settings, new_context, mailbox: Mailbox,
                                                           screenshots):
    async with running_nodes(make_settings(**mailbox.settings)) as [node]:
        for lang, words in WORDS.items():
            email = f"careful-{lang}@example.test"
            member = await Member.open(new_context, node.url, lang)
            page = member.page
            await member.register(f"Careful {lang}", email)
            await expect(page.locator(".verify-banner")).to_contain_text(words["banner"])
            await no_axe_violations(page, f"verify banner ({lang})")
            await member.screenshot(screenshots, "verify-banner")
            mail = await mailbox.wait_for(to=email, where=lambda m: "#/verify/" in text_of(m))
            await member.go(f"#/verify/{token_in(mail, 'verify')}")
            await expect(page.get_by_role("status")).to_contain_text(words["verified"])
            await page.get_by_role("link", name=words["continue"]).click()
            await member.connected()
            await expect(page.locator(".verify-banner")).to_have_count(0)

            # Another session of the same account, open on another page.
            other = await Member.open(new_context, node.url, lang)
            await other.log_in(email)
            await member.go("#/account")
            sections = page.locator(".account-page")
            await expect(sections.locator(".account-email")).to_contain_text(words["confirmed"])
            await expect(sections.locator(".account-sessions .session")).to_have_count(2)
            await expect(sections.locator(".account-sessions .session.current")).to_contain_text(words["this"])
            password = sections.locator(".account-password")
            await password.get_by_label(words["current"], exact=True).fill("not the password")
            await password.get_by_label(words["new_password"], exact=True).fill("another long secret")
            await password.get_by_role("button", name=words["change_password"]).click()
            await expect(password.get_by_role("alert")).to_contain_text(words["wrong"])
            await no_axe_violations(page, f"account page ({lang})")
            await member.screenshot(screenshots, "account-security")
            await sections.get_by_role("button", name=words["end_others"]).click()
            await expect(sections.locator(".account-sessions")).to_contain_text(words["alone"])
            # The ended session's page is signed out at once.
            await expect(other.page.get_by_role("button", name=other.text["login"], exact=True)).to_be_visible()
            # The one console error is the refused password's 401.
            assert [e for e in member.errors if "401" not in e] == [], member.errors
            await other.context.close()
            await member.context.close()


async def test_the_sessions_section_on_a_phone(make_settings, new_context, mailbox: Mailbox, screenshots):
    async with running_nodes(make_settings(**mailbox.settings)) as [node]:
        for lang, words in WORDS.items():
            member = await Member.open(new_context, node.url, lang, **PHONE)
            await member.register(f"Phone {lang}", f"phone-{lang}@example.test")
            await call(node, "POST", "/api/v1/sessions", None, json={
                "email": f"phone-{lang}@example.test", "password": "a long secret"},
                headers={"user-agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0"})
            await member.go("#/account")
            sessions = member.page.locator(".account-sessions")
            await expect(sessions.locator(".session")).to_have_count(2)
            await expect(sessions).to_contain_text("Firefox · Windows")
            await expect(sessions.locator(".session.current")).to_contain_text(words["this"])
            await sessions.locator("h3").evaluate("h => h.scrollIntoView({block: 'start'})")
            await no_axe_violations(member.page, f"sessions on a phone ({lang})")
            await member.screenshot(screenshots, "account-sessions-phone")
            # Ending that one session; then a password change and an email change that work.
            await sessions.get_by_role("button", name=words["end_firefox"]).click()
            await expect(sessions.locator(".session")).to_have_count(1)
            await expect(sessions).to_contain_text(words["alone_here"])
            page, sections = member.page, member.page.locator(".account-page")
            password = sections.locator(".account-password")
            await password.get_by_label(words["current"], exact=True).fill("a long secret")
            await password.get_by_label(words["new_password"], exact=True).fill("another long secret")
            await password.get_by_role("button", name=words["change_password"]).click()
            await expect(password.get_by_role("status")).to_contain_text(words["password_done"])
            moved = f"moved-{lang}@example.test"
            email = sections.locator(".account-email")
            await email.get_by_label(words["new_email"]).fill(moved)
            await email.get_by_label(words["current"], exact=True).fill("another long secret")
            await email.get_by_role("button", name=words["change_email"]).click()
            await expect(email.get_by_role("status")).to_contain_text(words["email_sent"])
            mail = await mailbox.wait_for(to=moved, where=lambda m: "#/email/" in text_of(m))
            await member.go(f"#/email/{token_in(mail, 'email')}")
            await expect(page.get_by_role("status")).to_contain_text(words["email_done"])
            await mailbox.wait_for(to=f"phone-{lang}@example.test",  # the old one is told
                                   where=lambda m: any(w in str(m["Subject"]) for w in ("was changed", "已更改")))
            await no_axe_violations(page, f"email changed on a phone ({lang})")
            await member.screenshot(screenshots, "email-changed-phone")
            login = await call(node, "POST", "/api/v1/sessions", None,
                               json={"email": moved, "password": "another long secret"})
            assert login.status_code == 200, login.text
            await member.context.close()
