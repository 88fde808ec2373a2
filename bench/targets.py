"""The suites that drive the raw-socket load generator: one target per server configuration.

A target is a server on --server-core (``ecolink serve`` embedded or postgres, or the bare
``websockets`` baseline) and, per measurement, the load generator (``python -m bench.loadgen``)
on --loadgen-core, which prints one JSON object. Each measurement gets a fresh server process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

from bench import nodes
from bench.harness import REPO, BenchError, log

# The node's settings for load that goes far above the per-connection and per-member limits.
LIFTED_LIMITS = {
    "ECOLINK_ARGON2_PROFILE": "cheapest",  # 1,000 registrations in seconds
    "ECOLINK_REGISTER_PER_ADDRESS_MAX": "1000000",  # all of them from one address
    "ECOLINK_WS_RATE_PER_S": "100000",  # senders go far above the per-connection limit
    "ECOLINK_WS_RATE_BURST": "100000",
    "ECOLINK_MEMBER_RATE_PER_S": "100000",  # and above the member's budget
    "ECOLINK_MEMBER_RATE_BURST": "100000",
    "ECOLINK_MAX_SOCKETS_PER_MEMBER": "10000",  # the idle test joins as few members
    "ECOLINK_REGISTRATION_POW_BITS": "0",  # 1,000 registrations, no challenge each
    "ECOLINK_NEW_ACCOUNT_HOURS": "0",  # every bench account is new and sends fast
    "ECOLINK_SPAM_MAX_ROOMS": "0",  # bots send alike texts to many rooms
    "ECOLINK_LOG_LEVEL": "warning",
}


class Target:
    """One server configuration: its settings (``env``, changeable between starts), and how to
    start it pinned."""

    def __init__(self, name: str, args: argparse.Namespace, node: nodes.NodeEnv | None) -> None:
        self.name = name
        self.args = args
        self.node = node or nodes.NodeEnv({})
        self.env = dict(self.node.env)
        self.register = name != "baseline"
        self.other_cpu_before_pct: float | None = None  # --quiet-wait's last reading

    def command(self, port: int) -> list[str]:
        if self.name == "baseline":
            return [sys.executable, "-m", "bench.baseline_server", "--host", "127.0.0.1",
                    "--port", str(port)]
        return nodes.serve_command(self.args, port)

    @contextlib.contextmanager
    def running(self, stop_timeout_s: float = 20.0) -> Iterator[tuple[subprocess.Popen, int]]:
        a = self.args
        with nodes.running(self.command, self.env, nodes.pinned(a.server_core, a.nice, a.realtime),
                           f"{self.name} on core {a.server_core}", stop_timeout_s) as started:
            yield started

    def loadgen(self, port: int, server_pid: int, command: str, extra: list[str]) -> dict:
        """Run ``python -m bench.loadgen COMMAND`` pinned to --loadgen-core; its JSON result."""
        a = self.args
        cmd = [sys.executable, "-m", "bench.loadgen", command, "--port", str(port),
               "--server-pid", str(server_pid), "--tag", f"{self.name}-{int(time.time())}"]
        for pid in nodes.listening_pids(self.node.aux_ports):
            cmd += ["--aux-pid", str(pid)]
        if self.node.db_name:
            cmd += ["--aux-db", self.node.db_name]
        if self.register:
            cmd.append("--register")
        cmd += extra
        log(f"{self.name}: load generator on core {a.loadgen_core}: {' '.join(cmd[1:])}")
        proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
                              preexec_fn=nodes.pinned(a.loadgen_core, a.nice, a.realtime))
        if proc.returncode != 0:
            raise BenchError(f"load generator failed ({command}, exit {proc.returncode})")
        return json.loads(proc.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def target(name: str, args: argparse.Namespace, settings: dict[str, str]) -> Iterator[Target]:
    """A target with a fresh data folder (or database and Redis prefix), removed afterwards;
    waits for a quiet machine first (--quiet-wait)."""
    busy = nodes.wait_quiet(args) if args.quiet_wait > 0 else None
    with contextlib.ExitStack() as stack:
        node = None if name == "baseline" else stack.enter_context(
            nodes.fresh_node_env(name, args, settings))
        t = Target(name, args, node)
        t.other_cpu_before_pct = busy
        yield t


def prepare(args: argparse.Namespace, modes: list[str], connections: int) -> str | None:
    """Checks before any target starts; returns the PostgreSQL + Redis environment line."""
    import msgpack  # noqa: F401  (the load generator needs these in this Python)
    import psutil  # noqa: F401

    if (os.cpu_count() or 1) < 2:
        raise BenchError("needs at least 2 cores (server and load generator apart)")
    nodes.raise_nofile(connections + 1000)
    nodes.ecolink_command(args)
    if "postgres" not in modes:
        return None
    nodes.resolve_services(args)
    return (f"- PostgreSQL {nodes.postgres_version(args.pg_admin_url)}; Redis "
            f"{nodes.redis_version(args.redis_url)} (both shared by the two cores, not pinned)")
