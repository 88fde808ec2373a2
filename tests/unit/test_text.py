"""The text rules every typed field and frame shares (chat/text.py)."""

import pytest

from chat.text import INT64_MAX, is_clean, is_int64, storage_problem, text_problem


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


def test_multiline_text_takes_crlf_line_ends():
    assert is_clean("first\r\nsecond", multiline=True)
    assert not is_clean("first\r\nsecond")


@pytest.mark.parametrize("text,problem", [
    ("a\x00b", "NUL"), ("a\ud800", "surrogate"), ("\udfff", "surrogate"),
])
def test_storage_problem_is_the_floor_under_every_string(text, problem):
    assert problem in storage_problem(text)
    assert storage_problem("a\x1b\u202e\r\n 好") is None  # the typed rules refuse these, not it


def test_is_int64_takes_whole_numbers_in_signed_64_bits_only():
    assert is_int64(0) and is_int64(INT64_MAX) and is_int64(1, low=1)
    assert not is_int64(INT64_MAX + 1) and not is_int64(-1) and not is_int64(0, low=1)
    assert not is_int64(True) and not is_int64(1.0) and not is_int64("1")
