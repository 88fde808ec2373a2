"""What a member types into the search box, parsed into terms and filters (no I/O).

`parse(q)` reads the query syntax of docs/protocol.md, "Search":

- items are separated by white space (full-width spaces too);
- `"a quoted phrase"` (also “…”, 「…」, 『…』, ＂…＂) is one item, its words adjacent and in order;
  an unclosed quote runs to the end of the query;
- `-word` and `-"phrase"` (also with a full-width minus －) exclude;
- `from:name`, `from:"Li Hua"` name an author, `in:room`, `in:"Green Buildings"` a room (a
  full-width colon ： counts too); the service resolves them to ids;
- every other item is a word, turned into terms the way the index turns text into terms
  (chat/search/tokens.py): a Latin word becomes its stem; a CJK run of two or more
  characters becomes the phrase of its bigrams (城市更新 → 城市 市更 更新), found inside any
  longer run; a lone CJK character at the end is a prefix (城 → 城*, which every CJK character
  in the index starts a term of); a mixed word is one phrase (BRT快速公交 → brt 快速 速公 公交,
  A股 → a 股*).

Errors are InvalidSearch (an InvalidInput, 400) with details {"q": "…why…"}: an empty query, more than
MAX_QUERY_CHARS characters or MAX_ITEMS items, a filter without a name, and a query with no word
to look for (only excluded words, only filters, or only punctuation).

`tsquery(terms)` gives PostgreSQL's to_tsquery('simple', …) text and `fts5(terms)` SQLite's
FTS5 MATCH text, for the same SearchTerm tuple (docs/decisions.md, "Search: CJK bigrams in
Python"). Every lexeme is quoted: terms hold only letters and digits (chat/search/tokens.py),
but a quote inside one is escaped anyway, so no input can change the query's structure.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.errors import InvalidSearch
from chat.models import SearchTerm
from chat.search import tokens

MAX_QUERY_CHARS = 500
MAX_ITEMS = 20

# Opening quote → the quotes that close it. ASCII and full-width straight quotes close
# themselves; a curly opening quote also accepts the straight one (phones mix them).
_QUOTES: dict[str, str] = {
    '"': '"”', "＂": "＂\"", "“": "”\"", "「": "」", "『": "』",
}
_MINUS = "-－"
_COLON = ":："
_FILTERS = ("from", "in")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    terms: tuple[SearchTerm, ...]  # at least one not negated
    authors: tuple[str, ...] = ()  # from: names, as typed (stripped)
    rooms: tuple[str, ...] = ()  # in: room titles or ids, as typed (stripped)


@dataclass(frozen=True, slots=True)
class _Item:
    text: str
    negated: bool
    quoted: bool
    field: str  # "" for a word or phrase, else "from" / "in"


def _invalid(why: str) -> InvalidSearch:
    return InvalidSearch(f"search query: {why}", details={"q": why})


def _read_value(q: str, index: int) -> tuple[str, bool, int]:
    """(value, quoted, index after it) of the item starting at q[index]: a quoted phrase up to
    its closing quote (or the end), else the run up to the next white space."""
    closers = _QUOTES.get(q[index]) if index < len(q) else None
    if closers is not None:
        end = index + 1
        while end < len(q) and q[end] not in closers:
            end += 1
        return q[index + 1:end], True, min(end + 1, len(q))
    end = index
    while end < len(q) and not q[end].isspace():
        end += 1
    return q[index:end], False, end


def _field_at(q: str, index: int) -> tuple[str, int]:
    """("from"/"in", index after the colon) when a filter starts at q[index], else ("", index)."""
    for name in _FILTERS:
        end = index + len(name)
        if q[index:end].lower() == name and end < len(q) and q[end] in _COLON:
            return name, end + 1
    return "", index


def _items(q: str) -> list[_Item]:
    items: list[_Item] = []
    index = 0
    while index < len(q):
        if q[index].isspace():
            index += 1
            continue
        negated = q[index] in _MINUS and index + 1 < len(q) and not q[index + 1].isspace()
        start = index + 1 if negated else index
        field, start = _field_at(q, start)
        if field and negated:
            raise _invalid(f"{field}: cannot be excluded with -")
        value, quoted, index = _read_value(q, start)
        items.append(_Item(value, negated, quoted, field))
        if len(items) > MAX_ITEMS:
            raise _invalid(f"more than {MAX_ITEMS} words, phrases and filters")
    return items


def phrase_terms(text: str) -> tuple[tuple[str, ...], bool]:
    """(terms, prefix) of one word or phrase, so that the terms match the index's terms of the
    same text at adjacent positions (chat/search/tokens.py, `terms`): the index gives each CJK
    run of n characters n terms (its bigrams, then its last character alone); a query's last
    CJK run leaves that lone last character out, so it also matches inside a longer run, and a
    last run of one character becomes a prefix. () when the text has no letter or digit."""
    runs = list(tokens.runs(tokens.fold(text)))
    out: list[str] = []
    prefix = False
    for position, (cjk, run, _) in enumerate(runs):
        last = position == len(runs) - 1
        if not cjk:
            out.append(tokens.stem(run))
        elif len(run) == 1:
            out.append(run)
            prefix = last
        else:
            out.extend(tokens.bigrams(run))
            if not last:
                out.append(run[-1])
    return tuple(out), prefix


def parse(q: str) -> ParsedQuery:
    """The query's terms (in the order typed), and its from: and in: names."""
    if not isinstance(q, str):
        raise _invalid("the query must be text")
    if len(q) > MAX_QUERY_CHARS:
        raise _invalid(f"longer than {MAX_QUERY_CHARS} characters")
    if not q.strip():
        raise _invalid("empty: type a word to look for")
    terms: list[SearchTerm] = []
    authors: list[str] = []
    rooms: list[str] = []
    for item in _items(q):
        if item.field:
            name = " ".join(item.text.split())
            if not name:
                raise _invalid(f"{item.field}: needs a name")
            (authors if item.field == "from" else rooms).append(name)
            continue
        found, prefix = phrase_terms(item.text)
        if found:
            terms.append(SearchTerm(found, prefix=prefix, negated=item.negated,
                                    text=" ".join(tokens.fold(item.text).split())))
    if not any(not term.negated for term in terms):
        raise _invalid("no word to look for (excluded words and filters need one beside them)")
    return ParsedQuery(tuple(terms), tuple(authors), tuple(rooms))


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
