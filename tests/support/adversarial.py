"""Adversarial text for every parser the server applies to what a member typed (issue 16,
case 14): the patterns, the 64 KiB inputs made of them, and the parsers. The test
(tests/unit/test_adversarial_text.py) runs each parser on its worst input; the full matrix,
every parser on every input, is `scripts/bench parsers` (bench/suites/parsers.py).

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
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chat.accounts import names, search_keys
from chat.errors import ChatError
from chat.export.formats import markdown as export_md
from chat.export.formats.pdf import html_text
from chat.files.names import safe_name
from chat.library.service import LINK as LIBRARY_LINK
from chat.protocol.frames import parse
from chat.rooms import abuse, markdown
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


def warm_up() -> None:
    """First-use costs that are not the input's: pypinyin loads its dictionary (~0.4 s)."""
    search_keys.search_key("李华")


def worst_cases(inputs: dict[str, str]) -> dict[str, tuple[float, str]]:
    """Per parser, its slowest of `inputs` (CPU seconds, the input's name)."""
    worst: dict[str, tuple[float, str]] = {}
    for parser, fn in PARSERS.items():
        for name, text in inputs.items():
            elapsed = timed(fn, text)
            if elapsed > worst.get(parser, (-1.0, ""))[0]:
                worst[parser] = (elapsed, name)
    return worst
