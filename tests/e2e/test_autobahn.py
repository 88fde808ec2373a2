"""RFC 6455 conformance (issue 16, case 8): the Autobahn TestSuite's cases, driven by kosoku,
against a node served as `ecolink serve` serves it, with the production frame limit
(tests/support/autobahn.py says why the cases go to an echo route beside the real app).

The short run here takes every group but the performance cases (9.*) and compression (12.*,
13.*, off on every node); `scripts/bench autobahn` runs the whole suite and docs/reliability.md
records its result. A case outside the documented exclude list that does not pass fails.
"""

from __future__ import annotations

import collections
import logging

import pytest
from kosoku import FailureError, run_fuzzingclient

from chat import logs
from tests.support.autobahn import SHORT_CASES, conformance_node, exclusions, failures, verdicts

pytestmark = pytest.mark.asyncio


async def test_the_websocket_layer_passes_the_autobahn_cases(make_settings, caplog):
    logs.quiet_client_faults()  # what logs.configure does for `ecolink serve` (it would replace caplog's handler)
    settings = make_settings()  # production limits: the defaults of chat/config.py
    assert settings.max_frame_bytes == 65536
    async with conformance_node(settings) as url:
        try:
            results = await run_fuzzingclient(url, cases=SHORT_CASES, exclude_cases=list(exclusions(settings)),
                                              concurrency=4)
        except FailureError as exc:
            results = exc.results
    assert len(results) > 200, f"only {len(results)} cases ran"
    assert failures(results) == []
    counts = collections.Counter(behavior for _, behavior, _ in verdicts(results))
    print(f"\nautobahn: {len(results)} cases, {dict(counts)}")
    assert counts["OK"] > 200
    # Regression: each invalid UTF-8 text frame (the 6.* cases) logged an ERROR with a traceback
    # (chat/logs.py, ClientFaultsAreNotErrors): a client's fault, logged at INFO now.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors[:3]]
    assert any("Invalid UTF-8" in r.getMessage() and r.exc_info is None for r in caplog.records)
