#!/usr/bin/env python3
"""Browser-client benchmark for EcoLink chat: a 10,000-message room in headless Chromium.

It starts a real node (``ecolink serve``; embedded SQLite by default, PostgreSQL + Redis with
--mode postgres), seeds one room with --messages messages and another with --small, both over
the WebSocket by senders that stay under the node's per-connection limit of 50 frames/s, and
drives Debian's Chromium headless through Playwright (never a downloaded browser). It prints
markdown tables:

* first view  time from navigating to a room until its latest message is in the DOM, and the
              bytes transferred for it (HTTP bodies and headers, WebSocket payloads): the big
              room against the small one, each in --reps fresh browser contexts (median, p95),
              as a switch from another room inside the running app, as a cold page load of
              the room's URL (modules, API calls, WebSocket), and as a return visit with the
              browser's cache warm; over a direct link and over each emulated slow link asked
              for (--latency-ms, --download-kbps: the DevTools protocol's
              Network.emulateNetworkConditions, first views only);
* live        --rate messages/s arrive for --seconds, from --bots bot senders over the
              WebSocket, in the big room; the reader follows the live end, then again while
              scrolled back into history. Per run: requestAnimationFrame intervals
              (p50/p95/p99/max), long tasks (PerformanceObserver 'longtask': count, total),
              renders (calls of the app's state.js listener: one per batch), message rows added
              to the DOM, ``.msg`` rows in the DOM and the JS heap at the end, how far the row on
              screen moved, and the CPU of browser, node and everything else on the machine;
* history     reading back --history messages from the latest, one slide (scroll to the top,
              wait for older rows) at a time: time per slide, rows in the DOM at most, long
              tasks, JS heap.

    scripts/bench_client.py                            # what docs/benchmarks.md reports
    scripts/bench_client.py --reps 3 --seconds 10      # a quick look
    scripts/bench_client.py --only first --latency-ms 0 200   # first views, direct and 200 ms
    scripts/bench_client.py --mode postgres            # fresh database, dropped afterwards
    scripts/bench_client.py --web-dir /tmp/old/web     # another copy of the client, same node
    scripts/bench_client.py --node-env ECOLINK_HTTP_GZIP=false   # a node setting (here: no gzip)

Needs: the project installed in this Python (``ecolink``), with playwright, psutil, httpx,
websockets and msgpack (the dev extras); Debian's chromium (``apt-get install chromium``); for
--mode postgres PostgreSQL and Redis reachable (--pg-admin-url, --redis-url).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying the internet.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
BIG_ROOM, SMALL_ROOM, PARK_ROOM = "urban-renewal", "green-buildings", "water-management"
RATE_LIMIT_PER_S = 50.0  # the node's default per-connection frame limit (ECOLINK_WS_RATE_PER_S)
PER_SENDER_MAX = 45.0  # what one sender may send per second, a margin under the limit
SEEDERS = 25  # WebSocket connections that seed the rooms in parallel
BODIES = [
    "Minutes of the **district heating** call: next review in March.",
    "绿色建筑评价标准的最新版本已经发布，请大家查看附件。",
    "Could the Zhuhai pilot share its figures on rooftop solar for 2025?",
    "We measured 18% less energy use after the retrofit of block C — details in the report.",
    "好的，我们下周二上午九点开会讨论。",
    "Link to the tender: see the *municipal finance* room.",
]


def log(*parts: object) -> None:
    print(f"[bench_client {time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


class BenchError(Exception):
    """A problem the user can fix; printed without a traceback."""


# ---------------------------------------------------------------------------------------------
# Command line


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, got {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def node_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("ECOLINK_") or name != name.upper():
        raise argparse.ArgumentTypeError(f"expected ECOLINK_NAME=value, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench_client.py", description=__doc__.split("\n\n")[0],
                                epilog="Results: markdown on stdout; progress on stderr.")
    p.add_argument("--mode", choices=("embedded", "postgres"), default="embedded",
                   help="embedded SQLite (default) or PostgreSQL + Redis")
    p.add_argument("--only", choices=("first", "live"),
                   help="only the first-view measurements, or only live + history (default: all)")
    p.add_argument("--messages", type=positive_int, default=10_000,
                   help="messages seeded in the big room (default 10000)")
    p.add_argument("--small", type=positive_int, default=20,
                   help="messages seeded in the small room (default 20)")
    p.add_argument("--reps", type=positive_int, default=7,
                   help="fresh browser contexts per first-view measurement (default 7)")
    p.add_argument("--latency-ms", type=non_negative_int, nargs="+", default=[0], metavar="MS",
                   help="first view: emulate a link that adds MS to every request (about its round-trip "
                        "time; Chrome's Network.emulateNetworkConditions); several values measure each "
                        "(default 0: the direct link)")
    p.add_argument("--download-kbps", type=positive_float,
                   help="first view: the emulated link's download throughput in kbit/s (default: unlimited)")
    p.add_argument("--upload-kbps", type=positive_float,
                   help="first view: the emulated link's upload throughput in kbit/s (default: unlimited)")
    p.add_argument("--rate", type=positive_float, default=50.0,
                   help="live phase: messages/s arriving in the room (default 50)")
    p.add_argument("--bots", type=positive_int, default=2,
                   help="live phase: WebSocket senders sharing --rate (default 2)")
    p.add_argument("--seconds", type=positive_float, default=30.0,
                   help="live phase: how long each run sends (default 30)")
    p.add_argument("--history", type=positive_int, default=2_000,
                   help="history phase: messages read back from the latest (default 2000)")
    p.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    p.add_argument("--web-dir", type=Path,
                   help="serve this copy of web/ instead of the repository's (ECOLINK_WEB_DIR)")
    p.add_argument("--ecolink", help="the ecolink command (default: next to this Python)")
    p.add_argument("--node-env", type=node_setting, action="append", default=[], metavar="ECOLINK_NAME=VALUE",
                   help="a setting for the node (docs/operations.md), e.g. ECOLINK_HTTP_GZIP=false; "
                        "repeatable. The node otherwise gets no ECOLINK_* from this shell")
    p.add_argument("--pg-admin-url", default=os.environ.get(
        "ECOLINK_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="--mode postgres: server where a fresh database is created and dropped")
    p.add_argument("--redis-url", default=os.environ.get(
        "ECOLINK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="--mode postgres: Redis (keys go under a fresh prefix, deleted afterwards)")
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    per_bot = args.rate / args.bots
    if per_bot > PER_SENDER_MAX:
        need = math.ceil(args.rate / PER_SENDER_MAX)
        parser.error(f"--rate {args.rate:g} over --bots {args.bots} is {per_bot:g} messages/s per "
                     f"bot; the node allows {RATE_LIMIT_PER_S:g} frames/s per connection, so keep "
                     f"each bot at {PER_SENDER_MAX:g} or less: use --bots {need} or more")
    if args.small >= args.messages:
        parser.error(f"--small ({args.small}) must be less than --messages ({args.messages})")
    if args.only != "first" and args.history >= args.messages:
        parser.error(f"--history ({args.history}) must be less than --messages ({args.messages})")
    if not (Path(args.chromium).is_file() and os.access(args.chromium, os.X_OK)):
        parser.error(f"--chromium {args.chromium}: no such browser; install Debian's "
                     "(apt-get install chromium) or pass its path")
    if args.web_dir is not None and not (args.web_dir / "index.html").is_file():
        parser.error(f"--web-dir {args.web_dir} has no index.html: give a copy of web/")
    if not args.pg_admin_url.startswith(("postgresql://", "postgres://")):
        parser.error("--pg-admin-url must start with postgresql://")
    if not args.redis_url.startswith("redis://"):
        parser.error("--redis-url must start with redis://")
    return args


# ---------------------------------------------------------------------------------------------
# The node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ecolink_command(args: argparse.Namespace) -> str:
    if args.ecolink:
        found = shutil.which(args.ecolink)
        if not found:
            raise BenchError(f"--ecolink {args.ecolink}: no such command")
        return found
    beside = Path(sys.executable).parent / "ecolink"
    if beside.exists():
        return str(beside)
    found = shutil.which("ecolink")
    if found:
        return found
    raise BenchError("no `ecolink` command: install the project into this Python "
                     f"({sys.executable} -m pip install -e {REPO}) or pass --ecolink")


def wait_ready(proc: subprocess.Popen, port: int, timeout_s: float = 60.0) -> None:
    url = f"http://127.0.0.1:{port}/readyz"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the node exited with code {proc.returncode} before it was ready")
        with contextlib.suppress(urllib.error.URLError, OSError), \
                urllib.request.urlopen(url, timeout=1) as resp:
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"the node was not ready after {timeout_s:.0f} s ({url})")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def postgres_admin(admin_url: str, statement: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(admin_url, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        asyncio.run(go())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"PostgreSQL at {urlsplit(admin_url).netloc.split('@')[-1]}: {exc}. "
                         "Start it, pass --pg-admin-url, or use --mode embedded") from None


def delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    finally:
        client.close()


@contextlib.contextmanager
def node_environment(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """ECOLINK_* for a fresh node: its own data folder, or its own database and Redis prefix.
    The per-connection frame limit stays at its default: the senders respect it."""
    env = {"ECOLINK_ARGON2_PROFILE": "cheapest", "ECOLINK_LOG_LEVEL": "warning",
           "ECOLINK_REGISTER_PER_ADDRESS_MAX": "1000000", **dict(args.node_env)}
    if args.web_dir is not None:
        env["ECOLINK_WEB_DIR"] = str(args.web_dir.resolve())
    data_dir = tempfile.mkdtemp(prefix="ecolink-bench-client-")
    env["ECOLINK_DATA_DIR"] = data_dir
    stamp = f"{int(time.time())}_{os.getpid()}"
    db_name = f"ecolink_bench_client_{stamp}"
    try:
        if args.mode == "postgres":
            postgres_admin(args.pg_admin_url, f'CREATE DATABASE "{db_name}"')
            env["ECOLINK_DATABASE_URL"] = urlunsplit(urlsplit(args.pg_admin_url)._replace(path="/" + db_name))
            env["ECOLINK_REDIS_URL"] = args.redis_url
            env["ECOLINK_REDIS_PREFIX"] = f"bench-client-{stamp}:"
        yield env
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.mode == "postgres":
            with contextlib.suppress(Exception):
                postgres_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            with contextlib.suppress(Exception):
                delete_redis_keys(args.redis_url, env["ECOLINK_REDIS_PREFIX"])


@contextlib.contextmanager
def running_node(args: argparse.Namespace) -> Iterator[tuple[subprocess.Popen, str]]:
    with node_environment(args) as extra:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")} | extra
        cmd = [ecolink_command(args), "serve", "--host", "127.0.0.1", "--port", str(port)]
        log(" ".join(cmd))
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=sys.stderr)
        try:
            wait_ready(proc, port)
            yield proc, f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


# ---------------------------------------------------------------------------------------------
# Senders: accounts and WebSocket bots


async def register(base: str, name: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post("/api/v1/accounts", json={
            "email": f"{name.lower()}@bench.example", "password": "a long secret", "display_name": name})
    if response.status_code != 201:
        raise BenchError(f"registering {name} failed: {response.status_code} {response.text}")
    return response.json()


class Bot:
    """One WebSocket sender (msgpack). A reader task drains its socket (acks, errors), so the
    node never sees it as a slow consumer."""

    def __init__(self, ws: Any, name: str) -> None:
        self.ws, self.name = ws, name
        self.acks = 0
        self.errors: list[dict[str, Any]] = []
        self._cids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, base: str, name: str) -> Bot:
        import websockets

        token = (await register(base, name))["token"]
        ws = await websockets.connect(base.replace("http", "ws", 1) + "/ws", open_timeout=30,
                                      subprotocols=["ecolink.v1.msgpack"],
                                      additional_headers={"Authorization": f"Bearer {token}"})
        return cls(ws, name)

    async def _read(self) -> None:
        import msgpack

        with contextlib.suppress(Exception):
            async for data in self.ws:
                frame = msgpack.unpackb(data)
                if frame.get("type") == "ack":
                    self.acks += 1
                elif frame.get("type") == "error":
                    self.errors.append(frame)

    async def send_paced(self, room: str, count: int, per_s: float, tag: str) -> None:
        """`count` messages at `per_s`, on an absolute schedule (no drift)."""
        import msgpack

        start = time.monotonic()
        for n in range(count):
            delay = start + n / per_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = f"{tag} {n + 1}: {BODIES[n % len(BODIES)]}"
            await self.ws.send(msgpack.packb({"type": "send", "room": room, "body": body,
                                              "cid": f"{tag}-{next(self._cids)}"}))

    async def wait_acks(self, expected: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acks < expected:
            if self.errors:
                raise BenchError(f"{self.name} got errors: {self.errors[:3]}")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: {self.acks} of {expected} acks after {timeout_s:.0f} s")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def bots(base: str, count: int, prefix: str) -> AsyncIterator[list[Bot]]:
    opened = [await Bot.connect(base, f"{prefix}{n}") for n in range(1, count + 1)]
    try:
        yield opened
    finally:
        for bot in opened:
            await bot.close()


async def seed(base: str, room: str, count: int) -> float:
    """`count` messages from SEEDERS connections in parallel, each under the rate limit; returns
    the seconds it took (every send acked, i.e. committed)."""
    started = time.monotonic()
    async with bots(base, min(SEEDERS, count), f"Seeder-{room}-") as senders:
        shares = [count // len(senders) + (i < count % len(senders)) for i in range(len(senders))]
        await asyncio.gather(*(s.send_paced(room, n, PER_SENDER_MAX, f"seed-{i}")
                               for i, (s, n) in enumerate(zip(senders, shares, strict=True))))
        for sender, n in zip(senders, shares, strict=True):
            await sender.wait_acks(n)
    return time.monotonic() - started


async def room_head(base: str, token: str, room: str) -> int:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.get(f"/api/v1/rooms/{room}/messages?limit=1",
                                  headers={"Authorization": f"Bearer {token}"})
    return response.json()["messages"][-1]["seq"]


# ---------------------------------------------------------------------------------------------
# CPU: browser, node, this script, everything else


@dataclass
class CpuMeter:
    """CPU seconds per process group between start() and stop(), in % of one core. A process
    that exits in between loses its share (Chromium keeps its processes during a run)."""

    node_pid: int
    started: float = 0.0
    machine: float = 0.0
    per_pid: dict[int, float] = field(default_factory=dict)

    @staticmethod
    def _busy() -> float:
        import psutil

        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _processes(self) -> dict[int, float]:
        import psutil

        me = psutil.Process()
        found = {}
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                found[proc.pid] = t.user + t.system
        return found

    def start(self) -> None:
        self.started, self.machine, self.per_pid = time.monotonic(), self._busy(), self._processes()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        busy = self._busy() - self.machine
        now = self._processes()
        used = {pid: s - self.per_pid.get(pid, 0.0) for pid, s in now.items()}
        node = used.pop(self.node_pid, 0.0)
        script = used.pop(os.getpid(), 0.0)
        browser = sum(used.values())  # Chromium and the Playwright driver
        return {"browser": 100 * browser / wall, "node": 100 * node / wall, "script": 100 * script / wall,
                "other": max(0.0, 100 * (busy - browser - node - script) / wall)}


# ---------------------------------------------------------------------------------------------
# In the page

# Waits until the room's latest message is a row in the DOM (a MutationObserver: the moment of
# insertion, before paint) and returns ms since `started` (a performance.now() value).
UNTIL_SHOWN = """(selector, started) => new Promise((resolve) => {
  const check = () => {
    if (!document.querySelector(selector)) return false;
    resolve(performance.now() - started);
    return true;
  };
  if (check()) return;
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true });
})"""
SWITCH = f"""async ([room, selector]) => {{
  const started = performance.now();
  const shown = ({UNTIL_SHOWN})(selector, started);
  location.hash = `#/room/${{room}}`;
  return await shown;
}}"""
# Installed before the page's own scripts: performance.now() counts from navigation start.
COLD = f"window.__firstView = ({UNTIL_SHOWN})(%r, 0);"

PROBE_START = """async (room) => {
  const { state, subscribe } = await import('/src/state.js');  // the app's own module instance
  const p = { frames: [], long: [], renders: 0, added: 0, on: true, last: null,
              loaded: state.data.get(room).messages.length };
  window.__bench = p;
  const tick = (now) => {
    if (!p.on) return;
    if (p.last !== null) p.frames.push(now - p.last);
    p.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  p.longObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) p.long.push(e.duration); });
  p.longObserver.observe({ type: 'longtask' });
  p.unsubscribe = subscribe(() => { p.renders += 1; });
  p.rowObserver = new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeName === 'LI' && n.classList.contains('msg')) p.added += 1;
  });
  p.rowObserver.observe(document.querySelector('.messages'), { childList: true, subtree: true });
}"""
PROBE_STOP = """async (room) => {
  const { state } = await import('/src/state.js');
  const p = window.__bench;
  p.on = false;
  for (const e of p.longObserver.takeRecords()) p.long.push(e.duration);
  p.longObserver.disconnect();
  p.unsubscribe();
  p.rowObserver.disconnect();
  return { frames: p.frames, long: p.long, renders: p.renders, added: p.added,
           arrived: state.data.get(room).messages.length - p.loaded,
           rows: document.querySelectorAll('.messages .msg').length };
}"""
HOLDS = """async ([room, body]) => {
  const { state } = await import('/src/state.js');
  return state.data.get(room).messages.some((m) => m.body === body);
}"""
# The row at the top edge of the list and its offset from that edge.
ON_SCREEN = """() => {
  const list = document.querySelector('.messages');
  const top = list.getBoundingClientRect().top;
  const row = [...list.querySelectorAll('.msg[data-id]')].find((r) => r.getBoundingClientRect().bottom > top);
  return { id: row.dataset.id, offset: row.getBoundingClientRect().top - top };
}"""
OFFSET_OF = """(id) => {
  const list = document.querySelector('.messages');
  const row = list.querySelector(`.msg[data-id="${id}"]`);
  return row ? row.getBoundingClientRect().top - list.getBoundingClientRect().top : null;
}"""
LATEST_ON_SCREEN = """() => {
  const list = document.querySelector('.messages');
  const rows = list.querySelectorAll('.msg[data-seq]');
  const last = rows[rows.length - 1].getBoundingClientRect();
  const box = list.getBoundingClientRect();
  return last.bottom <= box.bottom + 1 && last.top >= box.top - 1;
}"""
# One slide back: scroll to the top, wait until older rows are in (or the start shows).
SLIDE_BACK = """() => new Promise((resolve) => {
  const list = document.querySelector('.messages');
  const first = () => +list.querySelector('.msg').dataset.seq;
  const before = first();
  const started = performance.now();
  const done = () => first() < before || list.querySelector('.start');
  const observer = new MutationObserver(() => {
    if (!done()) return;
    observer.disconnect();
    resolve({ ms: performance.now() - started, first: first(), rows: list.querySelectorAll('.msg').length });
  });
  observer.observe(list, { childList: true, subtree: true });
  list.scrollTop = 0;
})"""


@dataclass(frozen=True)
class Link:
    """The network between browser and node as Chrome emulates it (DevTools protocol,
    Network.emulateNetworkConditions): `latency_ms` is added to every request, from sending it
    to the response's headers, so it stands for one round trip; throughputs cap the bytes per
    second each way. Chrome applies it to HTTP; whether WebSocket frames are delayed depends on
    the version, so treat WebSocket timings under emulation as a lower bound."""

    latency_ms: int = 0
    download_kbps: float | None = None
    upload_kbps: float | None = None

    @property
    def emulated(self) -> bool:
        return bool(self.latency_ms or self.download_kbps or self.upload_kbps)

    def conditions(self) -> dict[str, Any]:
        def bytes_per_s(kbps: float | None) -> float:
            return -1 if kbps is None else kbps * 1000 / 8  # -1: no limit

        return {"offline": False, "latency": self.latency_ms,
                "downloadThroughput": bytes_per_s(self.download_kbps),
                "uploadThroughput": bytes_per_s(self.upload_kbps)}

    def __str__(self) -> str:
        if not self.emulated:
            return "direct"
        parts = [f"{self.latency_ms} ms"]
        if self.download_kbps:
            parts.append(f"{self.download_kbps:,g} kbit/s down")
        if self.upload_kbps:
            parts.append(f"{self.upload_kbps:,g} kbit/s up")
        return ", ".join(parts)


class Traffic:
    """Requests that went to the network (not those the browser's cache answered) and the bytes
    the page received: HTTP (bodies and headers, as on the wire) and WebSocket payloads, from
    the DevTools protocol's Network events; and, through the same session, the emulated link
    the page's requests go over from now on."""

    def __init__(self) -> None:
        self.http_bytes = self.ws_bytes = self.requests = 0
        self.from_cache: set[str] = set()

    async def attach(self, context: Any, page: Any, link: Link = Link()) -> Traffic:
        cdp = await context.new_cdp_session(page)
        cdp.on("Network.requestServedFromCache", lambda e: self.from_cache.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        await cdp.send("Network.enable")
        if link.emulated:
            await cdp.send("Network.emulateNetworkConditions", link.conditions())
        return self

    def _response(self, event: dict[str, Any]) -> None:
        if event["response"].get("fromDiskCache") or event["response"].get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.from_cache:
            return
        self.requests += 1
        self.http_bytes += int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict[str, Any]) -> None:
        response = event["response"]
        payload = response.get("payloadData", "")
        self.ws_bytes += len(base64.b64decode(payload)) if response.get("opcode") == 2 else len(payload.encode())

    def reset(self) -> None:
        self.http_bytes = self.ws_bytes = self.requests = 0
        self.from_cache.clear()

    @property
    def total(self) -> int:
        return self.http_bytes + self.ws_bytes


async def js_heap_mib(context: Any, page: Any) -> float:
    cdp = await context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    used = (await cdp.send("Runtime.getHeapUsage"))["usedSize"]
    await cdp.detach()
    return used / 2**20


async def wait_until(page: Any, expression: str, arg: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Measurements


@dataclass
class Harness:
    """What every measurement needs: the node, the browser, the reader's cookie, the heads."""

    base: str
    browser: Any
    storage: dict[str, Any]
    token: str
    node_pid: int
    heads: dict[str, int] = field(default_factory=dict)

    def row(self, room: str) -> str:
        return f'.messages .msg[data-seq="{self.heads[room]}"]'

    @contextlib.asynccontextmanager
    async def page(self, init_script: str | None = None) -> AsyncIterator[tuple[Any, Any]]:
        """A fresh context (cold cache) signed in as the reader, with one page."""
        context = await self.browser.new_context(storage_state=self.storage, viewport=VIEWPORT,
                                                 locale="en-GB")
        try:
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            if init_script:
                await page.add_init_script(init_script)
            yield context, page
            if errors:
                raise BenchError(f"the page raised: {errors[:3]}")
        finally:
            await context.close()

    async def open_room(self, page: Any, room: str) -> None:
        """Open a room and wait for its latest message (or, in a room without any, its start)."""
        await page.goto(f"{self.base}/#/room/{room}")
        await page.wait_for_selector('.conn[data-state="online"]', timeout=30_000)
        await page.wait_for_selector(self.row(room) if room in self.heads else ".messages .start", timeout=30_000)

    async def refresh_head(self, room: str) -> int:
        self.heads[room] = await room_head(self.base, self.token, room)
        return self.heads[room]


async def first_view_switch(s: Harness, room: str, link: Link) -> tuple[float, int, int]:
    """Inside the running app, from another room: (ms, requests, bytes). The parking room
    loads over the direct link; the switch goes over `link`."""
    async with s.page() as (context, page):
        await s.open_room(page, PARK_ROOM)
        traffic = await Traffic().attach(context, page, link)
        await page.wait_for_timeout(300)  # the parking room's own requests are done
        traffic.reset()
        ms = await page.evaluate(SWITCH, [room, s.row(room)])
        await page.wait_for_timeout(500 + 2 * link.latency_ms)  # the view's side requests finish
        return ms, traffic.requests, traffic.total


async def first_view_cold(s: Harness, room: str, link: Link) -> tuple[float, int, int]:
    """A page load of the room's URL in a fresh context (empty cache): (ms since navigation
    start, requests, bytes)."""
    async with s.page(init_script=COLD % s.row(room)) as (context, page):
        traffic = await Traffic().attach(context, page, link)
        await page.goto(f"{s.base}/#/room/{room}")
        ms = await page.evaluate("window.__firstView")
        await page.wait_for_timeout(500 + 2 * link.latency_ms)
        return ms, traffic.requests, traffic.total


async def first_view_return(s: Harness, room: str, link: Link) -> tuple[float, int, int]:
    """A second visit to the room's URL in the same context (the cache holds the first visit,
    made over the direct link; a new document, as from a bookmark): (ms since navigation start,
    requests, bytes). What the cache saves depends on the files' Cache-Control."""
    async with s.page(init_script=COLD % s.row(room)) as (context, page):
        await page.goto(f"{s.base}/#/room/{room}")
        await page.evaluate("window.__firstView")
        await page.wait_for_timeout(500)
        await page.goto("about:blank")
        traffic = await Traffic().attach(context, page, link)
        await page.goto(f"{s.base}/#/room/{room}")
        ms = await page.evaluate("window.__firstView")
        await page.wait_for_timeout(500 + 2 * link.latency_ms)
        return ms, traffic.requests, traffic.total


FIRST_VIEWS = (("switch from another room", first_view_switch), ("cold page load", first_view_cold),
               ("return visit, warm cache", first_view_return))


async def first_views(s: Harness, reps: int, links: list[Link]) -> list[dict[str, Any]]:
    results = []
    for link, (kind, measure) in itertools.product(links, FIRST_VIEWS):
        samples: dict[str, list[tuple[float, int, int]]] = {BIG_ROOM: [], SMALL_ROOM: []}
        for rep in range(reps):
            order = (BIG_ROOM, SMALL_ROOM) if rep % 2 == 0 else (SMALL_ROOM, BIG_ROOM)
            for room in order:  # alternated, so a burst of machine load hits both
                samples[room].append(await measure(s, room, link))
        for room, got in samples.items():
            ms = [g[0] for g in got]
            results.append({"room": room, "messages": s.heads[room], "view": kind, "link": str(link),
                            "median": statistics.median(ms), "p95": percentile(ms, 95),
                            "requests": statistics.median(g[1] for g in got),
                            "bytes": statistics.median(g[2] for g in got)})
            log(f"first view, {link}, {kind}, {room}: median {results[-1]['median']:.0f} ms")
    return results


async def live_run(s: Harness, context: Any, page: Any, rate: float, seconds: float, n_bots: int,
                   tag: str) -> dict[str, Any]:
    """--rate messages/s for --seconds from the bots, measured in the page."""
    room = BIG_ROOM
    count = round(rate / n_bots * seconds)
    kept = await page.evaluate(ON_SCREEN)
    async with bots(s.base, n_bots, f"Bot-{tag}-") as senders:
        await page.evaluate(PROBE_START, room)
        cpu = CpuMeter(s.node_pid)
        cpu.start()
        await asyncio.gather(*(b.send_paced(room, count, rate / n_bots, f"{tag}{i}") for i, b in enumerate(senders)))
        for bot in senders:
            await bot.wait_acks(count)
        last = f"{tag}{n_bots - 1} {count}: {BODIES[(count - 1) % len(BODIES)]}"
        await wait_until(page, HOLDS, [room, last], "the last message to reach the page")
        await page.wait_for_timeout(300)  # the last batch renders; long-task entries arrive
        used = cpu.stop()
        got = await page.evaluate(PROBE_STOP, room)
    moved = await page.evaluate(OFFSET_OF, kept["id"])
    frames = got["frames"]
    return {
        "arrived_per_s": got["arrived"] / seconds, "renders": got["renders"], "added": got["added"],
        "frame_p50": percentile(frames, 50), "frame_p95": percentile(frames, 95),
        "frame_p99": percentile(frames, 99), "frame_max": max(frames, default=math.nan),
        "long_count": len(got["long"]), "long_ms": sum(got["long"]), "rows": got["rows"],
        "heap_mib": await js_heap_mib(context, page), "latest_on_screen": await page.evaluate(LATEST_ON_SCREEN),
        "moved_px": None if moved is None else abs(moved - kept["offset"]), **used,
    }


async def read_back(page: Any, head: int, history: int) -> dict[str, Any]:
    """Slides back until the first row is --history messages before the head."""
    await page.evaluate(PROBE_START, BIG_ROOM)
    slides: list[float] = []
    most_rows, first = 0, head
    while first > head - history:
        try:
            got = await asyncio.wait_for(page.evaluate(SLIDE_BACK), 60)
        except TimeoutError:
            raise BenchError(f"the list did not slide back from seq {first} within 60 s") from None
        slides.append(got["ms"])
        first, most_rows = got["first"], max(most_rows, got["rows"])
    probe = await page.evaluate(PROBE_STOP, BIG_ROOM)
    return {"slides": len(slides), "slide_median": statistics.median(slides), "slide_p95": percentile(slides, 95),
            "most_rows": most_rows, "long_count": len(probe["long"]), "long_ms": sum(probe["long"]),
            "back_to": first}


async def live_and_history(s: Harness, args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    runs = []
    async with s.page() as (context, page):
        await s.open_room(page, BIG_ROOM)
        log(f"live, following: {args.rate:g} messages/s for {args.seconds:g} s")
        runs.append({"reader": "follows the live end",
                     **await live_run(s, context, page, args.rate, args.seconds, args.bots, "follow")})
    async with s.page() as (context, page):
        head = await s.refresh_head(BIG_ROOM)
        await s.open_room(page, BIG_ROOM)
        log(f"history: reading back {args.history:,} messages from seq {head:,}")
        history = await read_back(page, head, args.history)
        history["heap_mib"] = await js_heap_mib(context, page)
        await page.mouse.move(640, 400)
        await page.mouse.wheel(0, 300)  # the reader scrolls on a little, as one does
        await page.wait_for_timeout(300)
        log(f"live, scrolled back: {args.rate:g} messages/s for {args.seconds:g} s")
        runs.append({"reader": f"scrolled back ~{args.history:,} messages",
                     **await live_run(s, context, page, args.rate, args.seconds, args.bots, "back")})
    return runs, history


async def measure(args: argparse.Namespace, node_pid: int, base: str) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    seeded = {}
    for room, count in ((BIG_ROOM, args.messages), (SMALL_ROOM, args.small)):
        log(f"seeding {room} with {count:,} messages")
        seeded[room] = await seed(base, room, count)
    reader = await register(base, "Reader")
    heads = {room: await room_head(base, reader["token"], room) for room in (BIG_ROOM, SMALL_ROOM)}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context()
        login = await context.request.post(f"{base}/api/v1/sessions", data={
            "email": "reader@bench.example", "password": "a long secret"})
        if login.status != 200:
            raise BenchError(f"the reader could not sign in: {login.status} {await login.text()}")
        storage = await context.storage_state()
        await context.close()
        s = Harness(base, browser, storage, reader["token"], node_pid, heads)
        links = [Link(ms, args.download_kbps, args.upload_kbps) for ms in args.latency_ms]
        first = await first_views(s, args.reps, links) if args.only != "live" else []
        runs, history = await live_and_history(s, args) if args.only != "first" else ([], {})
        version = browser.version
        await browser.close()
    return {"seeded_s": seeded, "first": first, "live": runs, "history": history, "chromium": version}


# ---------------------------------------------------------------------------------------------
# Markdown


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: object, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    """A markdown table; the first `text_columns` columns align left, the figures right."""
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if i >= text_columns else "---" for i in range(len(headers))) + "|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def first_view_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    rows = [[r["link"], r["view"], f"{r['room']} ({r['messages']:,} messages)", fmt(r["median"], 0),
             fmt(r["p95"], 0), fmt(r["requests"], 0), fmt(r["bytes"] / 1024)] for r in results["first"]]
    return table(["link", "first view", "room", "median ms", f"p95 ms (of {args.reps})", "network requests",
                  "KiB transferred"], rows, text_columns=3)


def live_table(results: dict[str, Any]) -> str:
    rows = [[r["reader"], fmt(r["arrived_per_s"]), fmt(r["renders"]), fmt(r["added"]),
             " / ".join(fmt(r[k]) for k in ("frame_p50", "frame_p95", "frame_p99", "frame_max")),
             f"{r['long_count']} / {fmt(r['long_ms'], 0)}", fmt(r["rows"]), fmt(r["heap_mib"]),
             fmt(r["latest_on_screen"]), fmt(r["moved_px"], 0),
             " / ".join(fmt(r[k], 0) for k in ("browser", "node", "other"))] for r in results["live"]]
    return table(["reader", "arrived/s", "renders", "rows added", "frame ms p50 / p95 / p99 / max",
                  "long tasks / ms", ".msg rows at end", "JS heap MiB", "latest on screen",
                  "row on screen moved px", "CPU % browser / node / other"], rows)


def history_table(results: dict[str, Any], args: argparse.Namespace) -> str:
    h = results["history"]
    return table(["read back", "slides", "ms per slide median / p95", ".msg rows at most",
                  "long tasks / ms", "JS heap MiB after"],
                 [[f"{args.history:,} messages (to seq {h['back_to']:,})", fmt(h["slides"]),
                   f"{fmt(h['slide_median'], 0)} / {fmt(h['slide_p95'], 0)}", fmt(h["most_rows"]),
                   f"{h['long_count']} / {fmt(h['long_ms'], 0)}", fmt(h["heap_mib"])]])


def environment(args: argparse.Namespace, results: dict[str, Any], load: tuple[float, ...]) -> list[str]:
    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *cmd], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    seeded = ", ".join(f"{room} in {secs:.1f} s" for room, secs in results["seeded_s"].items())
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, commit {commit}{dirty}",
        f"- machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}; load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min) at the start",
        f"- node: `ecolink serve`, {'PostgreSQL + Redis' if args.mode == 'postgres' else 'embedded SQLite'}, "
        f"default limits (50 frames/s per connection); web/ from {args.web_dir or 'the repository'}"
        + "".join(f"; {name}={value}" for name, value in args.node_env),
        f"- browser: Chromium {results['chromium']} headless, {VIEWPORT['width']}x{VIEWPORT['height']}, "
        f"Python {platform.python_version()}",
        f"- seeded over the WebSocket by {SEEDERS} senders at {PER_SENDER_MAX:g}/s each: {seeded}",
        f"- live: {args.rate:g} messages/s from {args.bots} bots for {args.seconds:g} s per run",
        "- first-view links: " + ", ".join(str(Link(ms, args.download_kbps, args.upload_kbps))
                                           for ms in args.latency_ms)
        + " (emulated: Chrome's Network.emulateNetworkConditions adds the latency to every request)",
    ]


def render(results: dict[str, Any], args: argparse.Namespace, load: tuple[float, ...]) -> str:
    parts = ["#### Environment", "\n".join(environment(args, results, load))]
    if results["first"]:
        parts += ["#### First view: navigating to a room until its latest message is in the DOM",
                  first_view_table(results, args)]
    if results["live"]:
        parts += [f"#### Live: {args.rate:g} messages/s for {args.seconds:g} s", live_table(results),
                  "#### History: reading back from the latest message", history_table(results, args)]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = os.getloadavg()
    try:
        with running_node(args) as (proc, base):
            results = asyncio.run(measure(args, proc.pid, base))
    except BenchError as exc:
        print(f"scripts/bench_client.py: error: {exc}", file=sys.stderr)
        return 1
    print(render(results, args, load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
