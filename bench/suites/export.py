"""Exports: a room of 1,000,000 messages streamed over HTTP, and a busy room's deliveries meanwhile.

One node (``ecolink serve``) on a fresh PostgreSQL database and Redis prefix. Before it starts,
``ecolink migrate`` makes the schema and --messages messages (1,000,000) are written into the
sector room `green-buildings` with COPY (bench/suites/export_seed.py: mixed English and Chinese
bodies, 1 % edited, 0.5 % deleted, 3 % with reactions, each edit, delete and reaction an event
row of its own, as the append writer stores them); once the node is up, its history API reads
the first, middle and last 200 messages back and they must match.

Then a busy room: --receivers WebSocket clients (50) joined to `urban-renewal` and a sender at
--live-rate (20 messages/s) that also pings the node every 20 ms, run by the load generator
(``python -m bench.loadgen export-live``, bench/suites/export_load.py) in its own process. After
--baseline-s seconds (20) of that alone, one export after the other, each with
``GET /api/v1/rooms/{room}/export``: --formats of the whole room (jsonl, markdown, html) and
--range-formats (pdf) of a --pdf-messages range (10,000) in the middle of it, each followed by
--pause-s seconds (15) of live traffic alone as a control. Per export: time to the response head
and to the first body byte, total time, bytes, messages/s and MB/s, the transcript's own
SHA-256 line (or the PDF's X-Content-SHA256 header) checked against the bytes, the node's RSS
before, at its peak (psutil, every --sample-ms) and after, the CPU of the node, this database's
PostgreSQL backends, this process, the load generator and everything else on the machine, and
the node's full garbage collections (bench/gcprobe on its PYTHONPATH). Per period (baseline,
each export, each control): the busy room's delivery latency p50 / p99 / max, the sender's ack
latency and the ping's round trip (the event loop without the database).

Nothing is pinned: on a 2-core machine the node, PostgreSQL, the downloader and the live
clients share the cores, as they would on a small server; they run at niceness --nice (-10) and
the "other CPU" column shows what other processes used. --profile records who holds the
node's GIL (py-spy); --gc-freeze-after-s tries gc.freeze() in the node.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench import nodes, targets
from bench.busyroom import BusyRoom, period_table
from bench.harness import (
    BenchError,
    Report,
    add_profile_arguments,
    check_profile,
    fmt,
    log,
    machine_lines,
    node_setting,
    positive_float,
    positive_int,
    table,
)
from bench.suites.export_seed import Seeded, check_history, seed

if TYPE_CHECKING:
    from bench.probes import Sampler

NAME = "export"
HELP = "a 1,000,000-message room exported over HTTP (JSONL, Markdown, HTML; PDF of a range); a busy room's latency meanwhile"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
HOST = "127.0.0.1"
ROOM = "green-buildings"
LIVE_ROOM = "urban-renewal"
FORMATS = ("jsonl", "markdown", "html", "pdf", "csv")
MIN_MESSAGES = 1000  # the history check reads 200 at the start, middle and end
CHECK = 200


def format_list(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a format is named twice in {text!r}")
    return names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--messages", type=positive_int, default=1_000_000,
                   help=f"messages in the exported room (default 1000000; at least {MIN_MESSAGES}, "
                        "e.g. 20000 for a quick run)")
    p.add_argument("--formats", type=format_list, default=["jsonl", "markdown", "html"],
                   help="formats exported for the whole room, in this order (default jsonl,markdown,html)")
    p.add_argument("--range-formats", type=format_list, default=["pdf"],
                   help="formats exported for a --pdf-messages range (default pdf; '' for none)")
    p.add_argument("--pdf-messages", type=positive_int, default=10_000,
                   help="messages in the range export (default 10000)")
    p.add_argument("--receivers", type=positive_int, default=50,
                   help="WebSocket clients joined to the busy room (default 50)")
    p.add_argument("--live-rate", type=positive_float, default=20.0,
                   help="messages per second sent to the busy room (default 20)")
    p.add_argument("--baseline-s", type=positive_float, default=20.0,
                   help="seconds of live traffic alone before the first export (default 20)")
    p.add_argument("--pause-s", type=float, default=15.0,
                   help="seconds of live traffic alone after each export, reported as a control period "
                        "(default 15)")
    p.add_argument("--sample-ms", type=positive_int, default=100,
                   help="how often the node's RSS is read during an export (default 100)")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="the exports' labels (default en)")
    p.add_argument("--nice", type=int, default=-10,
                   help="niceness of the node, the load generator, this process and the fresh "
                        "database's PostgreSQL backends, to shield them from other work on the "
                        "machine (default -10, as the pinned suites; needs root; 0 leaves it alone)")
    add_profile_arguments(p, "export", "FORMAT")
    p.add_argument("--gc-freeze-after-s", type=positive_float, metavar="S",
                   help="an experiment: S seconds after the node starts, collect once and gc.freeze() "
                        "what start-up left, so that later full collections skip it (bench/gcprobe)")
    p.add_argument("--set", type=node_setting, action="append", default=[], metavar="ECOLINK_NAME=value",
                   help="a setting of the node (repeatable), e.g. ECOLINK_EXPORT_PDF_MAX_PAGES=5000")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.messages < MIN_MESSAGES:
        parser.error(f"--messages must be at least {MIN_MESSAGES} (the history check reads {CHECK} "
                     "at the start, middle and end)")
    if args.range_formats and args.pdf_messages > args.messages:
        parser.error(f"--pdf-messages ({args.pdf_messages}) cannot exceed --messages ({args.messages})")
    if not args.formats and not args.range_formats:
        parser.error("nothing to export: give --formats or --range-formats")
    if args.pause_s < 0:
        parser.error(f"--pause-s must be 0 or more, got {args.pause_s:g}")
    if not -20 <= args.nice <= 19:
        parser.error(f"--nice must be between -20 and 19, got {args.nice}")
    check_profile(parser, args)


# ---------------------------------------------------------------------------------------------
# Measuring one export


class DigestCheck:
    """SHA-256 of everything before the last line, kept while the bytes stream by; the last
    line must state it (text formats). Also counts JSON Lines message lines."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.tail = b""
        self.message_lines = 0

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        cut = data.rfind(b"\n", 0, len(data) - 1)  # keep the last line (and its newline) back
        if cut >= 0:
            done = data[:cut + 1]
            self.hash.update(done)
            self.message_lines += done.count(b'{"type":"message",')
            self.tail = data[cut + 1:]
        else:
            self.tail = data

    def stated_ok(self) -> bool | None:
        found = re.findall(rb"[0-9a-f]{64}", self.tail)
        return None if not found else found[-1].decode() == self.hash.hexdigest()


async def download(port: int, token: str, params: dict[str, str], sample: Sampler) -> dict:
    """One export, streamed and dropped as it arrives; timings, bytes and the digest check."""
    import httpx

    url = f"http://{HOST}:{port}/api/v1/rooms/{ROOM}/export"
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    check = DigestCheck()
    whole = hashlib.sha256()
    size = 0
    first: float | None = None
    out: dict = {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(1800.0)) as client:
        t0 = time.monotonic()
        sample.start()
        async with client.stream("GET", url, params=params, headers=headers) as response:
            head = time.monotonic()
            out["status"] = response.status_code
            out["content_type"] = response.headers.get("content-type", "")
            out["disposition"] = response.headers.get("content-disposition", "")
            out["header_sha256"] = response.headers.get("x-content-sha256")
            out["pdf_magic"] = False  # until a first chunk starts with %PDF-
            async for chunk in response.aiter_raw():
                if first is None:
                    first = time.monotonic()
                size += len(chunk)
                if response.status_code != 200:
                    out.setdefault("error", b"")
                    out["error"] += chunk
                    continue
                if out["header_sha256"]:
                    if size == len(chunk):  # the first chunk
                        out["pdf_magic"] = chunk.startswith(b"%PDF-")
                    out["pdf_pages"] = (out.get("pdf_pages", 0) + chunk.count(b"/Type /Page")
                                        - chunk.count(b"/Type /Pages"))
                    whole.update(chunk)
                else:
                    check.feed(chunk)
        end = time.monotonic()
    out.update(head_ms=(head - t0) * 1000, ttfb_ms=None if first is None else (first - t0) * 1000,
               total_s=end - t0, bytes=size)
    if out.get("error"):
        out["error"] = out["error"][:300].decode("utf-8", "replace")
    if out["status"] == 200:
        if out["header_sha256"]:  # PDF: the file's own hash, and a file that is one
            out["digest_ok"] = whole.hexdigest() == out["header_sha256"] and out["pdf_magic"]
        else:
            out["digest_ok"] = check.stated_ok()
            out["jsonl_messages"] = check.message_lines if params["format"] == "jsonl" else None
    return out


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jobs(args: argparse.Namespace, seeded: Seeded) -> list[tuple[str, str, dict[str, str], int]]:
    """(label, format, query, messages it holds) per export, in order."""
    out = [(f"{f}, whole room", f, {"format": f, "tz": "UTC", "lang": args.lang}, args.messages) for f in args.formats]
    start = (args.messages - args.pdf_messages) // 2
    span = {"from": iso(seeded.message_ms(start)), "to": iso(seeded.message_ms(start + args.pdf_messages))}
    out += [(f"{f}, {args.pdf_messages:,}-message range", f,
             {"format": f, "tz": "UTC", "lang": args.lang, **span}, args.pdf_messages) for f in args.range_formats]
    return out


# Where a GIL-holding sample of the node is: the first matching frame of its stack decides.
PROFILE_BUCKETS = (
    ("writer in a thread", ("chat/export/formats/",), "worker"),
    ("export: formatting on the loop", ("chat/export/formats/",), "main"),
    ("export: store reads (rows to records)", ("chat/store/exports.py", "chat/store/rows.py"), "main"),
    ("export: service", ("chat/export/",), "main"),
    ("HTTP response (uvicorn/starlette)", ("starlette/responses.py", "h11", "uvicorn/protocols/http"), "main"),
    ("asyncpg", ("asyncpg",), "main"),
    ("live traffic (hub, rooms, websockets, append)", ("chat/hub", "chat/rooms", "chat/transport/ws", "websockets",
                                                       "chat/store/append", "chat/broker", "chat/redis"), "main"),
)



# ---------------------------------------------------------------------------------------------
# The run


def migrate(args: argparse.Namespace, env: dict[str, str]) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")} | env
    proc = subprocess.run([nodes.ecolink_command(args), "migrate"], env=full_env, cwd=nodes.REPO,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"ecolink migrate failed: {proc.stderr.strip()[-500:]}")


def windows(n: int) -> list[range]:
    mid = n // 2 - CHECK // 2
    return [range(0, CHECK), range(mid, mid + CHECK), range(n - CHECK, n)]


async def verify_and_register(port: int, seeded: Seeded, wins: list[range]) -> str:
    """An account for the exports; the seeded room read back through the history API."""
    from bench.suites.webinar import request
    from bench.wsload import register_users

    token = (await register_users(HOST, port, 1, f"exporter-{int(time.time())}"))[0]
    problems = await check_history(lambda path: request(port, "GET", path, token), seeded, wins)
    if problems:
        raise BenchError("the node does not read the seeded room right: " + "; ".join(problems[:5]))
    return token


def add_collections(results: dict, gc_log: Path) -> None:
    """The node's full garbage collections (and any over 5 ms) within each export and period."""
    events: list[tuple[float, str, float]] = []
    with contextlib.suppress(OSError):
        for line in gc_log.read_text().splitlines():
            at, what, value = line.split()
            events.append((float(at), what, float(value)))
    results["gc_froze"] = next((int(v) for _, w, v in events if w == "froze"), None)
    for item in [*results["exports"], *results["periods"]]:
        a, b = item["window_ns"]
        inside = [ms for at, what, ms in events if what == "gen2" and a / 1e9 <= at < b / 1e9]
        item["gc_full"] = len(inside)
        item["gc_full_max_ms"] = max(inside, default=None)
        item["gc_full_total_ms"] = sum(inside)


def run(args: argparse.Namespace) -> Report:
    db_line = targets.prepare(args, ["postgres"], args.receivers + 100)
    start_load = os.getloadavg()
    report = Report(NAME, machine_lines() + [
        db_line or "",
        f"- one node (`ecolink serve`, PostgreSQL + Redis), unpinned; room `{ROOM}` seeded with "
        f"{args.messages:,} messages by COPY; exports one after the other over HTTP on 127.0.0.1; "
        f"busy room `{LIVE_ROOM}`: {args.receivers} WebSocket receivers, a sender at {args.live_rate:g}/s "
        f"(load generator in its own process); {args.baseline_s:g} s baseline first; node, load generator and "
        f"downloader at niceness {args.nice}, and so are this database's PostgreSQL backends",
    ])
    settings = {**targets.LIFTED_LIMITS, **dict(args.set)}
    results: dict = {"exports": [], "periods": []}
    with nodes.fresh_node_env("postgres", args, settings, tag="export") as env, \
            tempfile.TemporaryDirectory(prefix="ecolink-export-bench-") as tmp:
        migrate(args, env.env)
        wins = windows(args.messages)
        log(f"seeding {args.messages:,} messages into {ROOM}")
        seeded = asyncio.run(seed(env.env["ECOLINK_DATABASE_URL"], ROOM, args.messages, wins, log=log))
        log(f"seeded {seeded.rows:,} rows in {seeded.seconds:.1f} s")
        results["seed"] = {k: getattr(seeded, k) for k in
                           ("messages", "rows", "edited", "deleted", "reactions", "versions", "seconds")}
        command = lambda port: nodes.serve_command(args, port)  # noqa: E731
        gc_log = Path(tmp) / "gc.log"  # the node's slow collections (bench/gcprobe/sitecustomize.py)
        env.env.update(PYTHONPATH=str(nodes.REPO / "bench" / "gcprobe"), BENCH_GC_LOG=str(gc_log))
        if args.gc_freeze_after_s:
            env.env["BENCH_GC_FREEZE_AFTER_S"] = f"{args.gc_freeze_after_s:g}"
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # this process; the node and load generator inherit it
        with nodes.running(command, env.env, None, "node") as (proc, port):
            token = asyncio.run(verify_and_register(port, seeded, wins))
            log("history API reads the seeded room right")
            results.update(measure(args, env, proc.pid, port, token, seeded, Path(tmp)))
        add_collections(results, gc_log)
    results["load_average_end"] = os.getloadavg()
    results["niceness"] = os.getpriority(os.PRIO_PROCESS, 0)
    report.results["postgres"] = results
    fill(report, args, results, start_load)
    return report


def measure(args: argparse.Namespace, env: nodes.NodeEnv, node_pid: int, port: int, token: str,
            seeded: Seeded, tmp: Path) -> dict:
    from bench.probes import CpuWindow, Sampler, ServerProbe, TreeProbe, profile_summary, profiler, renice_backends

    exports: list[dict] = []
    with BusyRoom(port, node_pid, LIVE_ROOM, args.receivers, args.live_rate, tmp) as busy:
        pg = TreeProbe(nodes.listening_pids(env.aux_ports), env.db_name)
        log(f"niceness {args.nice} for {renice_backends(pg, env.db_name, args.nice)} PostgreSQL backends of this run")
        probe = ServerProbe(node_pid)
        busy.idle("baseline (no export)", args.baseline_s)
        for label, fmt_name, query, count in jobs(args, seeded):
            renice_backends(pg, env.db_name, args.nice)  # the pool may have opened more
            rss_before = probe.rss_bytes()
            sampler = Sampler(node_pid, args.sample_ms / 1000)
            cpu = CpuWindow(node_pid, pg, {"loadgen": busy.pid})
            log(f"export {label}: {query}")
            spy = profiler(args, node_pid, fmt_name)
            cpu.start()
            s0 = time.monotonic_ns()
            result = asyncio.run(download(port, token, query, sampler))
            s1 = time.monotonic_ns()
            samples = sampler.stop()
            result.update(cpu.stop())
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                spy.wait(60)
                result["profile"] = profile_summary(args.profile / f"{fmt_name}.txt", result["wall_s"], PROFILE_BUCKETS)
                log(f"  node's GIL held, share of the wall time: {result['profile']}")
            time.sleep(1.0)
            result.update(label=label, format=fmt_name, query=query, messages=count, window_ns=(s0, s1),
                          rss_before=rss_before, rss_peak=max(samples, default=rss_before),
                          rss_after=probe.rss_bytes(), rss_samples=len(samples))
            log(f"  HTTP {result['status']}, {result['bytes']:,} bytes in {result['total_s']:.1f} s, first byte "
                f"{fmt(result['ttfb_ms'])} ms, RSS {rss_before / 2**20:.0f} -> peak {result['rss_peak'] / 2**20:.0f} MiB, "
                f"digest {result.get('digest_ok')}, node CPU {result['node_cpu_s']:.1f} s"
                + (f"; {result['error']}" if result.get("error") else ""))
            exports.append(result)
            busy.mark(label, s0, s1)
            # The same live traffic without an export, right after it: a control for what
            # other work on the machine did meanwhile.
            busy.idle(f"after it, no export ({args.pause_s:g} s)", args.pause_s)
        time.sleep(2.0)
        traffic = busy.finish()
    return {"exports": exports, **traffic}


# ---------------------------------------------------------------------------------------------
# Tables


def gc_text(item: dict) -> str:
    if "gc_full" not in item:
        return "–"
    return f"{item['gc_full']}" + (f" ({item['gc_full_max_ms']:.0f})" if item["gc_full"] else "")


def fill(report: Report, args: argparse.Namespace, r: dict, start_load: tuple[float, float, float]) -> None:
    s = r["seed"]
    end = r["load_average_end"]
    report.environment.append(
        f"- load average {start_load[0]:.2f} / {start_load[1]:.2f} / {start_load[2]:.2f} at the start, "
        f"{end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f} at the end (1 / 5 / 15 min; other work on the machine "
        "shows in the 'other CPU' column)")
    if args.gc_freeze_after_s:
        report.environment.append(
            f"- experiment: {args.gc_freeze_after_s:g} s after start the node collected once and froze "
            f"{r.get('gc_froze') or 0:,} objects (gc.freeze(), bench/gcprobe): later full collections skip them")
    report.environment.append(
        f"- seeded: {s['messages']:,} messages in {s['rows']:,} room-log rows ({s['edited']:,} edited, "
        f"{s['deleted']:,} deleted, {s['reactions']:,} reactions) by COPY in {s['seconds']:.0f} s; "
        "history API read back the first, middle and last 200")
    rows = []
    for e in r["exports"]:
        ok = e["status"] == 200
        mb = e["bytes"] / 1e6
        wall = e["wall_s"]
        rows.append([
            e["label"], str(e["status"]) if ok else f"**{e['status']}**",
            fmt(e["messages"]), fmt(mb, 1) if ok else "–", fmt(e["head_ms"], 0), fmt(e["ttfb_ms"], 0),
            fmt(e["total_s"], 1), fmt(e["messages"] / e["total_s"], 0) if ok else "–",
            fmt(mb / e["total_s"], 1) if ok else "–",
            fmt(e["rss_before"] / 2**20, 0), fmt(e["rss_peak"] / 2**20, 0), fmt(e["rss_after"] / 2**20, 0),
            f"{100 * e['node_cpu_s'] / wall:.0f} %", f"{100 * e['pg_cpu_s'] / wall:.0f} %",
            f"{100 * (e['bench_cpu_s'] + e['loadgen_cpu_s']) / wall:.0f} %", f"{100 * e['other_cpu_s'] / wall:.0f} %",
            {True: "yes", False: "**no**", None: "–"}[e.get("digest_ok")],
            gc_text(e),
        ])
    report.add("Exports over HTTP", table(
        ["export", "HTTP", "messages", "MB", "head ms", "first byte ms", "total s", "messages/s", "MB/s",
         "node RSS before MiB", "peak MiB", "after MiB", "node CPU", "PG CPU", "bench CPU", "other CPU",
         "SHA-256 ok", "node full GCs (max ms)"], rows))
    notes = [f"- {e['label']}: HTTP {e['status']}: {e.get('error', '')}" for e in r["exports"] if e["status"] != 200]
    notes += [f"- {e['label']}: {e['jsonl_messages']:,} message lines (expected {e['messages']:,})"
              for e in r["exports"] if e.get("jsonl_messages") is not None]
    notes += [f"- {e['label']}: {e.get('pdf_pages', 0):,} pages, {e['bytes']:,} bytes"
              + ("" if e.get("pdf_magic") else " (**not a PDF**)") for e in r["exports"]
              if e["status"] == 200 and e["format"] == "pdf"]
    if notes:
        report.add("Export notes", "\n".join(notes))
    report.add(f"Busy room during the exports ({r['live']['receivers']} receivers, {args.live_rate:g} messages/s)",
               period_table(r["periods"], r["live"], ("node full GCs (max ms)", gc_text)))
