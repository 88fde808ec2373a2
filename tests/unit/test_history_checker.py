"""The history checker itself, on hand-made logs: it passes a correct history and names each
kind of broken one (a hole, a duplicate, a reorder, an acked-but-missing message, …)."""

from __future__ import annotations

import pytest

from chat.models import Message
from tests.support.history import ClientLog, HistoryError, check, violations

ROOM = "hefei"
ANN, BOB = 1, 2


def stored(seq: int, author: int = ANN, cid: str | None = None, room: str = ROOM) -> Message:
    return Message(room, seq, f"id{seq}", author, "name", cid or f"c{seq}", f"body {seq}", 0)


def message_frame(m: Message) -> dict:
    return {"type": "message", "room": m.room_id, "seq": m.seq, "id": m.message_id,
            "author": {"id": m.author_id, "name": "name"}, "body": m.body, "sent_at": "x"}


def ack_frame(m: Message) -> dict:
    return {"type": "ack", "room": m.room_id, "cid": m.cid, "seq": m.seq, "id": m.message_id}


def writer(messages: list[Message]) -> ClientLog:
    """Ann sent and got an ack for every message."""
    log = ClientLog("ann", ANN)
    for m in messages:
        log.sent(m.room_id, m.cid, m.body)
        log.received(ack_frame(m))
    return log


def reader(frames: list[Message], start: int = 0, name: str = "bob") -> ClientLog:
    """Bob joined at `start` and got these message frames."""
    log = ClientLog(name, BOB)
    log.joining(ROOM)
    log.received({"type": "joined", "room": ROOM, "seq": start})
    for m in frames:
        log.received(message_frame(m))
    return log


def kinds(store: list[Message], logs: list[ClientLog]) -> set[str]:
    return {v.kind for v in violations(store, logs)}


STORE = [stored(seq) for seq in range(1, 6)]


def test_a_correct_history_passes_and_says_what_it_covered():
    summary = check(STORE, [writer(STORE), reader(STORE), reader(STORE[2:], start=2, name="cy")])
    assert summary.stored == {ROOM: 5} and summary.acked == 5
    assert summary.readers == 2 and summary.deliveries == 8


def test_a_hole_in_a_readers_stream_is_caught():
    got = kinds(STORE, [writer(STORE), reader([STORE[0], STORE[1], STORE[3], STORE[4]])])
    assert "reader_hole" in got
    with pytest.raises(HistoryError, match="never got seq 3"):
        check(STORE, [reader([STORE[0], STORE[1], STORE[3], STORE[4]])])


def test_a_reader_that_did_not_start_right_after_its_join_seq_has_a_hole():
    assert "reader_hole" in kinds(STORE, [reader(STORE[1:], start=0)])


def test_a_duplicate_delivery_is_caught():
    assert "reader_duplicate" in kinds(STORE, [writer(STORE), reader(STORE[:3] + STORE[2:])])


def test_a_reorder_is_caught():
    swapped = [STORE[0], STORE[2], STORE[1], STORE[3], STORE[4]]
    got = kinds(STORE, [writer(STORE), reader(swapped)])
    assert got == {"reader_reorder"}


def test_an_acked_message_a_staying_reader_never_got_is_caught():
    got = kinds(STORE, [writer(STORE), reader(STORE[:4])])
    assert got == {"reader_missing_acked"}


def test_a_reader_that_left_may_miss_what_came_after():
    log = reader(STORE[:3])
    log.gone(ROOM)
    assert violations(STORE, [writer(STORE), log]) == []


def test_a_resumed_reader_is_one_stream_across_connections():
    log = reader(STORE[:2])
    log.joining(ROOM, since=2, resume=True)
    log.received({"type": "joined", "room": ROOM, "seq": 5})
    for m in STORE[2:]:
        log.received(message_frame(m))
    assert violations(STORE, [writer(STORE), log]) == []
    # Resuming with a `since` one too far loses seq 3: a hole.
    bad = reader(STORE[:2])
    bad.joining(ROOM, since=3, resume=True)
    for m in STORE[3:]:
        bad.received(message_frame(m))
    assert "reader_hole" in kinds(STORE, [writer(STORE), bad])


def test_a_resync_is_an_explicit_skip_not_a_hole():
    log = reader(STORE[:1])
    log.received({"type": "resync", "room": ROOM, "seq": 4})
    log.received({"type": "joined", "room": ROOM, "seq": 4})
    log.received(message_frame(STORE[4]))
    assert violations(STORE, [writer(STORE), log]) == []


def test_an_ack_the_store_does_not_hold_is_caught():
    ghost = stored(6)
    got = kinds(STORE, [writer(STORE + [ghost]), reader(STORE)])
    assert "acked_not_stored" in got


def test_an_ack_with_another_seq_or_id_than_the_store_is_caught():
    log = writer(STORE)
    log.received({"type": "ack", "room": ROOM, "cid": "c5", "seq": 4, "id": "id5"})
    assert "ack_mismatch" in kinds(STORE, [log])


def test_a_stored_body_that_differs_from_the_sent_one_is_caught():
    log = writer(STORE)
    log.sends[0] = log.sends[0].__class__(ROOM, "c1", "what was really sent")
    assert kinds(STORE, [log]) == {"ack_body_mismatch"}


def test_holes_and_duplicates_in_the_store_are_caught():
    assert "store_hole" in kinds([STORE[0], STORE[2]], [])
    assert "store_duplicate_seq" in kinds(STORE + [stored(3, cid="other")], [])


def test_a_cid_stored_twice_is_caught():
    twice = STORE + [stored(6, cid="c1")]
    assert kinds(twice, []) == {"cid_stored_twice"}
    # The same cid from another author is another message.
    assert kinds(STORE + [stored(6, author=BOB, cid="c1")], []) == set()


def test_a_delivery_that_differs_from_the_store_is_caught():
    wrong = Message(ROOM, 3, "id3", ANN, "name", "c3", "tampered", 0)
    frames = STORE[:2] + [wrong] + STORE[3:]
    assert kinds(STORE, [writer(STORE), reader(frames)]) == {"reader_content"}


def test_a_delivery_beyond_the_store_is_caught():
    assert "reader_unknown_seq" in kinds(STORE, [reader(STORE + [stored(6)])])


def test_unacked_lists_sends_still_waiting():
    log = ClientLog("ann", ANN)
    for m in STORE:
        log.sent(ROOM, m.cid, m.body)
    log.received(ack_frame(STORE[0]))
    log.received({"type": "error", "code": "unavailable", "message": "x", "cid": "c2"})
    assert [s.cid for s in log.unacked(ROOM)] == ["c2", "c3", "c4", "c5"]
    assert log.error_codes() == {"unavailable": 1}
