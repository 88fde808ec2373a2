"""What each room is for, in the reader's language: the first-visit welcome lists every sector
and city room with its description (each a link to the room), and a sector or city room shows
its description under its title. In English and Chinese, on a desktop and a 390x844 touch phone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.store.catalog import SEED_ROOMS
from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import http_client, proof
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEVICES = {"desktop": {}, "phone": PHONE}
WELCOME = {"en": ("Welcome to EcoLink chat", "Got it"), "zh": ("欢迎使用 EcoLink chat", "知道了")}
SEEDS = {room.room_id: room for room in SEED_ROOMS}


def about(room_id: str, lang: str) -> str:
    return SEEDS[room_id].description_zh if lang == "zh" else SEEDS[room_id].description_en


def title(room_id: str, lang: str) -> str:
    return SEEDS[room_id].title_zh if lang == "zh" else SEEDS[room_id].title_en


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_the_welcome_and_the_room_header_say_what_each_room_is_for(production, new_context, lang, screen):
    async with running_nodes(production()) as [node]:
        member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
        page = member.page
        member.keep_welcome = True
        await member.register("Eva Lind" if lang == "en" else "孙丽", f"guide-{lang}-{screen}@example.test")
        welcome = page.get_by_role("region", name=WELCOME[lang][0])
        await expect(welcome).to_be_visible()
        # every sector and city room, in the platform's order, each with what it is for
        await expect(welcome.locator(".room-guide dt")).to_have_text([title(r.room_id, lang) for r in SEED_ROOMS])
        await expect(welcome.locator(".room-guide dd")).to_have_text([about(r.room_id, lang) for r in SEED_ROOMS])
        sectors = welcome.get_by_role("definition").filter(has_text="BRT")
        await expect(sectors).to_have_text(about("green-transport", lang))
        await no_axe_violations(page, f"welcome with the room guide, {lang} {screen}")

        # a room's link opens it; its header says what it is for (the room's description)
        await welcome.get_by_role("link", name=title("green-transport", lang), exact=True).click()
        await expect(page.locator("#room-title")).to_have_text(title("green-transport", lang))
        await expect(page.locator(".room-head .room-about")).to_have_text(about("green-transport", lang))
        room = page.get_by_role("region", name=title("green-transport", lang), exact=True)
        await expect(room).to_have_attribute("aria-describedby", "room-about")
        await welcome.get_by_role("button", name=WELCOME[lang][1]).click()
        await expect(welcome).to_have_count(0)
        await member.go("#/room/xixian")
        await expect(page.locator(".room-head .room-about")).to_have_text(about("xixian", lang))
        await expect(page.locator(".room-head .room-about")).to_be_in_viewport()
        await no_axe_violations(page, f"room header with its description, {lang} {screen}")

        # the reader's language decides: switching it switches the description
        other = "zh" if lang == "en" else "en"
        if screen == "phone":
            await page.locator("button.menu").click()
        await page.locator("#lang-switch").select_option(other)
        if screen == "phone":
            await page.keyboard.press("Escape")
        await expect(page.locator(".room-head .room-about")).to_have_text(about("xixian", other))

        # a direct conversation has none
        async with http_client(node.url) as http:
            solved = await proof(http)
        other_member = await page.evaluate(
            """proof => fetch('/api/v1/accounts', {method: 'POST', headers: {'content-type': 'application/json'},
                 credentials: 'omit', body: JSON.stringify({email: 'other@example.test', password: 'a long secret',
                 display_name: 'Other', proof})}).then(r => r.json())""", solved)
        assert other_member["user"]["name"] == "Other"
        room_id = (await page.evaluate(
            """id => fetch('/api/v1/direct', {method: 'POST', headers: {'content-type': 'application/json'},
                 body: JSON.stringify({members: [id]})}).then(r => r.json())""", other_member["user"]["id"]))["room"]["id"]
        await page.reload(wait_until="domcontentloaded")
        await member.connected()
        await member.go(f"#/room/{room_id}")
        await expect(page.locator("#room-title")).to_have_text("Other")
        await expect(page.locator(".room-about")).to_have_count(0)
        assert member.errors == [], member.errors
