"""A long room in the browser (web/src/views/messagelist.js): a few thousand messages, read from
the latest back to the first with a bounded DOM and the message on screen staying put, then
back to the live end. Production mode: PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page, expect

from chat.models import User
from tests.browser.helpers import Member, no_axe_violations, wait_for_js
from tests.support.nodes import NodeServer, running_nodes
from tests.support.timing import timeout

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "urban-renewal"
SEEDED = 3000
MAX_ROWS = 300  # MAX_DOM in messagelist.js
LIVE_ROWS = 200  # LIVE_DOM in messagelist.js
ROWS = ".messages .msg"

# Scrolls the list to `top` (a fraction of its height) and says which row is on screen at its
# top edge, and where (read at once: before the scroll event is handled and the window slides).
SCROLL_TO = """fraction => {
  const list = document.querySelector('.messages');
  list.scrollTop = fraction * list.scrollHeight;
  const edge = list.getBoundingClientRect().top;
  const row = [...list.querySelectorAll('.msg[data-id]')].find((r) => r.getBoundingClientRect().bottom > edge);
  return {id: row.dataset.id, seq: +row.dataset.seq, offset: row.getBoundingClientRect().top - edge};
}"""
OFFSET_OF = """id => {
  const list = document.querySelector('.messages');
  const row = list.querySelector(`.msg[data-id="${id}"]`);
  return row ? row.getBoundingClientRect().top - list.getBoundingClientRect().top : null;
}"""
# Resolves once the list has not scrolled for three frames (a keyboard scroll is animated).
SETTLED = """() => new Promise((resolve) => {
  const list = document.querySelector('.messages');
  let last = list.scrollTop;
  let still = 0;
  const check = () => {
    still = list.scrollTop === last ? still + 1 : 0;
    last = list.scrollTop;
    if (still >= 3) resolve(); else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})"""
LOADED_BODIES = """async room => {
  const { state } = await import('/src/state.js');  // the app's own module instance
  return state.data.get(room).messages.map((m) => m.body);
}"""


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as nodes:
        yield nodes[0]


async def seeder(node: NodeServer) -> User:
    session = await node.node.accounts.register("seeder@example.test", "a long secret", "Seeder")
    return session.user


async def seed(node: NodeServer, user: User, count: int) -> None:
    """The room service's own send path, all at once: group commit takes them in batches."""
    await asyncio.gather(*(node.node.rooms.send(user, ROOM, f"seed{n}", f"seed {n}")
                           for n in range(1, count + 1)))


async def until_loaded(page: Page, body: str) -> None:
    """Wait until the client holds a message (in its state, not necessarily in the DOM)."""
    deadline = asyncio.get_running_loop().time() + timeout(15)
    while body not in await page.evaluate(LOADED_BODIES, ROOM):
        assert asyncio.get_running_loop().time() < deadline, f"{body!r} never reached the client"
        await asyncio.sleep(0.05)


async def row_seqs(page: Page) -> list[int]:
    return [int(s) for s in await page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.seq)")]


def assert_window(seqs: list[int]) -> None:
    assert 0 < len(seqs) <= MAX_ROWS, len(seqs)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "rows are not consecutive seqs in order"


async def slide_back_once(page: Page) -> dict[str, Any]:
    """Scroll to the top and wait for the window to slide back (or the start to show)."""
    top = await page.evaluate(SCROLL_TO, 0)
    # (a room of exactly n pages shows its start only once the next, empty page is back)
    await wait_for_js(
        page, "seq => +document.querySelector('.messages .msg').dataset.seq < seq || document.querySelector('.messages .start')",
        top["seq"])
    return top


async def read_back_to_the_start(page: Page) -> list[list[int]]:
    windows = [await row_seqs(page)]
    while not await page.locator(".messages .start").count():
        top = await slide_back_once(page)
        # the row on screen at the top stayed where it was (scrollTop 0: not anchored by Chrome)
        assert abs(await page.evaluate(OFFSET_OF, top["id"]) - top["offset"]) <= 1
        windows.append(await row_seqs(page))
        assert_window(windows[-1])
        assert windows[-1][0] < windows[-2][0] or windows[-1][0] == 1  # back, or the start shows
    return windows


async def test_a_long_room_reads_back_to_the_start_with_a_bounded_dom_then_jumps_to_latest(node, new_context):
    user = await seeder(node)
    await seed(node, user, SEEDED)
    reader = await Member.open(new_context, node.url, "en")
    await reader.register("Anna Schmidt", "anna@example.eu")
    await reader.go(f"#/room/{ROOM}")
    page = reader.page
    await expect(page.locator(f'{ROWS}[data-seq="{SEEDED}"]')).to_be_in_viewport()
    assert_window(await row_seqs(page))

    windows = await read_back_to_the_start(page)
    assert (await row_seqs(page))[0] == 1
    seen = sorted({seq for window in windows for seq in window})
    assert seen == list(range(1, SEEDED + 1))  # every seq, none twice (the windows are ranges)

    # the keyboard reads forward again: End slides the window towards the latest
    await page.locator(".messages").focus()
    for _ in range(3):
        first = (await row_seqs(page))[0]
        await page.keyboard.press("End")
        await wait_for_js(page, "seq => +document.querySelector('.messages .msg').dataset.seq > seq", first)
        await page.evaluate(SETTLED)
        assert_window(await row_seqs(page))

    # back in history a new message does not move the view; "Jump to latest" brings it
    kept = await page.evaluate(SCROLL_TO, 0.5)
    await page.evaluate(SETTLED)
    await node.node.rooms.send(user, ROOM, "live1", "live while reading history")
    await until_loaded(page, "live while reading history")
    assert await page.locator(ROWS, has_text="live while reading history").count() == 0
    assert abs(await page.evaluate(OFFSET_OF, kept["id"]) - kept["offset"]) <= 1
    await no_axe_violations(page, "scrolled back, with Jump to latest")
    await page.get_by_role("button", name="Jump to latest").click()
    await reader.sees("live while reading history")
    await node.node.rooms.send(user, ROOM, "live2", "and the next one scrolls into view")
    await expect(page.locator(ROWS, has_text="and the next one scrolls into view")).to_be_in_viewport()
    assert len(await row_seqs(page)) <= LIVE_ROWS
    assert_window(await row_seqs(page))

    # sending from back in history brings the reader to the latest, where their message is
    await slide_back_once(page)
    await expect(page.get_by_role("button", name="Jump to latest")).to_be_visible()
    await reader.send("my answer from the archive")
    await reader.sees("my answer from the archive")
    await expect(page.locator(f"{ROWS}:not(.pending)", has_text="my answer from the archive")).to_be_in_viewport()
    await expect(page.get_by_role("button", name="Jump to latest")).to_have_count(0)
    assert_window(await row_seqs(page))
    assert reader.errors == []
