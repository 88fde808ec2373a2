"""chat/transport/wsprotocol.py: Inbox and Flag behave as the asyncio.Queue and asyncio.Event
uvicorn's protocol uses them as, and hold no container while empty."""

from __future__ import annotations

import asyncio

import pytest

from chat.transport.wsprotocol import Flag, Inbox


async def test_inbox_gives_items_in_order_and_holds_nothing_when_empty():
    inbox = Inbox()
    assert inbox.empty() and inbox.qsize() == 0 and inbox._items is None
    inbox.put_nowait("connect")
    inbox.put_nowait("receive")
    assert not inbox.empty() and inbox.qsize() == 2
    assert [await inbox.get(), await inbox.get()] == ["connect", "receive"]
    assert inbox.empty() and inbox._items is None  # the deque went with the last item


async def test_inbox_wakes_a_waiting_reader():
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    inbox.put_nowait({"type": "websocket.disconnect"})
    assert await reader == {"type": "websocket.disconnect"}


async def test_a_reader_cancelled_as_it_is_woken_loses_nothing():
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("frame")  # wakes the reader ...
    reader.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert await inbox.get() == "frame"


async def test_inbox_refuses_a_second_reader():
    inbox = Inbox()
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one reader"):
        await inbox.get()
    first.cancel()


async def test_flag_waits_until_set_and_wakes_every_waiter():
    flag = Flag(True)
    assert flag.is_set() and await flag.wait() is True
    flag.clear()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters) and len(flag._waiters) == 3
    flag.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    assert flag._waiters is None


async def test_a_cancelled_wait_leaves_no_waiter():
    flag = Flag()
    waiter = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert flag._waiters is None
    flag.set()
    assert flag.is_set()
