"""The ASCII fast path of chat/search/tokens.py gives what the character loop gives: the same
text with a trailing em dash (no letter, no CJK: it changes no run and no count) takes the loop."""

from __future__ import annotations

import pytest

from chat.search.tokens import language_of, runs, terms

SAMPLES = ["", "  ", "123 456", "x" * 9000, "Hello, world 2030!", "BRT-2030 cities_planning",
           "a\tb\nc", "~!@#$%^&*()", "mixed123abc 9x"]


@pytest.mark.parametrize("text", SAMPLES)
def test_ascii_text_runs_and_language_as_the_loop_does(text):
    slow = text + "\u2014"
    assert not slow.isascii()
    assert list(runs(text)) == list(runs(slow))
    assert language_of(text) == language_of(slow)
    assert terms(text) == terms(slow)


def test_the_fast_path_finds_words_and_no_language_without_letters():
    assert list(runs("ab, 12cd")) == [(False, "ab", 0), (False, "12cd", 4)]
    assert language_of("2030 / 42") == "" and language_of("Sponge city") == "en"
