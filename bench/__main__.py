"""``python -m bench SUITE [options]`` (or ``scripts/bench SUITE …``): run one benchmark suite.

Every suite prints its report as markdown tables on stdout (progress on stderr); ``--json``
prints it as one JSON line instead, ``--out FILE.md`` also writes both to files.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from bench.harness import BenchError, add_common_arguments, check_common, emit
from bench.suites import abuse, client, fanout, presence

SUITES: dict[str, ModuleType] = {m.NAME: m for m in (fanout, presence, abuse, client)}
# What `scripts/bench --only X` (before the suites were subcommands) is called now.
RENAMED = {"--only": "--only X is now the suite X"}


def build_parser() -> argparse.ArgumentParser:
    prog = "scripts/bench" if sys.argv[0].endswith("scripts/bench") else "python -m bench"
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] not in SUITES and argv[0].startswith("--") and argv[0] not in ("--help",):
        hint = RENAMED.get(argv[0], "name the suite first")
        parser.error(f"no suite given ({hint}); the suites: {', '.join(SUITES)}")
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
              "with its test extras (scripts/test does: .venv)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bench {args.suite}: interrupted", file=sys.stderr)
        return 130
    emit(report, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
