"""Server processes for the suites: a fresh node, pinned to a core, ready or gone.

A node is ``ecolink serve`` (or another command, e.g. the bare-websockets baseline) in its own
process. `fresh_node_env` gives it its own data folder, or in postgres mode its own database and
Redis key prefix, and removes them afterwards. The PostgreSQL and Redis servers come from the
options, else from tests/support/services.py: the same servers the tests use (the environment's
URLs, the local ones, or throwaway ones started for this run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import REPO, BenchError, log
from tests.support import services

NOFILE = 65536


# ---------------------------------------------------------------------------------------------
# Where PostgreSQL and Redis are


def resolve_services(args: argparse.Namespace) -> None:
    """Fill in --pg-admin-url and --redis-url from the test support when not given. Never the
    test suite's PostgreSQL in RAM (without fsync): figures are measured on a real disk."""
    os.environ.setdefault(services.ENV_PG_IN_RAM, "0")
    try:
        if not args.pg_admin_url:
            args.pg_admin_url = services.postgres_admin_dsn()
        if not args.redis_url:
            args.redis_url = services.redis_url()
    except RuntimeError as exc:
        raise BenchError(f"{exc} (or use --mode embedded)") from None


def postgres_version(admin_url: str) -> str:
    import asyncpg

    async def go() -> str:
        conn = await asyncpg.connect(admin_url, timeout=10)
        try:
            return (await conn.fetchval("SHOW server_version")
                    + ", synchronous_commit=" + await conn.fetchval("SHOW synchronous_commit")
                    + ", fsync=" + await conn.fetchval("SHOW fsync"))
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"PostgreSQL not reachable at {redact(admin_url)}: {exc}. Start it, "
                         "pass --pg-admin-url, or use --mode embedded") from None


def redis_version(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=3)
    try:
        return str(client.info("server").get("redis_version", "?"))
    except (redis.RedisError, OSError) as exc:
        raise BenchError(f"Redis not reachable at {redact(url)}: {exc}. Start it, pass "
                         "--redis-url, or use --mode embedded") from None
    finally:
        client.close()


def delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    finally:
        client.close()


def redact(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


def port_of(url: str, default: int) -> int:
    return urlsplit(url).port or default


# ---------------------------------------------------------------------------------------------
# A fresh node's settings


@dataclass
class NodeEnv:
    """ECOLINK_* for one fresh node, and what its load generator measures besides it."""

    env: dict[str, str]
    db_name: str | None = None
    aux_ports: list[int] = field(default_factory=list)  # PostgreSQL, Redis: "db CPU"


@contextlib.contextmanager
def fresh_node_env(mode: str, args: argparse.Namespace, settings: dict[str, str],
                   tag: str = "bench") -> Iterator[NodeEnv]:
    """`settings` plus a data folder of its own; in postgres mode also a fresh database on
    --pg-admin-url and a fresh Redis key prefix. All three are removed afterwards."""
    data_dir = tempfile.mkdtemp(prefix=f"ecolink-{tag}-")
    node = NodeEnv({**settings, "ECOLINK_DATA_DIR": data_dir})
    stamp = f"{int(time.time())}_{os.getpid()}"
    prefix = f"{tag}-{stamp}:"
    try:
        if mode == "postgres":
            node.db_name = f"ecolink_{tag.replace('-', '_')}_{stamp}"
            try:
                url = asyncio.run(services.create_database(args.pg_admin_url, node.db_name))
            except Exception as exc:
                node.db_name = None
                raise BenchError(f"cannot create a database on {redact(args.pg_admin_url)}: {exc}. "
                                 "Start PostgreSQL, pass --pg-admin-url, or use --mode embedded") from None
            node.env.update(ECOLINK_DATABASE_URL=url, ECOLINK_REDIS_URL=args.redis_url,
                            ECOLINK_REDIS_PREFIX=prefix)
            node.aux_ports = [port_of(args.pg_admin_url, 5432), port_of(args.redis_url, 6379)]
        yield node
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if node.db_name:
            try:  # cleanup must not hide the results
                asyncio.run(services.drop_database(args.pg_admin_url, node.db_name))
                delete_redis_keys(args.redis_url, prefix)
            except Exception as exc:
                log(f"cleanup of {node.db_name} failed: {exc}")


# ---------------------------------------------------------------------------------------------
# Processes


def ecolink_command(args: argparse.Namespace) -> str:
    if args.ecolink:
        found = shutil.which(args.ecolink)
        if not found:
            raise BenchError(f"--ecolink {args.ecolink}: no such command")
        return found
    beside = Path(sys.executable).parent / "ecolink"
    if beside.exists():
        return str(beside)
    found = shutil.which("ecolink")
    if found:
        return found
    raise BenchError("no `ecolink` command: install the project into this Python "
                     f"({sys.executable} -m pip install -e {REPO}) or pass --ecolink")


def serve_command(args: argparse.Namespace, port: int) -> list[str]:
    return [ecolink_command(args), "serve", "--host", "127.0.0.1", "--port", str(port)]


def pinned(core_id: int, niceness: int, realtime: bool = False) -> Callable[[], None]:
    """preexec_fn: pin the child to one core (like ``taskset -c``) and set its niceness, or
    give it the SCHED_FIFO real-time policy (like ``chrt -f 1``)."""

    def setup() -> None:
        os.sched_setaffinity(0, {core_id})
        if realtime:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        elif niceness:
            with contextlib.suppress(PermissionError):
                os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return setup


def raise_nofile(needed: int) -> None:
    """Raise the open-file limit (inherited by server and load generator) to NOFILE, or at
    least to ``needed``; the hard limit caps it unless we may raise that (root)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in ((NOFILE, max(hard, NOFILE)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)
            break
        except (ValueError, OSError):
            continue
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise BenchError(
            f"open-file limit is {soft} (hard {hard}); {needed:,} are needed for the "
            f"connections. Raise it first (ulimit -Hn {NOFILE}; ulimit -n {NOFILE}) or ask for fewer"
        )


def start_node(command: Callable[[int], list[str]], env: dict[str, str],
               preexec: Callable[[], None] | None = None, name: str = "node") -> tuple[subprocess.Popen, int]:
    """Start ``command(port)`` on a free port with `env` as its only ECOLINK_* settings, and
    return once it answers /readyz."""
    port = services.free_port()
    cmd = command(port)
    log(f"{name}: {' '.join(cmd)}")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")} | env
    proc = subprocess.Popen(cmd, env=full_env, cwd=REPO, preexec_fn=preexec,
                            stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        wait_ready(proc, port)
    except BaseException:
        stop(proc)
        raise
    return proc, port


def wait_ready(proc: subprocess.Popen, port: int, timeout_s: float = 60.0) -> None:
    url = f"http://127.0.0.1:{port}/readyz"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server exited with code {proc.returncode} before it was ready")
        with contextlib.suppress(urllib.error.URLError, OSError), \
                urllib.request.urlopen(url, timeout=1) as resp:
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"the server was not ready after {timeout_s:.0f} s ({url})")


def stop(proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        log(f"server {proc.pid} ignored SIGTERM for {timeout_s:.0f}s; killing it")
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running(command: Callable[[int], list[str]], env: dict[str, str],
            preexec: Callable[[], None] | None = None, name: str = "node",
            stop_timeout_s: float = 20.0) -> Iterator[tuple[subprocess.Popen, int]]:
    proc, port = start_node(command, env, preexec, name)
    try:
        yield proc, port
    finally:
        stop(proc, stop_timeout_s)


def listening_pids(ports: list[int]) -> list[int]:
    """Processes listening on these local TCP ports (PostgreSQL's postmaster, redis-server)."""
    import psutil

    pids = set()
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if (conn.status == psutil.CONN_LISTEN and conn.laddr and conn.pid
                    and conn.laddr.port in ports):
                pids.add(conn.pid)
    except psutil.AccessDenied:
        return []
    return sorted(pids)


# ---------------------------------------------------------------------------------------------
# Other work on the machine


def machine_busy_pct(window_s: float = 2.0) -> float:
    """CPU in use on the whole machine over a short window, in % of one core."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as f:
            nums = [int(v) for v in f.readline().split()[1:9]]
        return sum(nums) - nums[3] - nums[4], sum(nums)

    b0, t0 = read()
    time.sleep(window_s)
    b1, t1 = read()
    return 100 * (os.cpu_count() or 1) * (b1 - b0) / max(1, t1 - t0)


def wait_quiet(args: argparse.Namespace) -> float:
    """Before a target starts (nothing of ours running), wait up to --quiet-wait seconds for
    other work on the machine to fall under --quiet-pct; returns the last reading."""
    deadline = time.monotonic() + args.quiet_wait
    busy = machine_busy_pct()
    while busy > args.quiet_pct and time.monotonic() < deadline:
        log(f"other processes use {busy:.0f}% of a core; waiting for a quieter machine")
        busy = machine_busy_pct()
    if busy > args.quiet_pct:
        log(f"going ahead with {busy:.0f}% of a core in use by other processes; "
            "see the 'other CPU' column")
    return busy
