"""What a string that members type may hold, in one place for every field and frame.

Refused everywhere: control characters (NUL included), unpaired surrogates (they cannot be
encoded as UTF-8, so PostgreSQL and the other clients would fail on them) and line or paragraph
separators. One-line fields (names, titles, emails, cids) also refuse the bidirectional
embedding, override and isolate controls, which let a name display reversed ("Trojan Source",
CVE-2021-42574; Unicode TR9 §2). Multi-line text (message bodies, descriptions) may hold
newlines, tabs and carriage returns (CRLF line ends from bots and Windows clients). Not str.isprintable(): it refuses U+3000, the ideographic space that Chinese
text uses, and the joiner inside emoji sequences.
"""

from __future__ import annotations

import unicodedata
from typing import TypeGuard

# Unicode TR9 §2.1-2.4: LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset(("Cc", "Cs", "Zl", "Zp"))
_MULTILINE_ALLOWED = frozenset("\n\t\r")
# Whole numbers that ids, seqs and counts may take: signed 64-bit, what PostgreSQL's bigint and
# SQLite's INTEGER hold. A larger one fails in the driver (OverflowError, asyncpg's
# DataError), i.e. inside a transaction other requests share.
INT64_MAX = 2**63 - 1


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` may not be stored, in words that quote none of it; None when it may."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return "holds an unpaired surrogate (not valid UTF-8)"
        if category in _REFUSED_CATEGORIES and not (multiline and char in _MULTILINE_ALLOWED):
            return "holds a control character"
        if not multiline and char in BIDI_CONTROLS:
            return "holds a bidirectional control character"
    return None


def storage_problem(text: str) -> str | None:
    """Why no store can hold `text` at all (PostgreSQL refuses NUL in text; an unpaired
    surrogate has no UTF-8 form), quoting none of it; None when one can. The floor under
    every string, passwords included; text_problem is the rule for typed fields."""
    if "\x00" in text:
        return "holds a NUL character"
    if any("\ud800" <= char <= "\udfff" for char in text):
        return "holds an unpaired surrogate (not valid UTF-8)"
    return None


def is_clean(text: str, *, multiline: bool = False) -> bool:
    return text_problem(text, multiline=multiline) is None


def is_int64(value: object, *, low: int = 0) -> TypeGuard[int]:
    """A JSON/msgpack whole number (not a bool) from `low` to INT64_MAX."""
    return type(value) is int and low <= value <= INT64_MAX


# Scripts that Unicode TR39 §5.2 ("Highly Restrictive") lets mix with Latin in one identifier:
# Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo, Latin + Han + Hangul.
_MIXES_WITH_LATIN = frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL"})


def letter_scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, named by the first word of each letter's Unicode
    name (LATIN, CYRILLIC, GREEK, CJK ...): close to the Script property, which Python's
    unicodedata lacks. Digits, marks and punctuation belong to no script here (Common)."""
    found = set()
    for char in text:
        if unicodedata.category(char).startswith("L"):
            found.add(unicodedata.name(char, "UNKNOWN").split(" ", 1)[0])
    return found


def is_mixed_script(text: str) -> bool:
    """True when `text` mixes letters of scripts that TR39's highly restrictive level keeps
    apart, e.g. Latin with Cyrillic or Greek ("pаypal" with a Cyrillic а)."""
    scripts = letter_scripts(text)
    return len(scripts) > 1 and not scripts <= _MIXES_WITH_LATIN
