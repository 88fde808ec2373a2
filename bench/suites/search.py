"""Search: latency per query type over 1,000,000 messages (PostgreSQL) and 100,000 (SQLite), the
index's size, pg_trgm for comparison, and what indexing costs a busy room's sends.

Data (bench/suites/search_seed.py): --messages messages in PostgreSQL (1,000,000) and
--sqlite-messages in SQLite (100,000), written for this platform in English, Chinese and both
(sectors, pilot cities, members' names), spread over the 17 sector and city rooms and 33 direct
rooms of two. The `messages` rows are what the append writer stores for a plain message; each
message's `search_entries` row is made by the store's own row builder in --workers processes
and written with COPY (PostgreSQL) or executemany (SQLite); a sample of 200 is then indexed
again through store.index_entries, the app's path, and must come out the same.

Latency: the searcher is a member who sees the public rooms and 4 direct rooms (29 direct rooms
are not theirs). Each query type (English word, English phrase, Chinese 2 characters, longer
Chinese, a single-character name, mixed Chinese/English, negation and filters) has a handful
of queries; each is asked through SearchService.search (parse, from:/in: resolution, the
store's SQL with its access rule, snippets) in this process, --samples times per type and
order (newest first, most relevant first), round-robin over the type's queries, after one
unmeasured round. A search's time is the call's wall time for the first page (20 results).

Index size: the search table, its indexes (GIN on the tsvector; FTS5's shadow tables in
SQLite) against the messages table.

pg_trgm (--no-trgm skips): the alternative docs/decisions.md weighs, on the same data: a GIN
gin_trgm_ops index on messages.body, then `body LIKE '%公交%'` (2 Chinese characters), a
4-character phrase, and `body ILIKE '%word%'`, newest 21 first (no access rule: a lower bound).
The index is dropped afterwards.

Ack (--ack-seconds 0 skips): one node (`ecolink serve`, PostgreSQL + Redis) on the seeded
database, a busy room (bench/busyroom.py: --receivers WebSocket clients, a sender at --ack-rate
with bilingual bodies) in `green-transport` for --ack-seconds, with ECOLINK_SEARCH_INDEXING
true and false in turn, --ack-rounds times each (a fresh node per run): ack p50/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from bench import nodes, targets
from bench.harness import (
    BenchError, Report, fmt, log, machine_lines, non_negative_float, percentile, positive_int, table,
)
from bench.suites import search_seed as seed

NAME = "search"
HELP = ("search latency per query type on 1,000,000 messages (PostgreSQL) and 100,000 (SQLite), index size, "
        "pg_trgm for comparison, ack p99 with and without indexing")
MODES = ("embedded", "postgres", "both")
DEFAULT_MODE = "both"
TARGET_P99_MS = 100.0
ACK_ROOM = "green-transport"


@dataclass(frozen=True)
class Ask:
    """One query as a client sends it: q and the filters besides (SearchParams' fields)."""

    q: str
    filters: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        extra = ", ".join(f"{k}={'…' if k == 'since_ms' else v}" for k, v in self.filters)
        return self.q + (f" ({extra})" if extra else "")


def query_types(names: dict[int, str], direct_partner: int, last_ms: int) -> dict[str, list[Ask]]:
    """The query types the issue names, each a few queries whose words the seeded text has (at
    very different frequencies). `direct_partner`: a member the searcher has a direct room with."""
    partner = names[direct_partner]
    month_ago = last_ms - 30 * 86_400_000
    return {
        "English word": [Ask(q) for q in ("retrofits", "budget", "heating", "bonds", "maintenance",
                                          "households", "procurement", "insulation")],
        "English phrase": [Ask(q) for q in ('"green bonds"', '"district heating"', '"heat pumps"',
                                            '"bus rapid transit"', '"cost estimate"', '"meeting minutes"')],
        "Chinese 2 characters": [Ask(q) for q in ("热泵", "公交", "改造", "预算", "债券", "污水", "垃圾", "光伏")],
        "Chinese phrase (3+ characters)": [Ask(q) for q in ("快速公交", "老旧小区", "海绵城市", "区域供热",
                                                             "可行性研究", "垃圾分类", "会议纪要")],
        "single-character name": [Ask(q) for q in ("李", "王", "张", "陈", "赵", "周")],
        "mixed Chinese/English": [Ask(q) for q in ("BRT快速公交", "PPP项目", "EV充电桩", "TOD开发", "LED路灯")],
        "negation and filters": [
            Ask("热泵 -改造"), Ask("heating -district"), Ask("公交 in:绿色交通"),
            Ask(f'report from:"{partner}"'), Ask("budget", (("lang", "en"),)),
            Ask("改造", (("since_ms", month_ago),)), Ask("债券", (("rooms", ("municipal-finance", "zhuhai")),)),
        ],
    }


# ---------------------------------------------------------------------------------------------
# Options


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--messages", type=positive_int, default=1_000_000,
                   help="messages in PostgreSQL (default 1,000,000)")
    p.add_argument("--sqlite-messages", type=positive_int, default=100_000,
                   help="messages in SQLite (default 100,000)")
    p.add_argument("--samples", type=positive_int, default=200,
                   help="searches measured per query type and order (default 200)")
    p.add_argument("--cell-seconds", type=non_negative_float, default=20.0,
                   help="stop a query type's samples for one order after this many seconds once 20 "
                        "were taken (default 20; 0: always --samples)")
    p.add_argument("--workers", type=positive_int, default=2,
                   help="processes computing html and search terms while loading (default 2)")
    p.add_argument("--no-trgm", action="store_true", help="skip the pg_trgm comparison")
    p.add_argument("--ack-seconds", type=non_negative_float, default=30.0,
                   help="seconds of busy-room traffic per ack run (default 30; 0 skips the ack test)")
    p.add_argument("--ack-rounds", type=positive_int, default=2,
                   help="runs with indexing on and off, in turn (default 2 of each)")
    p.add_argument("--ack-rate", type=non_negative_float, default=20.0,
                   help="the busy room's sends per second (default 20, as the other suites' busy room)")
    p.add_argument("--receivers", type=positive_int, default=50, help="the busy room's receivers (default 50)")
    p.add_argument("--seed", type=int, default=14, help="random seed of the text (default 14)")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.messages < 1000 or args.sqlite_messages < 1000:
        parser.error("--messages and --sqlite-messages must be at least 1000 (the sample checked is 200)")
    if args.ack_seconds and args.ack_rate <= 0:
        parser.error("--ack-rate must be greater than 0")
    if args.ack_seconds and args.mode == "embedded":
        args.ack_seconds = 0.0  # the ack test runs on PostgreSQL only


# ---------------------------------------------------------------------------------------------
# Searching


Search = Callable[[Ask, str], Awaitable[int]]


def searcher(store: Any, user: Any) -> Search:
    """One search through the service, as the transports call it; the number of results."""
    from chat.rooms.service import RoomService
    from chat.search.service import SearchParams, SearchService

    # Only list_rooms is used, which needs the store alone.
    rooms = RoomService(store, cast(Any, None), cast(Any, None), cast(Any, None))
    service = SearchService(store, rooms.list_rooms)

    async def search(ask: Ask, order: str) -> int:
        page = await service.search(user, SearchParams(q=ask.q, order=order, **dict(ask.filters)))
        return len(page.results)

    return search


async def latencies(search: Search, types: dict[str, list[Ask]], samples: int, cell_s: float = 0) -> list[dict]:
    """Per query type and order: p50/p99/max ms over `samples` searches (fewer, at least 20,
    once `cell_s` seconds passed), results per page."""
    out = []
    for order in ("newest", "relevance"):
        for name, asks in types.items():
            for ask in asks:  # one unmeasured round: caches, the parser's first use
                await search(ask, order)
            times: list[float] = []
            results: list[int] = []
            per_query: dict[str, list[float]] = {}
            started = time.monotonic()
            for i in range(samples):
                if cell_s and i >= 20 and time.monotonic() - started > cell_s:
                    break
                ask = asks[i % len(asks)]
                t0 = time.perf_counter()
                results.append(await search(ask, order))
                ms = (time.perf_counter() - t0) * 1000
                times.append(ms)
                per_query.setdefault(ask.label, []).append(ms)
            slowest = max(per_query, key=lambda label: statistics.median(per_query[label]))
            out.append({"type": name, "order": order, "count": len(times), "p50_ms": percentile(times, 50),
                        "p99_ms": percentile(times, 99), "max_ms": max(times),
                        "results_mean": statistics.mean(results),
                        "queries": [a.label for a in asks], "slowest_query": slowest,
                        "slowest_median_ms": statistics.median(per_query[slowest]),
                        "per_query_median_ms": {k: statistics.median(v) for k, v in per_query.items()}})
            log(f"  {order:9} {name}: p50 {out[-1]['p50_ms']:.1f} ms, p99 {out[-1]['p99_ms']:.1f} ms "
                f"(slowest: {slowest}, median {out[-1]['slowest_median_ms']:.1f} ms)")
    return out


# ---------------------------------------------------------------------------------------------
# PostgreSQL


async def pg_sizes(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        out = {
            "messages_total": await conn.fetchval("SELECT pg_total_relation_size('messages')"),
            "messages_table": await conn.fetchval("SELECT pg_relation_size('messages')"),
            "search_total": await conn.fetchval("SELECT pg_total_relation_size('search_entries')"),
            "search_table": await conn.fetchval("SELECT pg_table_size('search_entries')"),
        }
        settings = [f"{name}={await conn.fetchval(f'SHOW {name}')}" for name in
                    ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "lc_ctype")]
        out["settings"] = ", ".join(settings)  # type: ignore[assignment]
        for row in await conn.fetch("SELECT indexname, pg_relation_size(quote_ident(indexname)) AS bytes"
                                    " FROM pg_indexes WHERE tablename = 'search_entries' ORDER BY indexname"):
            out[f"index {row['indexname']}"] = row["bytes"]
        return out
    finally:
        await conn.close()


async def pg_matches(url: str, types: dict[str, list[Ask]]) -> dict[str, float]:
    """Per query type, the mean number of entries its words match (no access rule, no filter):
    the work the index does before the rule and the order cut it to a page."""
    import asyncpg

    from chat.search.query import parse, tsquery

    conn = await asyncpg.connect(url)
    try:
        out = {}
        for name, asks in types.items():
            counts = []
            for ask in asks:
                terms = parse(ask.q).terms
                counts.append(await conn.fetchval(
                    "SELECT count(*) FROM search_entries WHERE tsv @@ to_tsquery('simple', $1)", tsquery(terms)))
            out[name] = statistics.mean(counts)
        return out
    finally:
        await conn.close()


TRGM_QUERIES = [
    ("Chinese 2 characters, LIKE", "LIKE", ["%热泵%", "%公交%", "%改造%", "%债券%"]),
    ("Chinese 4 characters, LIKE", "LIKE", ["%快速公交%", "%老旧小区%", "%海绵城市%"]),
    ("English word, ILIKE", "ILIKE", ["%retrofit%", "%budget%", "%heating%", "%insulation%"]),
]


async def pg_trgm(url: str, samples: int) -> dict:
    """pg_trgm on the same messages: build time and size of a GIN gin_trgm_ops index on body,
    then each query shape's p50/p99; the index is dropped at the end."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        available = await conn.fetchval("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if not available:
            return {"available": False}
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        t0 = time.monotonic()
        await conn.execute("CREATE INDEX messages_body_trgm ON messages USING gin (body gin_trgm_ops)")
        build_s = time.monotonic() - t0
        await conn.execute("ANALYZE messages")
        out: dict = {"available": True, "build_s": build_s,
                     "index_bytes": await conn.fetchval("SELECT pg_relation_size('messages_body_trgm')"),
                     "version": await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'"),
                     "queries": []}
        log(f"pg_trgm index built in {build_s:.0f} s, {out['index_bytes'] / 2**20:.0f} MiB")
        for label, op, patterns in TRGM_QUERIES:
            sql = (f"SELECT message_id FROM messages WHERE kind = 'message' AND NOT deleted AND body {op} $1"
                   " ORDER BY sent_at_ms DESC LIMIT 21")
            for pattern in patterns:
                await conn.fetch(sql, pattern)  # unmeasured round
            times = []
            for i in range(samples):
                t = time.perf_counter()
                await conn.fetch(sql, patterns[i % len(patterns)])
                times.append((time.perf_counter() - t) * 1000)
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("$1", "'"
                                                            + patterns[0] + "'")))
            matched = await conn.fetchval(f"SELECT count(*) FROM messages WHERE body {op} $1", patterns[0])
            out["queries"].append({"label": label, "patterns": patterns, "count": len(times),
                                   "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99),
                                   "max_ms": max(times), "plan": plan, "first_matches": matched})
            log(f"  pg_trgm {label}: p50 {out['queries'][-1]['p50_ms']:.0f} ms, p99 {out['queries'][-1]['p99_ms']:.0f} ms")
        return out
    finally:
        with contextlib.suppress(Exception):
            await conn.execute("DROP INDEX IF EXISTS messages_body_trgm")
        await conn.close()


async def explain_slow(store: Any, search: Search, types: dict[str, list[Ask]], rows: list[dict]) -> list[dict]:
    """For each query type and order whose p99 misses the target: its slowest query's SQL as the
    store builds it (caught from chat/store/search.py's bind) and EXPLAIN (ANALYZE, BUFFERS) of
    it, run as the store runs it (its setup statement first, in one transaction)."""
    from chat.store import search as store_search
    from chat.store.search_sql import SEARCH

    out = []
    bind = store_search.bind
    caught: list[tuple[str, tuple]] = []

    def catching(sql: str, *parts: Any) -> tuple[str, tuple]:
        bound = bind(sql, *parts)
        if sql == SEARCH:
            caught.append(bound)
        return bound

    db = store._db
    setup = db.dialect.search_setup_sql
    for row in rows:
        if row["p99_ms"] < TARGET_P99_MS:
            continue
        ask = next(a for a in types[row["type"]] if a.label == row["slowest_query"])
        caught.clear()
        store_search.bind = catching
        try:
            await search(ask, row["order"])
        finally:
            store_search.bind = bind
        if not caught:
            out.append({"type": row["type"], "order": row["order"], "query": ask.label, "sql": None, "plan": None})
            continue
        sql, params = caught[-1]
        async with db.transaction() as conn:
            if setup:
                await conn.execute(setup)
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params))
        out.append({"type": row["type"], "order": row["order"], "query": ask.label, "sql": sql,
                    "params": [str(p) for p in params], "plan": plan})
    return out


async def checked_load(store: Any, plan: Any, loaded: Any, result: dict) -> dict[str, list[Ask]]:
    """After a load: the sampled rows must equal what the store itself writes; records the
    load in `result` and gives the query types for this data."""
    log(f"loaded in {loaded.seconds:.0f} s")
    problems = await seed.check_rows(store, loaded.sample)
    if problems:
        raise BenchError("the loader's search rows differ from the store's: " + "; ".join(problems[:3]))
    result["load"] = {"messages": loaded.messages, "seconds": loaded.seconds, "checked": len(loaded.sample)}
    return query_types(plan.names, plan.direct_members[plan.searcher_direct[0]][1], loaded.last_ms)


async def postgres_part(args: argparse.Namespace, env: nodes.NodeEnv) -> dict:
    from chat.store.postgres import PostgresStore

    url = env.env["ECOLINK_DATABASE_URL"]
    result: dict = {}
    async with PostgresStore.open(url) as store:
        await store.migrate()
        user, plan = await seed.people(store, int(time.time() * 1000), args.seed)
        log(f"loading {args.messages:,} messages into PostgreSQL ({args.workers} worker processes)")
        loaded = await seed.load_postgres(url, plan, args.messages, args.workers, args.seed, log)
        types = await checked_load(store, plan, loaded, result)
        result["matches"] = await pg_matches(url, types)
        log("searching (PostgreSQL)")
        search = searcher(store, user)
        result["latency"] = await latencies(search, types, args.samples, args.cell_seconds)
        result["explain"] = await explain_slow(store, search, types, result["latency"])
        result["index_size"] = await store.search_index_size()
    result["sizes"] = await pg_sizes(url)
    if not args.no_trgm:
        log("pg_trgm for comparison")
        result["trgm"] = await pg_trgm(url, max(10, args.samples // 10))
    return result


# ---------------------------------------------------------------------------------------------
# SQLite


def sqlite_sizes(path: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return {"file": path.stat().st_size}  # no dbstat in this build
    finally:
        conn.close()
    by_name = dict(rows)
    out = {"file": path.stat().st_size, "messages_table": by_name.get("messages", 0)}
    for name, size in sorted(by_name.items()):
        if name.startswith(("search_", "sqlite_autoindex_search_")):
            out[name] = size
        elif name.startswith("sqlite_autoindex_messages") or name.startswith("messages_"):
            out["messages_indexes"] = out.get("messages_indexes", 0) + size
    return out


async def sqlite_part(args: argparse.Namespace, data_dir: Path) -> dict:
    from chat.store.sqlite import SqliteStore

    path = data_dir / "ecolink.db"
    result: dict = {}
    async with SqliteStore.open(path) as store:
        await store.migrate()
        user, plan = await seed.people(store, int(time.time() * 1000), args.seed)
        log(f"loading {args.sqlite_messages:,} messages into SQLite")
        loaded = await seed.load_sqlite(path, plan, args.sqlite_messages, args.workers, args.seed, log)
        types = await checked_load(store, plan, loaded, result)
        log("searching (SQLite)")
        result["latency"] = await latencies(searcher(store, user), types, args.samples, args.cell_seconds)
        result["index_size"] = await store.search_index_size()
    result["sizes"] = sqlite_sizes(path)
    return result


# ---------------------------------------------------------------------------------------------
# Acks with and without indexing


def ack_texts(seed_value: int, count: int = 200) -> list[str]:
    rng = random.Random(seed_value)
    names = [seed.zh_name(rng) for _ in range(20)] + [seed.en_name(rng) for _ in range(20)]
    return [seed.body(rng, names) for _ in range(count)]


async def entry_count(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM search_entries"))
    finally:
        await conn.close()


def ack_part(args: argparse.Namespace, env: nodes.NodeEnv) -> list[dict]:
    """Busy-room runs with indexing on and off; each also counts the entries it added (all of
    its messages with indexing on, none with it off: the setting took effect)."""
    from bench.busyroom import BusyRoom

    runs = []
    texts = ack_texts(args.seed)
    with tempfile.TemporaryDirectory(prefix="ecolink-search-bench-") as tmp:
        for k in range(args.ack_rounds):
            for indexing in (True, False):
                settings = {**env.env, "ECOLINK_SEARCH_INDEXING": "true" if indexing else "false"}
                label = f"indexing {'on' if indexing else 'off'}, run {k + 1}"
                run_dir = Path(tmp) / f"run-{k}-{indexing}"
                run_dir.mkdir()
                before = asyncio.run(entry_count(env.env["ECOLINK_DATABASE_URL"]))
                with nodes.running(lambda port: nodes.serve_command(args, port), settings, None, "node") as (proc, port), \
                        BusyRoom(port, proc.pid, ACK_ROOM, args.receivers, args.ack_rate, run_dir, texts) as busy:
                    busy.idle(label, args.ack_seconds)
                    time.sleep(1.0)
                    traffic = busy.finish()
                period = traffic["periods"][0]
                added = asyncio.run(entry_count(env.env["ECOLINK_DATABASE_URL"])) - before
                if added != (traffic["live"]["sent"] if indexing else 0):
                    raise BenchError(f"{label}: {traffic['live']['sent']} messages sent, {added} entries added")
                runs.append({"label": label, "indexing": indexing, **period, "live": traffic["live"],
                             "entries_added": added})
                log(f"  {label}: ack p50 {fmt(period['ack']['p50_ms'])} ms, p99 {fmt(period['ack']['p99_ms'])} ms")
    return runs


# ---------------------------------------------------------------------------------------------
# The run


def run(args: argparse.Namespace) -> Report:
    modes = ["embedded", "postgres"] if args.mode == "both" else [args.mode]
    db_line = targets.prepare(args, ["postgres"], args.receivers + 100) if "postgres" in modes else None
    report = Report(NAME, machine_lines() + ([db_line] if db_line else []))
    settings = {**targets.LIFTED_LIMITS}
    results: dict = {}
    if "embedded" in modes:
        with tempfile.TemporaryDirectory(prefix="ecolink-search-sqlite-") as tmp:
            results["embedded"] = asyncio.run(sqlite_part(args, Path(tmp)))
    if "postgres" in modes:
        with nodes.fresh_node_env("postgres", args, settings, tag="search") as env:
            results["postgres"] = asyncio.run(postgres_part(args, env))
            if args.ack_seconds:
                log("ack latency with and without indexing")
                results["postgres"]["ack"] = ack_part(args, env)
    report.results = results
    fill(report, args, results)
    return report


def mib(value: int | None) -> str:
    return "–" if value is None else f"{value / 2**20:,.1f}"


def fill(report: Report, args: argparse.Namespace, results: dict) -> None:
    report.environment.append(
        f"- searches in this process through SearchService (parse, from:/in:, the store's SQL with the access rule, "
        f"snippets), one at a time, {args.samples} per query type and order (fewer, at least 20, once "
        f"{args.cell_seconds:g} s passed) after one unmeasured round; the searcher "
        f"sees the 17 public rooms and 4 of the 33 direct rooms; first page of 20")
    for mode, r in results.items():
        backend = "PostgreSQL" if mode == "postgres" else "SQLite"
        load = r["load"]
        if mode == "postgres":
            report.environment.append(f"- PostgreSQL settings: {r['sizes']['settings']}")
        report.environment.append(
            f"- {backend}: {load['messages']:,} messages loaded in {load['seconds']:.0f} s "
            f"({args.workers} worker processes); {load['checked']} entries indexed again through "
            "store.index_entries came out the same")
        rows = []
        by_type: dict[str, dict[str, dict]] = {}
        for row in r["latency"]:
            by_type.setdefault(row["type"], {})[row["order"]] = row
        for name, orders in by_type.items():
            newest, relevance = orders["newest"], orders["relevance"]
            rows.append([name, " · ".join(newest["queries"][:4]) + (" …" if len(newest["queries"]) > 4 else ""),
                         f"{newest['count']} / {relevance['count']}",
                         fmt(r.get("matches", {}).get(name), 0),
                         fmt(statistics.mean([newest["results_mean"], relevance["results_mean"]]), 1),
                         fmt(newest["p50_ms"]), fmt(newest["p99_ms"]), fmt(relevance["p50_ms"]),
                         fmt(relevance["p99_ms"]), fmt(max(newest["max_ms"], relevance["max_ms"]), 0)])
        total = len(r["latency"])
        missed = [row for row in r["latency"] if row["p99_ms"] >= TARGET_P99_MS]
        note = ""
        if mode == "postgres":
            note = (f"\n\nTarget (PostgreSQL): p99 under {TARGET_P99_MS:.0f} ms: "
                    + ("met for every query type and order." if not missed else
                       f"missed by {len(missed)} of {total}: "
                       + "; ".join(f"{m['type']} ({m['order']}, slowest {m['slowest_query']})" for m in missed)))
        report.add(f"Search latency, {backend}, {load['messages']:,} messages", table(
            ["query type", "queries", "searches (newest / relevance)", "entries matched (mean)", "results on the page (mean)", "newest p50 ms", "newest p99 ms",
             "relevance p50 ms", "relevance p99 ms", "max ms"], rows, 2) + note)
        report.add(f"Index size, {backend}", size_table(mode, r))
        if r.get("explain"):
            report.add(f"Plans of the searches over {TARGET_P99_MS:.0f} ms at p99, {backend}", "\n\n".join(
                f"{x['type']}, {x['order']}: `{x['query']}`\n\n```sql\n{x['sql']}\n-- {x.get('params')}\n```\n\n"
                f"```text\n{x['plan']}\n```" for x in r["explain"]))
    pg = results.get("postgres", {})
    if "trgm" in pg:
        t = pg["trgm"]
        if not t["available"]:
            report.add("pg_trgm for comparison", "pg_trgm is not available on this PostgreSQL server.")
        else:
            rows = [[q["label"], " · ".join(q["patterns"]), fmt(q["first_matches"]), fmt(q["p50_ms"]),
                     fmt(q["p99_ms"]), fmt(q["max_ms"], 0)] for q in t["queries"]]
            report.add("pg_trgm for comparison", table(
                ["query", "patterns", "rows matching the first", "p50 ms", "p99 ms", "max ms"], rows, 2)
                + f"\n\npg_trgm {t['version']}: GIN gin_trgm_ops index on messages.body built in {t['build_s']:.0f} s, "
                  f"{mib(t['index_bytes'])} MiB; newest 21 first, no access rule.")
    if pg.get("ack"):
        rows = [[a["label"], fmt(a["entries_added"]), fmt(a["ack"]["count"]), fmt(a["ack"]["p50_ms"]), fmt(a["ack"]["p99_ms"]),
                 fmt(a["ack"]["max_ms"], 0), fmt(a["p99_ms"]), fmt(a["ping"]["p99_ms"])] for a in pg["ack"]]
        for indexing in (True, False):
            mine = [a for a in pg["ack"] if a["indexing"] is indexing]
            rows.append([f"**indexing {'on' if indexing else 'off'}, median of runs**", "", "",
                         fmt(statistics.median(a["ack"]["p50_ms"] for a in mine)),
                         fmt(statistics.median(a["ack"]["p99_ms"] for a in mine)), "", "", ""])
        lost = sum(a["live"][k] for a in pg["ack"] for k in ("short", "missing", "duplicates", "errors",
                                                               "unexpected_closes", "unacked"))
        report.add(f"Acks with and without indexing ({args.receivers} receivers, {args.ack_rate:g} messages/s, "
                   f"{args.ack_seconds:g} s per run)", table(
                       ["run", "entries added", "acks", "ack p50 ms", "ack p99 ms", "ack max ms", "delivery p99 ms", "ping p99 ms"], rows)
                   + f"\n\nLost, duplicated, refused or closed: {lost}.")


def size_table(mode: str, r: dict) -> str:
    s = r["sizes"]
    if mode == "postgres":
        rows = [["messages (table, TOAST and indexes)", mib(s["messages_total"])],
                ["messages (table only)", mib(s["messages_table"])],
                ["search_entries (table and TOAST)", mib(s["search_table"])]]
        rows += [[name, mib(v)] for name, v in s.items() if name.startswith("index ")]
        rows.append(["search_entries, all", mib(s["search_total"])])
        share = s["search_total"] / s["messages_total"] if s["messages_total"] else None
        foot = f"\n\nThe search index takes {fmt(share, 2)}× the messages table (with its indexes)."
    else:
        rows = [["database file", mib(s["file"])]]
        rows += [[name, mib(v)] for name, v in s.items() if name != "file"]
        search = sum(v for k, v in s.items() if k.startswith(("search_", "sqlite_autoindex_search_")))
        foot = f"\n\nSearch table and FTS5 shadow tables together: {mib(search)} MiB"
        if s.get("messages_table"):
            foot += f", {search / s['messages_table']:.2f}× the messages table."
    return table(["relation", "MiB"], rows) + foot + f"\n\nstore.search_index_size(): {r['index_size']}"

