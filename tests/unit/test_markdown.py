"""chat.rooms.markdown: the cost estimate bounds the real cost, and the plain-text fallback is
escaped and sanitised. Measured times are never asserted; the estimate is checked against the
parser's own work (tokens), which grows with the time it takes."""

from __future__ import annotations

import re

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


def test_bare_urls_become_links_that_open_in_a_new_tab_without_opener():
    html = render("the plan: https://example.org/plan?x=1 (draft)")
    assert ('<a href="https://example.org/plan?x=1" target="_blank"'
            ' rel="noopener noreferrer nofollow ugc">https://example.org/plan?x=1</a>') in html


def test_written_links_open_in_a_new_tab_too_and_unsafe_ones_stay_dead():
    assert 'target="_blank"' in render("[the plan](https://example.org)")
    assert "href" not in render("[x](javascript:alert(1)) javascript://alert(1)")
    # A target in the body is text (raw HTML is escaped), never an attribute someone chose.
    html = render('<a href="https://x.org" target="_top">x</a>')
    assert html.startswith("<p>&lt;a href=") and re.findall(r"<a [^>]*>", html) == [
        '<a href="https://x.org" target="_blank" rel="noopener noreferrer nofollow ugc">']


def test_dotted_words_and_addresses_without_a_scheme_stay_text():
    assert "<a" not in render("see example.org or write to li@example.cn, e.g. v1.2")


def test_scheme_separators_are_priced_by_the_rescans_they_cause():
    # linkify-it rescans the rest of the text at each "://": 3,334 of them took ~0.35-0.95 s.
    dense = "://" * 3334
    assert estimate_ms(dense) > 1000
    # One link in a line of prose stays cheap (rendered inline).
    assert estimate_ms("the plan is at https://example.org/plan, see you there") < 0.5
