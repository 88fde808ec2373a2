"""Group commit against each real store (SQLite, PostgreSQL): a send the store refuses fails
alone. The frame decoder refuses such values first (chat/protocol/frames.py); these requests
bypass it, as a future bug might, to prove the second line: the committer splits a refused
batch until the failing send is alone, and every other send is acked once, in gapless order."""

from __future__ import annotations

import asyncio

import pytest

from chat.clock import FakeClock
from chat.errors import Unavailable
from chat.metrics import Metrics
from chat.models import Message, SendRequest
from chat.rooms.committer import GroupCommitter

NOW = 1_700_000_000_000


def good(user, n):
    return SendRequest("zhuhai", user.user_id, user.display_name, f"good-{n}", f"good {n}")


BAD = {
    "mention over 64 bits": dict(mentions=(2**63,)),
    "unpaired surrogate in the body": dict(body="bad \ud800"),
    "unpaired surrogate in the cid": dict(cid="bad-\udfff"),
}


@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
async def test_a_send_the_store_refuses_fails_alone_and_the_others_commit_in_order(store, bad):
    ann = await store.create_user("ann@example.test", "ann", "h", "member", NOW)
    mallory = await store.create_user("mallory@example.test", "mallory", "h", "member", NOW)
    fields = {"cid": "bad", "body": "bad", **BAD[bad]}
    poison = SendRequest("luoyang", mallory.user_id, "mallory", fields["cid"], fields["body"],
                         mentions=fields.get("mentions", ()))
    committed: list[Message] = []
    metrics = Metrics()
    committer = GroupCommitter(store, FakeClock(NOW), metrics, committed.extend, max_batch=512)
    async with committer.running():
        # All 41 are queued before the committer runs: they share one batch.
        requests = [good(ann, n) for n in range(1, 21)] + [poison] + [good(ann, n) for n in range(21, 41)]
        results = await asyncio.gather(*(committer.submit(r) for r in requests), return_exceptions=True)
        again = await committer.submit(good(ann, 7))  # idempotent after the split
    assert isinstance(results[20], Unavailable)
    outcomes = results[:20] + results[21:]
    assert all(o.created for o in outcomes), outcomes
    assert [o.message.seq for o in outcomes] == list(range(1, 41))
    assert (again.created, again.message.seq) == (False, 7)
    assert metrics.commit_splits._value.get() >= 1
    log = await store.messages_after("zhuhai", 0, 100)
    assert [(m.seq, m.cid) for m in log] == [(n, f"good-{n}") for n in range(1, 41)]
    assert [m.seq for m in committed] == list(range(1, 41))
    assert await store.messages_after("luoyang", 0, 100) == []
    assert (await store.room_heads(["zhuhai", "luoyang"])) == {"zhuhai": 40, "luoyang": 0}
