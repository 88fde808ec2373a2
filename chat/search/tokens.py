"""Text to search terms, the same way for what is indexed and what is asked (no I/O).

Both stores index a space-joined list of terms (the `terms` column): PostgreSQL turns it into a
tsvector with the 'simple' configuration, SQLite's FTS5 table reads it with the unicode61
tokenizer, and both split it exactly where we put the spaces, because a term holds only
letters and digits. So the language rules live here, once (docs/decisions.md, "Search: CJK
bigrams in Python"):

- Folding: NFKC (full-width ＢＲＴ２０３０ is BRT2030), case folding, and traditional Chinese
  characters to simplified ones (OpenCC's t2s table, applied one character at a time so that
  offsets into the original text survive: snippets mark the original words).
- Latin words (letters and digits) become their English Snowball stem: planning → plan,
  cities → citi, so either form finds the other.
- A run of CJK characters becomes its overlapping bigrams plus its last character alone:
  城市更新 → 城市 市更 更新 新. A two-character query is one term, found inside any longer
  text (no segmenter decides the word boundaries); a longer one is a phrase of bigrams; a
  single character is a prefix query (城*), which every character starts at least one term of.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from typing import Literal

import opencc
import snowballstemmer

Language = Literal["en", "zh", "mixed", ""]

# What one entry indexes at most (a long document's extracted text is cut here): PostgreSQL's
# tsvector holds positions up to 16,383 and at most 1 MB (https://www.postgresql.org/docs/15/
# textsearch-limitations.html); 200,000 characters stays well inside the size limit.
MAX_INDEXED_CHARS = 200_000

_STEMMER = snowballstemmer.stemmer("english")


def is_cjk(char: str) -> bool:
    """Han ideographs (with extensions and compatibility forms), kana and hangul: scripts
    written without spaces between words."""
    code = ord(char)
    return (0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF
            or 0x3040 <= code <= 0x30FF or 0xAC00 <= code <= 0xD7AF)


@functools.cache
def _t2s() -> dict[int, str]:
    """Traditional → simplified, character by character (OpenCC's t2s over every Han
    character in the BMP, built once: about 10 ms)."""
    converter = opencc.OpenCC("t2s")
    chars = [chr(code) for code in range(0x3400, 0xA000)]
    converted = converter.convert("\n".join(chars)).split("\n")
    return {ord(c): s for c, s in zip(chars, converted, strict=True) if len(s) == 1 and s != c}


@functools.lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold().translate(_t2s())


def fold(text: str) -> str:
    """NFKC, case-folded, simplified: the form both sides of a search compare."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """fold(text), and for each character of it the index of the original character it came
    from (NFKC may turn one character into several: ㎡ → m2), for marking snippets."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        out.append(folded)
        offsets.extend([index] * len(folded))
    return "".join(out), offsets


# ASCII text has no CJK, and its letters and digits are exactly these: the fast path of `runs`
# and `language_of` (a character-by-character loop costs ~7 ms per 10,000 characters).
_ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_ASCII_LETTER_RE = re.compile(r"[A-Za-z]")


def runs(folded: str) -> Iterator[tuple[bool, str, int]]:
    """(is_cjk, run, start) for each maximal run of CJK characters or of other letters and
    digits in folded text; everything else separates runs."""
    if folded.isascii():
        for match in _ASCII_WORD_RE.finditer(folded):
            yield False, match.group(), match.start()
        return
    start, kind = -1, False
    for index, char in enumerate(folded):
        cjk = is_cjk(char)
        word = cjk or char.isalnum()
        if start >= 0 and (not word or cjk != kind):
            yield kind, folded[start:index], start
            start = -1
        if word and start < 0:
            start, kind = index, cjk
    if start >= 0:
        yield kind, folded[start:], start


def stem(word: str) -> str:
    """A folded Latin word's English stem (words with digits stay as they are)."""
    if not word.isalpha():
        # Not cached: almost every number, id and timestamp in a message is a new one, and
        # caching them filled the cache with copies (the soak, docs/reliability.md §6).
        return word
    return _stem_word(word)


@functools.lru_cache(maxsize=65536)  # words only: ~8 MiB (key, stem, link) when full
def _stem_word(word: str) -> str:
    stemmed: str = _STEMMER.stemWord(word)
    return stemmed


def bigrams(run: str) -> list[str]:
    """A CJK run's overlapping pairs (a lone character: itself)."""
    if len(run) == 1:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def terms(text: str) -> list[str]:
    """The terms of a text, in order: stems of Latin words; for each CJK run, its bigrams and
    then its last character (so that every character begins a term: 城* finds 小城)."""
    out: list[str] = []
    for cjk, run, _ in runs(fold(text[:MAX_INDEXED_CHARS])):
        if cjk:
            out.extend(bigrams(run))
            if len(run) > 1:
                out.append(run[-1])
        else:
            out.append(stem(run))
    return out


def index_terms(*texts: str) -> str:
    """The `terms` column of an entry made of these texts (title, body …)."""
    return " ".join(term for text in texts if text for term in terms(text))


def language_of(text: str) -> Language:
    """"zh" when nearly all letters are CJK, "en" when nearly none are, "mixed" between, ""
    for no letters at all. Counts letters, not characters: digits and punctuation say
    nothing."""
    text = text[:MAX_INDEXED_CHARS]
    if text.isascii():
        return "en" if _ASCII_LETTER_RE.search(text) else ""
    cjk = latin = 0
    for char in text:
        if is_cjk(char):
            cjk += 1
        elif char.isalpha():
            latin += 1
    # A Chinese character carries a word's worth of meaning; a Latin letter about a fifth.
    cjk_weight, latin_weight = cjk * 5, latin
    total = cjk_weight + latin_weight
    if total == 0:
        return ""
    share = cjk_weight / total
    return "zh" if share >= 0.8 else "en" if share <= 0.2 else "mixed"
