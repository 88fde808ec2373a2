#!/usr/bin/env python3
"""Load generator for ``scripts/bench``: many cheap WebSocket clients in one process.

It speaks the EcoLink wire protocol (``ecolink.v1.msgpack``) over a minimal RFC 6455 client
written on ``asyncio.Protocol``: an HTTP/1.1 upgrade, then unmasked server frames parsed straight
out of the bytes ``data_received`` gets, and masked client frames (RFC 6455 §5.3). The
``websockets`` client costs about 20–30 µs per received frame; this one costs a few, so that
1,000 subscribers at 100k+ deliveries/s fit on one core and the load generator is not what is
measured.

Two commands, each printing one JSON object on stdout (progress goes to stderr):

``steps``  N subscribers join one room; a few of them also send at a paced, rising rate. Each
           body carries the sender's ``monotonic_ns`` so every receiver computes end-to-end
           latency. Per step: deliveries/s, latency p50/p99/max, ack latency, messages missing
           or duplicated per subscriber, error frames, unexpected closes, the server's CPU and
           RSS (psutil on ``--server-pid`` and its children) and this process's own CPU.
``idle``   K warm-up connections, then N more that join the room and stay idle; the server's RSS
           before and after gives its memory per idle joined connection.

It runs as its own process pinned to a core (``taskset -c 1``); ``scripts/bench`` starts it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import select
import sys
import time
from dataclasses import dataclass, field

import msgpack
import psutil

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
    print("[loadgen]", *parts, file=sys.stderr, flush=True)


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
            status, body = await http_json(
                host,
                port,
                "POST",
                "/api/v1/accounts",
                {
                    "email": f"bench-{tag}-{i}@bench.example.org",
                    "password": "bench-password-123",
                    "display_name": f"Bench {i}",
                },
            )
        if status != 201:
            raise RuntimeError(f"registration failed: HTTP {status}: {body}")
        return body["token"]

    t0 = time.monotonic()
    tokens = await asyncio.gather(*(one(i) for i in range(count)))
    log(f"registered {count} accounts in {time.monotonic() - t0:.1f}s")
    return list(tokens)


# ---------------------------------------------------------------------------------------------
# Server process measurements


class ServerProbe:
    """CPU seconds and RSS of the server process and its children (uvicorn may fork)."""

    def __init__(self, pid: int | None) -> None:
        self.proc = psutil.Process(pid) if pid else None

    def _procs(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


    def cpu_s(self) -> float:
        total = 0.0
        for p in self._procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_bytes(self) -> int:
        total = 0
        for p in self._procs():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total


class TreeProbe(ServerProbe):
    """CPU of several process trees (PostgreSQL's postmaster and its backends, redis-server).

    Backends come and go, so CPU is summed over the processes alive at both ends of a step;
    a backend that exits mid-step is missed (the pool keeps its connections, so few do).
    """

    # A PostgreSQL client backend's title: "postgres: 15/main: user db 127.0.0.1(port) idle".
    CLIENT_BACKEND = re.compile(r"\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\[[0-9a-f:]+\]\(\d+\)")

    def __init__(self, pids: list[int], only_db: str | None = None) -> None:
        self.only_db = only_db  # count client backends of this database only
        self.roots = []
        for pid in pids:
            try:
                self.roots.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        self.proc = None

    def snapshot(self) -> dict[int, float]:
        out = {}
        for root in self.roots:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for p in procs:
                try:
                    if self.only_db and p is not root:
                        title = " ".join(p.cmdline())
                        if self.CLIENT_BACKEND.search(title) and self.only_db not in title:
                            continue  # another database's session (other users of the server)
                    t = p.cpu_times()
                    out[p.pid] = t.user + t.system
                except psutil.NoSuchProcess:
                    pass
        return out

    @staticmethod
    def delta(a: dict[int, float], b: dict[int, float]) -> float:
        return sum(v - a.get(pid, 0.0) for pid, v in b.items())


def own_cpu_split() -> tuple[float, float]:
    t = os.times()
    return t.user, t.system


def core_busy() -> dict[str, tuple[int, int]]:
    """Busy and total jiffies per CPU from /proc/stat (shows load from other processes)."""
    out = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    nums = [int(v) for v in vals]
                    idle = nums[3] + nums[4]
                    total = sum(nums[:8])
                    out[name] = (total - idle, total)
    except OSError:
        pass
    return out


def core_busy_pct(a: dict, b: dict) -> dict[str, float]:
    res = {}
    for name in b:
        if name in a and b[name][1] > a[name][1]:
            res[name] = 100 * (b[name][0] - a[name][0]) / (b[name][1] - a[name][1])
    return res


def pct(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k] / 1e6  # ns -> ms


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


# ---------------------------------------------------------------------------------------------
# steps


async def run_steps(args: argparse.Namespace) -> dict:
    stats = Stats()
    probe = ServerProbe(args.server_pid)
    aux = TreeProbe(args.aux_pid, args.aux_db)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    tokens: list[str | None] = [None]
    if args.register:
        tokens = list(await register_users(args.host, args.port, args.subscribers, tag))
    clients = await open_clients(
        args.host,
        args.port,
        tokens,
        args.subscribers,
        stats,
        args.room,
        args.connect_concurrency,
        args.source_addr,
    )
    # The room may already have history: every subscriber expects the seq after its join.
    stats.max_acked_seq = max(c.next_seq - 1 for c in clients)
    await asyncio.sleep(0.5)
    hot = HotLoop(clients, stats)
    results: list[dict] = []
    try:
        # Rising rates until the first failure, then bisect between the last pass and it.
        plan = list(args.rates)
        lo: float | None = None  # highest passing rate so far
        hi: float | None = None  # lowest failing rate so far
        rising = True
        refine_left = args.refine
        step_no = 0
        retried = -1  # step number of the last repeated step
        while plan:
            rate = plan.pop(0)
            step_no += 1
            row = measure_step(args, hot, clients, stats, probe, aux, step_no, rate)
            row["refine"] = not rising
            results.append(row)
            log(
                f"rate {rate:g}/s: {row['deliveries_per_s']:.0f} deliveries/s "
                f"p50 {row['p50_ms']:.1f} ms p99 {row['p99_ms']:.1f} ms "
                f"(first delivery p99 {row['first_p99_ms']:.1f}, spread p99 "
                f"{row['spread_p99_ms']:.1f}) "
                f"dropped {row['dropped']} server {row['server_cpu_pct']:.0f}% cpu "
                f"{row['server_cpu_us_per_delivery'] or 0:.1f} us/delivery, "
                f"loadgen {row['loadgen_cpu_pct']:.0f}% cpu, other processes "
                f"{row['foreign_cpu_pct']:.0f}% cpu"
                + ("" if row["ok"] else "  FAIL")
            )
            if stats.error_samples:
                log("error frames:", stats.error_samples[:3])
                stats.error_samples.clear()
            if not hot.by_fd:
                log("every connection is closed; stopping")
                break
            if (not row["ok"] and not row["dropped"] and retried != step_no - 1
                    and row["foreign_cpu_pct"] > args.retry_noisy_pct):
                # Too slow while other processes took CPU: run it once more, and let the
                # repeat decide (both rows are reported). A drop is never blamed on noise.
                row["superseded"] = True
                retried = step_no
                log(f"rate {rate:g}/s failed while other processes used "
                    f"{row['foreign_cpu_pct']:.0f}% of a core; repeating it once")
                plan.insert(0, rate)
                deadline = time.monotonic() + 2 * args.pause
                while (left := deadline - time.monotonic()) > 0:
                    hot.poll(left)
                continue
            if row["ok"]:
                lo = rate if lo is None else max(lo, rate)
            else:
                hi = rate if hi is None else min(hi, rate)
                if rising:
                    rising, plan = False, []
            if (not rising and refine_left > 0 and lo is not None and hi is not None
                    and hi - lo > args.refine_min):
                refine_left -= 1
                plan = [round((lo + hi) / 2, 1)]
            if plan:  # let a backlog from a failed step clear before the next one
                deadline = time.monotonic() + (args.pause if row["ok"] else 2 * args.pause)
                while (left := deadline - time.monotonic()) > 0:
                    hot.poll(left)
    finally:
        hot.close()
    if stats.close_codes:
        log("close codes:", stats.close_codes)
    await close_all(clients)
    return {
        "command": "steps",
        "subscribers": len(clients),
        "senders": args.senders,
        "step_seconds": args.step_seconds,
        "body_bytes": args.body_bytes,
        "close_codes": stats.close_codes,
        "steps": results,
    }


def measure_step(
    args: argparse.Namespace,
    hot: HotLoop,
    clients: list[WsClient],
    stats: Stats,
    probe: ServerProbe,
    aux: TreeProbe,
    step_no: int,
    rate: float,
) -> dict:
    """Send ``rate`` messages/s for ``args.step_seconds``, drain, and return the step's row."""
    senders = clients[: args.senders]
    pad = "x" * max(0, args.body_bytes - 20)
    room = args.room
    stats.latencies_ns = []
    stats.ack_latencies_ns = []
    stats.first_ns = {}
    stats.last_ns = {}
    base = (stats.delivered, stats.missing, stats.duplicates, stats.errors,
            stats.unexpected_closes, stats.acks)
    total = max(1, int(round(rate * args.step_seconds)))
    rss_max = probe.rss_bytes()
    cores0 = core_busy()
    aux0 = aux.snapshot()
    cpu0, own0, t0 = probe.cpu_s(), own_cpu_split(), time.monotonic()
    next_rss = t0 + 0.5
    sent = 0
    while sent < total:
        now = time.monotonic()
        due = min(total, int((now - t0) * rate) + 1)
        while sent < due:
            cid = f"s{step_no}-{sent}"
            ts = _now_ns()
            stats.pending[cid] = ts
            senders[sent % len(senders)].send_obj(
                {"type": "send", "room": room, "body": f"{ts} {pad}", "cid": cid}
            )
            sent += 1
        if now >= next_rss:
            rss_max = max(rss_max, probe.rss_bytes())
            next_rss = now + 0.5
        delay = t0 + sent / rate - time.monotonic()
        hot.poll(delay if delay > 0 else 0)
    t_send_end = time.monotonic()
    window_s = t_send_end - t0
    delivered_in_window = stats.delivered - base[0]

    # Drain: every send acked (or refused) and every open subscriber at the newest seq.
    drain_deadline = t_send_end + args.drain_timeout
    while time.monotonic() < drain_deadline:
        if not stats.pending and all(
            c.next_seq > stats.max_acked_seq for c in clients if c.is_open
        ):
            break
        hot.poll(0.01)
    t_end = time.monotonic()
    cpu1, own1 = probe.cpu_s(), own_cpu_split()
    cores1 = core_busy()
    aux1 = aux.snapshot()
    rss_max = max(rss_max, probe.rss_bytes())

    unacked = len(stats.pending)
    stats.pending.clear()
    # Whatever a subscriber still lacks after the drain counts as missing (closed ones too).
    lagging = sum(max(0, stats.max_acked_seq - (c.next_seq - 1)) for c in clients)
    for c in clients:
        if c.next_seq <= stats.max_acked_seq:
            c.next_seq = stats.max_acked_seq + 1
    lat = sorted(stats.latencies_ns)
    ack = sorted(stats.ack_latencies_ns)
    first = sorted(stats.first_ns.values())
    spread = sorted(stats.last_ns[s] - f for s, f in stats.first_ns.items())
    delivered = stats.delivered - base[0]
    wall = t_end - t0
    server_cpu = cpu1 - cpu0
    own_cpu = sum(own1) - sum(own0)
    row = {
        "rate": rate,
        "sent": total,
        "acked": stats.acks - base[5],
        "offered_deliveries_per_s": rate * len(clients),
        "deliveries": delivered,
        "deliveries_per_s": delivered_in_window / window_s,
        "deliveries_per_s_incl_drain": delivered / wall,
        "p50_ms": pct(lat, 0.50),
        "p99_ms": pct(lat, 0.99),
        "max_ms": lat[-1] / 1e6 if lat else float("nan"),
        "first_p50_ms": pct(first, 0.50),
        "first_p99_ms": pct(first, 0.99),
        "spread_p50_ms": pct(spread, 0.50),
        "spread_p99_ms": pct(spread, 0.99),
        "ack_p50_ms": pct(ack, 0.50),
        "ack_p99_ms": pct(ack, 0.99),
        "missing": stats.missing - base[1] + lagging,
        "duplicates": stats.duplicates - base[2],
        "unacked": unacked,
        "errors": stats.errors - base[3],
        "unexpected_closes": stats.unexpected_closes - base[4],
        "drain_s": t_end - t_send_end,
        "server_cpu_pct": 100 * server_cpu / wall,
        "server_cpu_us_per_delivery": 1e6 * server_cpu / delivered if delivered else None,
        "server_rss_mib": rss_max / 2**20,
        "loadgen_cpu_pct": 100 * own_cpu / wall,
        "loadgen_user_pct": 100 * (own1[0] - own0[0]) / wall,
        "loadgen_us_per_delivery": 1e6 * own_cpu / delivered if delivered else None,
        "core_busy_pct": core_busy_pct(cores0, cores1),
        "aux_cpu_pct": 100 * TreeProbe.delta(aux0, aux1) / wall if aux.roots else None,
    }
    # CPU that neither the server, the load generator nor PostgreSQL/Redis used, summed over
    # all cores, in % of one core: other work on the machine that can disturb the figures.
    busy = row["core_busy_pct"]
    row["foreign_cpu_pct"] = max(0.0, sum(busy.values()) - row["server_cpu_pct"]
                                 - row["loadgen_cpu_pct"] - (row["aux_cpu_pct"] or 0.0))
    row["dropped"] = (row["missing"] + row["duplicates"] + row["unacked"]
                      + row["unexpected_closes"] + row["errors"])
    row["ok"] = row["dropped"] == 0 and row["p99_ms"] < args.p99_ms
    row["loadgen_saturated"] = row["loadgen_cpu_pct"] > args.loadgen_cpu_limit
    return row


# ---------------------------------------------------------------------------------------------
# idle


async def run_idle(args: argparse.Namespace) -> dict:
    stats = Stats()
    probe = ServerProbe(args.server_pid)
    tag = args.tag or f"{os.getpid()}-{int(time.time())}"
    tokens: list[str | None] = [None]
    if args.register:
        tokens = list(await register_users(args.host, args.port, args.users, tag))
    warm = await open_clients(args.host, args.port, tokens, args.warmup, stats, args.room,
                              args.connect_concurrency, args.source_addr)
    await asyncio.sleep(args.settle)
    rss_before = probe.rss_bytes()
    t0 = time.monotonic()
    idle = await open_clients(args.host, args.port, tokens, args.connections, stats, args.room,
                              args.connect_concurrency, args.source_addr)
    connect_s = time.monotonic() - t0
    await asyncio.sleep(args.settle)
    rss_after = probe.rss_bytes()
    still_open = sum(c.is_open for c in idle)
    await close_all(warm + idle)
    return {
        "command": "idle",
        "warmup": len(warm),
        "connections": len(idle),
        "still_open": still_open,
        "connect_s": connect_s,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "kib_per_connection": (rss_after - rss_before) / 1024 / max(1, len(idle)),
        "unexpected_closes": stats.unexpected_closes,
        "errors": stats.errors,
    }


# ---------------------------------------------------------------------------------------------


def raise_nofile(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def rate_list(text: str) -> list[float]:
    try:
        rates = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"rates must be numbers separated by commas: {text!r}") from None
    if not rates or any(r <= 0 for r in rates):
        raise argparse.ArgumentTypeError(f"rates must be positive numbers: {text!r}")
    return rates


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--host", default="127.0.0.1")
    common.add_argument("--port", type=positive_int, required=True)
    common.add_argument("--room", default="green-transport")
    common.add_argument("--server-pid", type=positive_int, help="server pid for CPU/RSS")
    common.add_argument("--aux-pid", type=positive_int, action="append", default=[],
                        help="other processes whose CPU to report, e.g. PostgreSQL, Redis")
    common.add_argument("--aux-db", help="count PostgreSQL client backends of this database only")
    common.add_argument("--register", action="store_true",
                        help="create accounts via POST /api/v1/accounts and send bearer tokens")
    common.add_argument("--tag", help="unique part of the bench account e-mails")
    common.add_argument("--connect-concurrency", type=positive_int, default=64)
    common.add_argument("--source-addr", action="append", default=[],
                        help="local address to connect from (repeat to spread source ports)")

    s = sub.add_parser("steps", parents=[common], help="rising send rates, one room")
    s.add_argument("--subscribers", type=positive_int, default=1000)
    s.add_argument("--senders", type=positive_int, default=10)
    s.add_argument("--rates", type=rate_list, default=rate_list("10,25,50,75,100,125,150"))
    s.add_argument("--step-seconds", type=positive_float, default=5.0)
    s.add_argument("--drain-timeout", type=positive_float, default=10.0)
    s.add_argument("--pause", type=float, default=1.0, help="seconds between steps")
    s.add_argument("--p99-ms", type=positive_float, default=50.0)
    s.add_argument("--refine", type=int, default=3,
                   help="after the first failing rate, bisect this many times between it "
                        "and the last passing rate")
    s.add_argument("--retry-noisy-pct", type=positive_float, default=15.0,
                   help="repeat a failing step once when other processes used more than this "
                        "(%% of one core) during it")
    s.add_argument("--refine-min", type=positive_float, default=2.0,
                   help="stop bisecting when the interval is narrower than this (sends/s)")
    s.add_argument("--body-bytes", type=positive_int, default=64)
    s.add_argument("--loadgen-cpu-limit", type=positive_float, default=90.0)

    i = sub.add_parser("idle", parents=[common], help="memory per idle joined connection")
    i.add_argument("--connections", type=positive_int, default=10000)
    i.add_argument("--warmup", type=positive_int, default=100)
    i.add_argument("--users", type=positive_int, default=100)
    i.add_argument("--settle", type=positive_float, default=3.0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "steps" and args.senders > args.subscribers:
        build_parser().error("--senders cannot exceed --subscribers")
    raise_nofile(65536)
    runner = run_steps if args.command == "steps" else run_idle
    result = asyncio.run(runner(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
