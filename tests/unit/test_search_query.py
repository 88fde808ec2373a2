"""chat.search.query: the query syntax parsed into terms and filters (no I/O)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.errors import InvalidInput
from chat.models import SearchTerm
from chat.search import tokens
from chat.search.query import MAX_ITEMS, MAX_QUERY_CHARS, fts5, parse, phrase_terms, tsquery


def terms_of(q: str) -> list[tuple[tuple[str, ...], bool, bool]]:
    return [(t.terms, t.prefix, t.negated) for t in parse(q).terms]


def test_latin_words_are_stemmed_and_each_is_an_item():
    assert terms_of("Planning GREEN cities") == [
        (("plan",), False, False), (("green",), False, False), (("citi",), False, False)]
    assert parse("Planning").terms[0].text == "planning"


def test_quoted_phrases_are_one_item_in_every_quote_style():
    expected = [(("green", "build"), False, False)]
    for q in ('"green buildings"', "“green buildings”", "「green buildings」", "『green buildings』",
              "＂green buildings＂", '“green buildings"'):
        assert terms_of(q) == expected, q
    assert parse('"Green  Buildings"').terms[0].text == "green buildings"


def test_an_unclosed_quote_runs_to_the_end():
    assert terms_of('plan "green build') == [(("plan",), False, False),
                                             (("green", "build"), False, False)]


def test_minus_excludes_words_and_phrases_in_both_widths():
    assert terms_of('plan -coal －"fossil fuels"') == [
        (("plan",), False, False), (("coal",), False, True), (("fossil", "fuel"), False, True)]
    # A lone minus or one inside a word excludes nothing.
    assert terms_of("plan - low-carbon") == [(("plan",), False, False),
                                             (("low", "carbon"), False, False)]


def test_from_and_in_are_filters_with_plain_or_quoted_names():
    parsed = parse('from:li in:"Green  Buildings" FROM："Anna Müller" IN：武汉 plan')
    assert parsed.authors == ("li", "Anna Müller")
    assert parsed.rooms == ("Green Buildings", "武汉")
    assert [t.terms for t in parsed.terms] == [("plan",)]


def test_two_chinese_characters_are_one_term():
    assert terms_of("公交") == [(("公交",), False, False)]


def test_a_longer_chinese_run_is_a_phrase_of_its_bigrams_without_the_last_character():
    assert terms_of("城市更新") == [(("城市", "市更", "更新"), False, False)]
    # Matches the index's terms of a longer text at adjacent positions.
    indexed = tokens.index_terms("老城市更新计划").split()
    assert indexed[1:4] == ["城市", "市更", "更新"]


def test_one_chinese_character_is_a_prefix():
    assert terms_of("城") == [(("城",), True, False)]
    assert terms_of("城 -市") == [(("城",), True, False), (("市",), True, True)]


def test_mixed_words_are_one_phrase():
    assert terms_of("BRT快速公交") == [(("brt", "快速", "速公", "公交"), False, False)]
    assert terms_of("A股") == [(("a", "股"), True, False)]
    # A CJK run before another run keeps its last character, as the index does.
    assert terms_of("快速公交BRT") == [(("快速", "速公", "公交", "交", "brt"), False, False)]
    indexed = tokens.index_terms("新的快速公交BRT线").split()
    assert " ".join(("快速", "速公", "公交", "交", "brt")) in " ".join(indexed)


def test_full_width_and_traditional_forms_fold():
    assert terms_of("ＢＲＴ２０３０") == [(("brt2030",), False, False)]
    assert terms_of("城市規劃") == terms_of("城市规划")


def test_punctuation_only_items_are_skipped():
    assert terms_of("plan !!! ，。") == [(("plan",), False, False)]


@pytest.mark.parametrize(("q", "why"), [
    ("", "empty"),
    ("   \u3000 ", "empty"),
    ("x" * (MAX_QUERY_CHARS + 1), "longer than"),
    (" ".join(["w"] * (MAX_ITEMS + 1)), "more than"),
    ("-coal", "no word"),
    ('-coal -"fossil fuel"', "no word"),
    ("from:li", "no word"),
    ("in:武汉 -coal", "no word"),
    ("!!! ，。", "no word"),
    ("from: plan", "from: needs a name"),
    ('in:"" plan', "in: needs a name"),
    ("-from:li plan", "cannot be excluded"),
])
def test_bad_queries_say_why_under_q(q, why):
    with pytest.raises(InvalidInput) as caught:
        parse(q)
    assert why in caught.value.details["q"]
    assert caught.value.details.keys() == {"q"}


def test_the_limits_themselves_are_allowed():
    assert len(parse("x" * MAX_QUERY_CHARS).terms) == 1
    assert len(parse(" ".join(["w"] * MAX_ITEMS)).terms) == MAX_ITEMS


def test_phrase_terms_of_text_without_letters_is_empty():
    assert phrase_terms("—!") == ((), False)


_ALPHABET = st.sampled_from(list('ab z城市公交規劃A股"“”「」『』＂-－:：fromin \u3000\t.,!\'\\*()&|<>~^'))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(_ALPHABET, max_size=60)))
def test_parse_raises_nothing_but_invalid_input_and_gives_well_formed_terms(q):
    try:
        parsed = parse(q)
    except InvalidInput as error:
        assert isinstance(error.details, dict) and set(error.details) == {"q"}
        return
    assert any(not t.negated for t in parsed.terms)
    for term in parsed.terms:
        assert isinstance(term, SearchTerm) and term.terms
        for lexeme in term.terms:
            # Each lexeme is one index term: letters, digits or CJK (tokens.is_cjk), folded.
            assert lexeme and all(char.isalnum() or tokens.is_cjk(char) for char in lexeme), lexeme
            assert tokens.fold(lexeme) == lexeme
        if term.prefix:
            assert tokens.is_cjk(term.terms[-1]) and len(term.terms[-1]) == 1


# The shapes tsquery() and fts5() may produce: every lexeme quoted (quotes inside doubled), so
# nothing typed can add an operator.
_PG_LEXEME = r"'(?:[^'\\]|''|\\.)+'"
_PG_PHRASE = rf"{_PG_LEXEME}(?: <-> {_PG_LEXEME})*(?::\*)?"
_PG_ITEM = rf"!?\({_PG_PHRASE}\)"
PG_QUERY = re.compile(rf"{_PG_ITEM}(?: & {_PG_ITEM})*")
_FTS_PHRASE = r'"(?:[^"]|"")+"(?: \*)?'
FTS_QUERY = re.compile(rf"\({_FTS_PHRASE}(?: AND {_FTS_PHRASE})*\)(?: NOT \({_FTS_PHRASE}(?: OR {_FTS_PHRASE})*\))?")


def test_compiled_queries_of_a_mixed_search():
    terms = parse('城 "green buildings" -coal BRT快速公交').terms
    assert tsquery(terms) == ("('城':*) & ('green' <-> 'build') & !('coal') & "
                              "('brt' <-> '快速' <-> '速公' <-> '公交')")
    assert fts5(terms) == '("城" * AND "green build" AND "brt 快速 速公 公交") NOT ("coal")'


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(_ALPHABET, max_size=60)))
def test_every_parsed_query_compiles_to_well_formed_match_texts(q):
    try:
        terms = parse(q).terms
    except InvalidInput:
        return
    assert PG_QUERY.fullmatch(tsquery(terms)), tsquery(terms)
    assert FTS_QUERY.fullmatch(fts5(terms)), fts5(terms)
