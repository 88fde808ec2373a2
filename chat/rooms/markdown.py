"""Message and news bodies: CommonMark rendered on the server, then sanitised with nh3 (an
allow-list), so every client gets the same safe HTML; browsers sanitise it again."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# Raw HTML in a body is shown as text, never passed through; links are the only attributes.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    ["strikethrough", "table"]
)
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(body: str) -> str:
    html = _md.render(body)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
    ).strip()
