"""Which new passwords are refused: too short or too long, common (a shipped list), one
character repeated, only spaces or invisible characters, or holding control characters.

Applies wherever a password is chosen (registration, the CLI's create-admin); logging in
checks nothing but the hash, so an older password keeps working. NIST SP 800-63B §5.1.1.2:
check new passwords against "passwords obtained from previous breach corpuses" and
"dictionary words", and no composition rules beyond that. The list and its source:
common_passwords.txt beside this file (docs/decisions.md, "Password rules").
"""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources

from chat.text import text_problem

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("# "))


def _folded(password: str) -> str:
    # Full-width "ｐａｓｓｗｏｒｄ" and "PASSWORD" are the same guess to an attacker's list.
    return unicodedata.normalize("NFKC", password).casefold()


def password_problem(password: str) -> str | None:
    """Why this new password is refused, in words that quote none of it; None if it is fine."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        return f"must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
    # Multiline: a tab or newline inside a passphrase is odd but harmless; NUL and the other
    # controls are not (C libraries stop at NUL), nor unpaired surrogates (not UTF-8).
    if text_problem(password, multiline=True):
        return "must not hold control characters"
    visible = [c for c in password if not c.isspace() and unicodedata.category(c) != "Cf"]
    if not visible:
        return "must not be only spaces or invisible characters"
    if len(set(_folded(password))) == 1:
        return "must not be one character repeated"
    folded = _folded(password)
    if folded in common_passwords() or folded.strip() in common_passwords():
        return "is too common (it is on a list of passwords attackers try first); choose another"
    return None
