"""Webinar board: N attendees vote and answer a poll within seconds; what reaches each client.

Two nodes (``ecolink serve``) on one fresh PostgreSQL database and Redis prefix; --attendees
attendees (2,000), half connected to each node over WebSockets and joined to the webinar's
room. Each votes once for the host's question at a random moment within --spread-s (10 s), over
HTTP to its own node, then each answers a public poll the same way. Each attendee keeps its own
HTTP/1.1 keep-alive connection (one httpx.AsyncClient each, as a browser tab keeps one), opened
before each phase; a connection idle for 4 s is dropped and opened again when needed (uvicorn
closes idle ones after 5 s, and so would a browser's be). Reported per phase: `board` frames each
client received per second (mean, max), bytes per client, the time from the last acknowledged
vote (answer) until every client holds the exact final counts, and the vote (answer)
acknowledgement latency (from sending the request to reading the whole response, p50 / p99).
The load generator runs in this process (asyncio, raw-socket WebSocket clients from
bench/wsload.py, httpx for HTTP), beside the nodes: on a 2-core machine they share the cores, so
the figures are an upper bound of the cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import ssl
import time
from datetime import UTC, datetime, timedelta

import httpx
import msgpack

from bench import nodes, targets
from bench.harness import BenchError, Report, fmt, log, machine_lines, percentile, positive_float, positive_int, table
from bench.wsload import Stats, WsClient, close_all, register_users

NAME = "webinar"
HELP = "N attendees vote and answer a poll on two nodes; board frames per client, time to exact counts"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
HOST = "127.0.0.1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--attendees", type=positive_int, default=2000,
                   help="attendees connected and voting, half on each node (default 2000)")
    p.add_argument("--spread-s", type=positive_float, default=10.0,
                   help="each attendee votes (and answers) at a random moment within this many seconds (default 10)")
    p.add_argument("--tick-ms", type=positive_int, default=250,
                   help="ECOLINK_BOARD_TICK_MS of both nodes (default 250)")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.attendees < 2:
        parser.error("--attendees must be at least 2 (one per node)")
    if not 10 <= args.tick_ms <= 10_000:
        parser.error("--tick-ms must be from 10 to 10000 (ECOLINK_BOARD_TICK_MS's range)")


class BoardClient(WsClient):
    """Counts `board` frames and their bytes, and keeps the highest-version counts."""

    def __init__(self, stats: Stats, host: str, port: int, token: str | None) -> None:
        super().__init__(stats, host, port, token)
        self.frames = 0
        self.bytes = 0
        self.questions: dict[str, list[int]] = {}
        self.polls: dict[str, tuple[list[int], int]] = {}
        self.raised: dict[str, list[tuple[int, float]]] = {}  # key -> (a higher version, when it came)

    def on_message(self, payload: bytes, now: int) -> None:
        m = msgpack.unpackb(payload)
        kind = m.get("type")
        if kind == "joined" and not self.joined.done():
            self.joined.set_result(m["seq"])
        elif kind == "board":
            self.frames += 1
            self.bytes += len(payload)
            for qid, pair in m["questions"].items():
                if pair[1] > self.questions.get(qid, [0, -1])[1]:
                    self.questions[qid] = pair
                    self._raised(qid, pair[1])
            for pid, entry in m["polls"].items():
                if entry["version"] > self.polls.get(pid, ([], -1))[1]:
                    self.polls[pid] = (entry["counts"], entry["version"])
                    self._raised(pid, entry["version"])
        elif kind == "error":
            self.stats.record_error(m)

    def _raised(self, key: str, version: int) -> None:
        self.raised.setdefault(key, []).append((version, time.monotonic()))

    def held(self, key: str, version: int) -> float | None:
        """When this client first held `version` (or a higher one) of `key`, if it did."""
        return next((at for v, at in self.raised.get(key, []) if v >= version), None)


async def request(port: int, method: str, path: str, token: str | None, body: dict | None = None):
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        payload = json.dumps(body).encode() if body is not None else b""
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        writer.write((f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n{auth}"
                      f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload)
        raw = await reader.read()
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(rest) if rest else None


# Below uvicorn's keep-alive timeout (5 s), so the client never sends on a connection the server
# is closing; an idle connection is dropped by the client first and opened again when needed.
KEEPALIVE_EXPIRY_S = 4.0


ERRORS: dict[str, int] = {}  # HTTP client errors by name, over the run

# One TLS context for every client (never used: plain HTTP), so making 2,000 clients does not
# load the CA bundle 2,000 times: that blocked the loop until the servers dropped its WebSockets.
_TLS = ssl.create_default_context()


def attendee_client(port: int) -> httpx.AsyncClient:
    """One attendee's HTTP client: one keep-alive connection to its node, as a browser tab
    keeps. (One client per node with a pool of 1,000 connections instead costs httpcore's pool
    a scan of its connections per request: the load generator, not the server, became slow.)"""
    return httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=httpx.Timeout(300.0), verify=_TLS,
                             limits=httpx.Limits(max_connections=1, keepalive_expiry=KEEPALIVE_EXPIRY_S))


async def keep_request(client: httpx.AsyncClient, token: str, method: str, path: str, body: dict | None = None):
    """(status, body); status 0 for a client error (counted by name in ERRORS). A request lost
    with its kept-alive connection (closed or reset by the server before any answer) is sent
    once more, as browsers do for idempotent requests on a reused connection; the latency
    measured includes it."""
    for attempt in range(2):
        try:
            response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            ERRORS[type(exc).__name__] = ERRORS.get(type(exc).__name__, 0) + 1
            if attempt == 0 and method in ("GET", "PUT", "DELETE"):
                continue
            return 0, None
        except httpx.HTTPError as exc:
            ERRORS[type(exc).__name__] = ERRORS.get(type(exc).__name__, 0) + 1
            return 0, None
        return response.status_code, response.content
    return 0, None


async def connect(port: int, tokens: list[str], room: str, stats: Stats) -> list[BoardClient]:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(50)

    async def one(token: str) -> BoardClient:
        async with sem:
            _, client = await loop.create_connection(lambda: BoardClient(stats, HOST, port, token), HOST, port)
            await asyncio.wait_for(client.opened, 60)
            client.send_obj({"type": "join", "room": room})
            await asyncio.wait_for(client.joined, 60)
            return client

    return list(await asyncio.gather(*(one(t) for t in tokens)))


async def warm(http: list[tuple[httpx.AsyncClient, str]]) -> None:
    """Open connections in the pools (each attendee's GET /api/v1/me, 50 at a time), as the
    page loads did in a browser."""
    sem = asyncio.Semaphore(50)

    async def one(client: httpx.AsyncClient, token: str) -> None:
        async with sem:
            for _ in range(3):  # a connection the server closed as it was reused: again
                status, _ = await keep_request(client, token, "GET", "/api/v1/me")
                if status == 200:
                    return
            raise BenchError(f"warming a connection failed: HTTP {status}, client errors {ERRORS}")

    await asyncio.gather(*(one(c, t) for c, t in http))


async def phase(name: str, clients: list[BoardClient], key: str, calls: list, spread_s: float) -> dict:
    """Run the calls at random moments within spread_s; then wait until every client holds the
    version of `key` the successful calls made (each raises it by one: the base version is
    the highest any client held before)."""
    base = max((c.raised[key][-1][0] for c in clients if c.raised.get(key)), default=0)
    for c in clients:
        c.frames, c.bytes = 0, 0
    latencies: list[float] = []
    done_at: list[float] = []
    statuses: dict[int, int] = {}

    async def one(call) -> None:
        await asyncio.sleep(random.random() * spread_s)
        t0 = time.monotonic()
        status, _ = await call()
        done_at.append(time.monotonic())
        latencies.append((done_at[-1] - t0) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    await asyncio.gather(*(one(call) for call in calls))
    last_ack = max(done_at)
    target = base + statuses.get(200, 0)
    deadline = time.monotonic() + 60
    while any(c.held(key, target) is None for c in clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    exact = [at for at in (c.held(key, target) for c in clients) if at is not None]
    duration = max([last_ack, *exact]) - started
    log(f"{name}: {len(calls)} calls {statuses}, {len(exact)}/{len(clients)} clients exact; client errors so far {ERRORS}")
    return {
        "calls": len(calls), "failures": len(calls) - statuses.get(200, 0), "statuses": statuses,
        "ack_p50_ms": percentile(latencies, 50), "ack_p99_ms": percentile(latencies, 99),
        "frames_per_client_per_s_mean": sum(c.frames for c in clients) / len(clients) / duration,
        "frames_per_client_per_s_max": max(c.frames for c in clients) / duration,
        "frames_per_client_mean": sum(c.frames for c in clients) / len(clients),
        "bytes_per_client_mean": sum(c.bytes for c in clients) / len(clients),
        "exact_clients": len(exact), "clients": len(clients),
        "exact_after_last_ack_ms_max": max((max(exact) - last_ack) * 1000, 0.0) if exact else None,
        "exact_after_last_ack_ms_p50": max(percentile([(t - last_ack) * 1000 for t in exact], 50), 0.0) if exact else None,
        "seconds": duration,
    }


async def drive(ports: list[int], db_url: str, args: argparse.Namespace) -> dict:
    import asyncpg

    n = args.attendees
    host_token = (await register_users(HOST, ports[0], 1, f"host{int(time.time())}"))[0]
    status, me = await request(ports[0], "GET", "/api/v1/me", host_token)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE users SET role = 'admin' WHERE user_id = $1", me["user"]["id"])
    finally:
        await conn.close()
    start = datetime.now(UTC) + timedelta(minutes=5)
    status, body = await request(ports[0], "POST", "/api/v1/webinars", host_token, {
        "title": {"en": "Bench"}, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()})
    if status != 201:
        raise BenchError(f"scheduling failed: {status} {body}")
    webinar = body["webinar"]["id"]
    _, asked = await request(ports[0], "POST", f"/api/v1/webinars/{webinar}/questions", host_token, {"body": "Vote me"})
    question = asked["question"]["id"]
    _, made = await request(ports[0], "POST", f"/api/v1/webinars/{webinar}/polls", host_token, {
        "question": {"en": "Which?"}, "options": [{"en": "A"}, {"en": "B"}, {"en": "C"}], "results_public": True})
    poll = made["poll"]["id"]
    await request(ports[0], "POST", f"/api/v1/webinars/{webinar}/polls/{poll}/open", host_token)
    stamp = int(time.time())
    tokens = [await register_users(HOST, port, n // 2 + (i < n % 2), f"w{i}-{stamp}") for i, port in enumerate(ports)]
    stats = Stats()
    clients = [await connect(port, tokens[i], webinar, stats) for i, port in enumerate(ports)]
    everyone = clients[0] + clients[1]
    log(f"{len(everyone)} attendees joined {webinar}")
    http = [(attendee_client(ports[i]), t) for i in range(2) for t in tokens[i]]
    try:
        await warm(http)
        votes = await phase("votes", everyone, question, [
            (lambda c=c, t=t: keep_request(c, t, "PUT", f"/api/v1/webinars/{webinar}/questions/{question}/vote"))
            for c, t in http], args.spread_s)
        await warm(http)
        answers = await phase("poll answers", everyone, poll, [
            (lambda c=c, t=t: keep_request(c, t, "PUT", f"/api/v1/webinars/{webinar}/polls/{poll}/answer",
                                           {"choices": [random.randrange(3)]}))
            for c, t in http], args.spread_s)
    finally:
        await asyncio.gather(*(c.aclose() for c, _ in http))
    _, snapshot = await request(ports[1], "GET", f"/api/v1/webinars/{webinar}/board", host_token)
    final_votes = snapshot["questions"][0]["votes"][0]
    final_answers = snapshot["polls"][0]["answers"]
    await close_all(everyone)
    return {"attendees": n, "votes": votes, "answers": answers, "final_votes": final_votes,
            "final_answers": final_answers, "errors": stats.errors,
            "counts_right": final_votes == n and final_answers == n
            and all(c.questions.get(question, [0])[0] == n for c in everyone)}


def run(args: argparse.Namespace) -> Report:
    targets.prepare(args, ["postgres"], args.attendees + 100)
    report = Report(NAME, machine_lines() + [
        f"- webinar board: {args.attendees:,} attendees on two nodes (PostgreSQL + Redis), each votes and"
        f" then answers a poll at a random moment within {args.spread_s:g} s; ECOLINK_BOARD_TICK_MS={args.tick_ms};"
        " nodes and load generator unpinned on the same machine"])
    settings = {**targets.LIFTED_LIMITS, "ECOLINK_BOARD_TICK_MS": str(args.tick_ms)}
    with nodes.fresh_node_env("postgres", args, settings, tag="webinar") as env, contextlib.ExitStack() as stack:
        command = lambda port: nodes.serve_command(args, port)  # noqa: E731
        ports = [stack.enter_context(nodes.running(command, env.env, None, f"node {i + 1}"))[1] for i in range(2)]
        nodes.raise_nofile(args.attendees * 3 + 1000)
        result = asyncio.run(drive(ports, env.env["ECOLINK_DATABASE_URL"], args))
    report.results["postgres"] = result
    rows = []
    for label, r in (("votes", result["votes"]), ("poll answers", result["answers"])):
        rows.append([label, fmt(r["calls"]), fmt(r["failures"]),
                     fmt(r["frames_per_client_per_s_mean"], 2) + " / " + fmt(r["frames_per_client_per_s_max"], 2),
                     fmt(r["frames_per_client_mean"], 1), fmt(r["bytes_per_client_mean"] / 1024, 1),
                     fmt(r["exact_after_last_ack_ms_p50"], 0) + " / " + fmt(r["exact_after_last_ack_ms_max"], 0),
                     fmt(r["ack_p50_ms"], 0) + " / " + fmt(r["ack_p99_ms"], 0),
                     f"{r['exact_clients']}/{r['clients']}"])
    report.add("Webinar board", table(
        ["phase", "calls", "failed", "board frames/s per client (mean / max)", "frames per client",
         "KiB per client", "exact after last ack ms (p50 / max)", "ack p50 / p99 ms", "clients exact"], rows))
    return report
