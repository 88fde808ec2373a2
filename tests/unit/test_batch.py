"""chat.store.batch, sans I/O: the part of group commit that decides seqs and dedupes cids.

The property: for any sequence of (author, cid) sends and any rows already stored, the new
messages get head+1 .. head+k in batch order, every repeat (of a stored row or of an earlier
send in the batch) maps to the first copy, and there is exactly one outcome per send.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chat.models import Message, SendRequest
from chat.store.batch import group_by_room, new_message_id, plan_room

ROOM = "clean-energy"
NOW_MS = 1_700_000_000_000

authors = st.integers(1, 4)
cids = st.sampled_from(["a", "b", "c", "d", "e"])
keys = st.tuples(authors, cids)


def request(author: int, cid: str, body: str = "x") -> SendRequest:
    return SendRequest(ROOM, author, f"user{author}", cid, body)


def stored(author: int, cid: str, seq: int) -> Message:
    return Message(ROOM, seq, f"old-{seq}", author, f"user{author}", cid, "old body", 1)


@st.composite
def batches(draw):
    sends = draw(st.lists(keys, max_size=40))
    existing_keys = draw(st.lists(keys, unique=True, max_size=10))
    head = draw(st.integers(len(existing_keys), 10_000))
    seqs = draw(st.lists(st.integers(1, max(head, 1)), min_size=len(existing_keys),
                         max_size=len(existing_keys), unique=True)) if existing_keys else []
    existing = {key: stored(*key, seq) for key, seq in zip(existing_keys, seqs, strict=True)}
    # Batch indexes as group_by_room gives them: increasing, not necessarily contiguous.
    first_index = draw(st.integers(0, 5))
    steps = draw(st.lists(st.integers(1, 3), min_size=len(sends), max_size=len(sends)))
    indexes, i = [], first_index
    for step in steps:
        indexes.append(i)
        i += step
    indexed = [(index, request(a, c, body=f"body {index}"))
               for index, (a, c) in zip(indexes, sends, strict=True)]
    return indexed, existing, head


@given(batches())
def test_plan_room_assigns_gapless_seqs_and_maps_repeats_to_the_first(case):
    indexed, existing, head = case
    existing_before = dict(existing)
    plan = plan_room(indexed, existing, head, NOW_MS)

    assert existing == existing_before  # the caller's dict is not modified
    assert sorted(plan.outcomes) == [index for index, _ in indexed]  # one outcome per send

    first: dict[tuple[int, str], Message] = dict(existing)
    created = []
    for index, send in indexed:
        outcome = plan.outcomes[index]
        key = (send.author_id, send.cid)
        if key in first:
            assert outcome.created is False
            assert outcome.message is first[key]
        else:
            assert outcome.created is True
            message = outcome.message
            assert (message.room_id, message.author_id, message.author_name, message.cid,
                    message.body, message.sent_at_ms) == (
                ROOM, send.author_id, send.author_name, send.cid, send.body, NOW_MS)
            first[key] = message
            created.append(message)

    k = len(created)
    assert [m.seq for m in created] == list(range(head + 1, head + k + 1))
    assert plan.new_messages == created
    assert plan.head_seq == head + k
    assert k == len({(s.author_id, s.cid) for _, s in indexed} - set(existing))
    assert len({m.message_id for m in created}) == k
    assert not {m.message_id for m in created} & {m.message_id for m in existing.values()}


def test_plan_room_worked_example():
    old = stored(1, "a", seq=3)
    sends = [(0, request(1, "a")), (1, request(2, "a")), (2, request(1, "b")),
             (5, request(2, "a")), (7, request(1, "a")), (8, request(3, "z"))]
    plan = plan_room(sends, {(1, "a"): old}, head_seq=10, now_ms=NOW_MS)
    seqs = {i: (o.message.seq, o.created) for i, o in plan.outcomes.items()}
    assert seqs == {0: (3, False), 1: (11, True), 2: (12, True), 5: (11, False),
                    7: (3, False), 8: (13, True)}
    assert plan.head_seq == 13 and [m.seq for m in plan.new_messages] == [11, 12, 13]


def test_an_empty_batch_plans_nothing():
    plan = plan_room([], {}, head_seq=7, now_ms=NOW_MS)
    assert (plan.new_messages, plan.outcomes, plan.head_seq) == ([], {}, 7)


@given(st.lists(st.tuples(st.sampled_from(["b-room", "a-room", "c-room"]), keys), max_size=30))
def test_group_by_room_keeps_indexes_and_batch_order_with_rooms_sorted(items):
    sends = [SendRequest(room, a, "n", c, "x") for room, (a, c) in items]
    groups = group_by_room(sends)
    assert list(groups) == sorted(groups)  # a fixed lock order across nodes
    flat = sorted(index for group in groups.values() for index, _ in group)
    assert flat == list(range(len(sends)))
    for room, group in groups.items():
        assert [index for index, _ in group] == sorted(index for index, _ in group)
        assert all(sends[index] is send and send.room_id == room for index, send in group)


def test_message_ids_are_url_safe_and_16_characters():
    ids = {new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and set(i) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)
