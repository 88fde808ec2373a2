"""The benchmark package (bench/): every suite module is a subcommand of the one entry point,
its --help works, and the package is not shipped with the server. No load is run here."""

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
# Helpers of a suite, not suites: the load generator's half, the browser's side, the senders.
HELPERS = ("_load", "_page", "_bots")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_every_suite_module_is_registered():
    suites = [name for name in SUITE_MODULES if not name.endswith(HELPERS)]
    assert suites and sorted(SUITES) == suites


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
