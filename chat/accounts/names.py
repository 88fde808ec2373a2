"""Display names members may not take: the staff's names and their lookalikes.

A name is reserved when, reduced to its confusable skeleton, it holds a reserved word: as a
whole word or run of words for Latin ("Admin", "Ad-min", "EC Link", "the admin", "admin2"),
anywhere for Chinese ("管理员小王"). The skeleton follows Unicode TR39 §4 in spirit: NFKC (full
width and styled letters), then the Cyrillic and Greek letters that look like Latin ones, the
digits and signs that pass for letters (0 → o, 1 | l → i), then case folded. Its table is small
and covers Latin, Cyrillic, Greek and full-width (by NFKC), the lookalikes of the reserved
words; docs/decisions.md says why not a package. Staff (moderators and admins) may use these
names; the web client marks their role beside their name.
"""

from __future__ import annotations

import re
import unicodedata

RESERVED_WORDS = (
    "admin", "administrator", "moderator", "system", "ecolink", "ec-link", "staff", "support",
    "管理员", "管理員", "版主", "客服", "系统", "系統",
)
# Capitals first (before case folding): Cyrillic and Greek capitals that look like Latin ones
# fold to small letters that do not (Greek Η → η, which looks like n).
_CAPITALS = str.maketrans(
    "АВЕКМНОРСТХЅІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTXSIJABEZHIKMNOPTYX")
_SMALL = str.maketrans({
    **dict.fromkeys("l1|!ıіιӏǀ", "i"), **dict.fromkeys("0оοσ", "o"), **dict.fromkeys("аα@", "a"),
    **dict.fromkeys("еεё3", "e"), **dict.fromkeys("сϲ", "c"), **dict.fromkeys("рρ", "p"),
    **dict.fromkeys("хχ", "x"), **dict.fromkeys("уγү", "y"), **dict.fromkeys("кκ", "k"),
    "м": "m", **dict.fromkeys("пη", "n"), **dict.fromkeys("тτ7", "t"), **dict.fromkeys("һн", "h"),
    **dict.fromkeys("вβь", "b"), "ԁ": "d", **dict.fromkeys("ѕ5$", "s"), "ј": "j", "ԛ": "q",
    **dict.fromkeys("ԝω", "w"), **dict.fromkeys("νѵ", "v"), "υ": "u", "ɡ": "g", "г": "r",
})
_DIGRAPHS = (("rn", "m"), ("vv", "w"))
_SEPARATORS = re.compile(r"[^\w]+|_")


def skeleton(text: str) -> str:
    """The lookalike-insensitive form of a name: two names with one skeleton look alike."""
    text = unicodedata.normalize("NFKC", text).translate(_CAPITALS).casefold()
    text = unicodedata.normalize("NFKC", text.translate(_SMALL))
    for pair, single in _DIGRAPHS:
        text = text.replace(pair, single)
    return text


def _word_forms(word: str) -> tuple[str, ...]:
    # "admin2" and "2admin": digits at the ends are a suffix, not a lookalike letter.
    return (skeleton(word), skeleton(word.strip("0123456789")))


_LATIN = {"".join(_SEPARATORS.split(skeleton(w))) for w in RESERVED_WORDS if w.isascii()}
_CJK = {skeleton(w) for w in RESERVED_WORDS if not w.isascii()}
MAX_WORDS = 16


def is_reserved_name(name: str) -> bool:
    """Whether a display name reads as one of the staff's reserved names."""
    folded = unicodedata.normalize("NFKC", name)
    words = [w for w in _SEPARATORS.split(folded) if w][:MAX_WORDS]
    joined = "".join(_SEPARATORS.split(skeleton(folded)))
    if any(reserved in joined for reserved in _CJK):
        return True
    for start in range(len(words)):
        for end in range(start + 1, len(words) + 1):
            run = "".join(words[start:end])
            if any(form in _LATIN for form in _word_forms(run)):
                return True
    return False
