"""The benchmark package (bench/): every suite module is a subcommand of the one entry point,
its --help works, and the package is not shipped with the server. No load is run here."""

import math
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from bench.__main__ import SUITES
from bench.loadgen import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SUITE_MODULES = sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "bench" / "suites")]))
# Helpers of a suite, not suites: the load generator's half, the browser's side, the senders,
# the seeder.
HELPERS = ("_load", "_page", "_bots", "_seed")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_every_suite_module_is_registered():
    suites = [name for name in SUITE_MODULES if not name.endswith(HELPERS)]
    assert suites and sorted(name.replace("-", "_") for name in SUITES) == suites


def test_every_load_module_gives_the_load_generator_its_commands():
    load_modules = [name for name in SUITE_MODULES if name.endswith("_load")]
    owners = {fn.__module__.rsplit(".", 1)[1] for _, _, _, fn in COMMANDS.values()}
    assert owners == set(load_modules)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_help(suite):
    result = run("-m", "bench", suite, "--help")
    assert result.returncode == 0, result.stderr
    assert f"bench {suite}" in result.stdout and "--out" in result.stdout and "--json" in result.stdout


def test_the_wrapper_lists_the_suites():
    result = run(str(ROOT / "scripts" / "bench"), "--help")
    assert result.returncode == 0, result.stderr
    assert all(suite in result.stdout for suite in SUITES)


def test_old_only_flag_names_the_suites():
    result = run(str(ROOT / "scripts" / "bench"), "--only", "presence")
    assert result.returncode == 2
    assert "no suite given" in result.stderr and "presence" in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_load_generator_help(command):
    result = run("-m", "bench.loadgen", command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout


def test_baseline_server_help():
    assert run("-m", "bench.baseline_server", "--help").returncode == 0


def test_the_benchmarks_are_not_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    packages = find_packages(where=str(ROOT), **config["tool"]["setuptools"]["packages"]["find"])
    assert "chat" in packages and not any(p.split(".")[0] in ("bench", "tests") for p in packages)


def test_one_report_format():
    import argparse
    import json

    from bench.harness import Report, table

    report = Report("demo", ["- machine: test"], results={"embedded": {"p99_ms": 1.5}})
    report.add("Steps", table(["target", "p99 ms"], [["embedded", "1.5"]]))
    assert report.markdown() == ("## Environment\n\n- machine: test\n\n## Steps\n\n"
                                 "| target | p99 ms |\n|---|---:|\n| embedded | 1.5 |\n")
    args = argparse.Namespace(mode="embedded", out=Path("x.md"), run=print)
    document = json.loads(json.dumps(report.document(args), default=str))
    assert document == {"suite": "demo", "args": {"mode": "embedded", "out": "x.md"},
                        "environment": ["- machine: test"], "results": {"embedded": {"p99_ms": 1.5}}}


def test_webinar_suite_arguments():
    """The webinar suite's options: defaults, and refusals with a clear message (no load run)."""
    from bench.__main__ import build_parser
    from bench.suites import webinar

    parser = build_parser()
    args = parser.parse_args(["webinar"])
    assert (args.attendees, args.spread_s, args.tick_ms, args.mode) == (2000, 10.0, 250, "postgres")
    args = parser.parse_args(["webinar", "--attendees", "300", "--spread-s", "2.5", "--tick-ms", "100"])
    assert (args.attendees, args.spread_s, args.tick_ms) == (300, 2.5, 100)
    webinar.check(args.suite_parser, args)
    for bad in (["--attendees", "0"], ["--attendees", "x"], ["--spread-s", "-1"], ["--mode", "embedded"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["webinar", *bad])
    for bad in (["--attendees", "1"], ["--tick-ms", "5"]):
        args = parser.parse_args(["webinar", *bad])
        with pytest.raises(SystemExit):
            webinar.check(args.suite_parser, args)


def test_export_suite_arguments():
    """The export suite's options: defaults (issue 12's sizes), a small smoke size, and
    refusals with a clear message (no load run)."""
    from bench.__main__ import build_parser
    from bench.suites import export

    parser = build_parser()
    args = parser.parse_args(["export"])
    assert (args.messages, args.pdf_messages, args.formats, args.range_formats) == (
        1_000_000, 10_000, ["jsonl", "markdown", "html"], ["pdf"])
    assert (args.receivers, args.live_rate, args.mode) == (50, 20.0, "postgres")
    export.check(args.suite_parser, args)
    args = parser.parse_args(["export", "--messages", "2000", "--pdf-messages", "500", "--formats", "csv,jsonl",
                              "--range-formats", "", "--set", "ECOLINK_EXPORT_CONCURRENCY=2", "--gc-freeze-after-s", "3"])
    assert (args.messages, args.pdf_messages, args.formats, args.range_formats) == (2000, 500, ["csv", "jsonl"], [])
    assert args.set == [("ECOLINK_EXPORT_CONCURRENCY", "2")] and args.gc_freeze_after_s == 3.0
    export.check(args.suite_parser, args)
    for bad in (["--messages", "0"], ["--messages", "many"], ["--formats", "docx"], ["--formats", "pdf,pdf"],
                ["--live-rate", "0"], ["--set", "PATH=/x"], ["--mode", "embedded"], ["--gc-freeze-after-s", "0"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["export", *bad])
    for bad in (["--messages", "999"], ["--messages", "5000", "--pdf-messages", "6000"],
                ["--formats", "", "--range-formats", ""], ["--pause-s", "-1"]):
        args = parser.parse_args(["export", *bad])
        with pytest.raises(SystemExit):
            export.check(args.suite_parser, args)


def test_export_seed_rows_match_the_append_writer():
    """The seeder's rows: gapless seqs, every message's events right after it naming it, a
    deleted message blanked everywhere, and the windows the history check reads recorded."""
    from bench.suites.export_seed import MESSAGE_COLUMNS, Seeded, plan_rows

    seeded = Seeded("green-buildings", 3000, 0)
    chunks = list(plan_rows("green-buildings", 3000, [1, 2, 3], 1_700_000_000_000, 5, [range(0, 200)], seeded))
    rows = [r for chunk in chunks for r in chunk[0]]
    assert [r[1] for r in rows] == list(range(1, len(rows) + 1)) and seeded.rows == len(rows)
    assert all(len(r) == len(MESSAGE_COLUMNS) for r in rows)
    messages = {r[2]: r for r in rows if r[7] == "message"}
    assert len(messages) == 3000 and seeded.deleted and seeded.edited
    for r in rows:
        if r[7] != "message":
            assert r[7] in ("edit", "delete", "reaction") and r[8] in messages and messages[r[8]][1] < r[1]
            if messages[r[8]][12]:  # deleted: no text left in the message or its edit events
                assert r[5] == "" and r[9] == ""
    assert all(r[5] == "" and r[9] == "" for r in messages.values() if r[12])
    versions = [v for chunk in chunks for v in chunk[1]]
    assert len(versions) == seeded.edited - sum(1 for r in messages.values() if r[12] and r[11] is not None)
    assert len(seeded.seq_of) == 200 and all(seeded.expected[s][0] == messages_by_seq
                                             for s, messages_by_seq in
                                             ((r[1], r[5]) for r in messages.values() if r[1] in seeded.expected))


def test_files_suite_arguments():
    """The files suite's options: defaults (issue 13's sizes), a quick size, and refusals with
    a clear message (no load run)."""
    from bench.__main__ import build_parser
    from bench.suites import files

    parser = build_parser()
    args = parser.parse_args(["files"])
    assert (args.storage, args.size_mb, args.concurrent, args.concurrent_mb, args.patch_mb) == (
        ["local", "s3"], 1024, 10, 100, None)
    assert (args.receivers, args.live_rate, args.mode, args.paced_mbs) == (50, 20.0, "postgres", 4.0)
    files.check(args.suite_parser, args)
    args = parser.parse_args(["files", "--storage", "s3", "--size-mb", "64", "--patch-mb", "32", "--pause-s", "0",
                              "--s3-url", "http://127.0.0.1:9000"])
    assert (args.storage, args.size_mb, args.patch_mb, args.pause_s) == (["s3"], 64, 32, 0.0)
    files.check(args.suite_parser, args)
    for bad in (["--storage", "nfs"], ["--storage", "s3,s3"], ["--storage", ""], ["--size-mb", "0"],
                ["--concurrent", "-1"], ["--pause-s", "-1"], ["--pause-s", "nan"], ["--mode", "embedded"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["files", *bad])
    for bad in (["--size-mb", "4096"], ["--s3-url", "ftp://x"], ["--nice", "30"],
                ["--profile", "out", "--py-spy", "/nonexistent/py-spy"]):
        args = parser.parse_args(["files", *bad])
        with pytest.raises(SystemExit):
            files.check(args.suite_parser, args)
    from bench.harness import check_common

    args = parser.parse_args(["files", "--quiet-wait", "-1"])
    with pytest.raises(SystemExit):
        check_common(args.suite_parser, args)


def test_files_suite_client_rules():
    """Where the upload client goes next: PATCHes of whole parts, and the offset a 409 names."""
    import httpx

    from bench.suites.files import error_offset, patch_step

    mib = 1 << 20
    assert patch_step(8 * mib, None) == 8 * mib  # one part, as the web client
    assert patch_step(8 * mib, 30 * mib) == 24 * mib  # rounded down to whole parts
    assert patch_step(8 * mib, 1 * mib) == 8 * mib  # never less than one part
    conflict = httpx.Response(409, json={"error": {"code": "offset_mismatch", "details": {"offset": 16 * mib}}})
    assert error_offset(conflict) == 16 * mib
    assert error_offset(httpx.Response(409, json={"offset": 8})) == 8
    assert error_offset(httpx.Response(409, text="<html>proxy</html>")) is None
    assert error_offset(httpx.Response(409, json={"error": {"details": {"offset": "8"}}})) is None
    assert error_offset(httpx.Response(409, json={"error": {"details": None}})) is None
    assert error_offset(httpx.Response(409, json=[1])) is None


def test_files_suite_pacer():
    """A paced upload waits just enough for its bytes to keep to the rate from its first byte."""
    from bench.suites.files import Pacer

    now = [100.0]
    pacer = Pacer(1000.0, clock=lambda: now[0])
    assert pacer.delay(500) == 0.5  # 500 bytes at once: half a second ahead
    now[0] = 100.5
    assert pacer.delay(250) == 0.25
    now[0] = 102.0  # the link was slower than the rate: no wait
    assert pacer.delay(100) == 0.0
    assert Pacer(None).delay(10**9) == 0.0 and Pacer(0).delay(1) == 0.0


def test_search_suite_arguments():
    """The search suite's options: defaults (issue 14's sizes), a smoke size, refusals with a
    clear message (no load run)."""
    from bench.__main__ import build_parser
    from bench.suites import search

    parser = build_parser()
    args = parser.parse_args(["search"])
    assert (args.messages, args.sqlite_messages, args.samples, args.mode) == (1_000_000, 100_000, 200, "both")
    assert (args.ack_seconds, args.ack_rounds, args.ack_rate, args.no_trgm) == (30.0, 2, 20.0, False)
    search.check(args.suite_parser, args)
    args = parser.parse_args(["search", "--mode", "embedded", "--sqlite-messages", "2000", "--samples", "5"])
    search.check(args.suite_parser, args)
    assert args.ack_seconds == 0  # acks are measured on PostgreSQL only
    for bad in (["--messages", "0"], ["--samples", "x"], ["--ack-seconds", "-1"], ["--mode", "sqlite"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["search", *bad])
    for bad in (["--messages", "999"], ["--sqlite-messages", "10"], ["--ack-rate", "0"]):
        args = parser.parse_args(["search", *bad])
        with pytest.raises(SystemExit):
            search.check(args.suite_parser, args)


def test_search_seed_messages():
    """The search suite's messages: gapless seqs per room in time order, a direct room's
    authors its two members, English, Chinese and mixed bodies, nearly all distinct, and the
    rows' terms and language the store's own."""
    from bench.suites.search_seed import ENTRY_COLUMNS, Plan, derive, entry, messages
    from chat.search.tokens import index_terms, language_of
    from chat.store.search_sql import UPSERT_ENTRY

    direct = {f"d-{k}": [1 + k, 2 + k] for k in range(4)}
    plan = Plan(1, list(range(2, 30)), ["green-transport", "zhuhai", "urban-renewal"], list(direct), ["d-0"],
                {k: f"name {k}" for k in range(1, 30)}, direct)
    made = list(messages(plan, 3000, 1_700_000_000_000, 30_000, seed=3))
    assert len(made) == 3000 and [m.sent_at_ms for m in made] == sorted(m.sent_at_ms for m in made)
    seqs: dict[str, list[int]] = {}
    for m in made:
        seqs.setdefault(m.room_id, []).append(m.seq)
        if m.room_id in direct:
            assert m.author_id in direct[m.room_id]
    assert set(seqs) == {*plan.public_rooms, *direct}
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())
    assert sum(m.room_id in direct for m in made) < sum(m.room_id == "green-transport" for m in made)
    languages = {language_of(m.body) for m in made}
    assert {"en", "zh", "mixed"} <= languages
    assert len({m.body for m in made}) > 0.9 * len(made)
    assert UPSERT_ENTRY.startswith(f"INSERT INTO search_entries ({', '.join(ENTRY_COLUMNS)}) VALUES")
    for m, (html, row) in zip(made[:50], derive(made[:50]), strict=True):
        values = dict(zip(ENTRY_COLUMNS, row, strict=True))
        assert html.startswith("<p>") and entry(m).ref_id == m.message_id == values["ref_id"]
        assert (values["room_id"], values["seq"], values["author_id"], values["body"]) == (
            m.room_id, m.seq, m.author_id, m.body)
        assert values["terms"] == index_terms(m.body) and values["language"] == language_of(m.body)


def test_search_suite_smoke_on_sqlite(tmp_path):
    """The search suite end to end on SQLite at a smoke size: the loaded rows are the store's
    (the suite refuses otherwise), every query type finds messages through the service for the
    searcher, and the report has its tables. No timing is asserted."""
    from bench.__main__ import build_parser

    args = build_parser().parse_args(["search", "--mode", "embedded", "--sqlite-messages", "1000",
                                      "--samples", "3", "--workers", "1", "--out", str(tmp_path / "s.md")])
    args.check(args.suite_parser, args)
    report = args.run(args)
    rows = report.results["embedded"]["latency"]
    assert len(rows) == 14 and all(row["count"] == 3 and row["results_mean"] > 0 for row in rows)
    assert report.results["embedded"]["index_size"]["message"] == 1000
    titles = [title for title, _ in report.sections]
    assert titles == ["Search latency, SQLite, 1,000 messages", "Index size, SQLite"]


def test_bigroom_suite_arguments():
    result = run("-m", "bench", "bigroom", "--members", "10", "--nodes", "2", "--senders", "6")
    assert result.returncode == 2 and "--senders (6) must be among the first node's 5 members" in result.stderr
    for bad, said in (("--members=0", "must be greater than 0"), ("--rate=-1", "must be a number greater than 0"),
                      ("--nodes=x", "expected a whole number")):
        result = run("-m", "bench", "bigroom", bad)
        assert result.returncode == 2 and said in result.stderr, (bad, result.stderr)


def test_load_generator_also_takes_port_and_pid():
    from bench.suites.fanout_load import node_at

    assert node_at("8001:123") == (8001, 123)
    for bad in ("8001", "8001:", ":123", "x:1", "0:1", "70000:1", "8001:0", "8001:-1"):
        with pytest.raises(Exception, match="expected PORT:PID"):
            node_at(bad)
    result = run("-m", "bench.loadgen", "steps", "--port", "1", "--also", "8001")
    assert result.returncode == 2 and "expected PORT:PID" in result.stderr


def test_the_worst_node_is_the_rooms_loop_lag():
    from bench.probes import LoopLagProbe

    quiet = {"loop_lag_p99_ms": 2.0, "loop_lag_max_ms": 5.0, "loop_lag_samples": 100}
    stalled = {"loop_lag_p99_ms": 10.0, "loop_lag_max_ms": 200.0, "loop_lag_samples": 90}
    assert LoopLagProbe.worst([quiet, stalled]) == {
        "loop_lag_p99_ms": 10.0, "loop_lag_max_ms": 200.0, "loop_lag_samples": 190}
    unknown = LoopLagProbe.worst([quiet, {}])  # a node whose /metrics did not answer
    assert math.isnan(unknown["loop_lag_max_ms"]) and math.isnan(unknown["loop_lag_p99_ms"])
    assert LoopLagProbe.worst([{}, {}]) == {}  # a server without the metrics at all


def test_bigroom_verdict_counts_an_unknown_step_as_not_met():
    from bench.suites.bigroom import summary

    def step(p99: float, lag: float) -> dict:
        return {"deliveries_per_s": 1.0, "p99_ms": p99, "loop_lag_max_ms": lag, "dropped": 0,
                "loadgen_cpu_pct": 10.0}

    assert "target ≤ 20 ms: **met**" in summary({"steps": [step(10, 5), step(12, 8)]})
    for steps in ([step(10, math.nan), step(12, 8)], [step(10, 5), step(12, math.nan)]):
        text = summary({"steps": steps})
        assert "target ≤ 20 ms: **not met**" in text, text
