"""Turns (chat/rooms/turns.py): one member's posts to a room are handed over in arrival order,
whatever their checks cost; a refused or cancelled post lets the next go."""

from __future__ import annotations

import asyncio

from chat.rooms.turns import Turns


async def post(turns: Turns, key: tuple[int, str], name: str, delay: float, queue: list[str],
               fail: bool = False) -> str:
    turn = turns.take(key)
    try:
        await asyncio.sleep(delay)  # checks that take longer for earlier posts
        if fail:
            raise ValueError(name)

        async def submit() -> str:
            queue.append(name)  # the committer's queue: appended when submit first runs
            await asyncio.sleep(0)
            return name

        return await turn.hand_over(submit)
    finally:
        turn.passed()


async def test_posts_reach_the_queue_in_arrival_order_although_later_checks_finish_first():
    turns, queue = Turns(), []
    delays = [0.05, 0.04, 0.0, 0.03, 0.0]
    done = await asyncio.gather(*(post(turns, (1, "r"), f"m{i}", d, queue) for i, d in enumerate(delays)))
    assert queue == ["m0", "m1", "m2", "m3", "m4"] and done == queue
    assert len(turns) == 0  # nothing kept once every turn passed


async def test_a_refused_or_cancelled_post_lets_the_next_one_go_and_other_keys_never_wait():
    turns, queue = Turns(), []
    refused = asyncio.ensure_future(post(turns, (1, "r"), "bad", 0.02, queue, fail=True))
    slow = asyncio.ensure_future(post(turns, (1, "r"), "slow", 10, queue))
    after = asyncio.ensure_future(post(turns, (1, "r"), "after", 0, queue))
    other = asyncio.ensure_future(post(turns, (2, "r"), "other", 0, queue))
    assert await other == "other" and queue == ["other"]  # another member does not wait
    await asyncio.sleep(0.05)
    slow.cancel()
    assert await after == "after"
    assert queue == ["other", "after"]
    try:
        await refused
    except ValueError:
        pass
    else:
        raise AssertionError("the refused post was not refused")
    assert slow.cancelled() and len(turns) == 0
