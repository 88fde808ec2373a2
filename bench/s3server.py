"""``python -m bench.s3server --port P``: a throwaway S3-compatible server for the files suite.

moto's ``ThreadedMotoServer`` (what the tests use, tests/support/services.py), in a process of
its own so that its CPU and memory are measured apart from the node's and the benchmark's. It
keeps everything in this process (objects over a few MiB in temporary files) and exits on
SIGTERM or SIGINT. moto is a Python test double, not a production store: see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bench.harness import positive_int


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.s3server", description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=positive_int, required=True)
    args = p.parse_args(argv)
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    print(f"moto S3 server on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
