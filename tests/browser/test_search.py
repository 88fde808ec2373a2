"""Search in the web client (web/src/views/search.js, subjects/search.js): Anna (English, node A)
and 李华 (Chinese, node B) search from the header box, by `/` and through Ctrl+K; results show
snippets with the matched words marked (as text: nothing of the server's becomes HTML), who
wrote them, where and when; the filters (kind, several rooms, language) narrow them; a two-character
Chinese query finds a longer message; opening a message result shows its room at the message
(loaded around it, highlighted, on screen), newer pages come as the reader scrolls down, and
"Jump to latest" brings the live end back, with what was said meanwhile. On a phone the
header's button opens the search page: no sideways scroll, every target at least 44 px. axe
on the results in both languages. Production mode: PostgreSQL + Redis."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from chat.models import User
from tests.browser.helpers import PHONE, Member, no_axe_violations, two_members, wait_for_js
from tests.browser.test_phone import no_horizontal_overflow
from tests.support.nodes import NodeServer, running_nodes

pytestmark = pytest.mark.asyncio(loop_scope="session")

TARGET = "快速公交系统在合肥开通了，每天运送十万名乘客"
BEFORE = "合肥的早高峰比去年短了二十分钟"
MIXED = "BRT快速公交 opens in Changzhou next year"
ROOFS = "We plan green roofs for every school in Guilin"
CORRIDORS = "Green corridors for cyclists along the river"
MARKUP = "Green <i>tags</i> stay plain text"
NEWER = 120  # messages after the target: it is well outside the latest page (50)
RESULTS = ".search-results .search-result"
ROWS = ".messages .msg[data-seq]"


async def seed(node: NodeServer) -> dict[str, str]:
    """Wang Fang's messages and topic, through the services' own paths (indexed as they commit).
    Returns the target message's id."""
    session = await node.node.accounts.register("wang@example.cn", "a long secret", "王芳")
    wang: User = session.user
    rooms = node.node.rooms
    await rooms.send(wang, "hefei", "before", BEFORE)
    target, _ = await rooms.send(wang, "hefei", "target", TARGET)
    for n in range(NEWER):
        await rooms.send(wang, "hefei", f"later{n}", f"later line {n}")
    await rooms.send(wang, "changzhou", "mixed", MIXED)
    await rooms.send(wang, "green-buildings", "roofs", ROOFS)
    await rooms.send(wang, "green-transport", "corridors", CORRIDORS)
    await rooms.send(wang, "urban-renewal", "markup", MARKUP)
    return {"target": target.message_id, "target_seq": str(target.seq)}


async def marks(page: Page) -> list[str]:
    return await page.locator(f"{RESULTS} .snippet mark").all_inner_texts()



async def opened_at(member: Member, message_id: str, room_title: str) -> None:
    """The room is shown at the message: highlighted, on screen, with the one before it loaded."""
    page = member.page
    await expect(page.locator("#room-title")).to_have_text(room_title)
    row = page.locator(f'.msg[data-id="{message_id}"]')
    await expect(row).to_have_class(re.compile(r"\bflash\b"))
    await expect(row).to_be_in_viewport()
    await expect(page.locator(".messages .msg .body", has_text=BEFORE)).to_have_count(1)


async def test_search_in_english_and_chinese_filters_and_open_in_the_room(two_nodes, new_context, screenshots):
    seeded = await seed(two_nodes[0])
    anna, li = await two_members(new_context, two_nodes)
    page = anna.page

    # `/` is a slash while typing in the message box; elsewhere it goes to the search box.
    await anna.go("#/room/urban-renewal")
    composer = page.get_by_label(anna.text["compose"])
    await composer.focus()
    await page.keyboard.press("/")
    await expect(composer).to_have_value("/")
    await expect(composer).to_be_focused()
    await composer.fill("")
    await page.locator("#room-title").click()
    await page.keyboard.press("/")
    box = page.locator("#search-q")
    await expect(box).to_be_focused()
    await box.fill("green")
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"#/search\?q=green$"))
    results = page.locator(RESULTS)
    await expect(results).to_have_count(3)  # roofs, corridors, the markup
    assert {m.lower() for m in await marks(page)} == {"green"}
    # Snippets are text: the message's "<i>" is shown, never made an element.
    await expect(page.locator(f"{RESULTS} .snippet :not(mark)")).to_have_count(0)
    corridors = page.locator(RESULTS, has_text="corridors")
    await expect(corridors.locator(".result-author")).to_have_text("王芳")
    await expect(corridors.get_by_role("heading")).to_contain_text("Green Transport")
    await no_axe_violations(page, "search results, en")
    await anna.screenshot(screenshots, "search")

    # Filters narrow: topics only (none), messages only, then one room, two, then Chinese only.
    kinds = page.get_by_role("group", name="Narrow the results")
    await kinds.get_by_label("Topic", exact=True).check()
    await expect(results).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text="Nothing found")).to_have_count(1)
    await kinds.get_by_label("Topic", exact=True).uncheck()
    await kinds.get_by_label("Message", exact=True).check()
    await expect(results).to_have_count(3)
    await page.locator(".search-filters summary", has_text="Rooms").click()
    await page.get_by_label("Green Transport", exact=True).check()
    await expect(results).to_have_count(1)
    await page.get_by_label("Green Buildings", exact=True).check()
    await expect(results).to_have_count(2)
    await expect(page).to_have_url(re.compile(r"kind=message&room=green-transport&room=green-buildings"))
    await page.locator("#search-lang").select_option("zh")
    await expect(results).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text="Nothing found")).to_have_count(1)

    # English stems: "planning" finds "plan" (the header's box: a new search, no filters).
    await box.fill("planning")
    await box.press("Enter")
    await expect(results).to_have_count(1)
    assert [m.lower() for m in await marks(page)] == ["plan"]

    # Ctrl+K: no room is called 公交, so Enter searches everything for it.
    await page.keyboard.press("Control+k")
    switcher = page.get_by_role("dialog", name="Go to a room")
    await switcher.get_by_role("combobox").fill("公交")
    await expect(switcher.get_by_role("button", name="Search everything for “公交”")).to_be_visible()
    await switcher.get_by_role("combobox").press("Enter")
    await expect(switcher).to_have_count(0)
    await expect(page.locator("#search-page-q")).to_have_value("公交")
    await expect(results).to_have_count(2)  # the Hefei message and the mixed one

    # Opening the Hefei message: its room at the message, loaded around it.
    await results.filter(has_text="合肥开通").get_by_role("link").click()
    await expect(page).to_have_url(re.compile(rf"#/room/hefei/message/{seeded['target']}/{seeded['target_seq']}$"))
    await opened_at(anna, seeded["target"], "Hefei")
    seqs = [int(s) for s in await page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs  # no hole
    assert max(seqs) < int(seeded["target_seq"]) + NEWER  # the latest are not loaded
    # Scrolling down brings the newer pages, still without a hole.
    await page.locator(".messages").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    await wait_for_js(
        page,
        "seq => Math.max(...[...document.querySelectorAll('.messages .msg[data-seq]')].map(e => +e.dataset.seq)) > seq",
        max(seqs))
    seqs = [int(s) for s in await page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs

    # 李华 writes meanwhile; "Jump to latest" shows the live end with it.
    await li.go("#/room/hefei")
    await li.send("合肥的地铁卡也能在常州用了")
    await li.sees("合肥的地铁卡也能在常州用了")
    await page.get_by_role("button", name="Jump to latest").click()
    await anna.sees("合肥的地铁卡也能在常州用了")
    await anna.sees(f"later line {NEWER - 1}")
    assert anna.errors == [], anna.errors

    # 李华, in Chinese: two characters find the longer messages, marked; the room filter narrows.
    lp = li.page
    await lp.locator("#search-q").fill("公交")
    await lp.locator("#search-q").press("Enter")
    li_results = lp.locator(RESULTS)
    await expect(li_results).to_have_count(2)
    assert set(await marks(lp)) == {"公交"}
    target = lp.locator(f'{RESULTS}[data-id="{seeded["target"]}"]')
    await expect(target.get_by_role("heading")).to_contain_text("合肥")
    await expect(target.locator(".result-author")).to_have_text("王芳")
    await expect(lp.get_by_role("status").filter(has_text="2 条结果")).to_have_count(1)
    await no_axe_violations(lp, "search results, zh")
    await li.screenshot(screenshots, "search")
    await lp.locator(".search-filters summary", has_text="房间").click()
    await lp.get_by_label("常州", exact=True).check()
    await expect(li_results).to_have_count(1)
    await expect(li_results).to_contain_text("Changzhou")
    await lp.locator("#search-order").select_option("relevance")
    await expect(lp).to_have_url(re.compile(r"order=relevance"))
    await expect(li_results).to_have_count(1)
    assert li.errors == [], li.errors
    assert anna.foreign_urls() == [] and li.foreign_urls() == []


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as nodes:
        yield nodes[0]


@pytest.mark.parametrize("lang", ["zh"])  # English: the file's other tests
async def test_search_on_a_phone(node, new_context, screenshots, lang):
    seeded = await seed(node)
    li = await Member.open(new_context, node.url, lang, **PHONE)
    await li.register("李华", "li@example.cn")
    page = li.page
    opener = page.get_by_role("link", name="搜索" if lang == "zh" else "Search", exact=True)
    box = await opener.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, box
    await opener.tap()
    field = page.locator("#search-page-q")
    await expect(field).to_be_focused()
    await field.fill("公交")
    await field.press("Enter")
    results = page.locator(RESULTS)
    await expect(results).to_have_count(2)
    assert set(await marks(page)) == {"公交"}
    await li.screenshot(screenshots, "search-phone")
    # The filters fold away above the results; opened, they fit the width.
    await page.locator(".search-more-filters > summary").click()
    await page.locator(".search-filters summary").click()
    await no_horizontal_overflow(page, "search")
    for target in await page.locator("main button, main select, main input:not([type=checkbox]), main summary, main label.check").all():
        if await target.is_visible():
            size = await target.bounding_box()
            assert size and size["height"] >= 44, (await target.evaluate("e => e.outerHTML"), size)
    await no_axe_violations(page, f"search on a phone, {lang}")
    await page.get_by_label("合肥" if lang == "zh" else "Hefei", exact=True).check()
    await expect(results).to_have_count(1)
    await no_horizontal_overflow(page, "search")
    await results.filter(has_text="合肥开通").get_by_role("link").tap()
    await opened_at(li, seeded["target"], "合肥" if lang == "zh" else "Hefei")
    await no_horizontal_overflow(page, "search")
    assert li.errors == [], li.errors
