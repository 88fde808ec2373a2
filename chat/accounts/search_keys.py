"""Search keys: what the member directory's text search matches, so that members find each
other across scripts. "Li", "Li Hua" and "lihua" find 李华; a member may also give a name in the
other script (`alt_name`), which is searched too.

Han characters are read in pinyin by pypinyin (its phrase dictionary picks the reading of a
character in context), without tones: the key of 李华 is "李华 li hua lihua". Everything is
case-folded, as the directory folds the query. Pure functions, no I/O.
"""

from __future__ import annotations

import re

# The CJK Unified Ideographs block and extension A: the characters of Chinese names.
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
SPACES_RE = re.compile(r"\s+")
# A name of two to four Han characters only: a one-character surname and a given name (a
# compound surname such as 欧阳 is rare enough that its reversed form is only a spare).
HAN_NAME_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,4}")
MAX_SEARCH_KEY_CHARS = 1000  # names are at most 64 characters each


def _pinyin_forms(name: str) -> list[str]:
    """A name with Han characters read in pinyin, syllables spaced and run together."""
    if not HAN_RE.search(name):
        return []
    # Imported here, not at the top: its phrase dictionary takes ~0.2 s to load, which every
    # `ecolink` command would pay (accounts are imported by most) for names it never reads.
    from pypinyin import Style, lazy_pinyin

    # errors="default" keeps what is not Han (Latin letters, digits) as it is.
    syllables = [part.strip() for part in lazy_pinyin(name, style=Style.NORMAL)]
    spaced = SPACES_RE.sub(" ", " ".join(part for part in syllables if part)).strip()
    forms = [spaced, spaced.replace(" ", "")]
    if HAN_NAME_RE.fullmatch(name):
        # Given name first, as Europeans often write it: 李华 is also "hua li" / "huali".
        given_first = " ".join([*syllables[1:], syllables[0]])
        forms += [given_first, given_first.replace(" ", "")]
    if "v" in spaced:  # pypinyin writes ü as v (吕 lv); passports and most people write u
        forms += [form.replace("v", "u") for form in forms]
    return forms


def search_key(display_name: str, alt_name: str = "") -> str:
    """The key for these names: each name folded, then its pinyin forms, space-separated.
    The directory matches a query as a case-folded substring of it."""
    forms: list[str] = []
    for name in (display_name, alt_name):
        # Only the key's first MAX_SEARCH_KEY_CHARS are kept, so no more of a name is read:
        # pypinyin costs ~35 µs a Han character (64 KiB of them took 2.4 s; issue 16, case 14).
        name = SPACES_RE.sub(" ", name[:MAX_SEARCH_KEY_CHARS]).strip()
        if name:
            forms.append(name)
            forms.extend(_pinyin_forms(name))
    key = " ".join(dict.fromkeys(form.lower() for form in forms if form))
    return key[:MAX_SEARCH_KEY_CHARS]
