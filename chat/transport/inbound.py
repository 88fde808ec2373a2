"""One client frame, however it arrived: rate limit, decode, validate, dispatch.

Both transports call this: the WebSocket (chat/transport/ws.py), one frame per message, and the
long-polling fallback (chat/transport/poll.py), one frame per item of a POSTed array. So every
frame costs the same checks in the same order and a bad one gets the same `error` frame either
way; it changes nothing else (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from chat.errors import ChatError, FrameError, Internal, RateLimited
from chat.logs import failure
from chat.node import Node
from chat.protocol import closecodes
from chat.protocol.codecs import DecodeError
from chat.moderation.service import report_json
from chat.protocol.frames import (
    PONG, RID_FRAMES, ClientFrame, Delete, Edit, Join, Leave, Ping, React, Report as ReportFrame, Send as SendFrame,
    Read, Search, Typing, ack_frame, error_frame, left_frame, parse, reported_frame, search_results_frame,
    usable_cid, usable_rid,
)
from chat.protocol.ratelimit import MENTION_COST, REPLAYED_PER_TOKEN, SEARCH_COST
from chat.transport.connection import Connection

log = structlog.get_logger("chat.ws")

MAX_IN_FLIGHT_SENDS = 256


async def receive(conn: Connection, node: Node, data: str | bytes) -> bool:
    """One frame as the WebSocket received it (text or bytes in the connection's format).
    Returns False once the connection was closed for sending too fast (stop reading)."""
    try:
        doc = conn.codec.decode(data)
    except DecodeError as exc:
        return await receive_document(conn, node, None, exc)
    return await receive_document(conn, node, doc)


async def receive_document(conn: Connection, node: Node, doc: Any,
                           undecodable: DecodeError | None = None) -> bool:
    """One frame already decoded (or that could not be: `undecodable`). Returns False once the
    connection was closed for sending too fast."""
    settings = node.settings
    now = time.monotonic()
    # Both the connection's own limit and the member's budget across all their connections
    # and HTTP writes (one token each for a plain frame).
    if not conn.bucket.take(now) or node.budgets.take(conn.user_id, now, 1) is not None:
        conn.strikes += 1
        if conn.strikes > settings.ws_rate_strikes:
            await conn.close(closecodes.RATE_LIMITED, "too many frames; back off")
            return False
        cid = usable_cid(doc.get("cid")) if isinstance(doc, dict) else None
        rid = usable_rid(doc.get("rid")) if isinstance(doc, dict) and doc.get("type") in RID_FRAMES else None
        error(conn, node, RateLimited("too many frames; slow down",
                                      retry_after_s=conn.bucket.retry_after_s()), cid, rid)
        return True
    conn.strikes = 0
    if undecodable is not None:
        error(conn, node, FrameError("bad_frame", str(undecodable)))
        return True
    try:
        frame = parse(doc, max_body_chars=settings.max_body_chars)
    except FrameError as exc:
        error(conn, node, exc, exc.cid, exc.rid)
        return True
    await dispatch(conn, node, frame)
    return True


async def dispatch(conn: Connection, node: Node, frame: ClientFrame) -> None:
    if isinstance(frame, (SendFrame, Edit, Delete, React)):
        extra = _extra_cost(node, frame)
        wait_s = node.budgets.take(conn.user_id, time.monotonic(), extra) if extra else None
        if wait_s is not None:
            node.metrics.rate_limited.labels("member").inc()
            error(conn, node, RateLimited(
                "this message costs more than your budget has left; resend it later",
                retry_after_s=wait_s), frame.cid)
            return
        if conn.in_flight >= MAX_IN_FLIGHT_SENDS:
            error(conn, node, RateLimited(
                "too many sends waiting for their ack", retry_after_s=0.0), frame.cid)
            return
        conn.in_flight += 1
        asyncio.get_running_loop().create_task(_send(conn, node, frame))
    elif isinstance(frame, Join):
        await _join(conn, node, frame)
    elif isinstance(frame, Leave):
        conn.rooms.leave(frame.room_id)
        conn.send_frame(left_frame(frame.room_id))
    elif isinstance(frame, Ping):
        conn.send_frame(PONG)
    elif isinstance(frame, Read):
        await _read(conn, node, frame)
    elif isinstance(frame, Search):
        await _search(conn, node, frame)
    elif isinstance(frame, ReportFrame):
        await _report(conn, node, frame)
    elif isinstance(frame, Typing):
        if frame.room_id in conn.rooms:
            node.presence.typing(conn.user, frame.room_id)  # throttled ones are dropped
        else:
            error(conn, node, FrameError("not_joined", "join the room first"))


async def _send(conn: Connection, node: Node, frame: SendFrame | Edit | Delete | React) -> None:
    """Everything that takes a seq in the room: commit, then ack (or an error with cid)."""
    rooms, user = node.rooms, conn.user
    try:
        if isinstance(frame, SendFrame):
            message, _ = await rooms.send(user, frame.room_id, frame.cid, frame.body, frame.mentions,
                                          frame.attachments)
        elif isinstance(frame, Edit):
            message, _ = await rooms.edit(user, frame.room_id, frame.message_id, frame.cid, frame.body)
        elif isinstance(frame, Delete):
            message, _ = await rooms.delete(user, frame.room_id, frame.message_id, frame.cid)
        else:
            message, _ = await rooms.react(user, frame.room_id, frame.message_id, frame.cid,
                                           frame.emoji, frame.add)
        conn.send_frame(ack_frame(message))
    except ChatError as exc:
        error(conn, node, exc, frame.cid)
    except Exception as exc:
        log.error("ws.send_failed", room=frame.room_id, **failure(exc))
        error(conn, node, Internal("internal error; retry"), frame.cid)
    finally:
        conn.in_flight -= 1


async def _join(conn: Connection, node: Node, frame: Join) -> None:
    try:
        head = await conn.rooms.join(frame.room_id, frame.since)
    except ChatError as exc:
        error(conn, node, exc)
        return
    if frame.since is not None and head - frame.since <= node.settings.replay_limit:
        # A replay's price is known only now: charged as debt, it delays what the
        # member sends next (a resync replays nothing and costs nothing more).
        now = time.monotonic()
        node.budgets.bucket(conn.user_id, now).charge(now, (head - frame.since) / REPLAYED_PER_TOKEN)


async def _read(conn: Connection, node: Node, frame: Read) -> None:
    """Raise the read position; no answer but an error (a moved position comes back as
    a `read` frame on the user's channel)."""
    try:
        await node.reads.mark_read(conn.user, frame.room_id, frame.seq)
    except ChatError as exc:
        error(conn, node, exc)
    except Exception as exc:
        log.error("ws.read_failed", room=frame.room_id, **failure(exc))
        error(conn, node, Internal("internal error; retry"))


async def _search(conn: Connection, node: Node, frame: Search) -> None:
    """One search, answered with `search_results` or an `error` carrying the frame's rid.
    Awaited in line, as joins are: a connection runs one search at a time. Nothing about the
    query is logged (it is message text)."""
    now = time.monotonic()
    wait_s = node.budgets.take(conn.user_id, now, SEARCH_COST - 1)
    if wait_s is not None:
        node.metrics.rate_limited.labels("member").inc()
        error(conn, node, RateLimited("too many searches; slow down", retry_after_s=wait_s), rid=frame.rid)
        return
    try:
        page = await node.search.search(conn.user, frame.params)
    except ChatError as exc:
        error(conn, node, exc, rid=frame.rid)
        return
    except Exception as exc:
        log.error("ws.search_failed", **failure(exc))
        error(conn, node, Internal("internal error; retry"), rid=frame.rid)
        return
    conn.send_frame(search_results_frame(frame.rid, page.results, page.next_cursor))


async def _report(conn: Connection, node: Node, frame: ReportFrame) -> None:
    """A report to the moderators, answered with `reported` or an `error` carrying the rid.
    Nothing of the note is logged."""
    try:
        report, created = await node.moderation.report(
            conn.user, reason=frame.reason, note=frame.note, room_id=frame.room_id,
            message_id=frame.message_id, member_id=frame.member_id)
    except ChatError as exc:
        error(conn, node, exc, rid=frame.rid)
        return
    except Exception as exc:
        log.error("ws.report_failed", **failure(exc))
        error(conn, node, Internal("internal error; retry"), rid=frame.rid)
        return
    conn.send_frame(reported_frame(frame.rid, report_json(report), created))


def error(conn: Connection, node: Node, exc: ChatError, cid: str | None = None, rid: str | None = None) -> None:
    """Every `error` frame goes out here; `retry` comes from the error's class."""
    node.metrics.frame_errors.labels(exc.code).inc()
    conn.send_frame(error_frame(exc, cid, rid))


def _extra_cost(node: Node, frame: SendFrame | Edit | Delete | React) -> float:
    """What a send or edit costs beyond its frame: rendering a costly body, and each member
    its mentions notify."""
    if isinstance(frame, SendFrame):
        extra = node.renderer.cost_tokens(frame.body) + MENTION_COST * len(frame.mentions)
    elif isinstance(frame, Edit):
        extra = node.renderer.cost_tokens(frame.body)
    else:
        return 0.0
    # With the frame's own token, at most one burst: the costliest send must still fit.
    return min(extra, node.budgets.burst - 1)
