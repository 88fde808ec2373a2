"""The knowledge library in the web client, across two nodes: Anna (English, node A) proposes a
document with an upload; 李华 (Chinese, node B), a moderator, publishes it from the proposals and
uploads a new version; Anna downloads the current and the first version (their bytes checked);
the filters and the title sort work in both languages; the page lists where the document was
shared. axe on the list and the page in both languages; the list at phone width (375 px)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import no_axe_violations, two_members
from tests.browser.test_phone import no_horizontal_overflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

V1 = b"Sponge city guide, first edition: rain gardens.\n"
V2 = "海绵城市指南第二版：透水铺装与雨水花园。\n".encode()


async def test_propose_publish_version_download_and_filter(two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    await two_nodes[1].node.profiles.set_role_by_email("li@example.cn", "moderator")
    await li.page.reload()
    await li.connected()

    # Anna proposes a document with its file.
    await anna.go("#/library")
    await anna.page.get_by_role("link", name="Library").first.wait_for()
    await expect(anna.page.get_by_role("heading", name="Knowledge library")).to_be_visible()
    await anna.page.get_by_role("button", name="Propose a document").click()
    await anna.page.get_by_label("Title in English").fill("Sponge city guide")
    await anna.page.get_by_label("Title in Chinese").fill("海绵城市指南")
    await anna.page.get_by_label("Description").fill("How Zhuhai keeps rain where it falls.")
    await anna.page.locator("#doc-type").select_option("guide")
    await anna.page.locator("#doc-language").select_option("both")
    await anna.page.locator("#doc-year").select_option("2021")
    await anna.page.get_by_label("Water Management").check()
    await anna.page.get_by_label("Zhuhai").check()
    await anna.page.locator("#doc-file").set_input_files({"name": "sponge-guide.txt", "mimeType": "text/plain", "buffer": V1})
    await no_axe_violations(anna.page, "propose form, en")
    await anna.page.get_by_role("button", name="Send", exact=True).click()
    await expect(anna.page.get_by_role("heading", name="Sponge city guide")).to_be_visible(timeout=30000)
    await expect(anna.page.locator(".document h2 .tag")).to_have_text("Proposed")
    doc_id = anna.page.url.rsplit("/", 1)[-1]
    assert doc_id.startswith("d-")

    # 李华 finds it among the proposals and publishes it.
    await li.go("#/library")
    await li.page.get_by_role("button", name="待审核的推荐").click()
    proposal = li.page.locator(".doc-card", has_text="海绵城市指南")
    await expect(proposal).to_have_count(1)
    await proposal.get_by_role("link").click()
    await expect(li.page.get_by_role("heading", name="海绵城市指南")).to_be_visible()
    await no_axe_violations(li.page, "proposal page, zh")
    await li.page.get_by_role("button", name="发布", exact=True).click()
    await expect(li.page.locator(".document h2 .tag")).to_have_count(0)

    # ... and uploads a new version.
    await li.page.get_by_role("button", name="上传新版本").click()
    await li.page.locator("#doc-version-file").set_input_files({"name": "海绵城市指南-第二版.txt", "mimeType": "text/plain", "buffer": V2})
    await li.page.get_by_label("修改说明（可选）").fill("第二版")
    await li.page.get_by_role("button", name="上传", exact=True).click()
    versions = li.page.locator(".doc-version")
    await expect(versions).to_have_count(2, timeout=30000)
    await expect(versions.first).to_contain_text("第 2 版")
    await li.page.get_by_label("分享到聊天室").select_option("zhuhai")
    await li.page.get_by_role("button", name="分享", exact=True).click()
    await expect(li.page.locator(".doc-discussed li")).to_have_count(1)
    await no_axe_violations(li.page, "document page, zh")
    await li.screenshot(screenshots, "document")

    # Anna, on the other node, downloads the current version and the first one.
    await anna.page.reload()
    await anna.connected()
    await anna.go(f"#/library/{doc_id}")
    await expect(anna.page.locator(".doc-version")).to_have_count(2, timeout=30000)
    async with anna.page.expect_download() as current:
        await anna.page.get_by_role("link", name="Download the current version").click()
    assert (await (await current.value).path()).read_bytes() == V2
    async with anna.page.expect_download() as first:
        await anna.page.get_by_role("link", name="Download version 1: sponge-guide.txt").click()
    assert (await (await first.value).path()).read_bytes() == V1
    await expect(anna.page.locator(".doc-discussed a")).to_have_text("Zhuhai")
    await no_axe_violations(anna.page, "document page, en")
    await anna.screenshot(screenshots, "document")

    # A second document, published directly by the moderator (through the API), for the filters.
    made = await li.page.evaluate("""async () => {
        const upload = await fetch('/api/v1/files?name=bus.txt', {method: 'POST', headers: {'content-type': 'text/plain'}, body: 'BRT notes'});
        const file = (await upload.json()).id;
        const r = await fetch('/api/v1/library', {method: 'POST', headers: {'content-type': 'application/json'},
          body: JSON.stringify({title_en: 'Bus rapid transit', title_zh: '快速公交', type: 'case-study', language: 'en',
                                year: 2019, sectors: ['green-transport'], cities: ['hefei'], file})});
        return r.status;
    }""")
    assert made == 201
    await anna.go("#/library")
    cards = anna.page.locator(".doc-card")
    await expect(cards).to_have_count(2)
    await anna.page.locator("#library-sector").select_option("green-transport")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text("Bus rapid transit")
    await anna.page.locator("#library-sector").select_option("")
    await anna.page.locator("#library-type").select_option("guide")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text("Sponge city guide")
    await anna.page.locator("#library-type").select_option("")
    await anna.page.get_by_label("Words in a title").fill("RAPID")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text("Bus rapid transit")
    await anna.page.get_by_label("Words in a title").fill("")
    await anna.page.locator("#library-sort").select_option("title")
    await expect(cards).to_have_count(2)
    await expect(cards.first).to_contain_text("Bus rapid transit")  # B < S
    await no_axe_violations(anna.page, "library, en")
    await anna.screenshot(screenshots, "library")

    # In Chinese, the title sort follows the Chinese titles: 快速公交 (U+5FEB) < 海绵城市指南 (U+6D77).
    await li.go("#/library")
    await li.page.get_by_role("button", name="已发布").click()
    await li.page.locator("#library-sort").select_option("title")
    li_cards = li.page.locator(".doc-card")
    await expect(li_cards).to_have_count(2)
    await expect(li_cards.first).to_contain_text("快速公交")
    await li.page.locator("#library-city").select_option("zhuhai")
    await expect(li_cards).to_have_count(1)
    await expect(li_cards.first).to_contain_text("海绵城市指南")
    await li.page.locator("#library-city").select_option("")
    await no_axe_violations(li.page, "library, zh")
    await li.screenshot(screenshots, "library")

    # At phone width the list fits the screen.
    await li.page.set_viewport_size({"width": 375, "height": 812})
    await expect(li_cards).to_have_count(2)
    await no_horizontal_overflow(li.page, "library at phone width")
    assert (await li_cards.first.bounding_box())["width"] <= 375
    await no_axe_violations(li.page, "library at phone width, zh")
    await li.screenshot(screenshots, "library-phone")
    await anna.page.set_viewport_size({"width": 375, "height": 812})
    await expect(cards).to_have_count(2)
    await anna.screenshot(screenshots, "library-phone")
    assert not anna.foreign_urls() and not li.foreign_urls()
    assert not anna.errors and not li.errors
