"""Message and news bodies: CommonMark rendered on the server, then sanitised with nh3 (an
allow-list), so every client gets the same safe HTML; browsers sanitise it again.

markdown-it-py is pure Python: a body dense with markup costs far more than its length says
(10,000 characters of `![` take ~110 ms, the same length of prose ~0.2 ms). `estimate_ms`
prices a body from a cheap count of the characters that make the parser work, so that
chat/rooms/rendering.py can render cheap bodies inline and send costly ones off the event loop.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

# Raw HTML in a body is shown as text, never passed through; links are the only attributes.
# Bare URLs become links (markdown-it's linkify rule, with linkify-it-py), but only those with
# a scheme (https://…, mailto:…): fuzzy links ("example.org", "a@b.cn") are off, as prose is
# full of dotted words that are not addresses.
_md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True}).enable(
    ["strikethrough", "table", "linkify"]
)
if _md.linkify is None:  # markdown-it sets it only when linkify-it-py imports
    raise RuntimeError("linkify-it-py is not installed: reinstall ecolink-chat with its dependencies")
_md.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# Every link opens in a new tab, so following one never replaces the app; nh3 adds the rel
# (noopener: the new page gets no window.opener) and this target to each <a>.
LINK_ATTRIBUTES = {"a": {"target": "_blank"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Measured worst cases on one core (docs/benchmarks.md, "Costly Markdown"): up to ~13 µs per
# character that opens inline markup (`![`, `[`, `_` … each starts a delimiter or link scan),
# up to ~26 µs per line (each line is a block to parse: list items, breaks), and up to ~1.2 µs
# per character of anything else (a run of `=`).
MARKUP_CHARS = "[]!*_<>&|`\\~#()"
US_PER_MARKUP = 13.0
US_PER_LINE = 26.0
US_PER_CHAR = 1.2
# linkify-it rescans the rest of a text run at each scheme separator, so its cost grows with
# (number of "://") x length: 3,334 "://" in 10,000 characters took ~350-950 ms, one URL in
# prose a few µs. Measured ~0.011-0.03 µs per separator per character; priced with headroom.
LINK_SEPARATOR = "://"
US_PER_LINK_SCAN = 0.04


def estimate_ms(body: str) -> float:
    """An upper estimate of render's cost in milliseconds, from a few C-speed counts."""
    markup = sum(body.count(char) for char in MARKUP_CHARS)
    lines = body.count("\n")
    link_scans = body.count(LINK_SEPARATOR) * len(body)
    return (markup * US_PER_MARKUP + lines * US_PER_LINE + len(body) * US_PER_CHAR
            + link_scans * US_PER_LINK_SCAN) / 1000


def _clean(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        set_tag_attribute_values=LINK_ATTRIBUTES,
    ).strip()


def render(body: str) -> str:
    return _clean(_md.render(body))


def render_plain(body: str) -> str:
    """The body as escaped text, line breaks kept, no Markdown: what a body too costly to render
    within the budget gets (sanitised like every other)."""
    if not body:
        return ""
    return _clean("<p>" + html.escape(body).replace("\n", "<br>\n") + "</p>")
