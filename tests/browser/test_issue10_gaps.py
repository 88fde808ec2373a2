"""What docs/client-tests.md had left uncovered of the web client's usability items, in Chromium:
on a 390 x 844 touch phone in Chinese, a new direct conversation shows the other member online
as its opener sees it, and "… 正在输入" goes with the typer's message (two production nodes, the
members one on each); on a phone in both languages, a room's unread count stays while the new
messages are below the fold (the reader scrolled up) and goes once they were on screen (the
drawer's count, the menu's mark, the tab title); and the installable app in Chinese: manifest
and icons served, the worker installed, an offline reload starting the app in Chinese. axe on
each view. The desktop and English ones are in test_forms.py, test_message_list.py and
test_phone.py."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations, read_position_reaches, wait_for_js
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

WORDS = {
    "en": {"title": "EcoLink chat", "nobody": "Nobody else is online", "online": "Online: ", "typing": "typing",
           "latest": "Jump to latest", "menu_unread": "(unread messages)", "room": "Green Transport"},
    "zh": {"title": "EcoLink 交流", "nobody": "暂无其他人在线", "online": "在线：", "typing": "正在输入",
           "latest": "跳到最新消息", "menu_unread": "（有未读消息）", "room": "绿色交通"},
}
ROOM = "green-transport"
ROWS = ".messages .msg[data-id]"
CACHE = "ecolink-shell"  # web/sw.js


async def phone(new_context, node: NodeServer, lang: str, name: str, email: str) -> Member:
    member = await Member.open(new_context, node.url, lang, **PHONE)
    await member.register(name, email)
    return member


async def test_a_new_direct_conversation_and_typing_as_its_opener_sees_them_on_a_phone_in_chinese(
        production, new_context):
    words = WORDS["zh"]
    # typing frames pass on at once (not batched per 3 s), so one comes before the message
    async with running_nodes(production(typing_interval_s=0), production(typing_interval_s=0)) as nodes:
        opener = await phone(new_context, nodes[0], "zh", "王芳", "wang@example.cn")
        other = await phone(new_context, nodes[1], "en", "Lena Vogel", "lena@example.de")
        page = opener.page
        # Opened from the directory, by finger, as a member does.
        await opener.go("#/directory")
        await page.get_by_role("button", name=opener.text["message"].format(name="Lena Vogel")).tap()
        await expect(page.locator("#room-title")).to_have_text("Lena Vogel")
        room = page.url.rsplit("/", 1)[1]
        # The other, online all along on the other node, is told of the room and joins it: the
        # opener sees them online at once, no message needed, in the phone's one column.
        presence = page.locator(".room-head .presence")
        await expect(presence).to_have_text(f"{words['online']}Lena Vogel")
        await expect(presence).to_be_in_viewport()
        await expect(page.locator(".sidebar")).to_have_count(0)
        await no_axe_violations(page, "new direct conversation on a phone zh")

        # The other types: "… 正在输入" shows above the opener's box, and goes in the same render
        # as the message it was.
        await other.go(f"#/room/{room}")
        await expect(other.page.locator("#room-title")).to_have_text("王芳")
        box = other.page.get_by_label(other.text["compose"])
        await box.press_sequentially("See you in Liuzh")
        typing = page.locator(".room .typing")
        await expect(typing).to_have_text(f"Lena Vogel {words['typing']}…")
        await expect(typing).to_be_in_viewport()
        await no_axe_violations(page, "typing on a phone zh")
        await box.press_sequentially("ou")
        await box.press("Enter")
        await opener.sees("See you in Liuzhou")
        assert await typing.inner_text() == ""  # drawn in the same render as the message
        await expect(presence).to_have_text(f"{words['online']}Lena Vogel")
        await expect(presence).not_to_contain_text(words["nobody"])
        assert not opener.errors and not other.errors, (opener.errors, other.errors)


async def menu_says_unread(page: Page) -> bool:
    return await page.locator("button.menu .dot").count() > 0


async def drawer_badge(member: Member) -> str | None:
    """The room's unread count in the phone's drawer (opened, read, closed again)."""
    page = member.page
    await page.locator("button.menu").tap()
    await expect(page.locator(".sidebar")).to_be_visible()
    badge = page.locator(f'.sidebar a[href="#/room/{ROOM}"] .badge')
    text = await badge.inner_text() if await badge.count() else None
    await page.keyboard.press("Escape")
    await expect(page.locator(".sidebar")).to_have_count(0)
    return text


async def test_the_unread_count_stays_below_the_fold_and_goes_once_seen_on_a_phone(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        author = (await node.node.accounts.register("seeder@example.test", "a long secret", "Seeder")).user
        for n in range(1, 61):  # one by one: seq order is the order written here
            await node.node.rooms.send(author, ROOM, f"old{n}", f"old {n}")
        readers = [await phone(new_context, node, "en", "Kim Reader", "kim@example.test"),
                   await phone(new_context, node, "zh", "周读者", "zhou@example.test")]
        for reader in readers:
            page, words = reader.page, WORDS[reader.lang]
            await reader.go(f"#/room/{ROOM}")
            await expect(page.locator("#room-title")).to_have_text(words["room"])
            await expect(page.locator(f'{ROWS}[data-seq="60"]')).to_be_in_viewport()
            await expect(page).to_have_title(words["title"])
            # The reader scrolls up, away from the live end: the list stops following it.
            await page.evaluate("() => { document.querySelector('.messages').scrollTop = 0; }")
            await expect(page.locator(f'{ROWS}[data-seq="60"]')).not_to_be_in_viewport()
            await expect(page.get_by_role("button", name=words["latest"])).to_be_visible()

        for n in range(1, 13):
            await node.node.rooms.send(author, ROOM, f"new{n}", f"new {n}")

        for reader in readers:
            page, words = reader.page, WORDS[reader.lang]
            # Below the fold, the twelve are unread: the title, the menu's mark and the drawer say so,
            # and stay so while the reader is still up there.
            await expect(page).to_have_title(f"(12) {words['title']}")
            assert await menu_says_unread(page)
            await expect(page.locator("button.menu .visually-hidden")).to_have_text(words["menu_unread"])
            assert await drawer_badge(reader) == "12"
            await expect(page.locator(f'{ROWS}[data-seq="72"]')).not_to_be_in_viewport()
            await expect(page).to_have_title(f"(12) {words['title']}")
            await no_axe_violations(page, f"unread below the fold on a phone {reader.lang}")

            # On screen: the count goes, everywhere.
            await page.get_by_role("button", name=words["latest"]).tap()
            await expect(page.locator(f'{ROWS}[data-seq="72"]')).to_be_in_viewport()
            await expect(page).to_have_title(words["title"])
            assert not await menu_says_unread(page)
            assert await drawer_badge(reader) is None
            await no_axe_violations(page, f"unread seen on a phone {reader.lang}")

        # The server has the read position too: after a reload nothing is unread.
        for reader in readers:
            await read_position_reaches(reader, ROOM, 72)
        for reader in readers:
            await reader.page.reload(wait_until="domcontentloaded")
            await reader.connected()
            await expect(reader.page).to_have_title(WORDS[reader.lang]["title"])
            assert not await menu_says_unread(reader.page)
            assert reader.errors == [], reader.errors


@pytest.mark.browser_context_args(service_workers="allow")
async def test_the_installable_app_in_chinese_starts_offline(make_settings, new_context):
    words = WORDS["zh"]
    async with running_nodes(make_settings()) as [node]:
        member = await Member.open(new_context, node.url, "zh", **PHONE)
        page = member.page
        # The manifest and every icon it names are served to the page, with their types.
        served = await page.evaluate("""async () => {
          const manifest = await fetch('/manifest.webmanifest');
          const body = await manifest.json();
          const icons = await Promise.all(body.icons.map(async (i) => {
            const r = await fetch(i.src); return [i.src, r.status, r.headers.get('content-type')]; }));
          return {type: manifest.headers.get('content-type'), name: body.name, icons};
        }""")
        assert served["type"] == "application/manifest+json", served
        assert "EcoLink 交流" in served["name"], served
        assert served["icons"] and all(status == 200 and kind in ("image/png", "image/svg+xml")
                                       for _, status, kind in served["icons"]), served
        # The worker is installed for the whole site and keeps the page and what it names.
        scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == node.url + "/"
        await member.register("李华", "li@example.cn")
        await wait_for_js(
            page, f"""() => caches.open('{CACHE}').then(c => c.keys()).then(ks => {{
                  const paths = ks.map(r => new URL(r.url).pathname);
                  return paths.includes('/') && paths.includes('/manifest.webmanifest')
                    && paths.includes('/src/main.js'); }})""", timeout_ms=30000)

        # Offline: the page, its modules, the manifest and an icon come from the cache, and the
        # app starts in Chinese (signed out, as the session cannot be asked for).
        await member.context.set_offline(True)
        await page.reload(wait_until="domcontentloaded")
        await expect(page.get_by_role("button", name=member.text["register_link"])).to_be_visible(timeout=30000)
        await expect(page.get_by_role("button", name=member.text["login"], exact=True)).to_be_visible()
        await expect(page.get_by_label(member.text["password"])).to_be_visible()
        await expect(page).to_have_title(words["title"])
        assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
        await expect(page.locator(".boot-shell")).to_be_hidden()
        offline = await page.evaluate("""async () => {
          const manifest = await fetch('/manifest.webmanifest').then(r => r.json());
          const icon = await fetch('/icons/icon-192.png');
          return [manifest.short_name, icon.status];
        }""")
        assert offline == ["EcoLink", 200], offline
        await no_axe_violations(page, "offline app zh")
        await member.context.set_offline(False)
        # Back online the same page signs in again.
        await page.reload(wait_until="domcontentloaded")
        await member.connected()
        offline_errors = [e for e in member.errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e]
        assert offline_errors == [], member.errors
