"""Forms as people fill them, in Chromium, in both languages, on a desktop and on a phone: a bad
profile value is named beside its field (aria-invalid, aria-describedby) and takes the focus;
the country, time zone and language pickers show names in the reader's language ("China" whole,
not "Ch") and save; a rename shows in the header at once; with axe checks."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import PHONE, Member, no_axe_violations
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEVICES = {"desktop": {}, "phone": PHONE}
# What the reader sees (web/src/i18n.js, and Intl.DisplayNames for the pickers' names).
SEEN = {
    "en": {"name": "Display name", "save": "Save profile", "saved": "Profile saved.", "country": "Country or region",
           "china": "China", "zone": "Time zone", "berlin": "Berlin time", "chinese": "Chinese", "german": "German",
           "field_name": "Name"},
    "zh": {"name": "显示名称", "save": "保存资料", "saved": "资料已保存。", "country": "国家或地区",
           "china": "中国", "zone": "时区", "berlin": "柏林时间", "chinese": "中文", "german": "德语",
           "field_name": "姓名"},
}


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as [node]:
        yield node


async def profile(member: Member) -> dict:
    return (await member.page.evaluate("fetch('/api/v1/me/profile').then(r => r.json())"))["profile"]


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_profile_errors_beside_the_field_and_pickers(node, new_context, lang, screen):
    seen = SEEN[lang]
    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    await member.register("Mei Wong" if lang == "en" else "王梅", f"forms-{lang}-{screen}@example.test")
    await member.go("#/profile")
    page = member.page
    name = page.get_by_label(seen["name"], exact=True)
    await expect(name).to_be_visible()

    # A staff name is refused: the problem shows beside the name field, which takes the focus.
    await name.fill("Admin")
    await page.get_by_role("button", name=seen["save"]).click()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()
    problem = page.locator("#profile-display_name-error")
    await expect(problem).to_contain_text(seen["field_name"])
    await expect(name).to_have_attribute("aria-describedby", "profile-display_name-error")
    await expect(page.locator(".profile form").get_by_role("status")).to_contain_text(seen["field_name"])
    await no_axe_violations(page, f"profile error {lang} {screen}")
    assert (await profile(member))["display_name"] != "Admin"  # nothing was saved

    # The pickers: country by name (whole), time zone by city, languages by name.
    await name.fill("Mei W." if lang == "en" else "王梅梅")
    country = page.get_by_label(seen["country"])
    await country.select_option(label=seen["china"])
    fits = await country.evaluate("""el => {
        const probe = document.createElement('span'); probe.textContent = el.options[el.selectedIndex].text;
        probe.style.font = getComputedStyle(el).font; document.body.append(probe);
        const wide = probe.getBoundingClientRect().width; probe.remove(); return el.clientWidth >= wide; }""")
    assert fits, "the chosen country's name does not fit its picker"
    await page.get_by_label(seen["zone"]).select_option(label=seen["berlin"])
    await page.get_by_role("checkbox", name=seen["chinese"], exact=True).check()
    await page.get_by_role("checkbox", name=seen["german"], exact=True).check()
    await page.get_by_role("button", name=seen["save"]).click()
    await expect(page.locator(".profile form").get_by_role("status")).to_have_text(seen["saved"])
    await expect(name).not_to_have_attribute("aria-invalid", "true")
    saved = await profile(member)
    assert (saved["country"], saved["time_zone"]) == ("CN", "Europe/Berlin")
    assert sorted(saved["languages"]) == ["de", "zh"]
    # The rename shows in the header (on a phone: its drawer) without a reload.
    if screen == "phone":
        await page.locator("button.menu").click()
    await expect(page.locator(".me").first).to_have_text(saved["display_name"])
    await no_axe_violations(page, f"profile saved {lang} {screen}")
    # The refused save is the only console error (Chromium logs every 4xx response).
    assert [e for e in member.errors if "422" not in e] == [], member.errors


MISSING = {"en": ("No such room", "Back to the start"), "zh": ("没有这个聊天室", "返回首页")}
TOPIC = {"en": ("Start a topic from this", "Topic title"), "zh": ("就此发起话题", "话题标题")}


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_unknown_room_link_and_topic_form_in_view(node, new_context, lang, screen):
    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    await member.register("Tom Berg" if lang == "en" else "赵强", f"rooms-{lang}-{screen}@example.test")
    page = member.page

    # A link to a room that does not exist says so, with a way back, instead of an empty room.
    await member.go("#/room/no-such-room-here")
    missing, back = MISSING[lang]
    await expect(page.locator("#room-title")).to_have_text(missing)
    await expect(page.get_by_label(member.text["compose"])).to_have_count(0)
    await no_axe_violations(page, f"no such room {lang} {screen}")
    await page.get_by_role("link", name=back).click()
    await expect(page.get_by_role("heading", name=missing)).to_have_count(0)

    if screen == "desktop":  # on a phone the message tools are behind a touch-and-hold (test_phone.py)
        # "Start a topic from this" on the latest message: its form is in view, its title focused.
        await member.go("#/room/green-buildings")
        for n in range(12):  # enough to make the list scroll
            await member.send(f"line {n} " + "about the retrofit programme " * 3)
        await member.sees("line 11 " + ("about the retrofit programme " * 3).strip())
        latest = page.locator(".msg", has_text="line 11")
        await latest.hover()
        await latest.get_by_role("button", name=TOPIC[lang][0]).click()
        title = page.get_by_label(TOPIC[lang][1]).last
        await expect(title).to_be_focused()
        await expect(title).to_be_in_viewport()
        await no_axe_violations(page, f"topic from message {lang}")
    # The unknown room's 404 is the only console error (Chromium logs every 4xx response).
    assert [e for e in member.errors if "404" not in e] == [], member.errors


WELCOME = {"en": ("Welcome to EcoLink chat", "Got it", "Sector rooms", "Zhuhai", "Privacy notice", "Complete my profile"),
           "zh": ("欢迎使用 EcoLink chat", "知道了", "领域聊天室", "珠海", "隐私说明", "完善我的资料")}


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_welcome_once_and_the_operators_privacy_notice(node, new_context, lang, screen):
    title, dismiss, sectors, city, privacy, complete = WELCOME[lang]
    # The operator's own notice, in the reader's language (docs/operations.md "Privacy notice").
    node.settings.data_dir.mkdir(parents=True, exist_ok=True)
    own = {"en": "Run by the Liuzhou Tram Company.\n\nWrite to dpo@example.cn.", "zh": "由柳州电车公司运营。\n\n请写信至 dpo@example.cn。"}
    (node.settings.data_dir / f"privacy.{lang}.txt").write_text(own[lang])

    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    page = member.page
    # Before registering: the notice is a link away from the sign-in form.
    await page.get_by_role("link", name=privacy).click()
    await expect(page.locator(".privacy-text").first).to_have_text(own[lang].split("\n\n")[0])
    await expect(page.locator(".privacy-text")).to_have_count(2)
    await no_axe_violations(page, f"privacy signed out {lang} {screen}")
    await page.go_back()

    member.keep_welcome = True
    await member.register("Eva Lind" if lang == "en" else "孙丽", f"welcome-{lang}-{screen}@example.test")
    welcome = page.get_by_role("region", name=title)
    await expect(welcome).to_be_visible()
    await expect(welcome).to_contain_text(sectors)
    await expect(welcome).to_contain_text(city)
    # (each room of the guide is a link too: tests/browser/test_room_guide.py)
    await expect(welcome.get_by_role("link", name=complete)).to_have_attribute("href", "#/profile")
    await no_axe_violations(page, f"welcome {lang} {screen}")
    await welcome.get_by_role("button", name=dismiss).click()
    await expect(welcome).to_have_count(0)
    await page.reload(wait_until="domcontentloaded")
    await member.connected()
    await expect(page.get_by_role("region", name=title)).to_have_count(0)  # once per member

    # Signed in, the notice is in the sidebar (on a phone: its drawer).
    if screen == "phone":
        await page.locator("button.menu").click()
    await page.get_by_role("link", name=privacy).click()
    await expect(page.locator("#privacy-title")).to_have_text(privacy)
    await expect(page.locator(".privacy-text").last).to_contain_text("dpo@example.cn")
    await no_axe_violations(page, f"privacy {lang} {screen}")
    assert not member.errors, member.errors


ONLINE = {"en": "Nobody else is online", "zh": "暂无其他人在线"}


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_a_new_direct_conversation_shows_the_other_online(node, new_context, lang):
    other_lang = "zh" if lang == "en" else "en"
    opener = await Member.open(new_context, node.url, lang)
    other = await Member.open(new_context, node.url, other_lang, **PHONE)
    await opener.register("Opener" if lang == "en" else "开启者", f"dm-opener-{lang}@example.test")
    await other.register("Other One" if lang == "en" else "另一位", f"dm-other-{lang}@example.test")
    other_id = await other.user_id()
    room = (await opener.page.evaluate(
        """id => fetch('/api/v1/direct', {method: 'POST', headers: {'content-type': 'application/json'},
                 body: JSON.stringify({members: [id]})}).then(r => r.json())""", other_id))["room"]["id"]
    await opener.go(f"#/room/{room}")
    presence = opener.page.locator(".room-head .presence")
    # The other, online all along, is told of the room and joins it: no message needed.
    await expect(presence).to_contain_text("Other One" if lang == "en" else "另一位")
    await expect(presence).not_to_contain_text(ONLINE[lang])
    await no_axe_violations(opener.page, f"new direct conversation {lang}")
    assert not opener.errors and not other.errors, (opener.errors, other.errors)


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_registration_marks_and_focuses_the_field_refused(node, new_context, lang, screen):
    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    page, text = member.page, member.text
    await page.get_by_role("button", name=text["register_link"]).click()
    name = page.get_by_label(text["name"])
    await name.fill("Admin")  # a staff name: refused, with the field named
    await page.get_by_label(text["email"]).fill(f"refused-{lang}-{screen}@example.test")
    password = page.get_by_label(text["password"])
    await password.fill("a long secret")
    await password.press("Enter")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_have_attribute("aria-describedby", "auth-error")
    await expect(name).to_be_focused()
    await expect(password).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#auth-error")).to_be_visible()
    await no_axe_violations(page, f"registration refused {lang} {screen}")


NEWS = {"en": ("News feed", "Post news", "Headline", "Text", "Publish", "Show in rooms"),
        "zh": ("新闻动态", "发布新闻", "标题", "正文", "发布", "显示在以下聊天室")}


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_news_form_names_the_rooms_left_out(node, new_context, lang):
    _, _, headline, body, publish, rooms_label = NEWS[lang]
    member = await Member.open(new_context, node.url, lang)
    await member.register("Editor" if lang == "en" else "编辑", f"news-{lang}@example.test")
    await node.node.store.set_role(await member.user_id(), "moderator")
    await member.page.reload(wait_until="domcontentloaded")
    await member.connected()
    page = member.page
    await member.go("#/news")
    await page.locator("details.news-post summary").click()
    await page.get_by_label(headline).fill("Tram line 2 opens")
    await page.get_by_label(body, exact=True).fill("From Monday.")
    await page.get_by_role("button", name=publish, exact=True).click()  # no room chosen
    rooms = page.locator("details.news-post fieldset")
    await expect(rooms).to_have_attribute("aria-invalid", "true")
    await expect(rooms).to_have_attribute("aria-describedby", "news-error")
    await expect(page.locator("#news-error")).to_contain_text(rooms_label)
    await expect(page.locator('details.news-post input[name="rooms"]').first).to_be_focused()
    await no_axe_violations(page, f"news refused {lang}")
