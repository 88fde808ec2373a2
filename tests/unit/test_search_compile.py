"""The match texts compiled from parsed query terms (chat/search/query.py, tsquery and fts5):
the same items, in each store's own syntax, every lexeme quoted."""

from __future__ import annotations

import pytest

from chat.models import SearchTerm
from chat.search.query import fts5, tsquery

PHRASE = SearchTerm(("brt", "快速", "速公", "公交"))
PREFIX = SearchTerm(("城",), prefix=True)
NOT_A_SHARE = SearchTerm(("a", "股"), prefix=True, negated=True)


def test_a_word_a_phrase_and_a_prefix():
    assert tsquery((SearchTerm(("plan",)),)) == "('plan')"
    assert fts5((SearchTerm(("plan",)),)) == '("plan")'
    assert tsquery((PHRASE, PREFIX)) == "('brt' <-> '快速' <-> '速公' <-> '公交') & ('城':*)"
    assert fts5((PHRASE, PREFIX)) == '("brt 快速 速公 公交" AND "城" *)'


def test_negated_items_are_excluded():
    assert tsquery((PREFIX, NOT_A_SHARE, SearchTerm(("x",), negated=True))) == (
        "('城':*) & !('a' <-> '股':*) & !('x')")
    assert fts5((PREFIX, NOT_A_SHARE, SearchTerm(("x",), negated=True))) == '("城" *) NOT ("a 股" * OR "x")'


def test_quotes_inside_a_lexeme_are_escaped_never_syntax():
    assert tsquery((SearchTerm(("o'k\\",)),)) == r"('o''k\\')"
    assert fts5((SearchTerm(('say "x"',)),)) == '("say ""x""")'


def test_a_query_needs_a_term_to_look_up():
    for compile_ in (tsquery, fts5):
        with pytest.raises(ValueError):
            compile_(())
        with pytest.raises(ValueError):
            compile_((SearchTerm(()),))
    with pytest.raises(ValueError):  # FTS5's NOT needs something on its left
        fts5((NOT_A_SHARE,))
    assert tsquery((NOT_A_SHARE,)) == "!('a' <-> '股':*)"  # the store refuses it before (InvalidInput)
