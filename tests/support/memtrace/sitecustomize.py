"""Memory tracing for drill node processes (bench/suites/soak.py --tracemalloc DIR), never
loaded by the server itself: the soak puts this folder on the node's PYTHONPATH, so Python
imports it at startup. The first SIGUSR1 starts tracemalloc (after start-up and warm-up:
tracing from the first import would slow start-up past the drill's readiness wait); each later
one writes to $DRILL_TRACE_DIR a snapshot (<pid>-<n>.snap) and the gc's live objects by type
(<pid>-<n>.types), so that two minutes of a soak can be compared by traceback."""

import os

_DIR = os.environ.get("DRILL_TRACE_DIR")

if _DIR:
    import collections
    import gc
    import itertools
    import json
    import signal
    import tracemalloc

    _count = itertools.count(1)

    def _dump(signum, frame):  # noqa: ARG001 - a signal handler's signature
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(os.environ.get("DRILL_TRACE_FRAMES", "8")))
            return
        n = next(_count)
        base = os.path.join(_DIR, f"{os.getpid()}-{n}")
        gc.collect()
        types = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
        tracemalloc.take_snapshot().dump(base + ".snap")
        with open(base + ".types", "w") as out:
            json.dump(dict(types.most_common(300)), out)

    signal.signal(signal.SIGUSR1, _dump)
