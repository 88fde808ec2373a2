"""The pure part of group commit: dedupe by client id, check events against their targets,
and assign gapless seqs.

Backends call `plan_room` inside their transaction, after locking the room's head, with the
rows that already exist for the batch's (author, cid) pairs, the current state of the
messages the batch's events are about, and the reactions that exist. No I/O here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

from chat.models import ROOM_EVENT_KINDS, Message, SendOutcome, SendRequest, TargetState

MODERATING_ROLES = ("moderator", "admin")


@dataclass(slots=True)
class RoomPlan:
    new_messages: list[Message]
    outcomes: dict[int, SendOutcome]  # index in the batch -> outcome
    head_seq: int
    # Changes to existing messages, applied in the same transaction:
    updates: dict[str, TargetState] = field(default_factory=dict)  # message_id -> new state
    edited_html: dict[str, str] = field(default_factory=dict)  # message_id -> new html
    versions: list[tuple[str, int, str, int, int]] = field(default_factory=list)
    # (message_id, version, previous body, edited_at_ms, editor_id)
    reactions_added: list[tuple[str, int, str]] = field(default_factory=list)
    reactions_removed: list[tuple[str, int, str]] = field(default_factory=list)
    mentions: list[tuple[str, int]] = field(default_factory=list)
    room_status: str | None = None  # a "status" entry sets the room's consultation status
    replies: int = 0  # new messages (a topic room counts them as replies)

    @property
    def deleted(self) -> list[str]:
        """Messages this plan deletes. Backends blank every copy of their text: the message's
        body and html, its earlier versions, and the bodies of the `edit` events in the log
        that a replay with `since` would otherwise send again; and drop its reactions."""
        return [t.message_id for t in self.updates.values() if t.deleted]


def new_message_id() -> str:
    """A random, URL-safe message id (16 characters)."""
    return secrets.token_urlsafe(12)


def stored_as(send: SendRequest, seq: int, message_id: str, now_ms: int) -> Message:
    """The log entry a new send becomes (both append paths: plan_room, and PostgreSQL's
    one-call append in chat/store/postgres/history.py)."""
    return Message(
        room_id=send.room_id,
        seq=seq,
        message_id=message_id,
        author_id=send.author_id,
        author_name=send.author_name,
        cid=send.cid,
        body=send.body,
        sent_at_ms=now_ms,
        kind=send.kind,
        target_id=send.target_id,
        html=send.html,
        data=dict(send.data),
        author_role=send.author_role,
    )


def _refuse(code: str, message: str) -> SendOutcome:
    return SendOutcome(None, created=False, error=(code, message))


def plan_room(
    indexed_sends: list[tuple[int, SendRequest]],
    existing: dict[tuple[int, str], Message],
    head_seq: int,
    now_ms: int,
    targets: dict[str, TargetState] | None = None,
    reactions: set[tuple[str, int, str]] | None = None,
) -> RoomPlan:
    """Decide what one room's part of a batch stores.

    A send whose (author, cid) exists gets the stored entry back (created=False); the second
    copy of a pair inside the batch gets the first copy's outcome. An edit/delete/reaction is
    checked against its target as the batch leaves it (an edit after a delete in the same
    batch finds the message deleted). Accepted entries get head_seq+1, +2, … in batch order;
    refused ones take no seq.
    """
    targets = dict(targets or {})
    reactions = set(reactions or ())
    plan = RoomPlan([], {}, head_seq)
    seen: dict[tuple[int, str], SendOutcome] = {
        key: SendOutcome(message, created=False) for key, message in existing.items()
    }
    for index, send in indexed_sends:
        key = (send.author_id, send.cid)
        prior = seen.get(key)
        if prior is not None:
            plan.outcomes[index] = replace(prior, created=False) if prior.message else prior
            continue
        refusal = _check(send, targets, reactions)
        if refusal is not None:
            plan.outcomes[index] = seen[key] = refusal
            continue
        plan.head_seq += 1
        message = stored_as(send, plan.head_seq, new_message_id(), now_ms)
        _apply(plan, send, message, targets, reactions, now_ms)
        plan.new_messages.append(message)
        plan.outcomes[index] = seen[key] = SendOutcome(message, created=True)
    return plan


def _check(send: SendRequest, targets: dict[str, TargetState],
           reactions: set[tuple[str, int, str]]) -> SendOutcome | None:
    if send.kind in ROOM_EVENT_KINDS:
        return None  # about the room, not a message: the service checked who may post them
    target = targets.get(send.target_id or "")
    if target is None or target.kind != "message" or target.deleted:
        return _refuse("not_found", "no such message in this room")
    if send.kind in ("edit", "delete"):
        if target.author_id != send.author_id and send.author_role not in MODERATING_ROLES:
            return _refuse("forbidden", f"only the author or a moderator may {send.kind} this message")
        return None
    key = (target.message_id, send.author_id, send.data.get("emoji", ""))
    if send.data.get("added") and key in reactions:
        return _refuse("invalid", "you already reacted with this emoji")
    if not send.data.get("added") and key not in reactions:
        return _refuse("invalid", "you have not reacted with this emoji")
    return None


def _apply(plan: RoomPlan, send: SendRequest, message: Message,
           targets: dict[str, TargetState], reactions: set[tuple[str, int, str]],
           now_ms: int) -> None:
    if send.kind == "status":
        plan.room_status = send.data["status"]
        return
    if send.kind != "message" and send.kind in ROOM_EVENT_KINDS:
        return
    if send.kind == "message":
        plan.replies += 1
        plan.mentions.extend((message.message_id, user_id) for user_id in send.mentions)
        targets[message.message_id] = TargetState(
            message.message_id, send.author_id, "message", False, send.body, 0)
        return
    target = targets[send.target_id or ""]
    if send.kind == "edit":
        plan.versions.append((target.message_id, target.versions + 1, target.body, now_ms,
                              send.author_id))
        targets[target.message_id] = replace(target, body=send.body, versions=target.versions + 1)
        plan.edited_html[target.message_id] = send.html
    elif send.kind == "delete":
        targets[target.message_id] = replace(target, deleted=True, body="")
    else:
        key = (target.message_id, send.author_id, send.data["emoji"])
        if send.data["added"]:
            reactions.add(key)
            plan.reactions_added.append(key)
        else:
            reactions.discard(key)
            plan.reactions_removed.append(key)
        return
    plan.updates[target.message_id] = targets[target.message_id]


def group_by_room(sends: list[SendRequest]) -> dict[str, list[tuple[int, SendRequest]]]:
    """Sends grouped per room, rooms in sorted order (a fixed lock order avoids deadlocks)."""
    groups: dict[str, list[tuple[int, SendRequest]]] = {}
    for index, send in enumerate(sends):
        groups.setdefault(send.room_id, []).append((index, send))
    return dict(sorted(groups.items()))
