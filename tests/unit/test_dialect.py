"""The dialect object (chat/store/dialect.py) and bind(), without a database."""

from __future__ import annotations

import pytest

from chat.store.database import bind
from chat.store.dialect import POSTGRES, SQLITE, Fragment


def test_placeholders_are_numbered_for_postgres_only():
    sql = "SELECT 1 FROM t WHERE a = ? AND b IN (?, ?)"
    assert SQLITE.prepare(sql) == sql
    assert POSTGRES.prepare(sql) == "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3)"


def test_in_list_binds_one_value_per_mark_on_sqlite_and_one_array_on_postgres():
    assert SQLITE.in_list("c", ["x", "y"], "text") == Fragment("c IN (?, ?)", ("x", "y"))
    assert SQLITE.in_list("c", [], "text") == Fragment("FALSE", ())
    assert POSTGRES.in_list("c", [1, 2], "bigint") == Fragment("c = ANY(CAST(? AS bigint[]))", ([1, 2],))
    assert POSTGRES.in_list("c", [], "text") == Fragment("c = ANY(CAST(? AS text[]))", ([],))


def test_bind_keeps_values_in_placeholder_order_around_fragments():
    sql, params = bind("SELECT 1 WHERE a = ? AND {} AND b = ? AND {}", "a",
                       SQLITE.in_list("c", [1, 2], "bigint"), "b", Fragment("d = ?", ("d",)))
    assert sql == "SELECT 1 WHERE a = ? AND c IN (?, ?) AND b = ? AND d = ?"
    assert params == ("a", 1, 2, "b", "d")


def test_the_text_fragments_differ_only_where_the_dialects_do():
    assert SQLITE.fold("x") == "ecolink_lower(x)" and POSTGRES.fold("x") == "lower(x)"
    assert SQLITE.code_point_order("x") == "x" and POSTGRES.code_point_order("x") == 'x COLLATE "C"'
    assert SQLITE.string_agg("x", " ") == "group_concat(x, ' ')"
    assert POSTGRES.string_agg("x", ",") == "string_agg(x, ',')"
    with pytest.raises(ValueError, match="quote"):
        SQLITE.string_agg("x", "'")


class _Coded(Exception):
    def __init__(self, **codes: str) -> None:
        super().__init__("coded")
        for name, value in codes.items():
            setattr(self, name, value)


def test_unique_violations_are_told_by_the_drivers_error_codes():
    assert POSTGRES.is_unique_violation(_Coded(sqlstate="23505"))
    assert not POSTGRES.is_unique_violation(_Coded(sqlstate="23503"))  # foreign key
    assert SQLITE.is_unique_violation(_Coded(sqlite_errorname="SQLITE_CONSTRAINT_UNIQUE"))
    assert not SQLITE.is_unique_violation(_Coded(sqlite_errorname="SQLITE_CONSTRAINT_FOREIGNKEY"))
    assert not SQLITE.is_unique_violation(ValueError("plain"))


def test_the_search_match_and_rank_take_the_compiled_text():
    assert POSTGRES.search_match("'a'") == Fragment("e.tsv @@ to_tsquery('simple', ?)", ("'a'",))
    assert POSTGRES.search_rank("'a'") == Fragment("ts_rank_cd(e.tsv, to_tsquery('simple', ?))", ("'a'",))
    assert SQLITE.search_match('"a"') == Fragment("search_fts MATCH ?", ('"a"',))
    assert SQLITE.search_rank('"a"') == Fragment("-bm25(search_fts)", ())  # bm25: lower is better
    assert (POSTGRES.text_search, SQLITE.text_search) == ("tsvector", "fts5")
