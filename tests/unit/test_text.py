"""The text rules every typed field and frame shares (chat/text.py)."""

import pytest

from chat.text import is_clean, text_problem


@pytest.mark.parametrize("text", ["李华", "Green　Buildings", "👩‍🔬 lab", "Zhuhai 珠海", "a-b_c"])
def test_ordinary_text_is_clean_on_one_line(text):
    assert text_problem(text) is None


@pytest.mark.parametrize("text,reason", [
    ("a\x00b", "control"),
    ("a\ud800b", "surrogate"),
    ("a\u2028b", "control"),
    ("line\nbreak", "control"),
    ("\u202eevil", "bidirectional"),
    ("x\u2066y", "bidirectional"),
])
def test_one_line_text_refuses(text, reason):
    problem = text_problem(text)
    assert problem is not None and reason in problem
    assert text not in problem


def test_multiline_text_keeps_newlines_and_tabs_and_bidi_but_not_controls():
    assert is_clean("first\n\tsecond \u202e", multiline=True)
    assert not is_clean("first\x00", multiline=True)
    assert not is_clean("first\udfff", multiline=True)
