"""Browser client: a 10,000-message room in headless Chromium.

It starts a real node (``ecolink serve``; embedded SQLite by default, PostgreSQL + Redis with
--mode postgres), seeds one room with --messages messages and another with --small, both over
the WebSocket by senders that stay under the node's per-connection limit of 50 frames/s, and
drives Debian's Chromium headless through Playwright (never a downloaded browser). Tables:

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

Needs the project installed in this Python with playwright, psutil, httpx, websockets and
msgpack (the test extras), and Debian's chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from bench import nodes
from bench.harness import (
    BenchError,
    Report,
    fmt,
    log,
    machine_lines,
    node_setting,
    non_negative_int,
    percentile,
    positive_float,
    positive_int,
    table,
)
from bench.probes import CpuMeter
from bench.suites.client_bots import BODIES, PER_SENDER_MAX, SEEDERS, bots, register, seed
from bench.suites.client_page import (
    COLD,
    HOLDS,
    LATEST_ON_SCREEN,
    OFFSET_OF,
    ON_SCREEN,
    PROBE_START,
    PROBE_STOP,
    SLIDE_BACK,
    SWITCH,
    VIEWPORT,
    Link,
    Session,
    Traffic,
    js_heap_mib,
    room_head,
    wait_until,
)

NAME = "client"
HELP = "the browser client in headless Chromium: first view, live messages, history"
MODES = ("embedded", "postgres")
DEFAULT_MODE = "embedded"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying the internet.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BIG_ROOM, SMALL_ROOM, PARK_ROOM = "urban-renewal", "green-buildings", "water-management"
RATE_LIMIT_PER_S = 50.0  # the node's default per-connection frame limit (ECOLINK_WS_RATE_PER_S)


def add_arguments(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--node-env", type=node_setting, action="append", default=[], metavar="ECOLINK_NAME=VALUE",
                   help="a setting for the node (docs/operations.md), e.g. ECOLINK_HTTP_GZIP=false; "
                        "repeatable. The node otherwise gets no ECOLINK_* from this shell")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
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


def run(args: argparse.Namespace) -> Report:
    started = machine_lines()
    if args.mode == "postgres":
        nodes.resolve_services(args)
    # The per-connection frame limit stays at its default: the senders respect it.
    settings = {"ECOLINK_ARGON2_PROFILE": "cheapest", "ECOLINK_LOG_LEVEL": "warning",
                "ECOLINK_REGISTER_PER_ADDRESS_MAX": "1000000", "ECOLINK_REGISTRATION_POW_BITS": "0",
                "ECOLINK_NEW_ACCOUNT_HOURS": "0", "ECOLINK_SPAM_MAX_ROOMS": "0", **dict(args.node_env)}
    if args.web_dir is not None:
        settings["ECOLINK_WEB_DIR"] = str(args.web_dir.resolve())
    with nodes.fresh_node_env(args.mode, args, settings, tag="bench-client") as node, \
            nodes.running(lambda port: nodes.serve_command(args, port), node.env) as (proc, port):
        results = asyncio.run(measure(args, proc.pid, f"http://127.0.0.1:{port}"))
    report = Report(NAME, started + environment(args, results), results=results)
    if results["first"]:
        report.add("First view: navigating to a room until its latest message is in the DOM",
                   first_view_table(results, args))
    if results["live"]:
        report.add(f"Live: {args.rate:g} messages/s for {args.seconds:g} s", live_table(results))
        report.add("History: reading back from the latest message", history_table(results, args))
    return report


def environment(args: argparse.Namespace, results: dict[str, Any]) -> list[str]:
    seeded = ", ".join(f"{room} in {secs:.1f} s" for room, secs in results["seeded_s"].items())
    return [
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


# ---------------------------------------------------------------------------------------------
# Measurements


async def first_view_switch(s: Session, room: str, link: Link) -> tuple[float, int, int]:
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


async def first_view_cold(s: Session, room: str, link: Link) -> tuple[float, int, int]:
    """A page load of the room's URL in a fresh context (empty cache): (ms since navigation
    start, requests, bytes)."""
    async with s.page(init_script=COLD % s.row(room)) as (context, page):
        traffic = await Traffic().attach(context, page, link)
        await page.goto(f"{s.base}/#/room/{room}")
        ms = await page.evaluate("window.__firstView")
        await page.wait_for_timeout(500 + 2 * link.latency_ms)
        return ms, traffic.requests, traffic.total


async def first_view_return(s: Session, room: str, link: Link) -> tuple[float, int, int]:
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


async def first_views(s: Session, reps: int, links: list[Link]) -> list[dict[str, Any]]:
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


async def live_run(s: Session, context: Any, page: Any, rate: float, seconds: float, n_bots: int,
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


async def live_and_history(s: Session, args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
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
        s = Session(base, browser, storage, reader["token"], node_pid, heads)
        links = [Link(ms, args.download_kbps, args.upload_kbps) for ms in args.latency_ms]
        first = await first_views(s, args.reps, links) if args.only != "live" else []
        runs, history = await live_and_history(s, args) if args.only != "first" else ([], {})
        version = browser.version
        await browser.close()
    return {"seeded_s": seeded, "first": first, "live": runs, "history": history, "chromium": version}


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
