"""The load generators' WebSocket client: many cheap connections in one process.

It speaks the EcoLink wire protocol (``ecolink.v1.msgpack``) over a minimal RFC 6455 client
written on ``asyncio.Protocol``: an HTTP/1.1 upgrade, then unmasked server frames parsed straight
out of the bytes ``data_received`` gets, and masked client frames (RFC 6455 §5.3). The
``websockets`` client costs about 20–30 µs per received frame; this one costs a few, so that
1,000 subscribers at 100k+ deliveries/s fit on one core and the load generator is not what is
measured.

Also here: registration over plain asyncio streams and opening many joined clients (the CPU
and RSS probes are in ``bench.probes``). The suites' ``*_load`` modules build their measurements on these; ``bench.loadgen``
runs them in their own process, pinned to a core.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import select
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack

from chat.accounts.challenge import solve

try:  # C helper shipped with websockets; the pure-Python fallback is fine at send rates.
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover

    def apply_mask(data: bytes, mask: bytes) -> bytes:
        n = len(data)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


SUBPROTOCOL = "ecolink.v1.msgpack"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

_unpackb = msgpack.unpackb
_packb = msgpack.packb
_now_ns = time.monotonic_ns


def log(*parts: object) -> None:
    print(f"[loadgen {time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Counters shared by all clients of one run


@dataclass
class Stats:
    """What the clients record; the step loop reads and resets it."""

    latencies_ns: list[int] = field(default_factory=list)
    first_ns: dict[int, int] = field(default_factory=dict)  # seq -> latency of its first delivery
    last_ns: dict[int, int] = field(default_factory=dict)  # seq -> latency of its last delivery
    ack_latencies_ns: list[int] = field(default_factory=list)
    delivered: int = 0
    missing: int = 0  # seq holes seen by a subscriber (seq jumped ahead)
    duplicates: int = 0  # seq at or below one already seen
    errors: int = 0
    error_samples: list[dict] = field(default_factory=list)
    unexpected_closes: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    max_acked_seq: int = 0
    acks: int = 0
    pending: dict[str, int] = field(default_factory=dict)  # cid -> send time (ns)

    def record_error(self, frame: dict) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(frame)


# ---------------------------------------------------------------------------------------------
# The client


class HandshakeError(Exception):
    pass


class WsClient(asyncio.Protocol):
    """One WebSocket connection of the load generator; it records into the shared ``Stats``."""

    def __init__(self, stats: Stats, host: str, port: int, token: str | None) -> None:
        self.stats = stats
        self.host = host
        self.port = port
        self.token = token
        self.transport: asyncio.Transport | None = None
        self.is_open = False
        self.closing = False
        self.buf = b""
        self.frag: list[bytes] | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.joined: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.next_seq = 0  # next expected seq in the room; 0 until joined
        self.received = 0
        self.mask = os.urandom(4)
        self.fd = -1  # set while a HotLoop reads this connection instead of asyncio
        self.out = b""  # bytes a HotLoop could not write yet

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Protocol: {SUBPROTOCOL}",
        ]
        if self.token:
            lines.append(f"Authorization: Bearer {self.token}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.is_open:
            if self.buf:
                data = self.buf + data
                self.buf = b""
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buf = data
                return
            head = data[:end].decode("latin-1")
            data = data[end + 4 :]
            status_line, _, headers = head.partition("\r\n")
            parts = status_line.split(" ", 2)
            if len(parts) < 2 or parts[1] != "101":
                self._fail(HandshakeError(f"handshake refused: {status_line!r} {data[:200]!r}"))
                return
            if f"sec-websocket-protocol: {SUBPROTOCOL}" not in headers.lower():
                self._fail(HandshakeError("server did not pick subprotocol " + SUBPROTOCOL))
                return
            self.is_open = True
            if not self.opened.done():
                self.opened.set_result(None)
            if not data:
                return
        self.feed(data, _now_ns())

    def feed(self, data: bytes, now: int) -> None:
        """Parse server frames (RFC 6455 §5.2; never masked) out of ``data``."""
        if self.buf:
            data = self.buf + data
            self.buf = b""
        n = len(data)
        i = 0
        while n - i >= 2:
            b1 = data[i + 1]
            length = b1 & 0x7F
            if length < 126:
                h = i + 2
            elif length == 126:
                if n - i < 4:
                    break
                length = (data[i + 2] << 8) | data[i + 3]
                h = i + 4
            else:
                if n - i < 10:
                    break
                length = int.from_bytes(data[i + 2 : i + 10], "big")
                h = i + 10
            end = h + length
            if end > n:
                break
            b0 = data[i]
            i = end
            opcode = b0 & 0x0F
            payload = data[h:end]
            if not b0 & 0x80 or opcode == OP_CONT:  # fragmented data message
                self._fragment(opcode, payload, bool(b0 & 0x80), now)
            elif opcode in (OP_BINARY, OP_TEXT):
                self.on_message(payload, now)
            else:
                self._control(opcode, payload)
        if i < n:
            self.buf = data[i:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_open = False
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.closing:
            self.stats.unexpected_closes += 1
        self._fail(ConnectionError(f"connection lost: {exc}"))

    # -- frames --------------------------------------------------------------------------

    def _fragment(self, opcode: int, payload: bytes, fin: bool, now: int) -> None:
        if opcode != OP_CONT:
            self.frag = [payload]
        elif self.frag is not None:
            self.frag.append(payload)
        if fin and self.frag is not None:
            whole, self.frag = b"".join(self.frag), None
            self.on_message(whole, now)

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self.send_frame(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self.closing:
                self.stats.unexpected_closes += 1
                key = f"{code} {payload[2:].decode('utf-8', 'replace')}".strip()
                self.stats.close_codes[key] = self.stats.close_codes.get(key, 0) + 1
                self.closing = True
                self.send_frame(OP_CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        frame = self._frame(opcode, payload)
        if self.fd < 0:
            self.transport.write(frame)
        elif self.out:
            self.out += frame
        else:
            try:
                sent = os.write(self.fd, frame)
            except BlockingIOError:
                sent = 0
            if sent < len(frame):
                self.out = frame[sent:]

    def flush(self) -> None:
        """HotLoop: retry bytes that did not fit in the socket buffer."""
        try:
            sent = os.write(self.fd, self.out)
        except BlockingIOError:
            return
        except OSError:
            sent = len(self.out)
        self.out = self.out[sent:]

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = self.mask
        return head + mask + apply_mask(payload, mask)

    def send_obj(self, obj: dict) -> None:
        self.send_frame(OP_BINARY, _packb(obj))

    def close(self) -> None:
        """Start the closing handshake (RFC 6455 §7.1.2); the server's close frame ends it."""
        if self.transport is None or self.closing:
            return
        self.closing = True
        self.send_frame(OP_CLOSE, (1000).to_bytes(2, "big"))

    def _fail(self, exc: Exception) -> None:
        for fut in (self.opened, self.joined):
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved; callers that await still see it

    # -- protocol messages ----------------------------------------------------------------

    def on_message(self, payload: bytes, now: int) -> None:
        m = _unpackb(payload)
        kind = m["type"]
        stats = self.stats
        if kind == "message":
            seq = m["seq"]
            nxt = self.next_seq
            if seq == nxt:
                self.next_seq = seq + 1
            elif seq > nxt:
                stats.missing += seq - nxt
                self.next_seq = seq + 1
            else:
                stats.duplicates += 1
                return
            self.received += 1
            stats.delivered += 1
            body = m["body"]
            try:
                latency = now - int(body[: body.index(" ")])
            except ValueError:
                return
            stats.latencies_ns.append(latency)
            if seq not in stats.first_ns:
                stats.first_ns[seq] = latency
            stats.last_ns[seq] = latency
        elif kind == "ack":
            sent = stats.pending.pop(m.get("cid"), None)
            if sent is not None:
                stats.ack_latencies_ns.append(now - sent)
                stats.acks += 1
            seq = m.get("seq", 0)
            if seq > stats.max_acked_seq:
                stats.max_acked_seq = seq
        elif kind == "joined":
            self.next_seq = int(m.get("seq", 0)) + 1
            if not self.joined.done():
                self.joined.set_result(self.next_seq - 1)
        elif kind == "error":
            stats.record_error(m)
            if stats.pending.pop(m.get("cid"), None) is not None:
                pass  # counted as an unacked send by the step loop
            if not self.joined.done():
                self.joined.set_exception(RuntimeError(f"join refused: {m}"))
                self.joined.exception()


class HotLoop:
    """A bare epoll loop over the clients' sockets, for the measured part of a run.

    asyncio's selector loop spends several µs per ready socket (a Handle, a callback, the
    transport's bookkeeping) before the frame parser runs; this loop calls ``os.read`` and
    ``WsClient.feed`` directly. The asyncio transports stay attached with reading paused, and
    take over again in ``close()``. Nothing else may run on the asyncio loop meanwhile.
    """

    def __init__(self, clients: list[WsClient], stats: Stats) -> None:
        self.stats = stats
        self.ep = select.epoll()
        self.by_fd: dict[int, WsClient] = {}
        for c in clients:
            if not c.is_open or c.transport is None or c.transport.is_closing():
                continue
            c.transport.pause_reading()
            c.fd = c.transport.get_extra_info("socket").fileno()
            self.ep.register(c.fd, select.EPOLLIN)
            self.by_fd[c.fd] = c

    def poll(self, timeout_s: float) -> None:
        events = self.ep.poll(timeout_s, 8192)
        if not events:
            return
        now = _now_ns()  # arrival time of everything this poll returned
        by_fd = self.by_fd
        read = os.read
        for fd, _ in events:
            c = by_fd.get(fd)
            if c is None:
                continue
            try:
                data = read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                c.feed(data, now)
                if c.out:
                    c.flush()
                if not c.closing:
                    continue
            elif not c.closing:
                self.stats.unexpected_closes += 1
            c.is_open = False
            self._drop(c)

    def _drop(self, c: WsClient) -> None:
        self.by_fd.pop(c.fd, None)
        try:
            self.ep.unregister(c.fd)
        except OSError:
            pass
        c.fd = -1

    def close(self) -> None:
        for c in list(self.by_fd.values()):
            self._drop(c)
            if c.out and c.transport is not None:
                c.transport.write(c.out)
                c.out = b""
            if c.transport is not None and not c.transport.is_closing():
                c.transport.resume_reading()
        self.ep.close()


async def close_all(clients: list[WsClient], timeout_s: float = 5.0) -> None:
    for c in clients:
        c.close()
    pending = [c.lost for c in clients if not c.lost.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout_s)
    for c in clients:
        if c.transport is not None and not c.lost.done():
            c.transport.abort()


# ---------------------------------------------------------------------------------------------
# HTTP helpers (registration, readiness) over plain asyncio streams


async def http_json(host: str, port: int, method: str, path: str, body: dict | None = None):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        raw = await reader.read()
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        rest = _dechunk(rest)
    try:
        return status, json.loads(rest) if rest else None
    except ValueError:
        return status, rest.decode("utf-8", "replace")


def _dechunk(data: bytes) -> bytes:
    out, i = [], 0
    while True:
        j = data.index(b"\r\n", i)
        size = int(data[i:j].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[j + 2 : j + 2 + size])
        i = j + 2 + size + 2


async def register_users(host: str, port: int, count: int, tag: str) -> list[str]:
    """Create ``count`` accounts; returns their bearer tokens."""
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with sem:
            account: dict[str, Any] = {
                "email": f"bench-{tag}-{i}@bench.example.org",
                "password": "bench-password-123",
                "display_name": f"Bench {i}",
            }
            # A server that asks for the registration challenge gets it solved (the bench's
            # own nodes ask none: bench/targets.py).
            status, challenge = await http_json(host, port, "GET", "/api/v1/registration/challenge")
            if status == 200 and challenge.get("challenge"):
                account["proof"] = {"challenge": challenge["challenge"],
                                    "nonce": solve(challenge["challenge"], challenge["bits"])}
            status, body = await http_json(host, port, "POST", "/api/v1/accounts", account)
        if status != 201:
            raise RuntimeError(f"registration failed: HTTP {status}: {body}")
        return body["token"]

    t0 = time.monotonic()
    tokens = await asyncio.gather(*(one(i) for i in range(count)))
    log(f"registered {count} accounts in {time.monotonic() - t0:.1f}s")
    return list(tokens)


# ---------------------------------------------------------------------------------------------
# Connecting many clients


async def open_clients(
    host: str,
    port: int,
    tokens: list[str | None],
    count: int,
    stats: Stats,
    room: str,
    concurrency: int,
    source_addrs: list[str],
) -> list[WsClient]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(concurrency)
    clients: list[WsClient] = []

    async def one(i: int) -> WsClient:
        token = tokens[i % len(tokens)]
        local = (source_addrs[i % len(source_addrs)], 0) if source_addrs else None
        async with sem:
            for attempt in range(3):
                transport = None
                try:
                    transport, client = await loop.create_connection(
                        lambda: WsClient(stats, host, port, token), host, port, local_addr=local
                    )
                    await asyncio.wait_for(client.opened, 30)
                    client.send_obj({"type": "join", "room": room})
                    await asyncio.wait_for(client.joined, 30)
                    return client
                except OSError as exc:  # refused, reset, timed out (TimeoutError is one)
                    if transport is not None:
                        client.closing = True  # not a close by the server
                        transport.abort()
                    if attempt == 2:
                        raise
                    log(f"connect {i} failed ({exc}); retrying")
                    await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    t0 = time.monotonic()
    batch = max(concurrency * 4, 200)
    for start in range(0, count, batch):
        got = await asyncio.gather(*(one(i) for i in range(start, min(count, start + batch))))
        clients.extend(got)
    log(f"{count} connections joined {room!r} in {time.monotonic() - t0:.1f}s")
    return clients
