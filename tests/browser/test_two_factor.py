"""Two-factor sign-in and deleting the account in Chromium, in both languages: setting it up
from the account page (the code computed with pyotp from the key the page shows), the recovery
codes shown once, signing in with the second step (a wrong code said so, then the right one),
new recovery codes (the old ones then refused) and turning it off, and deleting the account (messages kept, shown to another member as from a deleted member),
with axe checks and screenshots."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

TEXT = {
    "en": {"account": "Account and security", "two_factor": "Two-factor sign-in",
           "begin": "Set up two-factor sign-in", "code": "Code", "enable": "Turn on",
           "codes": "Your recovery codes", "saved": "I have saved them", "on": "On. 10 recovery codes left.",
           "logout": "Log out", "second_step": "Two-factor sign-in", "wrong": "That code did not work",
           "wrong_password": "Wrong password or code.",
           "delete": "Delete account", "keep": "Keep them, shown as from a deleted member",
           "confirm": "Delete my account", "deleted_member": "Deleted member",
           "regenerate": "New recovery codes", "disable": "Turn off", "password": "Password",
           "off": "Off. With it on"},
    "zh": {"account": "账户与安全", "two_factor": "两步验证", "begin": "设置两步验证", "code": "验证码",
           "enable": "开启", "codes": "您的恢复码", "saved": "我已保存", "on": "已开启。剩余 10 个恢复码。",
           "logout": "退出", "second_step": "两步验证登录", "wrong": "验证码无效",
           "wrong_password": "密码或验证码错误。",
           "delete": "注销账户", "keep": "保留，显示为“已注销的成员”所发",
           "confirm": "注销我的账户", "deleted_member": "已注销的成员",
           "regenerate": "生成新的恢复码", "disable": "关闭", "password": "密码", "off": "未开启。"},
}
WRONG = {f"{n:06d}" for n in range(20)}


def wrong_code(secret: str) -> str:
    window = {pyotp.TOTP(secret).at(time.time() + 30 * steps) for steps in range(-2, 5)}
    return sorted(WRONG - window)[0]


def unexpected(member: Member) -> list[str]:
    """The page's errors but the browser's note of the 401 answers the test asks for (a code
    needed, a wrong password or code, requests in flight when the deleted account's session ended)."""
    return [error for error in member.errors if "status of 401" not in error]


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as [node]:
        yield node


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_set_up_two_factor_and_sign_in_with_the_code(node, new_context, lang, screenshots):
    text = TEXT[lang]
    member = await Member.open(new_context, node.url, lang)
    page = member.page
    email = f"totp-{lang}@example.eu"
    await member.register("Ada Lovelace" if lang == "en" else "林黛玉", email)
    await page.get_by_role("link", name=text["account"]).first.click()
    section = page.get_by_role("region", name=text["two_factor"])
    # The password is asked first: a wrong one is said, and nothing begins.
    await section.locator("#twofactor-begin-password").fill("not my password")
    await section.get_by_role("button", name=text["begin"]).click()
    await expect(section.get_by_role("alert")).to_contain_text(text["wrong_password"])
    await expect(section.locator("code.secret")).to_have_count(0)
    await section.locator("#twofactor-begin-password").fill("a long secret")
    await section.get_by_role("button", name=text["begin"]).click()
    key = section.locator("code.secret")
    await expect(key).to_be_visible()
    await expect(section.locator(".qr svg")).to_be_visible()
    secret = re.sub(r"\s", "", await key.inner_text())
    await no_axe_violations(page, f"two-factor setup ({lang})")
    await member.screenshot(screenshots, "two-factor-setup")

    await section.get_by_role("textbox", name=text["code"]).fill(pyotp.TOTP(secret).now())
    await section.get_by_role("button", name=text["enable"]).click()
    await expect(section.get_by_role("heading", name=text["codes"])).to_be_visible()
    await expect(section.locator("ol.codes li")).to_have_count(10)
    first_codes = [c.strip() for c in await section.locator("ol.codes li").all_inner_texts()]
    await no_axe_violations(page, f"recovery codes ({lang})")
    await member.screenshot(screenshots, "two-factor-codes")
    await section.get_by_role("button", name=text["saved"]).click()
    await expect(section.get_by_text(text["on"])).to_be_visible()

    await page.get_by_role("button", name=text["logout"]).first.click()
    await expect(page.get_by_role("button", name=member.text["register_link"])).to_be_visible()
    await page.get_by_label(member.text["email"]).fill(email)
    await page.get_by_label(member.text["password"]).fill("a long secret")
    await page.get_by_role("button", name=member.text["login"], exact=True).click()
    step = page.get_by_role("form", name=text["second_step"])
    await expect(step).to_be_visible()
    await step.get_by_role("textbox", name=text["code"]).fill(wrong_code(secret))
    await step.get_by_role("button", name=member.text["login"], exact=True).click()
    await expect(step.get_by_role("alert")).to_contain_text(text["wrong"])
    await no_axe_violations(page, f"sign-in second step ({lang})")
    await member.screenshot(screenshots, "sign-in-code")
    # The step the setup used is spent: the next one's code (the server takes one step ahead).
    await step.get_by_role("textbox", name=text["code"]).fill(pyotp.TOTP(secret).at(time.time() + 30))
    await step.get_by_role("button", name=member.text["login"], exact=True).click()
    await member.connected()

    # New recovery codes for one of the first ones; the first ones stop working, so turning it
    # off with another of them is refused, and with a new one it is off.
    await page.get_by_role("link", name=text["account"]).first.click()
    section = page.get_by_role("region", name=text["two_factor"])
    regenerate = section.get_by_role("form", name=text["regenerate"])
    await regenerate.get_by_role("textbox", name=text["code"]).fill(first_codes[0])
    await regenerate.get_by_role("button", name=text["regenerate"]).click()
    await expect(section.locator("ol.codes li")).to_have_count(10)
    new_codes = [c.strip() for c in await section.locator("ol.codes li").all_inner_texts()]
    assert not set(new_codes) & set(first_codes)
    await section.get_by_role("button", name=text["saved"]).click()
    await expect(section.get_by_text(text["on"])).to_be_visible()
    off = section.get_by_role("form", name=text["disable"])
    await off.get_by_label(text["password"]).fill("a long secret")
    await off.get_by_role("textbox", name=text["code"]).fill(first_codes[1])
    await off.get_by_role("button", name=text["disable"]).click()
    await expect(section.get_by_role("alert")).to_contain_text(text["wrong_password"])
    await off.get_by_role("textbox", name=text["code"]).fill(new_codes[0])
    await off.get_by_role("button", name=text["disable"]).click()
    await expect(section.get_by_text(text["off"])).to_be_visible()
    await no_axe_violations(page, f"two-factor turned off ({lang})")
    assert unexpected(member) == [] and member.foreign_urls() == []


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_delete_the_account_keeping_the_messages(node, new_context, lang, screenshots):
    text = TEXT[lang]
    leaver = await Member.open(new_context, node.url, lang)
    viewer = await Member.open(new_context, node.url, lang)
    await leaver.register("Leaving Soon" if lang == "en" else "将离开", f"leaver-{lang}@example.eu")
    await viewer.register("Staying" if lang == "en" else "留下", f"viewer-{lang}@example.eu")
    body = f"goodbye and thanks {lang}"
    await leaver.go("#/room/green-transport")
    await leaver.send(body)
    await viewer.go("#/room/green-transport")
    await viewer.sees(body)

    page = leaver.page
    await leaver.go("#/account")
    section = page.get_by_role("region", name=text["delete"])
    await section.get_by_label(text["keep"]).check()
    await section.locator("#delete-password").fill("a long secret")
    await no_axe_violations(page, f"delete account ({lang})")
    await leaver.screenshot(screenshots, "delete-account")
    await section.get_by_role("button", name=text["confirm"]).click()
    await expect(page.get_by_role("button", name=leaver.text["register_link"])).to_be_visible()

    # The message stays; its author is now a deleted member, in the viewer's language.
    await viewer.page.reload()
    await viewer.connected()
    await viewer.go("#/room/green-transport")
    row = viewer.page.locator(".messages .msg").filter(has_text=body)
    await expect(row.locator(".deleted-member")).to_have_text(text["deleted_member"])
    await no_axe_violations(viewer.page, f"deleted member ({lang})")
    assert unexpected(leaver) == [] and viewer.errors == []


NOTICE = {"en": ("Your role needs two-factor sign-in", "Set it up now"),
          "zh": ("您的角色需要两步验证", "立即设置")}


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_staff_required_to_use_it_are_sent_to_the_setup(production, new_context, lang, screenshots):
    """ECOLINK_ADMIN_TWO_FACTOR=required: an admin without it sees a notice on every page
    linking to the setup, on a phone too; the account page says why."""
    async with running_nodes(production(admin_two_factor="required")) as [node]:
        text, (notice, link) = TEXT[lang], NOTICE[lang]
        admin = await Member.open(new_context, node.url, lang, **PHONE)
        email = f"boss-{lang}@example.eu"
        await admin.register("Boss" if lang == "en" else "主管", email)
        await node.node.profiles.set_role_by_email(email, "admin")
        await admin.page.reload()
        await admin.connected()
        banner = admin.page.locator(".two-factor-notice")
        await expect(banner).to_contain_text(notice)
        await no_axe_violations(admin.page, f"two-factor notice ({lang})")
        await admin.screenshot(screenshots, "two-factor-required-phone")
        await banner.get_by_role("link", name=link).click()
        section = admin.page.get_by_role("region", name=text["two_factor"])
        await expect(section.get_by_role("status")).to_contain_text(notice)
        await expect(banner).to_have_count(0)
        assert admin.errors == []
