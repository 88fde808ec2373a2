"""Eco-city projects in the web client, across two nodes (docs/protocol.md, "Projects"): Anna
(English, node A), a moderator, creates a project through the form and follows it; 李华
(Chinese, node B), made a member of it, finds it in the filtered list and posts a dated update
with an attached image; Anna sees the update appear in the timeline and gets the notification,
which opens the project. axe on every view; the list and the page at phone width (375 px);
README screenshots ("projects", "project page")."""

from __future__ import annotations

import asyncio
import io
import re

import pytest
from PIL import Image
from playwright.async_api import expect

from tests.browser.helpers import no_axe_violations, two_members
from tests.browser.test_phone import no_horizontal_overflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAME_EN, NAME_ZH = "Xiangzhou retrofit", "香洲老旧小区改造"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 140, 80)).save(out, "PNG")
    return out.getvalue()


async def test_create_follow_post_an_update_with_a_file_and_be_notified(two_nodes, new_context, screenshots):
    anna, li = await two_members(new_context, two_nodes)
    await two_nodes[0].node.store.set_role(await anna.user_id(), "moderator")
    await anna.page.reload()
    await anna.connected()
    await li.connected()
    page = anna.page

    # Anna creates a project; a missing city is refused in place and nothing is made.
    await anna.go("#/projects")
    await expect(page.get_by_role("heading", name="Eco-city projects")).to_be_visible()
    await page.get_by_role("button", name="New project").click()
    form = page.locator("form.project-form")
    await form.get_by_label("Name in English").fill(NAME_EN)
    await form.get_by_label("Name in Chinese").fill(NAME_ZH)
    await form.get_by_label("Green Buildings").check()
    await form.get_by_label("Urban Renewal").check()
    await form.get_by_label("Status").select_option("running")
    await form.get_by_label("Short description").fill("Insulating 40 blocks of 1990s flats.")
    await form.get_by_label("Partner organisations (one per line)").fill("Zhuhai Housing Bureau\nGIZ")
    await form.get_by_role("button", name="Add a key figure").click()
    await form.get_by_label("Label (English)").fill("CO2 saved")
    await form.get_by_label("Label (Chinese)").fill("二氧化碳减排")
    await form.get_by_label("Value").fill("1250")
    await form.get_by_label("Unit").fill("t/yr")
    await no_axe_violations(page, "project form")
    await form.get_by_role("button", name="Create project").click()
    await expect(form.get_by_role("alert")).to_contain_text("city")
    assert (await page.evaluate("fetch('/api/v1/projects').then(r => r.json())"))["projects"] == []
    await form.get_by_label("City").select_option("zhuhai")
    await form.get_by_role("button", name="Create project").click()
    await expect(page).to_have_url(re.compile(r"#/projects/p-[0-9a-f]{16}$"), timeout=15000)
    project_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#project-name")).to_contain_text(NAME_EN)
    await expect(page.locator(".project-status")).to_have_text("Running")
    await expect(page.locator(".figure")).to_contain_text(["CO2 saved1,250 t/yr"])
    await expect(page.locator(".partners")).to_contain_text("Zhuhai Housing Bureau, GIZ")
    await expect(page.get_by_role("link", name="Discussion thread")).to_have_attribute("href", re.compile(r"#/room/t-"))
    await page.get_by_role("button", name=f"Follow {NAME_EN}").click()
    await expect(page.get_by_role("button", name=f"Unfollow {NAME_EN}")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator(".follow .muted")).to_contain_text("1 follower")
    await no_axe_violations(page, "project page en")

    # 李华 becomes a member of it (the moderator sets members).
    li_id = await li.user_id()
    status = await page.evaluate("""([id, member]) => fetch(`/api/v1/projects/${id}`, {method: "PATCH",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({members: [member]})}).then(r => r.status)""",
        [project_id, li_id])
    assert status == 200

    # 李华, on the other node, filters the list (Chinese) and opens the project.
    await li.go("#/projects")
    await expect(li.page.get_by_role("heading", name="生态城市项目")).to_be_visible()
    filters = li.page.locator(".project-filters")
    await filters.get_by_label("状态").select_option("completed")
    await expect(li.page.locator(".projects-empty")).to_be_visible(timeout=15000)
    await filters.get_by_label("状态").select_option("running")
    await filters.get_by_label("城市").select_option("zhuhai")
    card = li.page.locator(f'.project-card[data-id="{project_id}"]')
    await expect(card.get_by_role("link", name=NAME_ZH)).to_be_visible(timeout=15000)
    await expect(card.locator(".project-status")).to_have_text("进行中")
    # A list asked for before the filter changed, answering late, does not replace the newer one.
    held = asyncio.Event()

    async def late(route) -> None:
        await held.wait()
        await route.continue_()

    await li.page.route(re.compile(r"/api/v1/projects\?.*status=planned"), late)
    await filters.get_by_label("状态").select_option("planned")
    await filters.get_by_label("状态").select_option("running")
    await expect(card).to_be_visible(timeout=15000)
    async with li.page.expect_response(re.compile(r"status=planned")):
        held.set()
    # (a few frames for the client to take the late answer in)
    await li.page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 100)))")
    await expect(card).to_be_visible()
    await expect(li.page.locator(".projects-empty")).to_have_count(0)
    await li.page.unroute(re.compile(r"/api/v1/projects\?.*status=planned"))
    await no_axe_violations(li.page, "projects zh")
    await li.screenshot(screenshots, "projects")
    await card.get_by_role("link", name=NAME_ZH).click()
    await expect(li.page.locator("#project-name")).to_contain_text(NAME_ZH)

    # He posts a dated update with an image; it shows in his timeline with its preview.
    await li.page.get_by_role("button", name="发布动态").click()
    await expect(li.page.locator("#update-day")).to_be_focused()
    update_form = li.page.locator("form.update-form")
    await update_form.get_by_label("日期").fill("2026-03-01")
    await update_form.get_by_label("进展内容（支持 Markdown）").fill("### 进展\n\n第 7 栋楼外墙**保温**完成")
    await li.page.locator("#update-files").set_input_files([
        {"name": "外墙.png", "mimeType": "image/png", "buffer": png_bytes()}])
    await expect(update_form.locator(".chip.done")).to_have_count(1, timeout=15000)
    await no_axe_violations(li.page, "project page zh")
    await update_form.get_by_role("button", name="发布", exact=True).click()
    li_update = li.page.locator(".timeline .update")
    await expect(li_update).to_have_count(1, timeout=15000)
    await expect(li_update.locator(".body strong")).to_have_text("保温")
    # A Markdown heading is a bold line, not a heading in the page's outline (as in messages).
    await expect(li_update.locator(".body .md-heading")).to_have_text("进展")
    await expect(li_update.locator(".body h3")).to_have_count(0)
    await expect(li_update.locator("time")).to_have_attribute("datetime", "2026-03-01")
    await expect(li_update.locator(".attachments")).to_contain_text("外墙.png")
    await expect(li.page.get_by_role("button", name="发布动态")).to_be_focused()
    await li.screenshot(screenshots, "project-page")

    # Anna, following it on node A, sees it arrive in the timeline and is notified.
    update = page.locator(".timeline .update")
    await expect(update).to_have_count(1, timeout=15000)
    await expect(update.locator(".body")).to_contain_text("第 7 栋楼外墙保温完成")
    await expect(update.locator(".update-meta")).to_contain_text("1 March 2026")
    await expect(update.locator(".attachments")).to_contain_text("外墙.png")
    await expect(anna.notification_badge()).to_have_text("1", timeout=15000)
    await page.locator(".project-timeline").scroll_into_view_if_needed()
    await anna.screenshot(screenshots, "project-page")
    await anna.go("#/notifications")
    note = page.locator('.note[data-kind="project_update"]')
    await expect(note).to_contain_text(f"李华 posted an update to {NAME_EN}")
    await expect(note.locator(".note-kind")).to_have_text("Project")
    await no_axe_violations(page, "notifications en")
    await note.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(rf"#/projects/{project_id}$"))
    await expect(page.locator("#project-name")).to_contain_text(NAME_EN)
    # In the discussion thread the update is a message marked as the project's, linking it.
    await page.get_by_role("link", name="Discussion thread").click()
    mark = page.locator(".msg .project-update-mark")
    await expect(mark).to_contain_text("Project update", timeout=15000)
    await expect(page.locator(".msg .body strong")).to_have_text("保温")
    await expect(mark.get_by_role("link")).to_have_attribute("href", f"#/projects/{project_id}")
    await no_axe_violations(page, "project thread en")
    await anna.go("#/projects")
    await expect(page.locator(f'.project-card[data-id="{project_id}"]')).to_contain_text("you follow it")
    await anna.screenshot(screenshots, "projects")

    # At phone width the list and the page fit, in both languages.
    for member in (anna, li):
        await member.page.set_viewport_size({"width": 375, "height": 800})
        await member.go("#/projects")
        await expect(member.page.locator(".project-card")).to_have_count(1, timeout=15000)
        await no_horizontal_overflow(member.page, f"projects {member.lang}")
        await member.go(f"#/projects/{project_id}")
        await expect(member.page.locator(".timeline .update")).to_have_count(1, timeout=15000)
        await no_horizontal_overflow(member.page, f"project page {member.lang}")
        await no_axe_violations(member.page, f"project page phone {member.lang}")
    assert anna.foreign_urls() == [] and li.foreign_urls() == []
