"""Two members with the same name, told apart, and a Han name found by its pinyin, in both
languages, on a desktop and on a 390 x 844 touch phone: two 李华 (one at a tram company in
Liuzhou, one at a water board in Hefei) are found by "Li", "Li Hua" and "lihua" in the member
directory and in the mention list, each with their organisation and city and an avatar of
their own colour, and each name opens that member's card, whose Message opens a conversation
with that member and no other. With axe checks. (test_people.py has one 李明 by "li ming" on a
desktop and "liming" on a phone; docs/client-tests.md lists which test proves what.)"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.client import WsClient, call, http_client, create_account
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEVICES = {"desktop": {}, "phone": PHONE}
NAME = "李华"
TWINS = [("Liuzhou Tram Co.", "Liuzhou", "li.tram@example.cn"), ("Hefei Water Board", "Hefei", "li.water@example.cn")]
ONLINE = {"en": "online", "zh": "在线"}
WORDS = {"en": {"message": "Message", "city": "City"}, "zh": {"message": "发私信", "city": "城市"}}


async def member(node: NodeServer, name: str, email: str, organisation: str, city: str) -> dict:
    """A member who registered with another client, with an organisation and a city."""
    async with http_client(node.url) as http:
        response = await create_account(http, {
            "email": email, "password": "a long secret", "display_name": name})
    assert response.status_code == 201, response.text
    account = response.json()
    response = await call(node, "PATCH", "/api/v1/me/profile", account,
                          json={"organisation": organisation, "city": city})
    assert response.status_code == 200, response.text
    return account


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_two_members_of_one_name_told_apart_and_found_by_pinyin(make_settings, new_context, lang, screen):
    async with running_nodes(make_settings()) as [node]:
        twins = [await member(node, NAME, email, org, city) for org, city, email in TWINS]
        await member(node, "李明", "li.ming@example.cn", "Luoyang Planning Office", "Luoyang")
        viewer = await Member.open(new_context, node.url, lang, **DEVICES[screen])
        await viewer.register("Anna Schmidt" if lang == "en" else "王梅", f"twins-{lang}-{screen}@example.test")
        page = viewer.page

        # The directory: each query finds both, each shown with organisation and city.
        await viewer.go("#/directory")
        search = page.get_by_role("searchbox", name=viewer.text["member_search"], exact=True)
        entries = page.locator(".member").filter(has_text=NAME)
        for query in ("lihua", "Li Hua", "Li"):
            await search.fill(query)
            await expect(entries).to_have_count(2)
            for organisation, city, _ in TWINS:
                await expect(entries.filter(has_text=organisation)).to_contain_text(city)
        await expect(page.locator(".member").filter(has_text="李明")).to_have_count(1)  # "Li" finds 李明 too
        await search.fill("lihua")
        await expect(page.locator(".member")).to_have_count(2)
        colours = await entries.locator(".avatar").evaluate_all("els => els.map((el) => el.className)")
        assert len(set(colours)) == 2, colours  # an avatar of each one's own colour
        await expect(entries.locator(".avatar")).to_have_text(["李", "李"])
        await no_axe_violations(page, f"two of one name in the directory {lang} {screen}")

        # Each name opens its own card; its Message opens a conversation with that one.
        hefei = entries.filter(has_text="Hefei Water Board")
        await hefei.get_by_role("button", name=NAME, exact=True).click()
        card = page.get_by_role("dialog", name=NAME)
        await expect(card).to_contain_text("Hefei Water Board")
        await expect(card).not_to_contain_text("Liuzhou")
        await expect(card.locator("dt", has_text=WORDS[lang]["city"])).to_have_count(1)
        await no_axe_violations(page, f"the card of one of two {lang} {screen}")
        await card.get_by_role("button", name=WORDS[lang]["message"], exact=True).click()
        await expect(page.locator("#room-title")).to_have_text(NAME)
        room = (await page.evaluate("location.hash")).removeprefix("#/room/")
        members = await page.evaluate(f"fetch('/api/v1/rooms/{room}/members').then(r => r.json())")
        assert sorted(m["id"] for m in members["members"]) == sorted(
            [await viewer.user_id(), twins[1]["user"]["id"]]), members

        # The mention list: "@lihua" and "@Li Hua" offer both, each with organisation and
        # city; so does "@李华" when both are online in the room (offered first, as online).
        await viewer.go("#/room/green-transport")
        composer = page.get_by_label(viewer.text["compose"])
        for query in ("@lihua", "@Li Hua"):
            await composer.fill(query)
            options = viewer.mention_options().filter(has_text=NAME)
            await expect(options, query).to_have_count(2)
            for organisation, city, _ in TWINS:
                await expect(options.filter(has_text=organisation)).to_contain_text(city)
        await options.filter(has_text="Liuzhou Tram Co.").click()
        await expect(composer).to_have_value(f"@{NAME} ")
        await composer.press_sequentially("tram figures?")
        await composer.press("Enter")
        await viewer.sees(f"@{NAME} tram figures?")
        sent = await page.evaluate("fetch('/api/v1/rooms/green-transport/messages').then(r => r.json())")
        assert sent["messages"][-1]["mentions"] == [twins[0]["user"]["id"]]  # the one picked, not the other
        sockets = [await WsClient.connect(node.ws_url, twin["token"]) for twin in twins]
        try:
            for socket in sockets:
                await socket.send_frame({"type": "join", "room": "green-transport", "since": 0})
            await expect(page.locator(".room-head .presence")).to_contain_text(f"{NAME}, {NAME}")
            await composer.fill(f"@{NAME}")  # online ones match by name as written (the directory by pinyin too)
            options = viewer.mention_options().filter(has_text=NAME)
            await expect(options.filter(has_text=ONLINE[lang])).to_have_count(2)
            for organisation, city, _ in TWINS:
                await expect(options.filter(has_text=organisation)).to_contain_text(city)
            await no_axe_violations(page, f"two of one name to mention {lang} {screen}")
            # Both online: the one picked is mentioned, never the other of the same name.
            await options.filter(has_text="Hefei Water Board").click()
            await composer.press_sequentially("leak data?")
            await composer.press("Enter")
            await viewer.sees(f"@{NAME} leak data?")
            sent = await page.evaluate("fetch('/api/v1/rooms/green-transport/messages').then(r => r.json())")
            assert sent["messages"][-1]["mentions"] == [twins[1]["user"]["id"]], sent["messages"][-1]
        finally:
            for socket in sockets:
                await socket.ws.close()
        assert viewer.errors == [], viewer.errors
