"""chat.rooms.markdown: the cost estimate bounds the real cost, and the plain-text fallback is
escaped and sanitised. Measured times are never asserted; the estimate is checked against the
parser's own work (tokens), which grows with the time it takes."""

from __future__ import annotations

from chat.rooms.markdown import estimate_ms, render, render_plain

WORST_CASES = ["![" * 5000, "[" * 10000, "a\n" * 5000, "- a\n" * 2500, "_a" * 5000, "=" * 10000]


def test_markup_dense_bodies_are_estimated_costly_and_prose_cheap():
    prose = ("Green buildings in Zhuhai: a short note on the pilot. " * 30)[:1500]
    assert estimate_ms(prose) < 2.0
    assert estimate_ms("**bold**, _em_ and [a link](https://example.org)") < 2.0
    for body in WORST_CASES:
        assert estimate_ms(body) > 10.0, body[:8]


def test_the_fallback_is_the_escaped_body_with_its_line_breaks():
    body = "<script>alert(1)</script> **not bold**\n![x](javascript:alert(1))"
    assert render_plain(body) == ("<p>&lt;script&gt;alert(1)&lt;/script&gt; **not bold**<br>\n"
                                  "![x](javascript:alert(1))</p>")
    assert render_plain("") == ""


def test_render_is_unchanged_for_ordinary_bodies():
    assert render("**hi** <b>x</b>") == "<p><strong>hi</strong> &lt;b&gt;x&lt;/b&gt;</p>"
