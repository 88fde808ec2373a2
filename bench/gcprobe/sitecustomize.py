"""Imported at start-up by the export suite's node (its PYTHONPATH names this folder): logs the
node's slow garbage collections, and can freeze its start-up heap (an experiment).

With BENCH_GC_LOG set, every collection of generation 2, and any taking over 5 ms, is appended
to that file as ``<time.monotonic()> gen<N> <ms>``; the suite matches them with its exports.
With BENCH_GC_FREEZE_AFTER_S set, that many seconds after start-up a thread collects once and
calls ``gc.freeze()``: what start-up left (modules, dictionaries) moves to the permanent
generation, which later full collections no longer scan. Not part of the server.
"""

import gc
import os
import threading
import time

_LOG = os.environ.get("BENCH_GC_LOG")
_FREEZE = os.environ.get("BENCH_GC_FREEZE_AFTER_S")

if _LOG:
    _out = open(_LOG, "a", buffering=1)  # noqa: SIM115 - open for the process's life
    _started = [0.0]

    def _timed(phase: str, info: dict) -> None:
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - _started[0]) * 1000
        if info["generation"] == 2 or ms > 5:
            _out.write(f"{time.monotonic():.6f} gen{info['generation']} {ms:.2f}\n")

    gc.callbacks.append(_timed)

if _FREEZE:

    def _freeze() -> None:
        gc.collect()
        gc.freeze()
        if _LOG:
            _out.write(f"{time.monotonic():.6f} froze {gc.get_freeze_count()}\n")

    _timer = threading.Timer(float(_FREEZE), _freeze)
    _timer.daemon = True
    _timer.start()
