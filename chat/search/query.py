"""Search queries: parsed query terms compiled to each store's match text (no I/O).

`tsquery(terms)` gives PostgreSQL's to_tsquery('simple', …) text and `fts5(terms)` SQLite's
FTS5 MATCH text, for the same SearchTerm tuple (docs/decisions.md, "Search: CJK bigrams in
Python"). Every lexeme is quoted: terms hold only letters and digits (chat/search/tokens.py),
but a quote inside one is escaped anyway, so no input can change the query's structure.
"""

from __future__ import annotations

from chat.models import SearchTerm


def _pg_lexeme(term: str) -> str:
    # Inside a quoted tsquery lexeme, ' is doubled and \ escapes the next character.
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _pg_item(item: SearchTerm) -> str:
    lexemes = [_pg_lexeme(term) for term in item.terms]
    if item.prefix:
        lexemes[-1] += ":*"
    return " <-> ".join(lexemes)


def tsquery(terms: tuple[SearchTerm, ...]) -> str:
    """`'a' <-> 'b'` for a phrase, `'城':*` for a prefix, `!( … )` for a negated item, all
    joined by ` & `. Terms with no lexeme are skipped; none left: ValueError."""
    parts = []
    for item in terms:
        if not item.terms:
            continue
        text = _pg_item(item)
        parts.append(f"!({text})" if item.negated else f"({text})")
    if not parts:
        raise ValueError("a search needs at least one term")
    return " & ".join(parts)


def _fts5_item(item: SearchTerm) -> str:
    # An FTS5 string is a phrase of the tokens inside it; `"…" *` makes its last one a prefix
    # (https://www.sqlite.org/fts5.html, "FTS5 Phrases", "FTS5 Prefix Queries").
    text = '"' + " ".join(term.replace('"', '""') for term in item.terms) + '"'
    return text + " *" if item.prefix else text


def fts5(terms: tuple[SearchTerm, ...]) -> str:
    """`"a b"` for a phrase, `"城" *` for a prefix; the positive items AND-ed, then
    `NOT (n1 OR n2)` for the negated ones. FTS5's NOT is binary, so at least one item must be
    positive: else ValueError (as when no item has a lexeme)."""
    positives = [_fts5_item(item) for item in terms if item.terms and not item.negated]
    negatives = [_fts5_item(item) for item in terms if item.terms and item.negated]
    if not positives:
        raise ValueError("a search needs at least one term that is not negated")
    text = "(" + " AND ".join(positives) + ")"
    if negatives:
        text += " NOT (" + " OR ".join(negatives) + ")"
    return text
