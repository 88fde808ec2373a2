"""Floods and limits (issue 16, case 15): each abuse limit driven past its bound against a node
process, with what was refused, how fast, and what the other members saw meanwhile.

One fresh `ecolink serve` per scenario (bench/nodes.py), with the production defaults except
the registration proof-of-work (ECOLINK_REGISTRATION_POW_BITS 8, so setting up accounts is
quick; scenario "registration" keeps the default) and, in "timeouts", shorter head and body
deadlines (2 s, so the run stays short; the mechanism is the same at 10 s and 30 s). The
password hash is the production profile (rfc9106_low_memory) throughout.

While each flood runs, --observers members on their own sockets each send a message to the
room every 100 ms and time its ack: the table gives their ack p50/p99 in the 3 s before the
flood (baseline) and during it. The attacker and the observers run in this process, the node
in its own; on a 2-core machine they share the cores, so the figures are what the others saw
on that machine, not a capacity.

Scenarios: budget (one member on 3 sockets sends as fast as it can: the member budget, then
the strike close), sockets (opens 2x the per-member socket cap), handshakes (bad tokens past
the per-address cap), registration (sign-ups past the per-address cap), login (wrong
passwords past the per-account-and-address threshold), hashing (sign-ups past the
hashing pool's queue: 503 busy), timeouts (silent sockets and stalled bodies).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bench import nodes
from bench.harness import Report, fmt, log, machine_lines, percentile, positive_float, positive_int, table

NAME = "floods"
HELP = "each abuse limit driven past its bound: what was refused, how fast, the others' p99"
MODES = ("embedded", "postgres")
DEFAULT_MODE = "embedded"
ROOM = "green-transport"
SCENARIOS = ("budget", "sockets", "handshakes", "registration", "login", "hashing", "timeouts")
BASE = {"ECOLINK_REGISTRATION_POW_BITS": "8", "ECOLINK_LOG_LEVEL": "warning",
        "ECOLINK_REGISTER_PER_ADDRESS_MAX": "1000"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--observers", type=positive_int, default=4, help="members measuring their acks (default 4)")
    p.add_argument("--flood-s", type=positive_float, default=5.0, help="how long the budget flood runs (default 5)")
    p.add_argument("--only", choices=SCENARIOS, action="append", help="run only these scenarios")


def ms(values: list[float]) -> str:
    return f"{fmt(statistics.median(values) * 1000)} / {fmt(max(values) * 1000)}" if values else "-"


class Observers:
    """Members who each send every 100 ms and time the ack; `window()` cuts the samples."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (sent at, ack latency s)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self.clients: list[Any] = []

    async def start(self, base_url: str, ws_url: str, count: int) -> None:
        from tests.support.client import WsClient, register

        for n in range(count):
            account = await register(base_url, f"Observer{n}")
            ws = await WsClient.connect(ws_url, account["token"])
            await ws.join(ROOM)
            self.clients.append(ws)
            self._tasks.append(asyncio.create_task(self._run(ws, n)))

    async def _run(self, ws: Any, n: int) -> None:
        k = 0
        while not self._stop.is_set():
            cid = f"o{n}.{k}"
            k += 1
            sent = time.perf_counter()
            await ws.send_frame({"type": "send", "room": ROOM, "body": f"observer {n} says {k}", "cid": cid})
            frame = await ws.recv_until(lambda f, cid=cid: f.get("cid") == cid and f["type"] in ("ack", "error"))
            if frame["type"] == "ack":
                self.samples.append((sent, time.perf_counter() - sent))
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - sent)))

    def window(self, start: float, end: float) -> list[float]:
        return [lat for at, lat in self.samples if start <= at < end]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ws in self.clients:
            with contextlib.suppress(Exception):
                await ws.close()


def p50_p99(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{fmt(statistics.median(values) * 1000)} / {fmt(percentile(values, 99) * 1000)}"


async def solved(http: Any, count: int) -> list[dict[str, str]]:
    """`count` registration proofs, solved now (so the flood itself spends no client CPU)."""
    from chat.accounts.challenge import solve

    proofs = []
    for _ in range(count):
        answer = (await http.get("/api/v1/registration/challenge")).json()
        proofs.append({"challenge": answer["challenge"],
                       "nonce": await asyncio.to_thread(solve, answer["challenge"], answer["bits"])})
    return proofs


# -- the floods: each returns (what was driven, what was refused, refusal latency, notes) ------


async def budget(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                 mark: Callable[[], None]) -> list[str]:
    from tests.support.client import WsClient

    sockets = [await WsClient.connect(ws_url, attacker["token"]) for _ in range(3)]
    sent: dict[str, float] = {}
    acked, refused, refusal_s, closed = 0, 0, [], []
    started = time.perf_counter()

    async def read(ws: Any) -> None:
        nonlocal acked, refused
        with contextlib.suppress(Exception):
            while True:
                frame = await ws.recv(30)
                cid = frame.get("cid")
                if frame["type"] == "ack":
                    acked += 1
                elif frame["type"] == "error" and frame.get("code") == "rate_limited":
                    refused += 1
                    if cid in sent:
                        refusal_s.append(time.perf_counter() - sent[cid])
        closed.append((time.perf_counter() - started, ws.ws.close_code))

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    k = 0
    while time.perf_counter() - started < args.flood_s and len(closed) < len(sockets):
        for n, ws in enumerate(sockets):
            cid = f"f{n}.{k}"
            sent[cid] = time.perf_counter()
            with contextlib.suppress(Exception):
                await ws.send_frame({"type": "send", "room": ROOM, "body": f"flood {k}", "cid": cid})
        k += 1
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.5)
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - started
    del elapsed
    struck = [at for at, code in closed if code == 4029]
    return [f"{len(sent)} sends on 3 sockets, as fast as they go (burst 100, 50/s; 50 strikes)",
            f"{acked} acked, {refused} `rate_limited`; {len(struck)} of 3 sockets closed 4029 "
            f"(after {fmt(min(struck)) if struck else '-'} to {fmt(max(struck)) if struck else '-'} s)",
            ms(refusal_s)]


async def sockets(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                  mark: Callable[[], None]) -> list[str]:
    from websockets.exceptions import InvalidStatus

    from tests.support.client import WsClient

    opened, statuses, refusal_s = [], [], []
    for _ in range(40):
        start = time.perf_counter()
        try:
            opened.append(await WsClient.connect(ws_url, attacker["token"]))
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
            refusal_s.append(time.perf_counter() - start)
    for ws in opened:
        await ws.close()
    return ["40 sockets of one member (cap 20)", f"{len(opened)} opened, {len(statuses)} refused "
            f"{sorted(set(statuses))} `too_many_connections`", ms(refusal_s)]


async def handshakes(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                     mark: Callable[[], None]) -> list[str]:
    from websockets.exceptions import InvalidStatus

    from tests.support.client import WsClient

    statuses, refusal_s = [], []
    for _ in range(60):
        start = time.perf_counter()
        try:
            await WsClient.connect(ws_url, "not-a-token")
        except InvalidStatus as exc:
            statuses.append(exc.response.status_code)
            if exc.response.status_code == 429:
                refusal_s.append(time.perf_counter() - start)
    return ["60 upgrades with a bad token from one address (cap 30 a minute)",
            f"{statuses.count(401)} × 401, then {statuses.count(429)} × 429 `rate_limited`", ms(refusal_s)]


async def registration(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                       mark: Callable[[], None]) -> list[str]:
    from tests.support.client import http_client

    statuses, refusal_s = [], []
    async with http_client(url) as http:
        proofs = await solved(http, 25)  # before the flood: the proof-of-work is the client's CPU
        mark()
        for n, proof in enumerate(proofs):
            start = time.perf_counter()
            response = await http.post("/api/v1/accounts", json={
                "email": f"signup{n}@bench.example", "password": "correct horse battery",
                "display_name": f"Signup{n}", "proof": proof})
            statuses.append(response.status_code)
            if response.status_code == 429:
                refusal_s.append(time.perf_counter() - start)
    return [f"25 sign-ups from one address (cap 20 an hour, {args.observers + 1} used by the attacker and the observers; "
            "proofs solved beforehand)",
            f"{statuses.count(201)} × 201, then {statuses.count(429)} × 429", ms(refusal_s)]


async def login(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                mark: Callable[[], None]) -> list[str]:
    from tests.support.client import http_client

    email = attacker["user"]["email"]
    latencies: list[tuple[int, float]] = []
    async with http_client(url) as http:
        for _ in range(12):
            start = time.perf_counter()
            response = await http.post("/api/v1/sessions", json={"email": email, "password": "wrong guess"})
            latencies.append((response.status_code, time.perf_counter() - start))
        start = time.perf_counter()
        owner = await http.post("/api/v1/sessions", json={"email": email, "password": "correct horse"})
        owner_s = time.perf_counter() - start
    first = latencies[0][1]
    codes = [code for code, _ in latencies]
    refused = [s for code, s in latencies if code == 429]
    return ["12 wrong passwords for one account from one address (5 allowed per 15 min)",
            f"{codes.count(401)} × 401, then {codes.count(429)} × 429 (that address, that account); "
            f"the right password from there too: {owner.status_code} in {fmt(owner_s * 1000)} ms",
            f"{ms(refused)} (a checked guess: {fmt(first * 1000)} ms)"]


async def hashing(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                  mark: Callable[[], None]) -> list[str]:
    from tests.support.client import http_client

    async def one(http: Any, n: int, proof: dict[str, str]) -> tuple[int, float]:
        start = time.perf_counter()
        response = await http.post("/api/v1/accounts", json={
            "email": f"crowd{n}@bench.example", "password": "correct horse battery",
            "display_name": f"Crowd{n}", "proof": proof})
        return response.status_code, time.perf_counter() - start

    async with http_client(url, wait_units=120) as http:
        proofs = await solved(http, 60)
        mark()
        results = await asyncio.gather(*(one(http, n, proof) for n, proof in enumerate(proofs)))
    busy = [s for code, s in results if code == 503]
    ok = [s for code, s in results if code == 201]
    return ["60 sign-ups at once, each a password hash (2 hashing workers, queue 16)",
            f"{len(ok)} × 201 (p50 / max {ms(ok)} ms), {len(busy)} × 503 `busy`, "
            f"{len(results) - len(ok) - len(busy)} other", ms(busy)]


async def timeouts(url: str, ws_url: str, args: argparse.Namespace, attacker: dict[str, Any],
                   mark: Callable[[], None]) -> list[str]:
    port = int(url.rsplit(":", 1)[1])
    head = (b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400\r\n\r\n{")

    async def held(payload: bytes) -> tuple[bytes, float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.perf_counter()
        if payload:
            writer.write(payload)
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)
        writer.close()
        return answer[:12], time.perf_counter() - start

    silent = await asyncio.gather(*(held(b"") for _ in range(100)))
    stalled = await asyncio.gather(*(held(head) for _ in range(100)))
    half = await asyncio.gather(*(held(b"GET /api/v1/roo") for _ in range(100)))
    return ["100 silent sockets, 100 half request lines, 100 stalled bodies (deadlines 2 s)",
            f"all closed: silent {len([a for a, _ in silent if a == b''])} with nothing, half heads "
            f"{len([a for a, _ in half if a.startswith(b'HTTP/1.1 408')])} × 408, bodies "
            f"{len([a for a, _ in stalled if a.startswith(b'HTTP/1.1 408')])} × 408",
            f"silent {ms([s for _, s in silent])}; heads {ms([s for _, s in half])}; bodies {ms([s for _, s in stalled])}"]


Flood = Callable[[str, str, argparse.Namespace, dict[str, Any], Callable[[], None]], Awaitable[list[str]]]
FLOODS: dict[str, tuple[Flood, dict[str, str]]] = {
    # An established member's budget (the stricter one of accounts younger than
    # ECOLINK_NEW_ACCOUNT_HOURS is a separate limit, tests/e2e/test_abuse_limits.py).
    "budget": (budget, {"ECOLINK_NEW_ACCOUNT_HOURS": "0"}),
    "sockets": (sockets, {}),
    "handshakes": (handshakes, {}),
    "registration": (registration, {"ECOLINK_REGISTER_PER_ADDRESS_MAX": "20", "ECOLINK_REGISTRATION_POW_BITS": "18"}),
    "login": (login, {}),
    "hashing": (hashing, {}),
    "timeouts": (timeouts, {"ECOLINK_HTTP_HEADER_TIMEOUT_S": "2", "ECOLINK_HTTP_BODY_TIMEOUT_S": "2"}),
}


@contextlib.asynccontextmanager
async def observed(url: str, ws_url: str, count: int) -> AsyncIterator[Observers]:
    watchers = Observers()
    await watchers.start(url, ws_url, count)
    try:
        yield watchers
    finally:
        await watchers.stop()


def run(args: argparse.Namespace) -> Report:
    if args.mode == "postgres":
        nodes.resolve_services(args)
    chosen = args.only or list(SCENARIOS)
    report = Report(NAME, machine_lines() + [
        f"- mode {args.mode}; one fresh node process per scenario; {args.observers} observers each "
        "sending every 100 ms; the production defaults except as the scenario says"])
    rows: list[list[str]] = []
    results: dict[str, Any] = {}
    for name in chosen:
        flood, extra = FLOODS[name]
        try:
            row, before, during = scenario(name, flood, extra, args)
        except Exception as exc:  # one scenario's failure must not lose the others' figures
            log(f"{name}: failed: {exc!r}")
            rows.append([name, "-", f"failed: {type(exc).__name__}", "-", "-", "-"])
            continue
        rows.append([name, *row, p50_p99(before), p50_p99(during)])
        results[name] = {"row": row, "before_s": before, "during_s": during}
    report.add("Each limit driven past its bound", table(
        ["limit", "driven with", "what happened", "refusal latency p50 / max (ms)",
         "others' ack p50 / p99 before (ms)", "during (ms)"], rows, text_columns=4))
    report.results = results
    return report


def scenario(name: str, flood: Flood, extra: dict[str, str],
             args: argparse.Namespace) -> tuple[list[str], list[float], list[float]]:
    """One fresh node, the observers, the flood: the row and the observers' two windows."""
    with nodes.fresh_node_env(args.mode, args, {**BASE, **extra}, tag="floods") as env, \
            nodes.running(lambda port: nodes.serve_command(args, port), env.env, name=name) as (_, port):
        url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"

        async def measure() -> tuple[list[str], list[float], list[float]]:
            from tests.support.client import register

            # Registered first: a sign-up's password hash is no part of the flood.
            attacker = await register(url, "Attacker")
            async with observed(url, ws_url, args.observers) as watchers:
                await asyncio.sleep(3.0)
                marks = [time.perf_counter()]  # the flood proper starts here, or at its mark()
                row = await flood(url, ws_url, args, attacker, lambda: marks.append(time.perf_counter()))
                end, start = time.perf_counter(), marks[-1]
                return row, watchers.window(marks[0] - 3.0, marks[0]), watchers.window(start, end)

        log(f"{name}: flooding")
        return asyncio.run(measure())
