"""Attachments in the web client, across two nodes: Anna (English, node A) picks an image and a
PDF, sees their upload progress and sends them with her text; 李华 (Chinese, node B) sees both
previews, downloads the PDF (the same bytes), pastes an image of his own and sends it alone,
and cancels an upload. axe on both pages; 李华's room at phone width (375 px)."""

from __future__ import annotations

import asyncio
import io

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Route, expect

from tests.browser.helpers import PHONE, Member, no_axe_violations, two_members, wait_for_js
from tests.browser.test_composer import LIMIT, claim_a_higher_limit
from tests.browser.test_phone import no_horizontal_overflow, no_small_targets
from tests.support.nodes import running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "green-buildings"
WORDS = {
    "en": {"attach": "Attach", "cancel": "Cancel uploading {name}", "list": "Attached files: 2"},
    "zh": {"attach": "附件", "cancel": "取消上传 {name}", "list": "附件：1 个"},
}


def drawing(w: int, h: int, colour: tuple[int, int, int]) -> Image.Image:
    """A plan-like picture: blocks of buildings on a ground colour."""
    image = Image.new("RGB", (w, h), colour)
    draw = ImageDraw.Draw(image)
    for i in range(4):
        x, y = w // 10 + i * w // 5, h // 6 + (i % 2) * h // 4
        draw.rectangle((x, y, x + w // 7, y + h // 3), fill=(240, 240, 230), outline=(40, 40, 40), width=2)
    draw.line((0, h * 5 // 6, w, h * 5 // 6), fill=(60, 60, 60), width=max(2, h // 40))
    return image


def png_bytes(w: int, h: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    drawing(w, h, colour).save(out, "PNG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A one-page PDF (Pillow writes it), checked readable by pdfium as the server's preview is."""
    out = io.BytesIO()
    drawing(300, 400, (250, 250, 245)).save(out, "PDF")
    data = out.getvalue()
    assert len(pdfium.PdfDocument(data)) == 1
    return data


async def test_attach_preview_download_paste_and_cancel(two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    for member in (anna, li):
        await member.go(f"#/room/{ROOM}")
        await member.connected()
    image, pdf = png_bytes(640, 480, (30, 140, 80)), pdf_bytes()

    # Anna picks two files. The first PATCH fails as a dropped link does: the client asks the
    # server's offset (HEAD) and sends again; the PATCHes then wait until her progress was seen.
    held: list[Route] = []
    heads: list[str] = []
    dropped: list[str] = []

    async def hold(route: Route) -> None:
        if route.request.method == "PATCH" and not dropped:
            dropped.append(route.request.url)
            await route.abort("connectionreset")
        elif route.request.method == "PATCH":
            held.append(route)
        else:
            if route.request.method == "HEAD":
                heads.append(route.request.url)
            await route.continue_()

    await anna.page.route("**/api/v1/uploads/*", hold)
    await anna.page.locator("#composer-files").set_input_files([
        {"name": "site plan.png", "mimeType": "image/png", "buffer": image},
        {"name": "城市更新 report.pdf", "mimeType": "application/pdf", "buffer": pdf},
    ])
    chips = anna.page.locator("#composer-chips .chip")
    await expect(chips).to_have_count(2)
    await expect(chips.first.locator("progress")).to_be_visible()
    await expect(chips.first).to_contain_text("site plan.png")
    await no_axe_violations(anna.page, "uploading, en")
    await anna.screenshot(screenshots, "attachments-uploading")
    await anna.page.get_by_label(anna.text["compose"]).fill("Plans for the retrofit")
    await anna.page.get_by_label(anna.text["compose"]).press("Enter")  # waits for the uploads
    await expect(anna.page.locator(".composer .attach-bar [role=status]")).to_be_visible()
    for _ in range(100):  # the dropped one is resumed after its backoff
        if len(held) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(held) == 2 and heads == dropped, (held, heads, dropped)
    for route in held:
        await route.continue_()
    await anna.page.unroute("**/api/v1/uploads/*")

    # 李华 on the other node: the text, both previews (loaded), names, sizes.
    await li.sees("Plans for the retrofit", timeout_ms=30000)
    message = li.page.locator(".messages .msg", has_text="Plans for the retrofit")
    files = message.locator(".attachment")
    await expect(files).to_have_count(2)
    await expect(files.nth(0)).to_contain_text("site plan.png")
    await expect(files.nth(1)).to_contain_text("城市更新 report.pdf")
    for i in range(2):
        img = files.nth(i).locator("img")
        await img.scroll_into_view_if_needed()
        await wait_for_js(li.page, "img => img.complete && img.naturalWidth > 0", await img.element_handle())
    # Sized from the wire before it loads (no shift): 640 × 480, drawn within 240 × 240.
    assert int(await files.nth(0).locator("img").get_attribute("width")) == 240
    assert int(await files.nth(0).locator("img").get_attribute("height")) == 180

    # ... and downloads the PDF: the same bytes.
    async with li.page.expect_download() as info:
        await files.nth(1).locator("a.file-name").click()
    download = await info.value
    assert download.suggested_filename == "城市更新 report.pdf"
    assert (await download.path()).read_bytes() == pdf

    # 李华 pastes an image and sends it alone.
    box = li.page.get_by_label(li.text["compose"])
    await box.focus()
    pasted = png_bytes(120, 90, (200, 60, 40))
    await li.page.evaluate("""bytes => {
        const file = new File([new Uint8Array(bytes)], "pasted.png", {type: "image/png"});
        const data = new DataTransfer();
        data.items.add(file);
        document.getElementById("composer").dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", list(pasted))
    li_chips = li.page.locator("#composer-chips .chip")
    await expect(li_chips).to_have_count(1)
    await expect(li_chips.locator("progress")).to_have_count(0, timeout=30000)  # uploaded
    await box.press("Enter")
    await expect(li_chips).to_have_count(0)  # sent: the box is empty again
    mine = anna.page.locator(".messages .msg .attachment", has_text="pasted.png")
    await expect(mine).to_have_count(1, timeout=30000)
    await expect(li.page.locator(".messages .msg:not(.pending) .attachment", has_text="pasted.png")).to_have_count(1)
    await expect(li.page.get_by_role("list", name=WORDS["zh"]["list"])).to_have_count(1)

    # A cancelled upload: its chip goes and the upload is deleted on the server.
    deleted: list[str] = []
    li.page.on("request", lambda r: r.method == "DELETE" and "/api/v1/uploads/" in r.url and deleted.append(r.url))
    stuck: list[Route] = []

    async def never(route: Route) -> None:
        if route.request.method == "PATCH":
            stuck.append(route)
        else:
            await route.continue_()

    await li.page.route("**/api/v1/uploads/*", never)
    # This one is dropped on the room (drag and drop from the desktop).
    await li.page.evaluate("""bytes => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "draft.png", {type: "image/png"}));
        const room = document.querySelector(".room .messages");
        room.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true, cancelable: true}));
        room.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", list(png_bytes(50, 50, (0, 0, 200))))
    await expect(li_chips.locator("progress")).to_have_count(1)
    await li.screenshot(screenshots, "attachments-uploading")
    await li.page.get_by_role("button", name=WORDS["zh"]["cancel"].format(name="draft.png")).click()
    await expect(li_chips).to_have_count(0)
    for _ in range(100):
        if deleted:
            break
        await asyncio.sleep(0.1)
    assert deleted, "the cancelled upload was not deleted"
    for route in stuck:
        await route.abort()
    await li.page.unroute("**/api/v1/uploads/*")
    await no_axe_violations(li.page, "attachments shown, zh")

    # At phone width the attachments fit the screen.
    await li.page.set_viewport_size({"width": 375, "height": 812})
    await files.nth(0).scroll_into_view_if_needed()
    await no_horizontal_overflow(li.page, "attachments at phone width")
    box_width = (await files.nth(0).bounding_box())["width"]
    assert box_width <= 375
    await li.screenshot(screenshots, "attachments-phone")
    # A member on a touch phone: the files fit, and each control is a finger's size.
    bob = await Member.open(new_context, two_nodes[0].url, "en", **PHONE)
    await bob.register("Bob Green", "bob@example.eu")
    await bob.go(f"#/room/{ROOM}")
    await expect(bob.page.locator(".messages .msg .attachment")).to_have_count(3, timeout=30000)
    await bob.page.locator(".messages .msg .attachment").first.scroll_into_view_if_needed()
    await no_horizontal_overflow(bob.page, "attachments on a phone")
    await no_small_targets(bob.page, "attachments on a phone")
    await bob.screenshot(screenshots, "attachments-phone")
    await li.page.set_viewport_size({"width": 1280, "height": 800})
    await files.nth(0).scroll_into_view_if_needed()
    await anna.screenshot(screenshots, "attachments")
    await li.screenshot(screenshots, "attachments")
    assert not anna.foreign_urls() and not li.foreign_urls()
    # Only the dropped PATCH above is logged (Chromium reports every failed request).
    assert anna.errors == ["Failed to load resource: net::ERR_CONNECTION_RESET"] and not li.errors


async def test_a_topic_started_with_a_file(two_nodes, new_context):
    """李华 (zh) starts a topic with a PDF from the topic form; Anna (en), on the other node,
    opens it and downloads the file."""
    anna, li = await two_members(new_context, two_nodes)
    for member in (anna, li):
        await member.go("#/room/clean-energy")
        await member.connected()
    pdf = pdf_bytes()
    await li.page.get_by_role("button", name=li.text["new_topic"], exact=True).click()
    await li.page.get_by_label(li.text["topic_title"]).fill("珠海屋顶光伏")
    form = li.page.locator("form.topic-form")
    await form.get_by_role("button", name=WORDS["zh"]["attach"]).wait_for()
    await form.locator("input[type=file]").set_input_files(
        {"name": "光伏数据.pdf", "mimeType": "application/pdf", "buffer": pdf})
    await expect(form.locator(".chip")).to_contain_text("光伏数据.pdf")
    await form.get_by_role("button", name="发起").click()
    await expect(li.page.locator("#room-title")).to_have_text("珠海屋顶光伏")
    await expect(li.page.locator(".room-main > .attachments .attachment")).to_contain_text("光伏数据.pdf")

    topic_link = anna.page.locator(".threads a", has_text="珠海屋顶光伏")
    await expect(topic_link).to_be_visible(timeout=15000)
    await topic_link.click()
    shown = anna.page.locator(".room-main > .attachments .attachment")
    await expect(shown).to_contain_text("光伏数据.pdf")
    await expect(shown).to_contain_text("PDF")
    async with anna.page.expect_download() as info:
        await shown.locator("a.file-name").click()
    assert (await (await info.value).path()).read_bytes() == pdf
    await no_axe_violations(anna.page, "a topic with a file, en")
    await no_axe_violations(li.page, "a topic with a file, zh")


async def test_a_refused_send_gives_its_files_back(production, new_context):
    """The node refuses a message (too long for it): its text and its files go back into the
    box, and sent again (shorter) they arrive. In Chinese."""
    async with running_nodes(production(max_body_chars=LIMIT)) as [node]:
        li = await Member.open(new_context, node.url, "zh")
        await li.register("李华", "li-refused@example.cn")
        await li.page.route("**/api/v1/sessions", claim_a_higher_limit)
        await li.page.reload(wait_until="domcontentloaded")
        await li.connected()
        await li.go(f"#/room/{ROOM}")
        await li.page.locator("#composer-files").set_input_files(
            {"name": "数据.csv", "mimeType": "text/csv", "buffer": "年份,吨\n2025,12\n".encode()})
        chips = li.page.locator("#composer-chips .chip")
        await expect(chips.locator("progress")).to_have_count(0, timeout=30000)
        box = li.page.get_by_label(li.text["compose"])
        await box.fill("长" * (LIMIT + 1))
        await box.press("Enter")
        await expect(li.page.get_by_role("alert").filter(has_text="未发送")).to_be_visible(timeout=15000)
        await expect(box).to_have_value("长" * (LIMIT + 1))
        await expect(chips).to_have_count(1)
        await expect(chips).to_contain_text("数据.csv")
        await box.fill("数据见附件")
        await box.press("Enter")
        await li.sees("数据见附件")
        await expect(li.page.locator(".messages .msg:not(.pending) .attachment")).to_contain_text("数据.csv")
        await expect(chips).to_have_count(0)
        await no_axe_violations(li.page, "a refused send's files back, zh")
