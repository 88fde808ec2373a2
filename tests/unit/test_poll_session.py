"""chat.transport.pollsession: a polling session's outbox, without I/O. Frames are numbered per
session; `after` acknowledges and is checked; an answer is the waiting texts joined as they
are; the end is reported once every frame before it is out; too many unacknowledged frames
close it with 4008; a newer wait answers an older one."""

from __future__ import annotations

import asyncio
import json

import pytest

from chat.errors import BadRequest
from chat.protocol import closecodes
from chat.transport import pollsession
from chat.transport.pollsession import PollSession


def session(max_frames: int = 8) -> tuple[PollSession, list[PollSession], list[int]]:
    ended: list[PollSession] = []
    slow: list[int] = []
    return (PollSession("s", b"key", max_frames=max_frames, on_end=ended.append,
                        on_slow=lambda: slow.append(1)), ended, slow)


async def put(s: PollSession, *frames: dict) -> None:
    for frame in frames:
        await s.send({"type": "websocket.send", "text": json.dumps(frame)})


async def test_frames_are_numbered_acknowledged_by_after_and_served_again_until_then():
    s, _, _ = session()
    await put(s, {"n": 1}, {"n": 2}, {"n": 3})
    s.acknowledge(0)
    assert json.loads(s.body(0)) == {"frames": [{"n": 1}, {"n": 2}, {"n": 3}], "last": 3}
    s.acknowledge(0)  # the answer was lost: the same again
    assert json.loads(s.body(0)) == {"frames": [{"n": 1}, {"n": 2}, {"n": 3}], "last": 3}
    s.acknowledge(2)
    assert json.loads(s.body(2)) == {"frames": [{"n": 3}], "last": 3}
    with pytest.raises(BadRequest):
        s.acknowledge(1)  # behind what was acknowledged
    with pytest.raises(BadRequest):
        s.acknowledge(4)  # past the last frame
    s.acknowledge(3)
    assert not s.pending() and json.loads(s.body(3)) == {"frames": [], "last": 3}


async def test_the_end_comes_after_every_frame_before_it(monkeypatch):
    monkeypatch.setattr(pollsession, "MAX_RESPONSE_FRAMES", 2)
    s, ended, _ = session()
    await put(s, {"n": 1}, {"n": 2}, {"n": 3})
    await s.send({"type": "websocket.close", "code": closecodes.SESSION_ENDED, "reason": "bye"})
    await put(s, {"n": 4})  # after the end: dropped
    s.acknowledge(0)
    assert json.loads(s.body(0)) == {"frames": [{"n": 1}, {"n": 2}], "last": 2}
    s.acknowledge(2)
    assert json.loads(s.body(2)) == {"frames": [{"n": 3}], "last": 3,
                                     "closed": {"code": 4001, "reason": "bye"}}
    await asyncio.sleep(0)
    assert ended == [s]  # torn down once, after the call that ended it
    s.end(closecodes.NORMAL, "again")
    await asyncio.sleep(0)
    assert ended == [s] and s.closed == (4001, "bye")


async def test_unacknowledged_frames_past_the_bound_close_it_as_a_slow_consumer():
    s, _, slow = session(max_frames=8)
    await put(s, *({"n": i} for i in range(1, 11)))
    assert slow == [1] and s.closed is not None and s.closed[0] == closecodes.SLOW_CONSUMER
    answer = json.loads(s.body(0))
    assert len(answer["frames"]) == 8 and answer["closed"]["code"] == 4008


async def test_a_newer_wait_answers_the_older_and_a_frame_wakes_the_newer():
    s, _, _ = session()
    older = asyncio.create_task(s.wait(30))
    await asyncio.sleep(0)
    newer = asyncio.create_task(s.wait(30))
    assert await older is False
    await put(s, {"n": 1})
    assert await newer is True
    assert await s.wait(0.01) is True  # nothing came: timed out, not superseded


async def test_an_answer_overtaken_by_a_newer_get_is_empty():
    s, _, _ = session()
    await put(s, {"n": 1}, {"n": 2}, {"n": 3})
    s.acknowledge(1)  # an older GET, woken, not answered yet
    s.acknowledge(2)  # a newer GET acknowledged more meanwhile
    assert json.loads(s.body(1)) == {"frames": [], "last": 1}
    assert json.loads(s.body(2)) == {"frames": [{"n": 3}], "last": 3}
