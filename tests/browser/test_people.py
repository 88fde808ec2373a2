"""Finding people and knowing who they are, in Chromium, in both languages: the other side's
local time by city name (and nothing for a zone nobody set), bare URLs as links that open a new
tab without an opener, "@Li" finding 李明 in the mention list, and the profile card opened from
an author name and from the directory (organisation, city), with axe checks."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.helpers import Member, no_axe_violations
from tests.support.client import register
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

# What the reader sees for the other browser member's zone (Anna: Europe/Berlin, 李华:
# Asia/Shanghai, as their browsers report at registration).
ZONE_NAME = {"en": "Beijing time", "zh": "柏林时间"}
CARD = {"en": {"message": "Message", "close": "Close", "organisation": "Organisation", "city": "City"},
        "zh": {"message": "发私信", "close": "关闭", "organisation": "机构", "city": "城市"}}


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as [node]:
        yield node


async def call(member: Member, method: str, path: str, body: dict | None = None) -> dict:
    return await member.page.evaluate(
        """([method, path, body]) => fetch(path, {method, headers: {'content-type': 'application/json'},
             body: body ? JSON.stringify(body) : undefined}).then(r => r.json())""", [method, path, body])


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_people_local_time_links_mentions_and_the_profile_card(node, new_context, lang):
    other_lang = "zh" if lang == "en" else "en"
    viewer = await Member.open(new_context, node.url, lang)
    other = await Member.open(new_context, node.url, other_lang)
    names = {"en": "Anna Schmidt", "zh": "李华"}
    await viewer.register(names[lang], f"viewer-{lang}@example.test")
    await other.register(names[other_lang], f"other-{lang}@example.test")
    # 李明 registered by an older client: no time zone, so no local time for him anywhere.
    li_ming = await register(node.url, "李明")
    other_id = await other.user_id()
    other_zone = "Asia/Shanghai" if other_lang == "zh" else "Europe/Berlin"
    assert (await call(viewer, "GET", f"/api/v1/members/{other_id}"))["member"]["time_zone"] == other_zone
    assert (await call(viewer, "GET", f"/api/v1/members/{li_ming['user']['id']}"))["member"]["time_zone"] is None
    await call(other, "PATCH", "/api/v1/me/profile", {"organisation": "Liuzhou Tram Co.", "city": "Liuzhou"})

    # A conversation of the three: one local-time line, the other browser member's, by city.
    room = (await call(viewer, "POST", "/api/v1/direct",
                       {"members": [other_id, li_ming["user"]["id"]]}))["room"]["id"]
    for member in (viewer, other):  # a fresh start lists the room made over HTTP
        await member.go(f"#/room/{room}")
        await member.page.reload(wait_until="domcontentloaded")
        await member.connected()
    lines = viewer.page.locator(".their-time")
    await expect(lines).to_have_count(1)
    await expect(lines).to_contain_text(names[other_lang])
    await expect(lines).to_contain_text(ZONE_NAME[lang])
    await expect(lines).not_to_contain_text(other_zone)
    await expect(viewer.page.locator(".direct-info")).not_to_contain_text("UTC")

    # A bare URL is a link that opens in a new tab, without access to the app's window.
    url = f"{node.url}/api/v1/sessions"
    await other.send(f"The plan: {url}")
    await viewer.sees(f"The plan: {url}")
    link = viewer.page.locator(".messages .msg .body a", has_text=url)
    await expect(link).to_have_attribute("href", url)
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    async with viewer.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    await tab.wait_for_load_state("domcontentloaded")
    assert await tab.evaluate("window.opener") is None
    await tab.close()
    assert viewer.page.url.endswith(f"#/room/{room}")  # the app stayed

    # The author's name opens their card: organisation, city, local time, and "Message".
    author = viewer.page.locator(".messages .msg .meta").get_by_role("button", name=names[other_lang]).first
    await author.click()
    card = viewer.page.get_by_role("dialog", name=names[other_lang])
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("Liuzhou Tram Co.")
    await expect(card).to_contain_text("Liuzhou")
    await expect(card).to_contain_text(ZONE_NAME[lang])
    await expect(card.get_by_role("button", name=CARD[lang]["message"], exact=True)).to_be_visible()
    await no_axe_violations(viewer.page, f"profile card ({lang})")
    await viewer.page.keyboard.press("Escape")
    await expect(card).to_be_hidden()
    await expect(author).to_be_focused()

    # "@Li" finds 李明 (not online here: the directory's pinyin search) in the mention list.
    await viewer.go("#/room/green-transport")
    composer = viewer.page.get_by_label(viewer.text["compose"])
    await composer.fill("@Li")
    option = viewer.mention_options().filter(has_text="李明")
    await expect(option).to_have_count(1)
    await expect(option.locator(".avatar")).to_have_text("李")
    await no_axe_violations(viewer.page, f"mention list ({lang})")
    await composer.fill("")

    # The directory shows organisation and city, and its names open the card too; it finds
    # Han names by pinyin.
    await viewer.go("#/directory")
    search = viewer.page.get_by_role("searchbox", name=viewer.text["member_search"], exact=True)
    await search.fill("li ming")
    await expect(viewer.page.locator(".member")).to_have_count(1)
    await expect(viewer.page.locator(".member")).to_contain_text("李明")
    await search.fill(names[other_lang].split()[0])
    entry = viewer.page.locator(".member").filter(has_text=names[other_lang])
    await expect(entry).to_contain_text("Liuzhou Tram Co.")
    await expect(entry.locator(".avatar")).to_be_visible()
    await no_axe_violations(viewer.page, f"directory ({lang})")
    await entry.get_by_role("button", name=names[other_lang], exact=True).click()
    await expect(card).to_be_visible()
    await card.get_by_role("button", name=CARD[lang]["message"], exact=True).click()
    await expect(card).to_be_hidden()
    await expect(viewer.page.locator("#room-title")).to_be_visible()
    assert viewer.page.url.endswith(f"#/room/{room}") or "#/room/" in viewer.page.url

    for member in (viewer, other):
        assert member.foreign_urls() == [], member.foreign_urls()
        assert member.errors == [], member.errors


async def open_phone(new_context, base_url: str, lang: str) -> Member:
    """A member on a 390x844 touch phone (the Chinese one in Shanghai, the other in Berlin)."""
    context = await new_context(locale="zh-CN" if lang == "zh" else "en-GB",
                                timezone_id="Asia/Shanghai" if lang == "zh" else "Europe/Berlin",
                                viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = await context.new_page()
    member = Member(context, page, base_url, lang)
    await page.goto(base_url + "/", wait_until="domcontentloaded", timeout=60000)
    await page.locator("#app main").first.wait_for(timeout=30000)
    return member


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_the_profile_card_on_a_phone(node, new_context, lang):
    phone = await open_phone(new_context, node.url, lang)
    await phone.register({"en": "Anna Schmidt", "zh": "李华"}[lang], f"phone-{lang}@example.test")
    other = await register(node.url, "李明")
    # 李明 fills in his profile over HTTP (an older client: no zone).
    async with httpx.AsyncClient(base_url=node.url) as http:
        await http.patch("/api/v1/me/profile", headers={"Authorization": f"Bearer {other['token']}"},
                         json={"organisation": "洛阳市规划局", "city": "Luoyang", "alt_name": "Li Ming"})
    await phone.go("#/directory")
    await phone.page.get_by_role("searchbox", name=phone.text["member_search"], exact=True).fill("liming")
    entry = phone.page.locator(".member").filter(has_text="李明")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text("Li Ming")
    await expect(entry).to_contain_text("洛阳市规划局")
    await entry.get_by_role("button", name="李明", exact=True).tap()
    card = phone.page.get_by_role("dialog", name="李明")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("Luoyang")
    # No local time: 李明's zone is unknown, and no default stands in for it.
    await expect(card.locator("dt", has_text={"en": "City", "zh": "城市"}[lang])).to_have_count(1)
    await expect(card.locator("dt", has_text={"en": "Local time", "zh": "当地时间"}[lang])).to_have_count(0)
    # Whole on the screen (the shell's own phone layout is another matter: the viewport the
    # page lays out in is the one the fixed dialog is centred in).
    box = await card.bounding_box()
    width = await phone.page.evaluate("window.innerWidth")
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    await no_axe_violations(phone.page, f"profile card on a phone ({lang})")
    await card.get_by_role("button", name=CARD[lang]["close"]).tap()
    await expect(card).to_be_hidden()
    assert phone.errors == [], phone.errors
