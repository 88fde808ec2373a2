"""A history checker for end-to-end and fault tests (docs/architecture.md, "Testing").

Clients log what they did and saw — every send (room, cid, body), every ack (cid -> seq, id),
every error with a cid, and every delivered `message` frame — in a `ClientLog`. After the test,
`check(store_messages, logs)` compares the logs with what the store holds and raises
`HistoryError` listing every broken invariant (invariants 1-5, docs/architecture.md):

1. An ack means durable: every acked (room, author, cid) is stored with the acked seq and id
   (and the body that was sent).
2. Per-room gapless order: the store's seqs per room are 1..N, no hole, no duplicate.
3. Idempotent sends: each (room, author, cid) is stored once.
4./5. Every reader (one room, one continuous stream — across reconnects when it resumed with
   `since`) received seqs start+1, start+2, … with no hole, duplicate or reorder, each with the
   content the store holds at that seq; and a reader that stayed (or resumed) received every
   acked message after its start.

A `resync` frame is the server saying "I skipped": the reader's run ends there and a new one
starts at the following `joined`, so an explicit skip is never reported as a hole.

`Peer` is a WebSocket client (tests/support/client.py) that writes such a log on its own: a
background task reads every frame into it, sends are logged before they go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgpack
import websockets

from tests.support.client import WsClient
from tests.support.timing import timeout

# -- what the logs hold ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    room: str
    cid: str
    body: str


@dataclass(frozen=True, slots=True)
class Acked:
    room: str
    cid: str
    seq: int
    message_id: str


@dataclass(frozen=True, slots=True)
class Delivered:
    seq: int
    message_id: str
    author_id: int
    body: str


@dataclass(slots=True)
class ReaderLog:
    """One reader's stream of one room: deliveries must be start+1, start+2, …"""

    room: str
    start: int | None  # None until the `joined` frame (or a `since`) says where it starts
    deliveries: list[Delivered] = field(default_factory=list)
    stayed: bool = True  # False once it left without resuming (it may then miss messages)

    @property
    def last_seq(self) -> int | None:
        return self.deliveries[-1].seq if self.deliveries else self.start


@dataclass(slots=True)
class ClientLog:
    """Everything one client (one user, possibly several connections) did and saw."""

    name: str
    author_id: int
    sends: list[Sent] = field(default_factory=list)
    acks: list[Acked] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    readers: list[ReaderLog] = field(default_factory=list)
    answered: set[tuple[str | None, str]] = field(default_factory=set)  # (room, cid) acked/refused

    # -- recording -------------------------------------------------------------------------

    def sent(self, room: str, cid: str, body: str) -> None:
        self.sends.append(Sent(room, cid, body))

    def joining(self, room: str, since: int | None = None, *, resume: bool = False) -> None:
        """Call before sending a `join`. `resume=True` continues this client's stream of the
        room (the join carries since = the last seq it had); otherwise a new reader starts at
        `since`, or at the `joined` frame's seq when since is None."""
        current = self.reader(room)
        if resume and current is not None:
            current.stayed = True
            return
        if current is not None:
            current.stayed = False
        self.readers.append(ReaderLog(room, since))

    def gone(self, room: str | None = None) -> None:
        """The client left the room (or every room, room=None) and will not resume."""
        for reader in self.readers:
            if room is None or reader.room == room:
                reader.stayed = False

    def received(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            self.acks.append(Acked(frame["room"], frame["cid"], frame["seq"], frame["id"]))
            self.answered.add((frame["room"], frame["cid"]))
        elif kind == "error":
            self.errors.append(frame)
            if "cid" in frame:  # error frames carry the cid but not the room
                self.answered.add((None, frame["cid"]))
        elif kind == "message":
            reader = self.reader(frame["room"])
            if reader is None:  # a message for a room it never joined: keep it visible
                reader = ReaderLog(frame["room"], None, stayed=False)
                self.readers.append(reader)
            reader.deliveries.append(Delivered(frame["seq"], frame["id"], frame["author"]["id"],
                                               frame["body"]))
        elif kind == "joined":
            reader = self.reader(frame["room"])
            if reader is not None and reader.start is None:
                reader.start = frame["seq"]
        elif kind == "resync":
            # The server said it skipped: this run ends; the next `joined` starts a new one.
            reader = self.reader(frame["room"])
            if reader is not None:
                reader.stayed = False
            self.readers.append(ReaderLog(frame["room"], None))

    # -- reading ---------------------------------------------------------------------------

    def reader(self, room: str) -> ReaderLog | None:
        for reader in reversed(self.readers):
            if reader.room == room:
                return reader
        return None

    def acked(self, room: str) -> dict[str, Acked]:
        return {ack.cid: ack for ack in self.acks if ack.room == room}

    def unacked(self, room: str) -> list[Sent]:
        """Sends of the room with no ack yet, first copy of each cid, in send order."""
        acked = self.acked(room)
        seen: set[str] = set()
        out = []
        for send in self.sends:
            if send.room == room and send.cid not in acked and send.cid not in seen:
                seen.add(send.cid)
                out.append(send)
        return out

    def error_codes(self) -> Counter[str]:
        return Counter(str(e.get("code")) for e in self.errors)


# -- the checker -----------------------------------------------------------------------------


class StoredMessage(Protocol):
    """What the checker reads from the store: chat.models.Message has these fields."""

    room_id: str
    seq: int
    message_id: str
    author_id: int
    cid: str
    body: str


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class HistoryError(AssertionError):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        shown = "\n  ".join(map(str, violations[:30]))
        more = f"\n  … and {len(violations) - 30} more" if len(violations) > 30 else ""
        super().__init__(f"{len(violations)} history violation(s):\n  {shown}{more}")

    @property
    def kinds(self) -> set[str]:
        return {v.kind for v in self.violations}


@dataclass(frozen=True, slots=True)
class Summary:
    """What a passing check covered, so a test can also assert it was not vacuous."""

    stored: dict[str, int]  # room -> messages stored
    acked: int  # distinct acked (room, author, cid)
    readers: int
    deliveries: int


def _runs(values: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10' (short error messages for long seq lists)."""
    parts = []
    for _, group in itertools.groupby(enumerate(sorted(values)), lambda p: p[1] - p[0]):
        seqs = [v for _, v in group]
        parts.append(f"{seqs[0]}-{seqs[-1]}" if len(seqs) > 1 else str(seqs[0]))
    text = ", ".join(parts)
    return text if len(text) < 200 else text[:200] + " …"


def violations(store_messages: Iterable[StoredMessage], logs: Iterable[ClientLog]) -> list[Violation]:
    """Every way the logs and the store break invariants 1-5 (empty: all hold)."""
    logs = list(logs)
    found: list[Violation] = []
    by_room: dict[str, list[StoredMessage]] = defaultdict(list)
    for message in store_messages:
        by_room[message.room_id].append(message)

    # Invariant 2: seqs 1..N per room, no hole, no duplicate.
    at_seq: dict[tuple[str, int], StoredMessage] = {}
    for room, messages in by_room.items():
        counts = Counter(m.seq for m in messages)
        dupes = sorted(seq for seq, n in counts.items() if n > 1)
        if dupes:
            found.append(Violation("store_duplicate_seq", f"room {room}: seq {_runs(dupes)} stored twice"))
        head = max(counts)
        holes = sorted(set(range(1, head + 1)) - set(counts))
        if holes:
            found.append(Violation("store_hole", f"room {room}: no message at seq {_runs(holes)}"))
        for message in messages:
            at_seq.setdefault((room, message.seq), message)

    # Invariant 3: one row per (room, author, cid).
    by_key: dict[tuple[str, int, str], list[StoredMessage]] = defaultdict(list)
    for room, messages in by_room.items():
        for message in messages:
            by_key[(room, message.author_id, message.cid)].append(message)
    for (room, author, cid), rows in by_key.items():
        if len(rows) > 1:
            found.append(Violation("cid_stored_twice", f"room {room}: author {author} cid {cid!r} "
                                   f"stored at seq {[r.seq for r in rows]}"))

    # Invariant 1: an ack means durable, with the acked seq and id and the sent body.
    acked_seqs: dict[str, set[int]] = defaultdict(set)
    acked_keys: set[tuple[str, int, str]] = set()
    for log in logs:
        bodies = {(s.room, s.cid): s.body for s in log.sends}
        for ack in log.acks:
            key = (ack.room, log.author_id, ack.cid)
            acked_keys.add(key)
            acked_seqs[ack.room].add(ack.seq)
            rows = by_key.get(key)
            if not rows:
                found.append(Violation("acked_not_stored", f"{log.name}: room {ack.room} cid "
                                       f"{ack.cid!r} acked as seq {ack.seq} but not in the store"))
                continue
            row = rows[0]
            if (row.seq, row.message_id) != (ack.seq, ack.message_id):
                found.append(Violation("ack_mismatch", f"{log.name}: cid {ack.cid!r} acked as "
                                       f"seq {ack.seq} id {ack.message_id}, stored as seq "
                                       f"{row.seq} id {row.message_id}"))
            sent = bodies.get((ack.room, ack.cid))
            if sent is not None and sent != row.body:
                found.append(Violation("ack_body_mismatch", f"{log.name}: cid {ack.cid!r} stored "
                                       f"with a different body than was sent"))

    # Invariants 4 and 5: every reader's run is gapless, in order, identical to the store,
    # and a reader that stayed has every acked message after its start.
    readers = 0
    deliveries = 0
    for log in logs:
        for number, reader in enumerate(log.readers):
            who = f"{log.name} reader #{number} of {reader.room}"
            readers += 1
            deliveries += len(reader.deliveries)
            seqs = [d.seq for d in reader.deliveries]
            if reader.start is None:
                if seqs:
                    found.append(Violation("reader_unjoined", f"{who}: got seq {_runs(seqs)} "
                                           "without a joined frame"))
                continue
            counts = Counter(seqs)
            dupes = sorted(seq for seq, n in counts.items() if n > 1)
            if dupes:
                found.append(Violation("reader_duplicate", f"{who}: seq {_runs(dupes)} delivered twice"))
            first_copies = list(dict.fromkeys(seqs))
            if first_copies != sorted(first_copies):
                at = next(i for i in range(1, len(first_copies))
                          if first_copies[i] < first_copies[i - 1])
                found.append(Violation("reader_reorder", f"{who}: seq {first_copies[at]} "
                                       f"arrived after seq {first_copies[at - 1]}"))
            early = sorted(seq for seq in counts if seq <= reader.start)
            if early:
                found.append(Violation("reader_before_start", f"{who}: started after seq "
                                       f"{reader.start} but got seq {_runs(early)}"))
            if seqs:
                holes = sorted(set(range(reader.start + 1, max(seqs) + 1)) - set(counts))
                if holes:
                    found.append(Violation("reader_hole", f"{who}: never got seq {_runs(holes)} "
                                           f"(got {_runs(seqs)})"))
            for delivered in reader.deliveries:
                stored = at_seq.get((reader.room, delivered.seq))
                if stored is None:
                    found.append(Violation("reader_unknown_seq", f"{who}: got seq "
                                           f"{delivered.seq}, which the store does not hold"))
                elif (stored.message_id, stored.author_id, stored.body) != (
                        delivered.message_id, delivered.author_id, delivered.body):
                    found.append(Violation("reader_content", f"{who}: seq {delivered.seq} differs "
                                           f"from the store (id {delivered.message_id} vs "
                                           f"{stored.message_id})"))
            if reader.stayed:
                missing = sorted(s for s in acked_seqs[reader.room]
                                 if s > reader.start and s not in counts)
                if missing:
                    found.append(Violation("reader_missing_acked", f"{who}: acked seq "
                                           f"{_runs(missing)} never arrived"))
    return found


def check(store_messages: Iterable[StoredMessage], logs: Iterable[ClientLog]) -> Summary:
    """Raise HistoryError unless invariants 1-5 hold; return what was covered."""
    store_messages, logs = list(store_messages), list(logs)
    found = violations(store_messages, logs)
    if found:
        raise HistoryError(found)
    stored = Counter(m.room_id for m in store_messages)
    acked = {(a.room, log.author_id, a.cid) for log in logs for a in log.acks}
    return Summary(dict(stored), len(acked), sum(len(log.readers) for log in logs),
                   sum(len(r.deliveries) for log in logs for r in log.readers))


async def stored_messages(store: Any, rooms: Iterable[str], page: int = 1000) -> list[Any]:
    """Every message of the rooms, read from a chat Store (e.g. NodeServer.node.store)."""
    out: list[Any] = []
    for room in rooms:
        after = 0
        while True:
            batch = await store.messages_after(room, after, page)
            out.extend(batch)
            if len(batch) < page:
                break
            after = batch[-1].seq
    return out


# -- a client that logs itself ---------------------------------------------------------------


async def eventually(condition: Callable[[], bool | Awaitable[bool]], what: str,
                     wait_s: float | None = None, poll_s: float = 0.02) -> None:
    """Wait until condition() (a function or a coroutine function) holds; TimeoutError naming
    `what` if it does not in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (wait_s if wait_s is not None else timeout(15))
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for: {what}")
        await asyncio.sleep(poll_s)


class Peer:
    """A WebSocket client whose sends and received frames all go into `log`.

    A background task reads every frame (the test never calls recv), so a Peer is a reader
    that keeps up. `close_code` holds the server's close code once the connection ended.
    """

    def __init__(self, client: WsClient, log: ClientLog) -> None:
        self.client = client
        self.log = log
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._cids = itertools.count(1)
        self._pump = asyncio.create_task(self._read_forever(), name=f"peer:{log.name}")

    @classmethod
    async def connect(cls, ws_url: str, account: dict[str, Any], log: ClientLog | None = None,
                      *, binary: bool = True, **kwargs: Any) -> Peer:
        if log is None:
            log = ClientLog(account["user"]["name"], account["user"]["id"])
        client = await WsClient.connect(ws_url, account["token"], binary=binary, **kwargs)
        return cls(client, log)

    async def _read_forever(self) -> None:
        ws = self.client.ws
        try:
            async for data in ws:
                frame = msgpack.unpackb(data) if isinstance(data, bytes) else json.loads(data)
                self.client.frames.append(frame)
                self.log.received(frame)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self.closed.set()
            self._changed.set()

    async def until(self, condition: Callable[[], bool], what: str,
                    wait_s: float | None = None) -> None:
        """Wait for frames until condition() holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (wait_s if wait_s is not None else timeout(15))
        while not condition():
            if self.closed.is_set():
                raise ConnectionError(f"{self.log.name} closed ({self.close_code}) waiting for: {what}")
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"{self.log.name} timed out waiting for: {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def join(self, room: str, since: int | None = None, *, resume: bool = False) -> int:
        """Join (or resume with since) and return the joined seq."""
        self.log.joining(room, since, resume=resume)
        count = len(self.client.frames)
        frame: dict[str, Any] = {"type": "join", "room": room}
        if since is not None:
            frame["since"] = since
        await self.client.send_frame(frame)
        found: list[dict[str, Any]] = []

        def answered() -> bool:
            for f in self.client.frames[count:]:
                if f.get("room") == room and f["type"] in ("joined", "error"):
                    found.append(f)
                    return True
            return False

        await self.until(answered, f"joined {room}")
        if found[0]["type"] == "error":
            raise AssertionError(f"join {room} refused: {found[0]}")
        return found[0]["seq"]

    async def resume(self, room: str) -> int:
        """Join again with since = the last seq this client's stream of the room had."""
        reader = self.log.reader(room)
        assert reader is not None and reader.last_seq is not None, f"nothing to resume in {room}"
        return await self.join(room, since=reader.last_seq, resume=True)

    async def send(self, room: str, body: str, cid: str | None = None) -> str:
        cid = cid or f"{self.log.name}-{next(self._cids)}"
        self.log.sent(room, cid, body)
        await self.client.send_frame({"type": "send", "room": room, "body": body, "cid": cid})
        return cid

    def answered(self, room: str, cid: str) -> bool:
        """An ack or an error frame has come for this cid."""
        return (room, cid) in self.log.answered or (None, cid) in self.log.answered

    async def send_many(self, room: str, count: int, *, window: int = 8,
                        body: Callable[[int], str] | None = None) -> list[str]:
        """Send `count` messages keeping at most `window` unanswered; wait for all answers."""
        body = body or (lambda i: f"{self.log.name} #{i}")
        cids: list[str] = []
        waiting: set[str] = set()

        def slot_free() -> bool:
            waiting.difference_update([c for c in waiting if self.answered(room, c)])
            return len(waiting) < window

        for i in range(count):
            await self.until(slot_free, "a free send slot")
            cids.append(await self.send(room, body(i)))
            waiting.add(cids[-1])
        await self.until(lambda: all(self.answered(room, c) for c in waiting), "every answer")
        return cids

    async def send_until(self, room: str, stop: asyncio.Event, *, window: int = 4,
                         pause_s: float = 0.01) -> list[str]:
        """Send messages until `stop` is set, at most `window` unanswered (an ack or an error
        answers a send), pausing a little between sends; then wait for every answer."""
        cids: list[str] = []
        waiting: set[str] = set()

        def slot_free() -> bool:
            waiting.difference_update([c for c in waiting if self.answered(room, c)])
            return stop.is_set() or len(waiting) < window

        while not stop.is_set():
            await self.until(slot_free, "a free send slot")
            if stop.is_set():
                break
            cid = await self.send(room, f"{self.log.name} #{len(cids)}")
            cids.append(cid)
            waiting.add(cid)
            await asyncio.sleep(pause_s)
        await self.until(lambda: all(self.answered(room, c) for c in waiting), "every answer")
        return cids

    def seqs(self, room: str) -> list[int]:
        reader = self.log.reader(room)
        return [d.seq for d in reader.deliveries] if reader else []

    def has_seq(self, room: str, seq: int) -> bool:
        reader = self.log.reader(room)
        return reader is not None and reader.last_seq is not None and reader.last_seq >= seq

    async def close(self) -> None:
        await self.client.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._pump, timeout(5))

