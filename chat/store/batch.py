"""The pure part of group commit: dedupe by client id and assign gapless seqs.

Backends call `plan_room` inside their transaction, after locking the room's head, with the
rows that already exist for the batch's (author, cid) pairs. No I/O here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from chat.models import Message, SendOutcome, SendRequest


@dataclass(slots=True)
class RoomPlan:
    new_messages: list[Message]
    outcomes: dict[int, SendOutcome]  # index in the batch -> outcome
    head_seq: int


def new_message_id() -> str:
    """A random, URL-safe message id (16 characters)."""
    return secrets.token_urlsafe(12)


def plan_room(
    indexed_sends: list[tuple[int, SendRequest]],
    existing: dict[tuple[int, str], Message],
    head_seq: int,
    now_ms: int,
) -> RoomPlan:
    """Decide what one room's part of a batch stores.

    A send whose (author, cid) exists gets the stored message back (created=False); the
    second copy of a pair inside the batch gets the first copy's message. New sends get
    head_seq+1, +2, … in batch order.
    """
    seen = dict(existing)
    outcomes: dict[int, SendOutcome] = {}
    new_messages: list[Message] = []
    for index, send in indexed_sends:
        key = (send.author_id, send.cid)
        prior = seen.get(key)
        if prior is not None:
            outcomes[index] = SendOutcome(prior, created=False)
            continue
        head_seq += 1
        message = Message(
            room_id=send.room_id,
            seq=head_seq,
            message_id=new_message_id(),
            author_id=send.author_id,
            author_name=send.author_name,
            cid=send.cid,
            body=send.body,
            sent_at_ms=now_ms,
        )
        seen[key] = message
        new_messages.append(message)
        outcomes[index] = SendOutcome(message, created=True)
    return RoomPlan(new_messages, outcomes, head_seq)


def group_by_room(sends: list[SendRequest]) -> dict[str, list[tuple[int, SendRequest]]]:
    """Sends grouped per room, rooms in sorted order (a fixed lock order avoids deadlocks)."""
    groups: dict[str, list[tuple[int, SendRequest]]] = {}
    for index, send in enumerate(sends):
        groups.setdefault(send.room_id, []).append((index, send))
    return dict(sorted(groups.items()))
