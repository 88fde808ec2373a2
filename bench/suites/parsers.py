"""Algorithmic bounds, the full matrix (issue 16, case 14; the short run is
tests/unit/test_adversarial_text.py, each parser on its worst input from here).

Every parser the server applies to text a member typed (tests/support/adversarial.py has the
inventory) on every adversarial 64 KiB input, in this process, timed in CPU seconds. The
report: each parser's slowest input and its time. A parser over the test's bound exits non-zero.
"""

from __future__ import annotations

import argparse

from bench.harness import BenchError, Report, log, machine_lines, table

NAME = "parsers"
HELP = "every parser of member text on every adversarial 64 KiB input (CPU time, worst per parser)"
MODES = ("process",)
DEFAULT_MODE = "process"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> Report:
    from tests.support.adversarial import BOUND_S, INPUTS, PARSERS, warm_up, worst_cases

    log(f"{len(PARSERS)} parsers x {len(INPUTS)} inputs")
    warm_up()
    worst = worst_cases(INPUTS)
    report = Report(NAME, machine_lines() + [
        f"- in process: {len(PARSERS)} parsers, each on {len(INPUTS)} inputs of 64 KiB; CPU time of one call"])
    rows = [[parser, name, f"{elapsed * 1000:.1f}"]
            for parser, (elapsed, name) in sorted(worst.items(), key=lambda kv: -kv[1][0])]
    report.add("Worst input per parser", table(["parser", "worst input", "ms of CPU"], rows))
    report.results = {parser: {"input": name, "cpu_s": s} for parser, (s, name) in worst.items()}
    slow = {parser: s for parser, (s, _) in worst.items() if s > BOUND_S}
    if slow:
        raise BenchError(f"over the {BOUND_S:g} s bound: {slow}")
    return report
