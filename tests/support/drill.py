"""Fault drills with the server run as users run it: node PROCESSES (`ecolink serve`, started
the way bench/nodes.py starts them) on PostgreSQL + Redis, and reconnecting load clients that
each keep a history log (tests/support/history.py) across every connection they open.

A `DrillClient` behaves like the web client: it connects to a node, joins its room (or resumes
it with `since` = the last seq it holds), resends every send not acked yet with the same cid,
and — if it is a sender — keeps sending with a small window. When its connection drops (a
node killed or stopped) it reconnects to another node after a short random backoff; a send
refused as retryable (`retry` in the error frame, e.g. `unavailable` while PostgreSQL is down)
is sent again later with the same cid. It records when each send was answered and how long
each interruption lasted, so the drills can measure what the issue bounds.

Used by tests/e2e/test_fault_drills.py (short drills) and bench/suites/faults.py and soak.py
(long ones). Every figure here is wall time on the machine running the drill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import websockets

from bench import nodes as bench_nodes
from tests.support.client import register
from tests.support.history import ClientLog, Peer, check, eventually, stored_messages

# Limits lifted the way bench/targets.py lifts them: drills load a few members hard.
DRILL_ENV = {
    "ECOLINK_ARGON2_PROFILE": "cheapest",
    "ECOLINK_REGISTER_PER_ADDRESS_MAX": "1000000",
    "ECOLINK_WS_RATE_PER_S": "100000",
    "ECOLINK_WS_RATE_BURST": "100000",
    "ECOLINK_MEMBER_RATE_PER_S": "100000",
    "ECOLINK_MEMBER_RATE_BURST": "100000",
    "ECOLINK_MAX_SOCKETS_PER_MEMBER": "10000",
    "ECOLINK_REGISTRATION_POW_BITS": "0",
    "ECOLINK_PASSWORD_HASH_QUEUE": "1000",  # the drill registers its clients 20 at a time
    "ECOLINK_NEW_ACCOUNT_HOURS": "0",
    "ECOLINK_SPAM_MAX_ROOMS": "0",
    "ECOLINK_LOG_LEVEL": "warning",
}

ROOMS = ("urban-renewal", "green-buildings", "green-transport")
_TIMED = re.compile(r" t=(\d+\.\d+)$")


def now() -> float:
    return time.monotonic()


# ---------------------------------------------------------------------------------------------
# Node processes


class NodeProcess:
    """One `ecolink serve` process with its own data folder; `env` names the shared database,
    Redis and key prefix. A stopped node may be started again (on a new port)."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.name = name
        self.data_dir = tempfile.mkdtemp(prefix=f"ecolink-drill-{name}-")
        self.env = {**env, "ECOLINK_DATA_DIR": self.data_dir}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> NodeProcess:
        """Start and wait for /readyz (blocking: call through asyncio.to_thread)."""
        command = bench_nodes.ecolink_command(argparse.Namespace(ecolink=None))
        self.proc, self.port = bench_nodes.start_node(
            lambda port: [command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            self.env, name=self.name)
        return self

    def kill(self) -> None:
        """SIGKILL: no drain, no close frames; the kernel resets its sockets."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait for the graceful exit (blocking); returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM for {timeout_s:g} s") from None

    def close(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def sample(self) -> dict[str, float]:
        """Resident memory (MiB; and by kind of mapping, resident_by_mapping), open fds,
        threads, and the event loop's tasks (the node's ecolink_event_loop_tasks gauge)."""
        import psutil

        assert self.proc is not None
        p = psutil.Process(self.proc.pid)
        out = {"rss_mib": p.memory_info().rss / 2**20, "fds": float(p.num_fds()),
               "threads": float(p.num_threads()), **resident_by_mapping(self.proc.pid)}
        # What the sockets among the fds are: clients (on the node's port), or by peer port.
        for conn in p.net_connections(kind="inet"):
            key = ("sock_clients" if conn.laddr and conn.laddr.port == self.port else
                   f"sock_{conn.raddr.port}" if conn.raddr else "sock_listen")
            out[key] = out.get(key, 0.0) + 1
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        for key, metric in (("tasks", "ecolink_event_loop_tasks"), ("connections", "ecolink_connections"),
                            ("loop_lag_max_s", "ecolink_event_loop_lag_max_seconds"),
                            ("gc_frozen", "ecolink_gc_frozen_objects")):
            found = re.search(rf"^{metric} (\S+)$", text, re.M)
            out[key] = float(found.group(1)) if found else float("nan")
        return out


def resident_by_mapping(pid: int) -> dict[str, float]:
    """A process's resident memory in MiB by kind of mapping (/proc/PID/smaps): `heap_mib`, the
    brk heap glibc's main arena grows (what malloc_trim gives back from); `anon_mib`, anonymous
    mappings (pymalloc's arenas, glibc's other arenas and its large blocks); `file_mib`, files
    (the interpreter, libraries). Empty where /proc has no smaps."""
    totals = {"heap_mib": 0.0, "anon_mib": 0.0, "file_mib": 0.0}
    kind = "file_mib"
    try:
        with open(f"/proc/{pid}/smaps") as smaps:
            for line in smaps:
                if line.startswith("Rss:"):
                    totals[kind] += int(line.split()[1]) / 1024
                elif "-" in line.split(" ", 1)[0] and line[0] in "0123456789abcdef":
                    fields = line.split()  # a mapping's header: range perms offset dev inode [path]
                    path = fields[5] if len(fields) > 5 else ""
                    kind = ("heap_mib" if path == "[heap]" else "anon_mib" if not path
                            else "file_mib" if not path.startswith("[") else "other")
                    totals.setdefault(kind, 0.0)
    except OSError:
        return {}
    totals.pop("other", None)  # the stack, vdso and the like
    return totals


class Cluster:
    """The drill's nodes; clients pick among the live ones."""

    def __init__(self, env: dict[str, str], count: int) -> None:
        self.env = {**DRILL_ENV, **env}
        self.nodes = [NodeProcess(self.env, f"node{i}") for i in range(count)]

    async def start(self) -> Cluster:
        # Together: the migrations run under an advisory lock (chat/store/postgres/base.py).
        await asyncio.gather(*(asyncio.to_thread(node.start) for node in self.nodes))
        return self

    def live(self) -> list[NodeProcess]:
        return [n for n in self.nodes if n.alive]

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    async def __aenter__(self) -> Cluster:
        try:
            return await self.start()
        except BaseException:
            self.close()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# Reconnecting clients


class TimedLog(ClientLog):
    """A ClientLog that also tells its client about each frame (answers, deliveries)."""

    def __init__(self, name: str, author_id: int, client: DrillClient) -> None:
        super().__init__(name, author_id)
        self.client = client

    def received(self, frame: dict[str, Any]) -> None:
        super().received(frame)
        self.client.on_frame(frame)


@dataclass
class Outage:
    """One interruption of a client's connection: closed (or first refused) -> resumed."""

    closed_at: float
    close_code: int | None
    resumed_at: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.resumed_at is None else self.resumed_at - self.closed_at


@dataclass
class Answer:
    cid: str
    sent_at: float
    answered_at: float
    code: str  # "ack" or the error code


@dataclass
class DrillStats:
    answers: list[Answer] = field(default_factory=list)
    latencies_ms: list[tuple[float, float]] = field(default_factory=list)  # (at, ms) per delivery
    outages: list[Outage] = field(default_factory=list)
    connect_failures: int = 0
    join_failures: int = 0


class DrillClient:
    def __init__(self, drill: Drill, account: dict[str, Any], room: str, *, sender: bool,
                 binary: bool, home: int, send_interval_s: float, window: int = 4) -> None:
        self.drill = drill
        self.account = account
        self.room = room
        self.sender = sender
        self.binary = binary
        self.home = home
        self.send_interval_s = send_interval_s
        self.window = window
        self.name = account["user"]["name"]
        self.log = TimedLog(self.name, account["user"]["id"], self)
        self.stats = DrillStats()
        self.peer: Peer | None = None
        self.node: NodeProcess | None = None
        self.resumed = asyncio.Event()  # set while joined on a live connection
        self._cids = itertools.count(1)
        self._bodies: dict[str, str] = {}
        self._in_flight: dict[str, float] = {}  # cid -> last sent at
        self._retry: dict[str, float] = {}  # cid -> resend not before
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._bounce = False
        self._stay = False

    # -- frames ----------------------------------------------------------------------------

    def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        t = now()
        if kind == "ack":
            sent = self._in_flight.pop(frame["cid"], None)
            self._retry.pop(frame["cid"], None)
            if sent is not None:
                self.stats.answers.append(Answer(frame["cid"], sent, t, "ack"))
            self._wake.set()
        elif kind == "error" and "cid" in frame:
            sent = self._in_flight.pop(frame["cid"], None)
            if sent is not None:
                self.stats.answers.append(Answer(frame["cid"], sent, t, str(frame.get("code"))))
            if frame.get("retry"):
                self._retry[frame["cid"]] = t + 0.2 + random.random() * 0.3
            self._wake.set()
        elif kind == "message":
            found = _TIMED.search(frame.get("body", ""))
            if found:
                self.stats.latencies_ms.append((t, (t - float(found.group(1))) * 1000))

    # -- state -----------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        reader = self.log.reader(self.room)
        return (reader.last_seq or 0) if reader else 0

    def describe(self) -> str:
        return (f"{self.name} in {self.room} at seq {self.last_seq}, resumed "
                f"{self.resumed.is_set()}, outages {self.stats.outages[-2:]}, "
                f"on {self.node.name if self.node else None} "
                f"(closed {self.peer.close_code if self.peer and self.peer.closed.is_set() else '-'}): "
                f"{self.stats.connect_failures} connect failures, {self.stats.join_failures} refused "
                f"joins, last errors {self.log.errors[-2:]}")

    def unacked(self) -> list[str]:
        acked = self.log.acked(self.room)
        return [cid for cid in self._bodies if cid not in acked]

    def acked_count(self) -> int:
        return len(self.log.acked(self.room))

    # -- running ---------------------------------------------------------------------------

    def start(self, stop: asyncio.Event) -> None:
        self._task = asyncio.create_task(self._run(stop), name=f"drill:{self.name}")

    async def finish(self) -> None:
        assert self._task is not None
        await self._task

    def bounce(self, *, stay: bool = False) -> None:
        """Close this client's connection as a user's network would drop it; it reconnects,
        to the same node with `stay` (the nodes' connections stay as they were, so their
        tasks and fds can be compared before and after), else to another one."""
        if self.peer is not None and not self.peer.closed.is_set():
            self._bounce = True
            self._stay = stay
            self.resumed.clear()  # from now: not until it has joined again
            asyncio.create_task(self.peer.client.ws.close())

    def _pick(self) -> NodeProcess | None:
        live = self.drill.cluster.live()
        if not live:
            return None
        if self.node is None:  # first connection: its home node
            return self.drill.cluster.nodes[self.home % len(self.drill.cluster.nodes)]
        if self._stay and self.node.alive:
            return self.node
        others = [n for n in live if n is not self.node] or live
        return random.choice(others)

    async def _run(self, stop: asyncio.Event) -> None:
        outage: Outage | None = None
        first = True
        while True:
            if self.drill.halt.is_set():
                break
            node = self._pick()
            if node is None:
                await asyncio.sleep(0.1)
                continue
            try:
                peer = await Peer.connect(node.ws_url, self.account, self.log, binary=self.binary)
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                self.stats.connect_failures += 1
                self.node = node  # try another one next
                if outage is None and not first:
                    outage = Outage(now(), None)
                await asyncio.sleep(0.05 + random.random() * 0.2)
                continue
            self.peer, self.node = peer, node
            self._stay = False
            try:
                if not await self._join(peer):
                    await peer.close()
                    await asyncio.sleep(0.2 + random.random() * 0.3)
                    continue
                if outage is not None:
                    outage.resumed_at = now()
                    self.stats.outages.append(outage)
                    outage = None
                first = False
                self.resumed.set()
                await self._serve(peer, stop)
                over = True  # the drill is over: every send acked, every stream caught up
            except (ConnectionError, websockets.ConnectionClosed, TimeoutError):
                # The connection dropped: the node died, stopped, or we bounced it. A send can
                # meet the closing connection before the reader has seen the close: that is a
                # drop too, not the end of the drill.
                over = False
            finally:
                self.resumed.clear()
            await peer.close()
            if over:
                break
            outage = Outage(now(), peer.close_code)
            self._in_flight.clear()  # unanswered: resent with the same cid after reconnecting
            if not self._bounce:
                await asyncio.sleep(random.random() * 0.5)  # jitter: not all at once
            self._bounce = False

    async def _join(self, peer: Peer) -> bool:
        """Join the room, or resume it with since = the last seq held. False if refused: a
        refusal is an `error` frame with neither cid nor rid (it names no room), so Peer.join
        would wait for its timeout; this returns at once and the client tries again."""
        reader = self.log.reader(self.room)
        since = reader.last_seq if reader is not None else None
        self.log.joining(self.room, since, resume=since is not None)
        count = len(peer.client.frames)
        frame: dict[str, Any] = {"type": "join", "room": self.room}
        if since is not None:
            frame["since"] = since
        await peer.client.send_frame(frame)
        answer: list[dict[str, Any]] = []

        def answered() -> bool:
            for f in peer.client.frames[count:]:
                if ((f["type"] == "joined" and f.get("room") == self.room)
                        or (f["type"] == "error" and "cid" not in f and "rid" not in f)):
                    answer.append(f)
                    return True
            return False

        try:
            await peer.until(answered, f"joined {self.room}")
        except TimeoutError:
            self.stats.join_failures += 1
            return False
        if answer[0]["type"] == "error":
            self.stats.join_failures += 1
            return False
        return True

    async def _serve(self, peer: Peer, stop: asyncio.Event) -> None:
        """Resend what is unacked, then send new messages until `stop`; return once the drill
        halts (Drill.finish: every send acked, every client caught up); raise ConnectionError
        when the connection drops."""
        self._retry.clear()  # everything unacked goes again now
        for cid in self.unacked():
            await self._send(peer, cid)
        last_new = 0.0
        while True:
            if peer.closed.is_set():
                raise ConnectionError("closed")
            t = now()
            if self.drill.halt.is_set():
                return
            for cid, due in list(self._retry.items()):
                if due <= t:
                    del self._retry[cid]
                    if cid not in self._in_flight:
                        await self._send(peer, cid)
            if (self.sender and not stop.is_set() and len(self._in_flight) < self.window
                    and not self._retry and t - last_new >= self.send_interval_s):
                cid = f"{self.name}-{next(self._cids)}"
                self._bodies[cid] = f"{cid} t={t:.6f}"
                await self._send(peer, cid)
                last_new = t
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.05 if self.sender else 0.25)

    async def _send(self, peer: Peer, cid: str) -> None:
        self._in_flight[cid] = now()
        await peer.send(self.room, self._bodies[cid], cid)


# ---------------------------------------------------------------------------------------------
# A drill: a cluster and its clients


class Drill:
    """Clients spread over the cluster's nodes and rooms: `senders` send one message every
    `send_interval_s` each (window 4), `readers` only read. Every client reads its room."""

    def __init__(self, cluster: Cluster, *, senders: int, readers: int, rooms: Iterable[str] = ROOMS,
                 send_interval_s: float = 0.1) -> None:
        self.cluster = cluster
        self.rooms = list(rooms)
        self.senders = senders
        self.readers = readers
        self.send_interval_s = send_interval_s
        self.clients: list[DrillClient] = []
        self.stop = asyncio.Event()  # no new sends
        self.halt = asyncio.Event()  # clients close and end

    async def start(self) -> Drill:
        count = self.senders + self.readers
        node = self.cluster.live()[0]
        accounts = []
        for start in range(0, count, 20):
            accounts += await asyncio.gather(*(register(node.url, f"d{i}") for i in
                                               range(start, min(count, start + 20))))
        for i, account in enumerate(accounts):
            self.clients.append(DrillClient(
                self, account, self.rooms[i % len(self.rooms)], sender=i < self.senders,
                binary=i % 2 == 0, home=i, send_interval_s=self.send_interval_s))
        for client in self.clients:
            client.start(self.stop)
        await eventually(lambda: all(c.resumed.is_set() for c in self.clients),
                         "every drill client joined", 60)
        return self

    # -- figures ---------------------------------------------------------------------------

    def acked(self) -> int:
        return sum(c.acked_count() for c in self.clients)

    async def more_acks(self, count: int, what: str, wait_s: float = 30) -> None:
        target = self.acked() + count
        await eventually(lambda: self._raise_if_failed() or self.acked() >= target, what, wait_s)

    async def all_resumed(self, what: str, wait_s: float = 15) -> None:
        try:
            await eventually(lambda: self._raise_if_failed() or all(c.resumed.is_set() for c in self.clients),
                             what, wait_s)
        except TimeoutError:
            stuck = [c.describe() for c in self.clients if not c.resumed.is_set()]
            raise TimeoutError(f"{what}: not resumed: {stuck}") from None

    def heads(self) -> dict[str, int]:
        """The highest acked seq per room so far."""
        out: dict[str, int] = {}
        for c in self.clients:
            for ack in c.log.acks:
                out[ack.room] = max(out.get(ack.room, 0), ack.seq)
        return out

    def _raise_if_failed(self) -> bool:
        for c in self.clients:
            if c._task is not None and c._task.done() and c._task.exception() is not None:
                raise c._task.exception()  # type: ignore[misc]
        return False

    async def convergence(self, heads: dict[str, int], t0: float, clients: list[DrillClient],
                          wait_s: float, *, reconnected: bool = False) -> dict[str, float | None]:
        """For each client: seconds from t0 until it was joined on a live connection and held
        every seq of its room up to heads[room] (None if not within wait_s). With `reconnected`
        (the clients of a node that died) only a connection opened after t0 counts."""
        done: dict[str, float | None] = {c.name: None for c in clients}
        deadline = now() + wait_s

        def again(c: DrillClient) -> bool:
            return not reconnected or any(o.closed_at >= t0 and o.resumed_at is not None
                                          for o in c.stats.outages)

        while now() < deadline:
            self._raise_if_failed()
            for c in clients:
                if (done[c.name] is None and c.resumed.is_set() and again(c)
                        and c.last_seq >= heads.get(c.room, 0)):
                    done[c.name] = now() - t0
            if all(v is not None for v in done.values()):
                break
            await asyncio.sleep(0.01)
        return done

    async def finish(self, wait_s: float = 60) -> None:
        """Stop new sends; wait until every send is acked (retrying) and every client is
        joined and holds its room's head; then close every client."""
        self.stop.set()
        await eventually(lambda: self._raise_if_failed() or all(
            not c._in_flight and not c.unacked() for c in self.clients), "every send acked", wait_s)
        heads = self.heads()
        await eventually(lambda: self._raise_if_failed() or all(
            c.resumed.is_set() and c.last_seq >= heads.get(c.room, 0) for c in self.clients),
            f"every client holds its room's head {heads}", wait_s)
        self.halt.set()
        for c in self.clients:
            c._wake.set()
        await asyncio.wait_for(asyncio.gather(*(c.finish() for c in self.clients)), wait_s)

    async def check(self, store: Any) -> dict[str, Any]:
        """The history checker over every client's log; also that every cid ever sent is
        stored exactly once (nothing lost, nothing doubled)."""
        stored = await stored_messages(store, self.rooms)
        summary = check(stored, [c.log for c in self.clients])
        sent = {(c.log.author_id, cid) for c in self.clients for cid in c._bodies}
        keys = [(m.author_id, m.cid) for m in stored]
        assert len(keys) == len(set(keys)), "a cid stored twice"
        assert set(keys) == sent, f"{len(sent - set(keys))} sent cid(s) not stored"
        return {"stored": len(stored), "acked": summary.acked, "readers": summary.readers,
                "deliveries": summary.deliveries}

    def answers(self) -> list[Answer]:
        return [a for c in self.clients for a in c.stats.answers]

    def outages(self) -> list[Outage]:
        return [o for c in self.clients for o in c.stats.outages]

    def latencies(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return [ms for c in self.clients for at, ms in c.stats.latencies_ms if since <= at < until]


@contextlib.asynccontextmanager
async def store_of(database_url: str):  # noqa: ANN201
    """A PostgresStore on the drill's database, for the checker."""
    from chat.store.postgres import PostgresStore

    async with PostgresStore.open(database_url, min_size=1, max_size=2) as store:
        yield store


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def env_for(database_url: str, redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    return {"ECOLINK_DATABASE_URL": database_url, "ECOLINK_REDIS_URL": redis_url,
            "ECOLINK_REDIS_PREFIX": prefix, **extra}


def unique(tag: str) -> str:
    return f"{tag}_{int(time.time())}_{os.getpid()}_{random.randrange(10**6)}"


class HttpProbe:
    """GET /api/v1/rooms on a random live node every `interval_s`, as a member: counts the
    answers by status. A refused connection (the node's socket is closed) is counted apart:
    a load balancer would send that request to another node; a 5xx reached the user."""

    def __init__(self, cluster: Cluster, token: str, interval_s: float = 0.05) -> None:
        self.cluster = cluster
        self.token = token
        self.interval_s = interval_s
        self.statuses: dict[int, int] = {}
        self.refused = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> HttpProbe:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> dict[int, int]:
        self._stop.set()
        assert self._task is not None
        await self._task
        return self.statuses

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    async def _run(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(timeout=10, headers=headers,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while not self._stop.is_set():
                live = self.cluster.live()
                if live:
                    node = random.choice(live)
                    try:
                        status = (await http.get(f"{node.url}/api/v1/rooms")).status_code
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                    except httpx.TransportError:
                        self.refused += 1
                await asyncio.sleep(self.interval_s)
