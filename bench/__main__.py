"""``python -m bench SUITE [options]`` (or ``scripts/bench SUITE …``): run one benchmark suite.

Every suite prints its report as markdown tables on stdout (progress on stderr); ``--json``
prints it as one JSON line instead, ``--out FILE.md`` also writes both to files.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from bench.harness import BenchError, add_common_arguments, check_common, emit
from bench.suites import (abuse, apifuzz, autobahn, backup, bigroom, client, export, fanout, faults, files, floods,
                          parsers, presence, search, search_quality, slow, soak, spam, webinar)

SUITES: dict[str, ModuleType] = {m.NAME: m for m in (fanout, presence, abuse, client, webinar, export, files,
                                                  search, search_quality, spam, backup, faults, soak, slow,
                                                  autobahn, floods, apifuzz, parsers, bigroom)}


def build_parser(prog: str = "python -m bench") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0],
                                epilog="`python -m bench SUITE --help` lists a suite's options.")
    sub = p.add_subparsers(dest="suite", required=True, metavar="SUITE")
    for name, suite in SUITES.items():
        s = sub.add_parser(name, help=suite.HELP, description=suite.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_common_arguments(s, suite.MODES, suite.DEFAULT_MODE)
        suite.add_arguments(s)
        s.set_defaults(check=getattr(suite, "check", None), run=suite.run, suite_parser=s)
    return p


def main(argv: list[str] | None = None, prog: str = "python -m bench") -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(prog)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        # Before the suites were subcommands: `scripts/bench --mode both` ran fanout and
        # presence, `scripts/bench --only X` the case X.
        parser.error(f"no suite given: name one first ({', '.join(SUITES)}), e.g. "
                     f"`{parser.prog} presence {' '.join(argv)}`; `--only X` is now the suite X")
    args = parser.parse_args(argv)
    check_common(args.suite_parser, args)
    if args.check:
        args.check(args.suite_parser, args)
    try:
        report = args.run(args)
    except BenchError as exc:
        print(f"bench {args.suite}: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        print(f"bench {args.suite}: {exc.name} is missing in {sys.executable}: install the project "
              "with its test and bench extras (.venv/bin/pip install -e '.[test,bench]')", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bench {args.suite}: interrupted", file=sys.stderr)
        return 130
    emit(report, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
