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


def test_numbers_and_ids_do_not_fill_the_stem_cache():
    # The soak (docs/reliability.md §6): every message's ids and timestamps are new tokens;
    # cached, they grew each node's memory by ~100 KB a minute until the cache's 65,536 entries.
    from chat.search import tokens

    bodies = [f"d{i}-{i * 7} t={1000 + i}.{i * 7919 % 10**6:06d} planning" for i in range(5000)]
    before = tokens._stem_word.cache_info().currsize
    indexed = [terms(body) for body in bodies]
    assert tokens._stem_word.cache_info().currsize - before <= 2  # "t" and "planning"
    assert indexed[3] == ["d3", "21", "t", "1003", "023757", "plan"]
