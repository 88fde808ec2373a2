"""Algorithmic bounds (issue 16, case 14): every parser and pattern the server applies to text a
member typed, fed adversarial 64 KiB inputs (the WebSocket frame limit), finishes in bounded time.

The inventory (`grep -rn "re\\.compile\\|re\\.\\(sub\\|search\\|match\\|split\\|findall\\|finditer\\)"
chat/`, plus the hand-written scanners), user text only — ids, dates, cursors and headers are
matched by anchored patterns of bounded length and are left out:
Markdown (chat/rooms/markdown.py: markdown-it + linkify + nh3, the cost estimate, the plain
fallback; chat/rooms/rendering.py decides which runs), link detection (chat/rooms/abuse.py's
LINK, chat/library/service.py's LINK), the text rules (chat/text.py), search query parsing
(chat/search/query.py), search terms and snippets (chat/search/tokens.py, snippets.py), name
rules (chat/accounts/names.py, search_keys.py), frame validation (chat/protocol/frames.py;
mentions are ids there, never parsed out of text), and the export writers' escaping
(chat/export/formats/markdown.py, pdf.py) and file names (chat/files/names.py).

Each is timed on each input; the bound asserted is generous (BOUND_S, for a shared 2-core
machine under load), the measured figures go to docs/reliability.md, section 14. Markdown is
bounded by the renderer, not by the parser: markdown-it and linkify are superlinear on some
inputs (linkify rescans the rest of the text at each "://"), so a body goes to the parser
inline only when its estimated cost is tiny, and otherwise to a worker with a time budget that
is killed when the budget runs out (the regression test below).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from chat.accounts import names, search_keys
from chat.errors import ChatError
from chat.export.formats import markdown as export_md
from chat.export.formats.pdf import html_text
from chat.files.names import safe_name
from chat.library.service import LINK as LIBRARY_LINK
from chat.metrics import Metrics
from chat.protocol.frames import parse
from chat.rooms import abuse, markdown
from chat.rooms.rendering import Renderer
from chat.search import query, snippets, tokens
from chat.text import is_mixed_script, storage_problem, text_problem

SIZE = 64 * 1024
# Per call. Linear work on 64 KiB takes milliseconds (docs/reliability.md, section 14, has the
# figures); quadratic work takes minutes. The margin is for a shared 2-core machine under load.
BOUND_S = 5.0

# Patterns that make scanners and regexes work per character: runs of the characters each one
# branches on, unclosed openers, near-misses of what they look for, and mixed scripts.
PATTERNS = {
    "newlines": "\n", "scheme": "a://", "sep": "://", "md-link": "](//", "bracket-host": "http://[0",
    "at": "a@", "emphasis": "*_", "colon": ":", "quotes": '"', "filter": "from:", "cjk": "城市更新",
    "mixed": "BRT快速公交", "bidi": "\u202ea", "combining": "e\u0301", "emoji": "\U0001f469\u200d\U0001f4bb",
    "library": "/library/d-0123456789abcdef",
}
# Markdown's own (docs/benchmarks.md, "Costly Markdown") and the plainer runs: only the inline
# Markdown test takes them; the other parsers do per character what they do for the above.
MARKDOWN_PATTERNS = {
    "letters": "a", "spaces": " ", "crlf": "a\r\n", "http": "http://", "www": "www.", "lt": "<a ",
    "image": "![", "link": "[a](", "backticks": "`", "quote": "> ", "list": " - ", "fence": "```\n",
    "table": "|a|\n", "entity": "&#1;", "escape": "\\", "hash": "#", "digits": "1.", "minus": "-",
    "cjk-quote": "「", "cyrillic": "аb", "ideographic-space": "\u3000x",
}


def adversarial(pattern: str) -> str:
    return (pattern * (SIZE // len(pattern) + 1))[:SIZE]


INPUTS = {name: adversarial(p) for name, p in PATTERNS.items()}
MARKDOWN_INPUTS = {**INPUTS, **{name: adversarial(p) for name, p in MARKDOWN_PATTERNS.items()}}
TERMS = query.parse('城市 "green buildings" -x from:li a').terms


def refused(fn: Callable[[str], object]) -> Callable[[str], object]:
    """The call, with a refusal (ChatError, ValueError) counted as its answer."""

    def call(text: str) -> object:
        try:
            return fn(text)
        except (ChatError, ValueError) as exc:
            return exc

    return call


PARSERS: dict[str, Callable[[str], object]] = {
    "text.text_problem": lambda t: (text_problem(t), text_problem(t, multiline=True)),
    "text.storage_problem": storage_problem,
    "text.is_mixed_script": is_mixed_script,
    "frames.parse(send)": refused(lambda t: parse({"type": "send", "room": "r", "cid": "c", "body": t},
                                                  max_body_chars=SIZE)),
    "query.parse": refused(query.parse),
    "query.items (no length cap)": refused(query._items),
    "query.phrase_terms": query.phrase_terms,
    "tokens.terms": tokens.terms,
    "tokens.index_terms": tokens.index_terms,
    "tokens.language_of": tokens.language_of,
    "snippets.snippet": lambda t: snippets.snippet(t, TERMS),
    "abuse.link_hosts": abuse.link_hosts,
    "abuse.text_digest": abuse.text_digest,
    "library.LINK": lambda t: LIBRARY_LINK.findall(t),
    "names.skeleton": names.skeleton,
    "names.is_reserved_name": names.is_reserved_name,
    "search_keys.search_key": search_keys.search_key,
    "export.escape": export_md.escape,
    "export.contained": export_md.contained,
    "export.plain": export_md.plain,
    "export.quoted": export_md.quoted,
    "pdf.html_text": lambda t: html_text(markdown.render_plain(t)),
    "files.safe_name": safe_name,
    "markdown.estimate_ms": markdown.estimate_ms,
    "markdown.render_plain": markdown.render_plain,
}


def timed(fn: Callable[[str], object], text: str) -> float:
    """CPU seconds of one call: what the work costs, whatever else the machine runs."""
    started = time.process_time()
    fn(text)
    return time.process_time() - started


def test_every_parser_of_member_text_is_bounded_on_adversarial_64k_inputs():
    worst: dict[str, tuple[float, str]] = {}
    search_keys.search_key("李华")  # pypinyin loads its dictionary on first use (~0.4 s, once)
    for parser, fn in PARSERS.items():
        for name, text in INPUTS.items():
            elapsed = timed(fn, text)
            if elapsed > worst.get(parser, (-1.0, ""))[0]:
                worst[parser] = (elapsed, name)
    print("\nworst case per parser on 64 KiB inputs (ms of CPU):")
    for parser, (elapsed, name) in sorted(worst.items(), key=lambda kv: -kv[1][0]):
        print(f"  {parser:30s} {elapsed * 1000:8.1f}  ({name})")
    slow = {parser: (round(s, 2), name) for parser, (s, name) in worst.items() if s > BOUND_S}
    assert slow == {}


def test_a_search_key_reads_only_as_much_of_a_name_as_it_keeps():
    """Regression: the directory's search key ran pypinyin over the whole name (~35 µs a Han
    character: 64 KiB took 2.4 s) and then kept its first 1,000 characters."""
    search_keys.search_key("李华")  # pypinyin loads its dictionary on first use
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
        assert all(text.startswith("<p>") for text in await asyncio.gather(*queued))
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
