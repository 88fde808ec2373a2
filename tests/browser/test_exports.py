"""Exports in the web client (docs/protocol.md, "Exports"), in Chromium, both languages, desktop
and phone (390 x 844): the Export dialog of a room (labelled, focus inside, Escape closes and
focus goes back, targets a finger can hit, axe), a "to" before "from" refused in the form
without asking the server, a date the server refuses (422) named beside its field; a room exported as Markdown and as CSV through the dialog (the
download captured: the messages, Chinese included, the header's labels in the UI's language,
the SHA-256 line that matches the bytes before it); a direct conversation (JSON Lines) and a
webinar (HTML); "Download my data" (a zip whose messages.jsonl holds the member's message);
an admin's compliance export, then listed in the audit log; the server's 429 (exports busy)
and 413 (a PDF too long) said in the dialog."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Locator, Page, expect
from pypdf import PdfReader

from tests.browser.helpers import PHONE, Member, no_axe_violations, two_members
from tests.browser.test_phone import no_horizontal_overflow, no_small_targets
from tests.e2e.test_exports import open_stream, sends, wait_until
from tests.support.client import call, register
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEVICES = {"desktop": {}, "phone": PHONE}
ROOM = "green-transport"
# What the reader sees (web/src/i18n.js) and the file's labels (chat/export/labels.py).
WORDS = {
    "en": {"export": "Export", "title": "Export “", "download": "Download", "from": "From (optional)",
           "to": "To (optional)", "to_before_from": "“To” is before “From”: choose a later end date.",
           "preset": "Period", "all": "Everything", "week": "Last 7 days", "zone": "Time zone of the times", "saved": "Saved as",
           "file_labels": ("Time zone", "Participants", "Made by"), "csv_zone": "# Time zone,",
           "my_data": "Download my data", "profile": "My profile", "admin": "Administration",
           "compliance": "Download the compliance export", "audit": "Audit log",
           "action": "Compliance export", "fix_fields": "Please correct the marked fields.",
           "invalid_date": "Not a date an export can start or end at: choose one between 1970 and 9999, or leave it empty.",
           "busy": "Other exports are running now; try again in",
           "too_large": "Too long for one file in this format: choose a shorter time range (or another format)."},
    "zh": {"export": "导出", "title": "导出「", "download": "下载", "from": "开始日期（可选）",
           "to": "结束日期（可选）", "to_before_from": "结束日期早于开始日期：请选择更晚的结束日期。",
           "preset": "时段", "all": "全部", "week": "最近 7 天", "zone": "时间所用时区", "saved": "已保存为",
           "file_labels": ("时区", "参与者", "导出人"), "csv_zone": "# 时区,",
           "my_data": "下载我的数据", "profile": "我的资料", "admin": "管理",
           "compliance": "下载合规导出", "audit": "审计日志", "action": "合规导出",
           "fix_fields": "请更正标出的字段。",
           "invalid_date": "导出不能从这个日期开始或结束：请选择 1970 年至 9999 年之间的日期，或留空。",
           "busy": "其他导出正在进行，请",
           "too_large": "以此格式生成的文件过长：请选择更短的时间范围（或其他格式）。"},
}
ZONES = {"en": "Europe/Berlin", "zh": "Asia/Shanghai"}  # Member.open's browser zones
MESSAGES = ["Bike lanes for Tianjin: a first draft", "天津的自行车道：初稿 🚲"]


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as [node]:
        yield node


def hex_after(last: bytes) -> str:
    found = re.search(rb"[0-9a-f]{64}", last)
    assert found, last
    return found.group().decode()


def digest_checks(data: bytes) -> str:
    """The last line states the SHA-256 of every byte before it (`head -n -1 FILE | sha256sum`);
    returns that last line."""
    body, _, last = data.rstrip(b"\r\n").rpartition(b"\n")
    assert hashlib.sha256(body + b"\n").hexdigest() == hex_after(last), last
    return last.decode()


def export_dialog(page: Page, lang: str) -> Locator:
    return page.get_by_role("dialog", name=re.compile(re.escape(WORDS[lang]["title"])))


async def download_through(page: Page, button: Locator) -> tuple[str, bytes]:
    """Clicks `button` and returns the file the browser saved: (its name, its bytes)."""
    async with page.expect_download(timeout=30000) as info:
        await button.click()
    download = await info.value
    path = await download.path()
    return download.suggested_filename, Path(path).read_bytes()


async def export_as(member: Member, fmt: str) -> tuple[str, bytes]:
    """Through the open Export dialog: the format (by its name), Download, the file."""
    words, page = WORDS[member.lang], member.page
    dialog = export_dialog(page, member.lang)
    await dialog.get_by_role("radio", name=re.compile(f"^{re.escape(fmt)}")).check()
    name, data = await download_through(page, dialog.get_by_role("button", name=words["download"], exact=True))
    await expect(dialog.get_by_role("status")).to_contain_text(words["saved"])
    return name, data


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_room_exported_as_markdown_and_csv_through_the_dialog(node, new_context, lang, screen):
    words = WORDS[lang]
    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    await member.register("Anna Schmidt" if lang == "en" else "李华", f"export-{lang}-{screen}@example.test")
    await member.go(f"#/room/{ROOM}")
    for body in MESSAGES:
        await member.send(body)
        await member.sees(body)
    page = member.page

    # The dialog: labelled by its title, focus on the first format, axe, a finger's targets.
    opener = page.locator(".room-head").get_by_role("button", name=words["export"], exact=True)
    await opener.click()
    dialog = export_dialog(page, lang)
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("radio", name=re.compile("^Markdown"))).to_be_focused()
    await expect(dialog.get_by_label(words["zone"])).to_have_value(ZONES[lang])  # the member's zone
    await no_axe_violations(page, f"export dialog {lang} {screen}")
    if screen == "phone":
        await no_small_targets(page, f"export dialog {lang}")
        await no_horizontal_overflow(page, f"export dialog {lang}")
    # Escape closes it and the focus goes back to the Export button.
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(opener).to_be_focused()

    # A "to" before the "from" is refused in the form: named beside the field, which takes the
    # focus, and the server was not asked.
    await opener.click()
    await dialog.get_by_label(words["from"]).fill("2026-11-20")
    await dialog.get_by_label(words["to"]).fill("2026-11-10")
    await dialog.get_by_role("button", name=words["download"], exact=True).click()
    to = dialog.get_by_label(words["to"])
    await expect(to).to_have_attribute("aria-invalid", "true")
    await expect(to).to_be_focused()
    await expect(dialog.locator("#export-to-error")).to_have_text(words["to_before_from"])
    await no_axe_violations(page, f"export dialog error {lang} {screen}")
    assert not [url for url in member.urls if "/api/" in url and "/export" in url], member.urls
    # A date the server refuses (before 1970: an export names the years 1970-9999): its 422
    # named beside the field in the member's language, the field focused, no file saved.
    await dialog.get_by_label(words["to"]).fill("")
    await dialog.get_by_label(words["from"]).fill("1969-12-31")
    await dialog.get_by_role("button", name=words["download"], exact=True).click()
    start = dialog.get_by_label(words["from"])
    await expect(start).to_have_attribute("aria-invalid", "true")
    await expect(start).to_be_focused()
    await expect(dialog.locator("#export-from-error")).to_have_text(words["invalid_date"])
    await expect(dialog.get_by_role("alert")).to_have_text(words["fix_fields"])
    await expect(to).not_to_have_attribute("aria-invalid", "true")
    # A preset fills the dates (days in the chosen zone); "everything" empties them.
    await dialog.get_by_label(words["preset"]).select_option(label=words["week"])
    await expect(dialog.get_by_label(words["from"])).to_have_value(re.compile(r"^\d{4}-\d\d-\d\d$"))
    await expect(dialog.get_by_label(words["to"])).to_have_value(re.compile(r"^\d{4}-\d\d-\d\d$"))
    await dialog.get_by_label(words["preset"]).select_option(label=words["all"])
    await expect(dialog.get_by_label(words["from"])).to_have_value("")
    await expect(dialog.get_by_label(words["to"])).to_have_value("")

    # Markdown: the messages, the header's labels in the UI's language, the member's zone, the
    # SHA-256 of everything before the last line.
    name, data = await export_as(member, "Markdown")
    assert name.endswith(".md") and ROOM in name, name
    text = data.decode()
    for body in MESSAGES:
        assert body in text, text
    for label in words["file_labels"]:
        assert label in text, (label, text[:600])
    assert ZONES[lang] in text and ("Anna Schmidt" if lang == "en" else "李华") in text
    assert digest_checks(data).startswith("SHA-256")

    # CSV, from the same dialog: a row per message; the header rows labelled in the UI's language.
    name, data = await export_as(member, "CSV")
    assert name.endswith(".csv"), name
    text = data.decode("utf-8-sig")
    for body in MESSAGES:
        assert body in text, text
    assert words["csv_zone"] + ZONES[lang] in text, text[:400]
    assert digest_checks(data).startswith("# SHA-256")
    # The one error the console saw is the refused date's answer.
    assert [e for e in member.errors if "status of 422" not in e] == [], member.errors


async def test_direct_conversation_and_webinar_exports(two_nodes, new_context):
    """李华 (Chinese) exports her direct conversation with Anna as JSON Lines; Anna exports a
    topic's thread (Markdown, the topic route) and a webinar she hosts as HTML: its chat, her
    language, the digest in the footer."""
    anna, li = await two_members(new_context, two_nodes)
    li_id = await li.user_id()
    opened = await anna.page.evaluate("""id => fetch('/api/v1/direct', {method: 'POST',
        headers: {'content-type': 'application/json'}, body: JSON.stringify({members: [id]})}).then(r => r.json())""", li_id)
    direct = opened["room"]["id"]
    await anna.go(f"#/room/{direct}")
    await anna.send("Can we talk about the tram depot?")
    await li.go(f"#/room/{direct}")
    await li.sees("Can we talk about the tram depot?")
    await li.send("可以，明天上午。")
    await anna.sees("可以，明天上午。")
    await li.page.locator(".room-head").get_by_role("button", name="导出", exact=True).click()
    await no_axe_violations(li.page, "export dialog direct zh")
    name, data = await export_as(li, "JSON Lines")
    assert name.endswith(".jsonl"), name
    lines = [json.loads(line) for line in data.decode().splitlines()]
    text = json.dumps(lines, ensure_ascii=False)
    assert "Can we talk about the tram depot?" in text and "可以，明天上午。" in text
    assert lines[-1]["type"] == "digest"
    body = data.rstrip(b"\n").rpartition(b"\n")[0] + b"\n"
    assert hashlib.sha256(body).hexdigest() == lines[-1]["sha256"]
    # The same conversation as a PDF: both languages' text read back, labels in Chinese.
    name, data = await export_as(li, "PDF")
    assert name.endswith(".pdf") and data.startswith(b"%PDF-"), name
    pages = PdfReader(io.BytesIO(data)).pages
    text = "".join(page.extract_text() for page in pages)
    assert "Can we talk about the tram depot?" in text and "可以，明天上午。" in text
    assert "第 1 页" in pages[0].extract_text()

    # A topic's thread: its own route (topics/{id}/export); the post and a reply in the file.
    topic = (await anna.page.evaluate(f"""() => fetch('/api/v1/rooms/{ROOM}/topics', {{method: 'POST',
        headers: {{'content-type': 'application/json'}},
        body: JSON.stringify({{title: 'Depot sites', body: 'Three candidates'}})}}).then(r => r.json())"""))["topic"]
    await anna.go(f"#/room/{topic['id']}")
    await expect(anna.page.locator("#room-title")).to_have_text("Depot sites")
    await anna.send("Site B is closest")
    await anna.sees("Site B is closest")
    await anna.page.locator(".room-head").get_by_role("button", name="Export", exact=True).click()
    name, data = await export_as(anna, "Markdown")
    assert [url for url in anna.urls if f"/api/v1/topics/{topic['id']}/export?" in url], anna.urls
    text = data.decode()
    assert "Depot sites" in text and "Site B is closest" in text, text
    assert digest_checks(data).startswith("SHA-256")
    await anna.page.keyboard.press("Escape")

    # A webinar Anna hosts: started, a chat message, exported as HTML from its page.
    moderator = await register(two_nodes[0].url, "Mia")
    await two_nodes[0].node.store.set_role(moderator["user"]["id"], "moderator")
    starts = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(hours=1)
    answer = await call(two_nodes[0], "POST", "/api/v1/webinars", moderator, json={
        "title": {"en": "Trams in Tianjin", "zh": "天津的有轨电车"}, "description": "Depots",
        "starts_at": starts.isoformat(timespec="seconds"),
        "ends_at": (starts + timedelta(hours=1)).isoformat(timespec="seconds"),
        "time_zone": "Europe/Berlin", "rooms": [ROOM], "hosts": [await anna.user_id()]})
    assert answer.status_code == 201, answer.text
    webinar = answer.json()["webinar"]["id"]
    await anna.go(f"#/webinar/{webinar}")
    await anna.page.get_by_role("button", name="Start the webinar").click()
    await expect(anna.page.locator(".webinar-head .webinar-state")).to_have_text("Live", timeout=15000)
    await anna.send("Welcome to the tram webinar")
    await anna.sees("Welcome to the tram webinar")
    await anna.page.locator(".webinar-head").get_by_role("button", name="Export", exact=True).click()
    await no_axe_violations(anna.page, "export dialog webinar en")
    name, data = await export_as(anna, "HTML")
    assert name.endswith(".html"), name
    page_text = data.decode()
    assert "Trams in Tianjin" in page_text and "Welcome to the tram webinar" in page_text
    assert "<script" not in page_text.lower()
    assert digest_checks(data).startswith("<footer")
    assert not anna.errors and not li.errors, (anna.errors, li.errors)


@pytest.mark.parametrize(("lang", "screen"), [("en", "desktop"), ("zh", "phone")])
async def test_download_my_data_holds_my_message(node, new_context, lang, screen):
    words = WORDS[lang]
    member = await Member.open(new_context, node.url, lang, **DEVICES[screen])
    await member.register("Mei Wong" if lang == "en" else "王梅", f"mydata-{lang}@example.test")
    await member.go(f"#/room/{ROOM}")
    mine = "My own words 我自己的话"
    await member.send(mine)
    await member.sees(mine)
    await member.go("#/profile")
    page = member.page
    button = page.get_by_role("button", name=words["my_data"], exact=True)
    await expect(button).to_be_visible()
    await no_axe_violations(page, f"profile my data {lang} {screen}")
    if screen == "phone":
        await no_small_targets(page, f"profile my data {lang}")
    name, data = await download_through(page, button)
    assert name.endswith(".zip"), name
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        messages = next(n for n in names if n.endswith("messages.jsonl"))
        assert mine in archive.read(messages).decode(), names
    await expect(page.locator(".my-data").get_by_role("status")).to_contain_text(words["saved"])


@pytest.mark.parametrize("lang", ["en"])  # Chinese: the file's other tests
async def test_admin_compliance_export_shows_in_the_audit_log(node, new_context, lang):
    words = WORDS[lang]
    admin = await Member.open(new_context, node.url, lang)
    await admin.register("Lin Wei" if lang == "en" else "林伟", f"admin-{lang}@example.test")
    await admin.go(f"#/room/{ROOM}")
    await admin.send("Tram depot minutes")  # for the export to hold
    await admin.sees("Tram depot minutes")
    page = admin.page
    # Not an admin yet: no way in from the menu.
    await expect(page.get_by_role("link", name=words["admin"], exact=True)).to_have_count(0)
    await node.node.store.set_role(await admin.user_id(), "admin")
    await page.reload()
    await admin.connected()
    await page.get_by_role("link", name=words["admin"], exact=True).click()
    await expect(page.get_by_role("heading", name=words["audit"])).to_be_visible()
    await no_axe_violations(page, f"admin {lang}")
    form = page.locator("form.compliance")
    await form.get_by_role("radio", name=re.compile("^JSON Lines")).check()
    name, data = await download_through(page, form.get_by_role("button", name=words["compliance"]))
    assert name.endswith(".zip"), name
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "manifest.json" in archive.namelist(), archive.namelist()
        held = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".jsonl"))
        assert "Tram depot minutes" in held
    entry = page.locator('.audit-entry[data-action="export.compliance"]').first
    await expect(entry).to_contain_text("Lin Wei" if lang == "en" else "林伟", timeout=15000)
    await expect(entry).to_contain_text(words["action"])
    await no_axe_violations(page, f"admin audit {lang}")


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_busy_and_too_long_are_said_in_the_dialog(production, new_context, lang):
    """The server's refusals after the form's checks, shown in the dialog in the member's
    language, nothing saved: 429 export_busy while the node's one export slot is taken (another
    member's export held open by a reader that does not read), 413 export_too_large for a PDF
    past the page limit, suggesting a shorter range."""
    words = WORDS[lang]
    big = "solid-waste"
    async with running_nodes(production(export_concurrency=1)) as [node]:
        ann = await register(node.url, "Ann")
        # 2,000 messages of 9,000 characters: far more than the sockets' buffers hold, so a
        # reader that stops reading keeps its export running (tests/e2e/test_exports.py).
        for start in range(0, 2000, 200):
            await node.node.store.append_batch(
                sends(ann, big, ["x" * 9000] * 200, f"big{start}-"), 1_790_000_000_000 + start)
        member = await Member.open(new_context, node.url, lang)
        await member.register("Mei Wong" if lang == "en" else "王梅", f"refused-{lang}@example.test")
        await member.go(f"#/room/{big}")
        page = member.page
        await page.locator(".room-head").get_by_role("button", name=words["export"], exact=True).click()
        dialog = export_dialog(page, lang)
        download = dialog.get_by_role("button", name=words["download"], exact=True)
        saved: list[str] = []
        page.on("download", lambda d: saved.append(d.suggested_filename))

        _, writer, _ = await open_stream(node, ann, f"/api/v1/rooms/{big}/export?format=jsonl")
        try:
            await download.click()
            await expect(dialog.get_by_role("alert")).to_contain_text(words["busy"])
            await no_axe_violations(page, f"export busy {lang}")
        finally:
            writer.close()
        await wait_until(lambda: node.node.exports.running == 0)

        node.node.exports.pdf_max_pages = 1  # as ECOLINK_EXPORT_PDF_MAX_PAGES would
        await dialog.get_by_role("radio", name=re.compile("^PDF")).check()
        await download.click()
        await expect(dialog.get_by_role("alert")).to_have_text(words["too_large"])
        await expect(download).to_be_visible()
        assert saved == [], saved
        assert [e for e in member.errors if "status of 429" not in e and "status of 413" not in e] == [], member.errors
