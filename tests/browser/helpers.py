"""What a member does in the client, in either language (the labels come from web/src/i18n.js)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.base import AXE_SCRIPT, AxeResults
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.support.timing import UNIT_S

TEXT = {
    "en": {"register_link": "New here? Register for free", "name": "Display name", "email": "Email",
           "password": "Password", "register": "Register", "compose": "Write a message",
           "connected": "Connected", "directory": "Member directory", "news": "News feed",
           "new_topic": "Start a topic", "topic_title": "Topic title", "create_topic": "Start topic",
           "message": "Message {name}", "headline": "Headline", "body": "Text", "post": "Post news",
           "profile": "My profile", "notifications": "Notifications", "mark_all": "Mark all as read",
           "mention_list": "Members to mention", "login": "Log in",
           "member_search": "Name (any script, pinyin too) or organisation"},
    "zh": {"register_link": "新用户？免费注册", "name": "显示名称", "email": "电子邮箱",
           "password": "密码", "register": "注册", "compose": "输入消息", "connected": "已连接",
           "directory": "成员目录", "news": "新闻动态", "new_topic": "发起话题", "topic_title": "话题标题",
           "create_topic": "发起", "message": "给 {name} 发私信", "headline": "标题", "body": "正文",
           "post": "发布新闻", "profile": "我的资料", "notifications": "通知", "mark_all": "全部标为已读",
           "mention_list": "可提及的成员", "login": "登录",
           "member_search": "姓名（中外文、拼音均可）或机构"},
}


# A phone as members use it: 390 x 844 CSS pixels, touch, the mobile viewport rules.
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


class Member:
    """One member in one browser context, connected to one node."""

    def __init__(self, context: BrowserContext, page: Page, base_url: str, lang: str) -> None:
        self.context, self.page, self.base_url, self.lang = context, page, base_url, lang
        self.text = TEXT[lang]
        self.urls: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))
        self.frame_kinds: set[type] = set()
        self.errors: list[str] = []
        self.keep_welcome = False  # connected() dismisses the first-visit welcome unless set
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", lambda payload: self.frame_kinds.add(type(payload)))
        ws.on("framesent", lambda payload: self.frame_kinds.add(type(payload)))

    @classmethod
    async def open(cls, new_context, base_url: str, lang: str, **context_options) -> Member:
        """`context_options` go to new_context (a phone: PHONE; color_scheme="dark" ...)."""
        locale = "zh-CN" if lang == "zh" else "en-GB"
        options = {"viewport": {"width": 1280, "height": 800}, **context_options}
        context = await new_context(locale=locale, timezone_id="Asia/Shanghai" if lang == "zh" else "Europe/Berlin",
                                    **options)
        page = await context.new_page()
        member = cls(context, page, base_url, lang)
        started: dict = {}
        page.on("request", lambda r: started.__setitem__(id(r), r.url))
        page.on("requestfinished", lambda r: started.pop(id(r), None))
        page.on("requestfailed", lambda r: started.pop(id(r), None))
        try:
            # The app renders itself after DOMContentLoaded; waiting for "load" as well only adds
            # a way to time out on a busy machine.
            await page.goto(base_url + "/", wait_until="domcontentloaded", timeout=60000)
            # ... and it has asked who is signed in: the login form or the shell is there.
            await page.locator("#app main").first.wait_for(timeout=30000)
        except Exception as exc:
            raise AssertionError(f"{exc}\nunfinished: {sorted(started.values())}\nerrors: {member.errors}") from None
        return member

    async def register(self, name: str, email: str) -> None:
        page, text = self.page, self.text
        try:
            await expect(page.get_by_role("button", name=text["register_link"])).to_be_visible(timeout=20000)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\npage errors: {self.errors}\nrequests: {self.urls}") from None
        await page.get_by_role("button", name=text["register_link"]).click()
        await page.get_by_label(text["name"]).fill(name)
        await page.get_by_label(text["email"]).fill(email)
        await page.get_by_label(text["password"]).fill("a long secret")
        await page.get_by_role("button", name=text["register"], exact=True).click()
        await self.connected()

    async def log_in(self, email: str) -> None:
        """Sign in to an account registered with `register` (its password)."""
        page, text = self.page, self.text
        await page.get_by_label(text["email"]).fill(email)
        await page.get_by_label(text["password"]).fill("a long secret")
        await page.get_by_role("button", name=text["login"], exact=True).click()
        await self.connected()

    async def set_time_zone(self, zone: str) -> None:
        await self.page.evaluate(
            """zone => fetch('/api/v1/me/profile', {method: 'PATCH', headers: {'content-type': 'application/json'},
                                                   body: JSON.stringify({time_zone: zone})})""", zone)

    async def connected(self) -> None:
        await expect(self.page.locator(".conn")).to_have_attribute("data-state", "online", timeout=15000)
        # The first-visit welcome (web/src/views/welcome.js; tests/browser/test_forms.py) is
        # dismissed, so other tests see the views as a returning member does.
        welcome = self.page.locator("section.welcome button")
        if not self.keep_welcome and await welcome.count():
            await welcome.click()

    async def go(self, hash_path: str) -> None:
        await self.page.evaluate("h => { location.hash = h; }", hash_path)

    async def send(self, body: str) -> None:
        composer = self.page.get_by_label(self.text["compose"])
        await composer.fill(body)
        await composer.press("Enter")

    def notification_badge(self) -> Locator:
        """The unread count on the sidebar's Notifications entry (absent at zero)."""
        return self.page.locator('.sidebar a[href="#/notifications"] .badge')

    def mention_options(self) -> Locator:
        """The options of the composer's mention list."""
        return self.page.get_by_role("listbox", name=self.text["mention_list"]).get_by_role("option")

    async def sees(self, body: str, timeout_ms: int = 15000) -> None:
        """Exactly one message (not a pending send) whose whole text is `body`."""
        exact = re.compile(rf"^\s*{re.escape(body)}\s*$")
        await expect(self.page.locator(".messages .msg:not(.pending) .body").filter(has_text=exact)).to_have_count(
            1, timeout=timeout_ms)

    async def user_id(self) -> int:
        return (await self.page.evaluate("fetch('/api/v1/me').then(r => r.json())"))["user"]["id"]

    async def screenshot(self, folder: Path, view: str) -> None:
        await self.page.wait_for_timeout(300)  # one more frame: fonts and the last batch
        await self.page.screenshot(path=str(folder / f"{view}-{self.lang}.png"))

    def foreign_urls(self) -> list[str]:
        """Every URL the page loaded that is not on its node's origin."""
        origin = urlsplit(self.base_url)
        allowed = {("http", origin.netloc), ("ws", origin.netloc)}
        return [url for url in self.urls
                if not url.startswith("data:") and (urlsplit(url).scheme, urlsplit(url).netloc) not in allowed]


async def wait_for_js(page: Page, expression: str, arg: object = None, *, timeout_ms: float = 15000) -> None:
    """Wait until `expression` (a function of `arg`, or a plain expression; a promise is awaited)
    is truthy. Page.wait_for_function would be the tool, but its polling evaluates a string in
    the page, which the client's CSP (no 'unsafe-eval') refuses whenever the first check fails;
    page.evaluate goes through the DevTools protocol, which the CSP does not govern."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000 * UNIT_S
    while not await page.evaluate(expression, arg):
        if loop.time() > deadline:
            raise TimeoutError(f"not true within {timeout_ms:.0f} ms: {expression}")
        await asyncio.sleep(0.05)


async def two_members(new_context, nodes) -> tuple[Member, Member]:
    """Anna (English, Berlin) on the first node and 李华 (Chinese, Shanghai) on the second."""
    anna = await Member.open(new_context, nodes[0].url, "en")
    li = await Member.open(new_context, nodes[1].url, "zh")
    await anna.register("Anna Schmidt", "anna@example.eu")
    await li.register("李华", "li@example.cn")
    await anna.set_time_zone("Europe/Berlin")
    await li.set_time_zone("Asia/Shanghai")
    return anna, li


async def read_position_reaches(member: Member, room: str, seq: int) -> None:
    """The server holds the member's read position in `room` at `seq` or later (the client
    sends it at most once a second): polled through the page's own session, GET /api/v1/rooms,
    instead of waiting out the throttle; fails if it never gets there."""
    deadline_ms = 15000 * UNIT_S
    waited_ms, last_read = 0.0, None
    while waited_ms <= deadline_ms:
        last_read = await member.page.evaluate(
            """async room => {
                 const rooms = (await (await fetch('/api/v1/rooms')).json()).rooms;
                 return rooms.find(r => r.id === room)?.last_read ?? null;
               }""", room)
        if last_read is not None and last_read >= seq:
            return
        await member.page.wait_for_timeout(100)
        waited_ms += 100
    raise AssertionError(f"the server's read position in {room} is {last_read}, never {seq}")


async def no_axe_violations(page: Page, where: str = "") -> None:
    """axe-core (bundled with axe-playwright-python) finds nothing on the page as it is now.

    With reduced motion (which the client honours), a fade under the pointer ends at once: axe
    would otherwise measure the contrast of a tool button halfway through its fade-in."""
    await page.emulate_media(reduced_motion="reduce")
    # axe-core (550 kB) goes into the page once, not at every check as Axe().run would put it.
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE_SCRIPT)
    result = AxeResults(await page.evaluate("options => axe.run(document, options)", {"resultTypes": ["violations"]}))
    assert result.violations_count == 0, (where, result.generate_report())
