"""A new account's refused link in Chromium, in both languages: the composer says why (the
first day's rule) and gives the text back to edit; the node's own links pass. Axe check and
screenshot."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import Member, no_axe_violations
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "water-management"
REFUSED = {"en": "New accounts cannot post links to other sites during their first day.",
           "zh": "新账户在注册后的第一天内不能发布外部网站链接。"}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_new_accounts_foreign_link_is_refused_with_its_reason(production, new_context, screenshots, lang):
    async with running_nodes(production(new_account_hours=24)) as [node]:
        member = await Member.open(new_context, node.url, lang)
        await member.register("Newcomer", f"newcomer-{lang}@example.test")
        await member.go(f"#/room/{ROOM}")
        body = "Our offer: https://spam.example.com/deal"
        await member.send(body)
        alert = member.page.locator(".room [role=alert], main [role=alert]").filter(has_text=REFUSED[lang])
        await expect(alert).to_be_visible()
        await expect(member.page.get_by_label(member.text["compose"])).to_have_value(body)
        await expect(member.page.locator(".messages")).not_to_contain_text("spam.example.com")
        await no_axe_violations(member.page, f"a new account's link refused, {lang}")
        await member.screenshot(screenshots, "new-account-link-refused")
        own = f"The guide: {node.url}/#/room/{ROOM}"
        await member.page.get_by_label(member.text["compose"]).fill("")
        await member.send(own)
        await member.sees(own)
