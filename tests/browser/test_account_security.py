"""Account security in headless Chromium: a page on another port of the same host cannot log a
visitor in (neither a text/plain form nor a no-cors fetch), and staff names carry a role badge
in both languages, in messages (history and live, across nodes) and in the directory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser.helpers import Member, no_axe_violations
from tests.support.client import WsClient, register
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")


@contextlib.asynccontextmanager
async def attacker_site(page_html: str) -> AsyncIterator[str]:
    """A foreign site on another port of 127.0.0.1, serving one page."""

    async def page(request):
        return HTMLResponse(page_html)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", page)]), log_config=None,
                                           lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        await task
        sock.close()


def form_page(action: str, doc: dict[str, str]) -> str:
    # enctype=text/plain sends name=value: a name of `{"email":…,"x":"` and a value of `"}`
    # make a JSON document.
    text = json.dumps({**doc, "x": ""})
    name, value = text[:-2], '"}'
    return f"""<!doctype html><html lang="en"><head><title>Win a prize</title>
<link rel="icon" href="data:,"></head><body>
<form id="f" method="POST" action="{action}" enctype="text/plain">
<input type="hidden" name='{name}' value='{value}'></form>
<script>document.getElementById("f").submit()</script></body></html>"""


def fetch_page(action: str, doc: dict[str, str]) -> str:
    # The same with fetch: a "no-cors" request may carry Content-Type `text/plain;…` (its
    # essence is text/plain, a CORS-safelisted type), so no preflight asks the node first.
    return f"""<!doctype html><html lang="en"><head><title>Win a prize</title>
<link rel="icon" href="data:,"></head><body><p id="done">…</p><script>
fetch({json.dumps(action)}, {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain;application/json"}}, body: {json.dumps(json.dumps(doc))}}})
  .finally(() => {{ document.getElementById("done").textContent = "sent"; }});
</script></body></html>"""


async def test_a_page_on_another_port_cannot_log_the_visitor_in(make_settings, new_context):
    async with running_nodes(make_settings()) as [node]:
        attacker = await register(node.url)
        creds = {"email": attacker["user"]["email"], "password": "correct horse"}
        action = node.url + "/api/v1/sessions"
        context = await new_context()
        page = await context.new_page()
        seen: list[tuple[str, int, str | None]] = []

        async def record(response) -> None:
            if response.url == action:
                seen.append(((await response.request.all_headers()).get("origin"), response.status,
                             await response.header_value("set-cookie")))

        page.on("response", record)
        async with attacker_site(form_page(action, creds)) as url, page.expect_response(action):
            await page.goto(url)
        async with attacker_site(fetch_page(action, creds)) as url:
            await page.goto(url)
            await expect(page.locator("#done")).to_have_text("sent")
        await asyncio.sleep(0.1)  # the response handlers have run
        assert [(status, cookie) for _, status, cookie in seen] == [(403, None), (403, None)], seen
        # The form carried the foreign Origin (Playwright does not show a no-cors fetch's; its
        # 403 says the same: without an Origin its text/plain would have been a 400).
        assert seen[0][0].startswith("http://127.0.0.1:") and seen[0][0] != node.url, seen
        assert not [c for c in await context.cookies(node.url) if c["name"] == "ecolink_session"]
        # The node's own page still logs in (its fetch sends application/json and its Origin).
        member = await Member.open(new_context, node.url, "en")
        await member.page.get_by_label("Email").fill(creds["email"])
        await member.page.get_by_label("Password").fill(creds["password"])
        await member.page.get_by_role("button", name="Log in", exact=True).click()
        await member.connected()


async def test_staff_names_carry_a_role_badge_in_both_languages(two_nodes, new_context, screenshots):
    staff = {}
    for name, role in (("Lin", "admin"), ("Mia", "moderator")):
        account = await register(two_nodes[0].url, name)
        await two_nodes[0].node.store.set_role(account["user"]["id"], role)
        staff[role] = account
    bots = [await WsClient.connect(two_nodes[0].ws_url, staff[role]["token"]) for role in ("admin", "moderator")]
    try:
        for bot, body in zip(bots, ("Welcome, everyone", "Please keep on topic"), strict=True):
            await bot.join("green-buildings")
            await bot.send("green-buildings", body)
        async with httpx.AsyncClient(base_url=two_nodes[0].url) as http:
            posted = await http.post("/api/v1/news", headers={"Authorization": f"Bearer {staff['admin']['token']}"},
                                     json={"title": "Zhuhai pilot report", "body": "Read it.", "rooms": ["zhuhai"]})
            assert posted.status_code == 201, posted.text
        anna = await Member.open(new_context, two_nodes[0].url, "en")
        li = await Member.open(new_context, two_nodes[1].url, "zh")
        await anna.register("Anna Schmidt", "anna@example.eu")
        await li.register("李华", "li@example.cn")
        for member in (anna, li):
            await member.go("#/room/green-buildings")
            await member.sees("Please keep on topic")
        await li.send("大家好")
        await bots[0].send("green-buildings", "Live from the admin")  # live, across nodes
        labels = {"en": ("Admin", "Moderator"), "zh": ("管理员", "版主")}
        for member in (anna, li):
            await member.sees("Live from the admin")
            msgs = member.page.locator(".messages .msg")
            admin_label, moderator_label = labels[member.lang]
            for body, label in (("Welcome, everyone", admin_label), ("Please keep on topic", moderator_label),
                                ("Live from the admin", admin_label)):
                badge = msgs.filter(has_text=body).locator(".meta .role-badge")
                await expect(badge).to_have_text(label)
            await expect(msgs.filter(has_text="大家好").locator(".role-badge")).to_have_count(0)
            await no_axe_violations(member.page, f"room with staff badges ({member.lang})")
            await member.screenshot(screenshots, "staff-badges")
            await member.go("#/directory")
            row = member.page.locator(".member").filter(has_text="Mia")
            await expect(row.locator(".role-badge")).to_have_text(moderator_label)
            await expect(member.page.locator(".member").filter(has_text="李华").locator(".role-badge")).to_have_count(0)
            await member.go("#/news")
            item = member.page.locator(".feed article").filter(has_text="Zhuhai pilot report")
            await expect(item.locator(".role-badge")).to_have_text(admin_label)
    finally:
        for bot in bots:
            await bot.close()


async def test_registration_says_what_to_change_in_both_languages(make_settings, new_context):
    hints = {"en": ("Choose another password", "Choose another display name"),
             "zh": ("请换一个密码", "请换一个显示名称")}
    async with running_nodes(make_settings()) as [node]:
        for lang, (password_hint, name_hint) in hints.items():
            member = await Member.open(new_context, node.url, lang)
            page, text = member.page, member.text
            await page.get_by_role("button", name=text["register_link"]).click()
            await page.get_by_label(text["email"]).fill(f"new-{lang}@example.test")
            for name, password, hint in (("Ann", "password1", password_hint), ("Аdmin", "a long secret", name_hint)):
                await page.get_by_label(text["name"]).fill(name)
                await page.get_by_label(text["password"]).fill(password)
                await page.get_by_role("button", name=text["register"], exact=True).click()
                await expect(page.get_by_role("alert")).to_contain_text(hint)
            await no_axe_violations(page, f"registration refused ({lang})")
