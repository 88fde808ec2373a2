"""The web client on a 390 x 844 phone with touch, in both languages: one column, the rooms in a
drawer, the side panel behind a button, controls a finger can hit, a message's tools on a
touch-and-hold; dark mode; the static shell before the modules; and the installable app: the
manifest, its icons and the offline service worker."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations, wait_for_js
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

WEB = Path(__file__).resolve().parents[2] / "web"
WIDTH = PHONE["viewport"]["width"]
CACHE = "ecolink-shell"  # web/sw.js
TARGET_PX = 44  # WCAG 2.5.5; app.css, @media (pointer: coarse)
SIDE = {"en": ("Topics and news", "Back to the conversation", "Rooms", "Water Management"),
        "zh": ("话题与新闻", "返回对话", "聊天室", "水资源管理")}
FROM_MESSAGE = {"en": "Start a topic from this", "zh": "就此发起话题"}
LOGOUT = {"en": "Log out", "zh": "退出"}

# Every visible control the page offers, with its box: buttons, links, form fields, options.
# Links inside text (a message body) are exempt from the size rule (WCAG 2.5.5, "Inline");
# a checkbox is hit through its label. The skip link is off screen until focused.
SMALL_TARGETS = """min => [...document.querySelectorAll(
    'button, a[href], input, select, textarea, summary, [role="option"], label.check')]
  .filter(el => !el.closest('.body, .visually-hidden, .skip, blockquote')
    && !(el.type === 'checkbox' || el.type === 'radio' || el.type === 'hidden'))
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden')
  .filter(([, r]) => r.width < min || r.height < min)
  .map(([el, r]) => `${el.outerHTML.slice(0, 90)} ${Math.round(r.width)}x${Math.round(r.height)}`)"""


async def phone(new_context, base_url: str, lang: str, **options) -> Member:
    return await Member.open(new_context, base_url, lang, **PHONE, **options)


async def no_small_targets(page: Page, where: str) -> None:
    small = await page.evaluate(SMALL_TARGETS, TARGET_PX - 0.5)  # sub-pixel rounding
    assert small == [], (where, small)


async def no_horizontal_overflow(page: Page, where: str) -> None:
    # Right after a resize or a route change a transition may still be running: give the layout
    # a few seconds to settle, then it must fit.
    overflow = "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    with contextlib.suppress(TimeoutError):
        await wait_for_js(page, f"{overflow} <= 0", timeout_ms=5000)
    assert await page.evaluate(overflow) <= 0, (where, await page.evaluate("document.scrollingElement.scrollWidth"))


async def long_press(page: Page, selector: str, shown) -> None:
    """A finger on the element, held until `shown` is visible, then lifted (real touch events
    through the DevTools protocol, as a touch screen sends them)."""
    box = await page.locator(selector).bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + min(12, box["height"] / 2)}
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    try:
        await expect(shown).to_be_visible(timeout=10000)
    finally:
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        await cdp.detach()


async def test_phone_layout_drawer_side_panel_targets_and_long_press_in_both_languages(
        two_nodes, new_context, screenshots):
    anna = await phone(new_context, two_nodes[0].url, "en")
    li = await phone(new_context, two_nodes[1].url, "zh")
    for member in (anna, li):
        await no_horizontal_overflow(member.page, "login")
        await no_small_targets(member.page, "login")
        await no_axe_violations(member.page, f"login {member.lang}")
    await anna.register("Anna Schmidt", "anna@example.eu")
    await li.register("李华", "li@example.cn")

    for member in (anna, li):
        page = member.page
        open_side, close_side, menu, other_room = SIDE[member.lang]
        await member.go("#/room/green-transport")
        await expect(page.locator(".composer")).to_be_visible()
        # One column: no sidebar beside the conversation, which takes the whole width; the
        # header is one line; nothing scrolls sideways; the message box is a usable width.
        await expect(page.locator(".sidebar")).to_have_count(0)
        main = await page.locator("main").bounding_box()
        assert main["x"] < 1 and main["width"] >= WIDTH - 1, main
        header = await page.locator("#app header.top").bounding_box()
        assert header["height"] < 60, header
        composer = await page.get_by_label(member.text["compose"]).bounding_box()
        assert composer["width"] >= 300, composer
        await no_horizontal_overflow(page, "room")

    await anna.send("Hello from a phone in Rotterdam")
    await li.sees("Hello from a phone in Rotterdam")
    await li.send("你好，我在柳州用手机")
    await anna.sees("你好，我在柳州用手机")

    for member in (anna, li):
        page = member.page
        open_side, close_side, menu, other_room = SIDE[member.lang]
        await no_small_targets(page, f"room {member.lang}")
        await no_axe_violations(page, f"room {member.lang}")
        await member.screenshot(screenshots, "room-phone")

        # The other's message: its tools (a reaction not given yet, start a topic) are not
        # shown until a touch-and-hold on it.
        theirs = page.locator(".msg", has_text="Rotterdam" if member is li else "柳州")
        tool = theirs.get_by_role("button", name=FROM_MESSAGE[member.lang])
        await expect(tool).to_be_hidden()
        selector = f'.msg[data-id="{await theirs.get_attribute("data-id")}"]'
        await long_press(page, selector, tool)
        await no_small_targets(page, f"message tools {member.lang}")
        await no_axe_violations(page, f"message tools {member.lang}")

        # The side panel (topics, news) is behind its button, over the conversation.
        await expect(page.locator(".side")).to_have_count(0)
        await page.get_by_role("button", name=open_side).click()
        await expect(page.get_by_role("complementary")).to_be_visible()
        await expect(page.get_by_role("button", name=member.text["new_topic"], exact=True)).to_be_visible()
        await no_small_targets(page, f"side panel {member.lang}")
        await no_axe_violations(page, f"side panel {member.lang}")
        await member.screenshot(screenshots, "topics-phone")
        await expect(page.get_by_role("button", name=close_side)).to_be_focused()
        await page.get_by_role("button", name=close_side).click()
        await expect(page.locator(".side")).to_have_count(0)
        await expect(page.get_by_role("button", name=open_side)).to_be_focused()

        # The rooms are in the drawer; opening one closes it.
        drawer_button = page.get_by_role("button", name=re.compile(menu))
        await expect(drawer_button).to_have_attribute("aria-expanded", "false")
        await drawer_button.click()
        nav = page.locator(".sidebar")
        await expect(nav).to_be_visible()
        await expect(nav.get_by_role("button", name=LOGOUT[member.lang])).to_be_visible()
        await no_horizontal_overflow(page, "drawer")
        await no_small_targets(page, f"drawer {member.lang}")
        await no_axe_violations(page, f"drawer {member.lang}")
        await member.screenshot(screenshots, "rooms-phone")
        await nav.get_by_role("link", name=other_room).click()
        await expect(page.locator("#room-title")).to_have_text(other_room)
        await expect(page.locator(".sidebar")).to_have_count(0)
        await expect(drawer_button).to_have_attribute("aria-expanded", "false")
        # Escape closes it too, and gives the focus back to its button.
        await drawer_button.click()
        await expect(nav).to_be_visible()
        await page.keyboard.press("Escape")
        await expect(page.locator(".sidebar")).to_have_count(0)
        await expect(drawer_button).to_be_focused()

        # The other views: one column, nothing sideways, controls a finger can hit.
        for view, ready in (("#/news", ".news"), ("#/directory", ".member"), ("#/profile", ".profile form"),
                            ("#/notifications", ".notes, .notif-head")):
            await member.go(view)
            await expect(page.locator(ready).first).to_be_visible()
            await no_horizontal_overflow(page, view)
            await no_small_targets(page, f"{view} {member.lang}")
            await no_axe_violations(page, f"{view} {member.lang}")
        assert member.errors == [], member.errors


async def test_dark_mode_follows_the_system_and_passes_axe_on_phone_and_desktop(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        desktop = await Member.open(new_context, node.url, "en", color_scheme="dark")
        mobile = await phone(new_context, node.url, "zh", color_scheme="dark")
        for member in (desktop, mobile):
            background = await member.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            assert background == "rgb(15, 21, 17)", background  # app.css, prefers-color-scheme: dark
            await no_axe_violations(member.page, f"dark login {member.lang}")
        await desktop.register("Anna Schmidt", "anna@example.eu")
        await mobile.register("李华", "li@example.cn")
        for member in (desktop, mobile):
            await member.go("#/room/clean-energy")
            await member.send(f"dark {member.lang}")
            await member.sees(f"dark {member.lang}")
            await member.go("#/notifications")
            await expect(member.page.get_by_role("heading", name=member.text["notifications"])).to_be_visible()
            await no_axe_violations(member.page, f"dark notifications {member.lang}")
            await member.go("#/room/clean-energy")
            await member.sees(f"dark {member.lang}")
            await no_axe_violations(member.page, f"dark room {member.lang}")
        # The desktop layout is as it was: the sidebar beside the conversation, no drawer button.
        await expect(desktop.page.locator(".sidebar")).to_be_visible()
        await expect(desktop.page.locator(".menu")).to_have_count(0)
        await expect(desktop.page.locator(".side")).to_be_visible()
        assert (await desktop.page.locator(".sidebar").bounding_box())["width"] > 200
        await mobile.page.locator(".menu").click()
        await no_axe_violations(mobile.page, "dark drawer zh")
        for member in (desktop, mobile):
            assert member.errors == [], member.errors


async def test_the_page_shows_its_shell_before_any_module_runs(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        page = (await http.get("/")).text
    body = page.split("<body>", 1)[1]
    shell = body.split('<div class="boot-shell"', 1)[1].split("</div>", 1)[0]
    # A header and "loading" in both languages, in the HTML itself, styled by app.css only.
    assert "<header" in shell and "EcoLink chat" in shell and "EcoLink 交流" in shell
    assert "Loading…" in shell and "加载中…" in shell
    assert "style=" not in page
    assert re.search(r'<meta name="viewport" content="[^"]*interactive-widget=resizes-content', page)
    css = (WEB / "src" / "app.css").read_text()
    assert "#app:not(:empty) + .boot-shell { display: none; }" in css


async def test_manifest_icons_and_worker_are_served_with_their_types(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        page = await http.get("/")
        manifest = await http.get("/manifest.webmanifest")
        worker = await http.get("/sw.js")
        icons = {icon["src"]: await http.get(icon["src"]) for icon in manifest.json()["icons"]}
        missing = await http.get("/icons/nope.png")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    csp = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert csp["worker-src"] == "'self'" and csp["manifest-src"] == "'self'"
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/" and manifest.json()["display"] == "standalone"
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"  # a deploy's worker is seen at once
    assert "unsafe" not in worker.headers["content-security-policy"]
    sizes = set()
    for src, response in icons.items():
        assert response.status_code == 200, src
        assert response.headers["content-type"] in ("image/png", "image/svg+xml"), src
        assert response.headers["x-content-type-options"] == "nosniff"
        sizes.add(response.headers["content-type"])
    for icon in manifest.json()["icons"]:
        if icon["type"] == "image/png":  # the PNG's own size (IHDR: width, height) is the one declared
            data = icons[icon["src"]].content
            assert data[:8] == b"\x89PNG\r\n\x1a\n", icon
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert icon["sizes"] == f"{width}x{height}", icon
    assert sizes == {"image/png", "image/svg+xml"}
    assert missing.status_code == 404


async def cached_urls(page: Page) -> list[str]:
    return await page.evaluate(f"caches.open('{CACHE}').then(c => c.keys()).then(ks => ks.map(r => r.url))")


async def wait_for_cached(page: Page, url_part: str) -> None:
    await wait_for_js(
        page, f"""part => caches.open('{CACHE}').then(c => c.keys())
              .then(ks => ks.some(r => r.url.includes(part)) && ks.some(r => new URL(r.url).pathname === '/'))""",
        url_part, timeout_ms=30000)


@pytest.mark.browser_context_args(service_workers="allow")
async def test_the_worker_starts_the_app_offline_and_never_keeps_live_data_or_an_old_module(
        make_settings, new_context, tmp_path):
    web = tmp_path / "web"
    shutil.copytree(WEB, web)
    async with running_nodes(make_settings(web_dir=web)) as [node]:
        member = await phone(new_context, node.url, "en")
        page = member.page
        scope = await page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == node.url + "/"
        await member.register("Anna Schmidt", "anna@example.eu")
        await member.go("#/room/green-transport")
        await member.send("kept nowhere")
        await member.sees("kept nowhere")
        old_api = re.search(r'/src/api\.js\?v=[0-9a-f]+', await page.content()).group(0)
        await wait_for_cached(page, old_api)
        urls = await cached_urls(page)
        paths = [url.removeprefix(node.url) for url in urls]
        # The page and the versioned files it names; never the API, never an unversioned module.
        assert "/" in paths and old_api in paths
        assert not [p for p in paths if p.startswith(("/api", "/ws"))], paths
        assert all("?v=" in p for p in paths if p.startswith(("/src/", "/vendor/"))), paths

        # Offline, the page and its modules come from the cache: the app starts (signed out,
        # as the session cannot be asked for).
        await member.context.set_offline(True)
        await page.reload(wait_until="domcontentloaded")
        await expect(page.get_by_role("button", name=member.text["register_link"])).to_be_visible(timeout=30000)
        await member.context.set_offline(False)

        # A deploy changes a module: the next page names its new version, the worker keeps that
        # one and drops the old, so it can never answer with the old module again.
        with (web / "src" / "api.js").open("a") as f:
            f.write("// a new deploy\n")
        await page.reload(wait_until="domcontentloaded")
        new_api = re.search(r'/src/api\.js\?v=[0-9a-f]+', await page.content()).group(0)
        assert new_api != old_api
        await wait_for_cached(page, new_api)
        await wait_for_js(
            page, f"part => caches.open('{CACHE}').then(c => c.keys()).then(ks => !ks.some(r => r.url.includes(part)))",
            old_api, timeout_ms=30000)
        await member.connected()
