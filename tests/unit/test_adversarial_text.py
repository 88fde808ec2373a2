"""Algorithmic bounds (issue 16, case 14): every parser and pattern the server applies to text a
member typed, fed adversarial 64 KiB inputs (the WebSocket frame limit), finishes in bounded time.

The inventory of parsers and the patterns: tests/support/adversarial.py.

Each parser is timed here on its worst input as measured by the full matrix (every parser on
every input: `scripts/bench parsers`, whose figures are in docs/reliability.md, section 14);
the bound asserted is generous (BOUND_S, for a shared 2-core machine under load). Markdown is
bounded by the renderer, not by the parser: markdown-it and linkify are superlinear on some
inputs (linkify rescans the rest of the text at each "://"), so a body goes to the parser
inline only when its estimated cost is tiny, and otherwise to a worker with a time budget that
is killed when the budget runs out (the regression test below).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from chat.accounts import search_keys
from chat.metrics import Metrics
from chat.rooms import markdown
from chat.rooms.rendering import Renderer
from tests.support.adversarial import (
    BOUND_S,
    INPUTS,
    MARKDOWN_PATTERNS,
    PARSERS,
    adversarial,
    timed,
    warm_up,
)

MARKDOWN_INPUTS = {**INPUTS, **{name: adversarial(p) for name, p in MARKDOWN_PATTERNS.items()}}
# Each parser's slowest input in the full matrix (`scripts/bench parsers`, 2026-12-07). A new
# parser is added to PARSERS in tests/support/adversarial.py, and here with its worst input.
# Inputs within a few ms of each other swap places from run to run; those here are all linear.
WORST_INPUT = {
    "pdf.html_text": "newlines", "query.phrase_terms": "scheme", "export.plain": "newlines",
    "snippets.snippet": "bidi", "export.escape": "emphasis", "tokens.index_terms": "mixed",
    "names.is_reserved_name": "mixed", "markdown.render_plain": "newlines", "tokens.terms": "mixed",
    "text.is_mixed_script": "at", "text.text_problem": "emoji", "export.quoted": "newlines",
    "export.contained": "newlines", "tokens.language_of": "emoji", "files.safe_name": "colon",
    "abuse.link_hosts": "scheme", "names.skeleton": "cjk", "search_keys.search_key": "cjk",
    "query.items (no length cap)": "combining", "frames.parse(send)": "emoji",
    "text.storage_problem": "emoji", "abuse.text_digest": "combining", "markdown.estimate_ms": "colon",
    "library.LINK": "library", "query.parse": "newlines",
}


def test_every_parser_of_member_text_is_bounded_on_its_worst_64k_input():
    assert WORST_INPUT.keys() == PARSERS.keys()  # no parser left out
    warm_up()
    times = {parser: timed(fn, INPUTS[WORST_INPUT[parser]]) for parser, fn in PARSERS.items()}
    print("\nper parser on its worst 64 KiB input (ms of CPU):")
    for parser, elapsed in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"  {parser:30s} {elapsed * 1000:8.1f}  ({WORST_INPUT[parser]})")
    slow = {parser: round(s, 2) for parser, s in times.items() if s > BOUND_S}
    assert slow == {}


def test_a_search_key_reads_only_as_much_of_a_name_as_it_keeps():
    """Regression: the directory's search key ran pypinyin over the whole name (~35 µs a Han
    character: 64 KiB took 2.4 s) and then kept its first 1,000 characters."""
    warm_up()
    long_name = INPUTS["cjk"] * 4  # 256 KiB: ~10 s before, as fast as 1,000 characters now
    elapsed = timed(search_keys.search_key, long_name)
    key = search_keys.search_key(long_name)
    assert key == search_keys.search_key(long_name[:search_keys.MAX_SEARCH_KEY_CHARS])
    assert len(key) == search_keys.MAX_SEARCH_KEY_CHARS
    assert elapsed < 1.0, elapsed  # ~0.04 s now (1,000 characters)


def test_markdown_rendered_inline_only_when_cheap_and_then_fast():
    """On the event loop goes only a body whose estimate is within render_inline_ms (2 ms):
    for every pattern, the longest such prefix renders fast, so no input stalls the loop."""
    inline_ms = 2.0
    markdown.render("https://example.org *a*")  # linkify compiles its patterns on first use (~0.1 s, once)
    worst = (0.0, "")
    for name, text in MARKDOWN_INPUTS.items():
        low, high = 0, len(text)  # the longest prefix estimated within the inline budget
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if markdown.estimate_ms(text[:mid]) <= inline_ms else (low, mid - 1)
        elapsed = timed(markdown.render, text[:low])
        worst = max(worst, (elapsed, f"{name} ({low} chars)"))
    print(f"\nslowest inline render: {worst[0] * 1000:.1f} ms of CPU for {worst[1]}")
    assert worst[0] < 0.25, worst  # 2 ms estimated; 250 ms is the worker budget itself


@pytest.mark.asyncio
async def test_a_render_over_budget_returns_plain_text_and_its_worker_is_stopped():
    """Regression: a body over its budget became plain text, but its worker kept parsing it —
    for 64 KiB of "://" (linkify is quadratic there) for minutes — and every costly body
    meanwhile fell back to text too. The worker over budget is now killed and replaced."""
    metrics = Metrics()
    budget_s = 1.0  # generous for a loaded machine: the body below needs minutes
    renderer = Renderer(metrics, workers=1, inline_ms=2.0, budget_ms=budget_s * 1000, queue=8)
    async with renderer.running():
        assert "<strong>" in await renderer.render("**warm** " + "[a](b) " * 100)  # the workers start
        started = time.perf_counter()
        job = asyncio.create_task(renderer.render(INPUTS["sep"]))
        await asyncio.sleep(budget_s / 2)
        # Bodies queued behind it when its worker is killed: text too, never an exception.
        queued = [asyncio.create_task(renderer.render(f"**{n}** " + "[a](b) " * 100)) for n in range(2)]
        html = await job
        elapsed = time.perf_counter() - started
        # Their escaped text, not Markdown (both start with "<p>").
        assert all("<strong>" not in text for text in await asyncio.gather(*queued))
        assert html.startswith("<p>://") and "<a" not in html  # its escaped text
        assert elapsed < budget_s + BOUND_S, elapsed
        # The next costly body gets a worker that is free again: Markdown, not plain text.
        started = time.perf_counter()
        assert "<em>" in await renderer.render("*after* " + "[a](b) " * 100)
        after = time.perf_counter() - started
    print(f"\n64 KiB of '://': plain text after {elapsed * 1000:.0f} ms; next costly body rendered in "
          f"{after * 1000:.0f} ms")
    samples = metrics.renders.collect()[0].samples
    outcomes = {s.labels["outcome"]: s.value for s in samples if s.name.endswith("_total")}
    assert outcomes.get("plain_timeout") == 1 and outcomes.get("worker", 0) >= 2, outcomes
    assert outcomes.get("plain_broken") == 2, outcomes  # the two queued behind it
    await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_only_a_body_on_a_worker_over_its_budget_gets_the_workers_killed(monkeypatch):
    """Regression: any render timeout killed the pool — a body that only waited behind another
    one (the budget counts the wait), and a first body that gave up on slow-starting workers.
    Each kill failed the renders running for other members and cost a respawn."""
    import chat.rooms.rendering as rendering

    metrics = Metrics()
    renderer = Renderer(metrics, workers=1, inline_ms=2.0, budget_ms=60_000, queue=8)
    costly = "**a** " + "[a](b) " * 100
    async with renderer.running():
        # Workers that start slowly: the body becomes text, the starting workers are kept.
        monkeypatch.setattr(rendering, "WORKER_START_S", 0.0)
        assert "<strong>" not in await renderer.render(costly)
        pool = renderer._pool
        monkeypatch.undo()
        assert "<strong>" in await renderer.render(costly)
        assert renderer._pool is pool
        # A body that times out while waiting for the busy worker: only it becomes text.
        running = asyncio.create_task(renderer.render("**long** " + "![" * 20_000))  # ~0.4 s of CPU
        await asyncio.sleep(0.05)  # it is on the worker
        renderer._budget_s = 0.01  # the waiting body's budget runs out first
        assert "<strong>" not in await renderer.render(costly)
        assert "<strong>" in await running
        assert renderer._pool is pool
    samples = metrics.renders.collect()[0].samples
    outcomes = {s.labels["outcome"]: s.value for s in samples if s.name.endswith("_total")}
    assert outcomes == {"worker": 2, "plain_timeout": 2}, outcomes
