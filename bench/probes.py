"""What the load generators measure besides their clients: the server's CPU and RSS (psutil on
its pid and children), PostgreSQL's and Redis's CPU, this process's own CPU, and how busy each
core was (/proc/stat: other work on the machine shows up there)."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil


class ServerProbe:
    """CPU seconds and RSS of the server process and its children (uvicorn may fork)."""

    def __init__(self, pid: int | None, more: list[int] | None = None) -> None:
        """`more`: other server processes measured with it (the nodes of a room on several)."""
        self.servers = [psutil.Process(p) for p in (pid, *(more or ())) if p]
        self.proc = self.servers[0] if self.servers else None

    def _procs(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for server in self.servers:
            try:
                found += [server, *server.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        return found

    def cpu_s(self) -> float:
        total = 0.0
        for p in self._procs():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_bytes(self) -> int:
        total = 0
        for p in self._procs():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total


class TreeProbe(ServerProbe):
    """CPU of several process trees (PostgreSQL's postmaster and its backends, redis-server).

    Backends come and go, so CPU is summed over the processes alive at both ends of a step;
    a backend that exits mid-step is missed (the pool keeps its connections, so few do).
    """

    # A PostgreSQL client backend's title: "postgres: 15/main: user db 127.0.0.1(port) idle".
    CLIENT_BACKEND = re.compile(r"\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|\[[0-9a-f:]+\]\(\d+\)")

    def __init__(self, pids: list[int], only_db: str | None = None) -> None:
        self.only_db = only_db  # count client backends of this database only
        self.roots = []
        for pid in pids:
            try:
                self.roots.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        self.servers = []
        self.proc = None

    def snapshot(self) -> dict[int, float]:
        out = {}
        for root in self.roots:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for p in procs:
                try:
                    if self.only_db and p is not root:
                        title = " ".join(p.cmdline())
                        if self.CLIENT_BACKEND.search(title) and self.only_db not in title:
                            continue  # another database's session (other users of the server)
                    t = p.cpu_times()
                    out[p.pid] = t.user + t.system
                except psutil.NoSuchProcess:
                    pass
        return out

    @staticmethod
    def delta(a: dict[int, float], b: dict[int, float]) -> float:
        return sum(v - a.get(pid, 0.0) for pid, v in b.items())


def own_cpu_split() -> tuple[float, float]:
    t = os.times()
    return t.user, t.system


def core_busy() -> dict[str, tuple[int, int]]:
    """Busy and total jiffies per CPU from /proc/stat (shows load from other processes)."""
    out = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    nums = [int(v) for v in vals]
                    idle = nums[3] + nums[4]
                    total = sum(nums[:8])
                    out[name] = (total - idle, total)
    except OSError:
        pass
    return out


def core_busy_pct(a: dict, b: dict) -> dict[str, float]:
    res = {}
    for name in b:
        if name in a and b[name][1] > a[name][1]:
            res[name] = 100 * (b[name][0] - a[name][0]) / (b[name][1] - a[name][1])
    return res


def pct(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k] / 1e6  # ns -> ms


@dataclass
class CpuMeter:
    """CPU seconds per process group between start() and stop(), in % of one core. A process
    that exits in between loses its share (Chromium keeps its processes during a run)."""

    node_pid: int
    started: float = 0.0
    machine: float = 0.0
    per_pid: dict[int, float] = field(default_factory=dict)

    @staticmethod
    def _busy() -> float:
        import psutil

        times = psutil.cpu_times()
        return sum(times) - times.idle - getattr(times, "iowait", 0.0)

    def _processes(self) -> dict[int, float]:
        import psutil

        me = psutil.Process()
        found = {}
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                found[proc.pid] = t.user + t.system
        return found

    def start(self) -> None:
        self.started, self.machine, self.per_pid = time.monotonic(), self._busy(), self._processes()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        busy = self._busy() - self.machine
        now = self._processes()
        used = {pid: s - self.per_pid.get(pid, 0.0) for pid, s in now.items()}
        node = used.pop(self.node_pid, 0.0)
        script = used.pop(os.getpid(), 0.0)
        browser = sum(used.values())  # Chromium and the Playwright driver
        return {"browser": 100 * browser / wall, "node": 100 * node / wall, "script": 100 * script / wall,
                "other": max(0.0, 100 * (busy - browser - node - script) / wall)}


# ---------------------------------------------------------------------------------------------
# One measurement window of the unpinned suites (export, files): RSS samples and CPU shares


class Sampler(threading.Thread):
    """A process's RSS (with its children) every `every_s` seconds, from start() to stop()."""

    def __init__(self, pid: int, every_s: float) -> None:
        super().__init__(daemon=True)
        self.probe = ServerProbe(pid)
        self.every_s = every_s
        self.samples: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append(self.probe.rss_bytes())
            self.stopping.wait(self.every_s)

    def stop(self) -> list[int]:
        self.stopping.set()
        self.join()
        return self.samples


def machine_busy_s() -> float:
    """CPU seconds the whole machine has used since boot (all cores, without idle and iowait)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


class CpuWindow:
    """CPU seconds between start() and stop() of the node, this run's PostgreSQL backends (`pg`,
    a TreeProbe), this process, each of `others` (name -> pid, with its children, e.g. the load
    generator) and the rest of the machine ("other": everybody else's work)."""

    def __init__(self, node_pid: int, pg: TreeProbe, others: dict[str, int]) -> None:
        self.node = ServerProbe(node_pid)
        self.pg = pg
        self.others = {name: ServerProbe(pid) for name, pid in others.items()}

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.machine0 = machine_busy_s()
        self.own0 = sum(os.times()[:2])
        self.node0 = self.node.cpu_s()
        self.others0 = {name: probe.cpu_s() for name, probe in self.others.items()}
        self.pg0 = self.pg.snapshot()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        machine = machine_busy_s() - self.machine0
        own = sum(os.times()[:2]) - self.own0
        node = self.node.cpu_s() - self.node0
        others = {f"{name}_cpu_s": probe.cpu_s() - self.others0[name] for name, probe in self.others.items()}
        pg = self.pg.delta(self.pg0, self.pg.snapshot())
        other = max(0.0, machine - node - pg - own - sum(others.values()))
        return {"wall_s": wall, "node_cpu_s": node, "pg_cpu_s": pg, "bench_cpu_s": own, **others,
                "other_cpu_s": other, "machine_cpu_s": machine}


def renice_backends(pg: TreeProbe, db_name: str | None, niceness: int) -> int:
    """Give this run's PostgreSQL backends (the fresh database's, nobody else's) the node's
    niceness: the live sends wait for their commits there. Returns how many were changed."""
    changed = 0
    if not db_name or niceness == 0:
        return 0
    for root in pg.roots:
        with contextlib.suppress(psutil.Error):
            for p in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if db_name in " ".join(p.cmdline()) and p.nice() != niceness:
                        p.nice(niceness)
                        changed += 1
    return changed


# ---------------------------------------------------------------------------------------------
# Who holds the node's GIL (--profile of the unpinned suites; py-spy is not a dependency)

PROFILE_RATE = 200  # samples per second


def profiler(args: argparse.Namespace, node_pid: int, name: str) -> subprocess.Popen | None:
    """py-spy recording which of the node's threads holds the GIL into --profile/NAME.txt, until
    SIGINT; None without --profile."""
    if args.profile is None:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"{name}.txt"
    return subprocess.Popen([shutil.which(args.py_spy) or args.py_spy, "record", "--pid", str(node_pid), "--gil",
                             "--threads", "--nonblocking", "--rate", str(PROFILE_RATE), "--format", "raw",
                             "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(path: Path, wall_s: float,
                    buckets: tuple[tuple[str, tuple[str, ...], str], ...]) -> dict[str, float]:
    """Share of the wall time each bucket held the node's GIL, from py-spy's collapsed stacks;
    "GIL held" is their sum. A bucket is (label, substrings of a stack, "main" or "worker"
    thread); the first bucket one of whose substrings the stack holds takes the sample."""
    counts: dict[str, int] = {}
    total = 0
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        worker = "MainThread" not in stack.split(";", 1)[0]
        where = "other (main thread)" if not worker else "other thread"
        for label, needles, thread in buckets:
            if (thread == "worker") == worker and any(x in stack for x in needles):
                where = label
                break
        counts[where] = counts.get(where, 0) + int(n)
    possible = PROFILE_RATE * wall_s
    shares = {k: round(v / possible, 3) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    return {"GIL held": round(total / possible, 3), **shares}


class LoopLagProbe:
    """The node's event-loop lag over a step, from its /metrics (loopback may read them):
    `ecolink_event_loop_lag_seconds`'s bucket counts at both ends give the step's p99 as the
    bucket bound it falls under; the max is the smaller of `ecolink_event_loop_lag_max_seconds`
    at the end (the last 30-60 s) and the bound of the highest bucket the step filled. A server
    without these metrics (the bare baseline) gives None."""

    def __init__(self, host: str, port: int) -> None:
        self.url = f"http://{host}:{port}/metrics"

    def read(self) -> dict | None:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url, timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            return None
        from prometheus_client.parser import text_string_to_metric_families

        buckets: dict[float, float] = {}
        peak = None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "ecolink_event_loop_lag_seconds_bucket":
                    buckets[float(sample.labels["le"])] = sample.value
                elif sample.name == "ecolink_event_loop_lag_max_seconds":
                    peak = sample.value
        return {"buckets": buckets, "max_s": peak} if buckets else None

    @staticmethod
    def step(start: dict | None, end: dict | None) -> dict:
        """p99 and max in ms between two reads ({} when either is missing or nothing was measured)."""
        if not start or not end:
            return {}
        bounds = sorted(end["buckets"])
        counts = [end["buckets"][b] - start["buckets"].get(b, 0.0) for b in bounds]  # cumulative
        total = counts[-1]
        if total <= 0:
            return {}
        p99 = next(b for b, c in zip(bounds, counts, strict=True) if c >= 0.99 * total)
        highest = next(b for b, c in zip(bounds, counts, strict=True) if c >= total)
        peak = end["max_s"] if end["max_s"] is not None else highest
        return {"loop_lag_p99_ms": 1000 * p99, "loop_lag_max_ms": 1000 * min(peak, highest),
                "loop_lag_samples": int(total)}

    @staticmethod
    def worst(steps: list[dict]) -> dict:
        """Several nodes' steps as one: the highest p99 and max (a stall of any node is one
        that some of the room's members wait for), the samples summed. A node without figures
        while others have them (its /metrics did not answer: a stalled node, likely) makes the
        step's figures unknown (NaN), never the others' alone."""
        measured = [s for s in steps if s]
        if not measured:
            return {}
        if len(measured) < len(steps):
            return {"loop_lag_p99_ms": math.nan, "loop_lag_max_ms": math.nan,
                    "loop_lag_samples": sum(s["loop_lag_samples"] for s in measured)}
        return {"loop_lag_p99_ms": max(s["loop_lag_p99_ms"] for s in measured),
                "loop_lag_max_ms": max(s["loop_lag_max_ms"] for s in measured),
                "loop_lag_samples": sum(s["loop_lag_samples"] for s in measured)}
