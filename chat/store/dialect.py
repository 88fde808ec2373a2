"""Every difference between SQLite and PostgreSQL that the store's SQL meets, in one place.

Store operations are written once, with `?` placeholders, against a Database handle
(chat/store/database.py). Where the two dialects disagree, the SQL asks the handle's Dialect
for the fragment instead of spelling it out: an `IN` list, a string aggregate, case folding,
code-point collation, a row lock, a claim that skips locked rows, a data-modifying CTE, full-text search. The handle itself asks the dialect to number placeholders and
to recognise a unique violation. Nothing else in the store may test which backend it runs on,
except the two steps of the append writer kept per backend on purpose, in
chat/store/{sqlite,postgres}/history.py, each saying why (finding repeated cids and inserting a
batch: the fast statement differs). The same list, as a table: docs/decisions.md, "Where the
stores differ".

What is the same on both and needs no entry: `ON CONFLICT … DO NOTHING / DO UPDATE`,
`RETURNING` (SQLite 3.35+; Python 3.11 links 3.40), multi-row `VALUES`, `CAST(? AS TEXT)`,
`count(*)`, `COALESCE`, `TRUE`/`FALSE` (SQLite 3.23+; they read back as 1/0 there, so row
converters call bool()). Batch execution is the handle's execute_many (both drivers'
executemany); rows changed by a statement come from the handle's execute.

No driver is imported here (only backends import drivers): unique violations are recognised by
the error code both drivers attach to their exceptions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# A value bound to a placeholder. Arrays (lists) are PostgreSQL's only: Dialect.in_list and the
# unnest() arrays of its append writer. Typed as Sequence because list is invariant: a list of a
# Literal or of optional strings is no list[str], but is a Sequence[str | None].
Param = (str | int | float | bool | bytes | None
         | Sequence[str | None] | Sequence[int | None] | Sequence[bytes | None])
SqlType = Literal["text", "bigint", "bytea"]


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL with its own `?` placeholders and the values they bind, in order."""

    sql: str
    params: tuple[Param, ...]


@dataclass(frozen=True)
class Dialect:
    name: Literal["sqlite", "postgres"]
    # Placeholders: `?` everywhere in our SQL; PostgreSQL wants $1, $2 … (prepare()).
    numbered_placeholders: bool
    # `col IN (?, ?, …)` (one parameter per value) or `col = ANY(?)` (one array parameter: one
    # statement text whatever the count, so asyncpg's statement cache holds one entry).
    array_parameters: bool
    # Joins strings of a group: string_agg(x, sep) / group_concat(x, sep).
    string_agg_function: str
    # Case folding of display names and cities. SQLite's lower() folds ASCII only
    # (https://www.sqlite.org/lang_corefunc.html#lower), so SQLite's handle registers Python's
    # str.lower as ecolink_lower on its connections; PostgreSQL's lower() folds by LC_CTYPE,
    # which must be UTF-8 (C.UTF-8; docs/operations.md).
    fold_function: str
    # Appended to a text expression to order it by code point: SQLite's default BINARY
    # collation already does; PostgreSQL needs COLLATE "C" whatever the database's collation.
    code_point_collation: str
    # Appended to a SELECT that must lock the rows it reads until commit. SQLite has no row
    # locks; its handle begins every write transaction with BEGIN IMMEDIATE, which takes the
    # file's write lock up front, so the rows cannot change under the transaction anyway.
    row_lock: str
    # Appended to a SELECT that claims rows for work (the mail outbox's senders): PostgreSQL
    # locks them and skips rows another transaction holds (FOR UPDATE SKIP LOCKED), so nodes
    # claiming at once take different rows without waiting; SQLite: "", its write transaction
    # (BEGIN IMMEDIATE) already lets one claimer in at a time.
    skip_locked: str
    # Whether a statement's WITH may hold INSERT/UPDATE/DELETE … RETURNING (PostgreSQL's
    # data-modifying CTEs): then a change of several tables is one statement, one round trip
    # (a webinar vote: the vote row, its counter and the checks). SQLite's WITH takes SELECTs
    # only; there the same change is several statements in one transaction, in-process.
    data_modifying_cte: bool
    # Error codes of a unique-constraint violation: PostgreSQL's SQLSTATE (asyncpg's
    # `sqlstate`) or SQLite's extended result names (sqlite3's `sqlite_errorname`, 3.11+).
    unique_violation_codes: frozenset[str]
    # Rows read to be written elsewhere in the same transaction, kept from changing until it
    # commits, without waiting: `{}` is the locked table's name or alias. PostgreSQL: FOR SHARE
    # OF … NOWAIT (a row a writer holds fails the read with lock_not_available, and the caller
    # tries again: a reader that never waits is in no deadlock); SQLite: "", its write
    # transaction already keeps every other writer out.
    share_lock_nowait: str
    # Error codes of a row lock not taken at once (SQLSTATE lock_not_available); none on SQLite.
    lock_unavailable_codes: frozenset[str]
    # Full-text search over search_entries.terms (migration 0022): PostgreSQL's generated
    # tsvector column `tsv` with a GIN index, matched by a to_tsquery text; SQLite's
    # external-content FTS5 table search_fts, matched by an FTS5 query text. Which compiler
    # builds the text: chat/search/query.py's tsquery() or fts5() (chat/store/search.py).
    text_search: Literal["tsvector", "fts5"]
    # FROM items giving the entries as `e`, where the match below can test them: FTS5's
    # MATCH and bm25() need the FTS table in the query itself.
    search_from: str
    # search_from restricted to the entries with entry_id in (?, ?] (a relevance search's
    # window of recent entries, search_sql.RELEVANCE_RECENT), read by that range rather than
    # through the full-text index. PostgreSQL: a subquery the planner cannot push the match
    # into (OFFSET 0), walked on the primary key: it estimates a phrase's matches as the
    # product of its words' and would otherwise read every match of a common phrase through
    # GIN. SQLite: FTS5 takes a rowid range itself.
    search_window_from: str
    # One value: bytes the search index takes on disk (table, indexes, FTS shadow tables).
    search_bytes_sql: str
    # Run before a search, in its own read transaction ("": none needed). PostgreSQL: a plan
    # for the query's own text. asyncpg prepares each statement once, and after five runs
    # PostgreSQL may keep a generic plan, made without the tsquery: it cannot tell a term in
    # 30% of the entries (walk the newest-first index) from a rare one (read the GIN postings
    # and sort them), and measured 10× slower on one of the two (docs/decisions.md, "Search:
    # CJK bigrams in Python"). SQLite's planner does not look at bound values.
    search_setup_sql: str

    def prepare(self, sql: str) -> str:
        """Our SQL (with `?`) as the driver wants it."""
        return _numbered(sql) if self.numbered_placeholders else sql

    def in_list(self, column: str, values: list[str] | list[int] | list[bytes],
                sql_type: SqlType) -> Fragment:
        """`column` is one of `values` (none: false)."""
        if self.array_parameters:
            return Fragment(f"{column} = ANY(CAST(? AS {sql_type}[]))", (values[:],))
        if not values:
            return Fragment("FALSE", ())
        return Fragment(f"{column} IN ({', '.join('?' * len(values))})", tuple(values))

    def string_agg(self, expression: str, separator: str) -> str:
        """The group's `expression`s joined by `separator` (a literal without quotes), in no
        particular order: callers sort in Python."""
        if "'" in separator:
            raise ValueError("the separator is spliced into SQL: it must hold no quote")
        return f"{self.string_agg_function}({expression}, '{separator}')"

    def fold(self, expression: str) -> str:
        return f"{self.fold_function}({expression})"

    def code_point_order(self, expression: str) -> str:
        return f"{expression}{self.code_point_collation}"

    def search_match(self, compiled: str) -> Fragment:
        """Entry `e` (from search_from) matches the compiled query text."""
        if self.text_search == "tsvector":
            return Fragment("e.tsv @@ to_tsquery('simple', ?)", (compiled,))
        return Fragment("search_fts MATCH ?", (compiled,))

    def search_rank(self, compiled: str) -> Fragment:
        """How well `e` matches, higher is better: ts_rank_cd (cover density) on PostgreSQL,
        bm25 negated on SQLite (FTS5's bm25 is better when lower)."""
        if self.text_search == "tsvector":
            return Fragment("ts_rank_cd(e.tsv, to_tsquery('simple', ?))", (compiled,))
        return Fragment("-bm25(search_fts)", ())

    def is_lock_unavailable(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) in self.lock_unavailable_codes

    def is_unique_violation(self, exc: BaseException) -> bool:
        code = getattr(exc, "sqlstate", None) or getattr(exc, "sqlite_errorname", None)
        return code in self.unique_violation_codes


SQLITE = Dialect(
    name="sqlite",
    numbered_placeholders=False,
    array_parameters=False,
    string_agg_function="group_concat",
    fold_function="ecolink_lower",
    code_point_collation="",
    row_lock="",
    skip_locked="",
    data_modifying_cte=False,
    unique_violation_codes=frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}),
    share_lock_nowait="",
    lock_unavailable_codes=frozenset(),
    text_search="fts5",
    search_from="search_fts JOIN search_entries e ON e.entry_id = search_fts.rowid",
    search_window_from=("search_fts JOIN search_entries e ON e.entry_id = search_fts.rowid"
                        " AND search_fts.rowid > ? AND search_fts.rowid <= ?"),
    # dbstat (compiled into Debian's and python.org's SQLite): pages of the table, its
    # indexes and the FTS5 shadow tables (search_fts_data, _idx, _docsize, _config).
    search_bytes_sql=("SELECT COALESCE(sum(pgsize), 0) FROM dbstat WHERE name IN (SELECT name"
                      " FROM sqlite_schema WHERE tbl_name = 'search_entries'"
                      " OR tbl_name LIKE 'search_fts%')"),
    search_setup_sql="",
)

POSTGRES = Dialect(
    name="postgres",
    numbered_placeholders=True,
    array_parameters=True,
    string_agg_function="string_agg",
    fold_function="lower",
    code_point_collation=' COLLATE "C"',
    row_lock=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    data_modifying_cte=True,
    unique_violation_codes=frozenset({"23505"}),  # unique_violation (PostgreSQL Appendix A)
    share_lock_nowait=" FOR SHARE OF {} NOWAIT",
    lock_unavailable_codes=frozenset({"55P03"}),  # lock_not_available (PostgreSQL Appendix A)
    text_search="tsvector",
    search_from="search_entries e",
    search_window_from="(SELECT * FROM search_entries w WHERE w.entry_id > ? AND w.entry_id <= ? OFFSET 0) e",
    search_bytes_sql="SELECT pg_total_relation_size('search_entries')",
    search_setup_sql="SET LOCAL plan_cache_mode = force_custom_plan",
)


def sqlite_fold(text: str | None) -> str | None:
    """SQLITE.fold_function's body, registered by SQLite's handle."""
    return None if text is None else text.lower()


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """`?` placeholders as $1, $2 … (our SQL has no '?' inside literals)."""
    counter = iter(range(1, 100_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
