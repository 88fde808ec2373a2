"""A busy room beside a measurement (the export and files suites): its deliveries' latency per period.

`BusyRoom` runs the load generator's ``export-live`` command (bench/suites/export_load.py) in
its own process: --receivers WebSocket clients joined to a room and one sender at a paced rate,
which also pings the node every 20 ms. The suite marks periods on the monotonic clock the load
generator also uses (a baseline, each measurement, a control after each); `finish` stops the
load and gives, per period, the latency of the deliveries, acks and pings of the messages sent
in it (`latency`), and `period_table` prints them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from bench import nodes
from bench.harness import BenchError, fmt, log, percentile, table


def latency(rows: list[list[int]], t0: int, t1: int) -> dict:
    """Latency of the deliveries (or acks) of the messages sent in [t0, t1): percentiles, how
    many took over 100 ms, and the worst second's p99 (a stall shows there)."""
    inside = [r for r in rows if t0 <= r[0] < t1]
    lat = [r[1] / 1000 for r in inside]
    seconds: dict[int, list[float]] = {}
    for sent, us in inside:
        seconds.setdefault((sent - t0) // 1_000_000_000, []).append(us / 1000)
    return {"count": len(lat), "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "max_ms": max(lat) if lat else None, "over_100ms": sum(1 for v in lat if v > 100),
            "worst_second_p99_ms": max((percentile(v, 99) for v in seconds.values()), default=None)}


class BusyRoom:
    """``python -m bench.loadgen export-live`` against a running node, from `__enter__` (once
    every receiver joined) to `finish`; `mark` and `idle` name the periods to report."""

    def __init__(self, port: int, node_pid: int, room: str, receivers: int, rate: float, tmp: Path,
                 texts: list[str] | None = None) -> None:
        """texts: what the bodies say after the send time, in turn (default: one English sentence)."""
        self.ready, self.stop_file = tmp / "busy-room-ready", tmp / "busy-room-stop"
        self.cmd = [sys.executable, "-m", "bench.loadgen", "export-live", "--port", str(port), "--room", room,
                    "--server-pid", str(node_pid), "--tag", f"live-{int(time.time())}",
                    "--receivers", str(receivers), "--rate", f"{rate:g}",
                    "--ready-file", str(self.ready), "--stop-file", str(self.stop_file)]
        if texts:
            (tmp / "busy-room-texts.json").write_text(json.dumps(texts, ensure_ascii=False), "utf-8")
            self.cmd += ["--texts", str(tmp / "busy-room-texts.json")]
        self.periods: list[tuple[str, int, int]] = []
        self.proc: subprocess.Popen | None = None
        self.result: dict | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> BusyRoom:
        log("load generator: " + " ".join(self.cmd[1:]))
        self.proc = subprocess.Popen(self.cmd, cwd=nodes.REPO, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
        deadline = time.monotonic() + 300
        while not self.ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise BenchError("the live load generator did not get ready")
            time.sleep(0.2)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.result is None:
            self._stop()

    def mark(self, label: str, t0_ns: int, t1_ns: int) -> None:
        self.periods.append((label, t0_ns, t1_ns))

    def idle(self, label: str, seconds: float) -> None:
        """`seconds` of live traffic alone, after one second for the previous period's last
        deliveries: a baseline, or a control for what other work on the machine did meanwhile."""
        t0 = time.monotonic_ns() + 1_000_000_000
        time.sleep(1 + seconds)
        self.mark(label, t0, time.monotonic_ns())

    def _stop(self) -> str:
        assert self.proc is not None
        self.stop_file.write_text("stop")
        try:
            out, _ = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""

    def finish(self) -> dict:
        """Stop the load; {"periods": one row per period, "live": what was sent, lost, refused}."""
        out = self._stop()
        assert self.proc is not None
        if self.proc.returncode != 0 or not out.strip():
            raise BenchError(f"the live load generator failed (exit {self.proc.returncode})")
        traffic = json.loads(out.strip().splitlines()[-1])
        rows = [{"period": label, "seconds": (b - a) / 1e9, "window_ns": (a, b),
                 **latency(traffic["deliveries"], a, b),
                 "ack": latency(traffic["acks"], a, b), "ping": latency(traffic["pings"], a, b)}
                for label, a, b in self.periods]
        self.result = {"periods": rows,
                       "live": {k: v for k, v in traffic.items() if k not in ("deliveries", "acks", "pings")}}
        return self.result


LOSSES = ("short", "missing", "duplicates", "errors", "unexpected_closes", "unacked")


def period_table(periods: list[dict], live: dict,
                 extra: tuple[str, Callable[[dict], str]] | None = None) -> str:
    """The busy room per period (markdown), and what was lost; `extra` adds a column."""
    rows = []
    for p in periods:
        share = 100 * p["over_100ms"] / p["count"] if p["count"] else None
        row = [p["period"], fmt(p["seconds"], 0), fmt(p["count"]), fmt(p["p50_ms"]), fmt(p["p99_ms"]),
               fmt(p["max_ms"], 0), fmt(share, 1) + " %", fmt(p["worst_second_p99_ms"], 0),
               fmt(p["ack"]["p50_ms"]), fmt(p["ack"]["p99_ms"]),
               fmt(p["ping"]["p50_ms"]), fmt(p["ping"]["p99_ms"]), fmt(p["ping"]["max_ms"], 0)]
        rows.append(row + ([extra[1](p)] if extra else []))
    headers = ["period", "seconds", "deliveries", "p50 ms", "p99 ms", "max ms", "over 100 ms",
               "worst second's p99 ms", "ack p50 ms", "ack p99 ms", "ping p50 ms", "ping p99 ms", "ping max ms"]
    lost = sum(live[k] for k in LOSSES)
    return (table(headers + ([extra[0]] if extra else []), rows)
            + f"\n\n{live['sent']:,} messages sent; lost, duplicated, refused or closed: {lost}"
            + (f" ({ {k: live[k] for k in LOSSES} })" if lost else ""))
