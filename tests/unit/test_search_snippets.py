"""chat.search.snippets: a window around the first match, with the matched words marked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chat.search.query import parse
from chat.search.snippets import ELLIPSIS, snippet


def marked(text: str, q: str, width: int = 160) -> tuple[str, list[str]]:
    out, marks = snippet(text, parse(q).terms, width)
    return out, [out[s:e] for s, e in marks]


def test_english_words_are_marked_by_stem_in_their_original_case():
    text, words = marked("The Planning office planned new plans for Cities.", "planning city")
    assert text == "The Planning office planned new plans for Cities."
    assert words == ["Planning", "planned", "plans", "Cities"]


def test_chinese_two_characters_are_marked_inside_longer_words():
    text, words = marked("武汉的快速公交系统开通了，公交车很多。", "公交")
    assert words == ["公交", "公交"]
    assert text.startswith("武汉")


def test_traditional_text_is_marked_for_a_simplified_query_and_shown_as_written():
    text, words = marked("上海的城市規劃很好", "城市规划")
    assert words == ["城市規劃"]
    assert "規劃" in text


def test_full_width_text_is_marked_for_a_half_width_query():
    text, words = marked("新线路ＢＲＴ２０３０已开通", "brt2030")
    assert words == ["ＢＲＴ２０３０"]


def test_a_mixed_query_marks_both_parts():
    _, words = marked("BRT快速公交 is fast; brt and 公交车", "BRT快速公交")
    assert words == ["BRT快速公交", "brt"]  # touching marks join; 公交 alone is not 快速公交


def test_excluded_words_are_not_marked():
    _, words = marked("coal and solar", "solar -coal")
    assert words == ["solar"]


def test_no_match_gives_the_start_and_no_marks():
    text, marks = snippet("A long text " * 40, parse("nothing").terms, 50)
    assert marks == []
    assert text.startswith("A long text") and text.endswith(ELLIPSIS)
    assert len(text) <= 51


def test_a_late_match_gets_a_window_around_it_with_ellipses():
    body = "filler words here " * 30 + "the rooftop solar panels " + "more filler text " * 30
    text, words = marked(body, "solar", width=80)
    assert words == ["solar"]
    assert text.startswith(ELLIPSIS) and text.endswith(ELLIPSIS)
    assert len(text) <= 82
    start = text.index("solar")
    assert 5 < start < 40  # some context before, most after


def test_line_breaks_become_spaces_keeping_offsets():
    text, words = marked("first line\nsolar\r\nlast", "solar")
    assert text == "first line solar  last" and words == ["solar"]


def test_astral_characters_count_as_one():
    text, marks = snippet("𠀀𠀁 城市 plan", parse("城市").terms)
    assert [text[s:e] for s, e in marks] == ["城市"]
    assert marks == [(3, 5)]


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("ab 城市公交規劃ＡＢ\n.…")), max_size=400),
       st.sampled_from(["a", "城市", "公交", "ab", "城", "Ａ 公交"]),
       st.integers(min_value=1, max_value=200))
def test_marks_are_sorted_inside_the_text_and_the_window_is_bounded(body, q, width):
    text, marks = snippet(body, parse(q).terms, width)
    assert len(text) <= width + 2
    previous_end = 0
    for start, end in marks:
        assert previous_end <= start < end <= len(text)
        previous_end = end
