"""One spelling per email address, so that lookalikes cannot open a second account.

`canonical_email` is what registration stores and what login looks up:
- NFKC (Unicode UAX #15): full-width ｅｘａｍｐｌｅ and other compatibility forms become the
  plain letters they stand for;
- invisible characters (category Cf: zero-width space and joiners, bidi controls, soft hyphen)
  and control characters are refused, not removed: an address holding one was not typed;
- the local part is lowercased (as before) and may hold RFC 5322 §3.2.3 atext and dots, or
  letters and digits of other scripts (RFC 6531), but not mix scripts (a Cyrillic а among Latin
  letters); quoted local parts and comments are refused;
- the domain goes through IDNA 2008 with the UTS #46 mapping (the `idna` package), then back to
  its Unicode form: 例子.中国 and xn--fsqu00a.xn--fiqs8s are one domain, stored as the first;
  a trailing dot (the DNS root) is dropped; each label must be of one script.

Accounts registered before these rules were stored as typed, stripped and lowercased
(`legacy_email`); login looks the canonical form up first, then that one
(chat/accounts/service.py), and registration refuses an address whose old spelling exists.
"""

from __future__ import annotations

import string
import unicodedata

import idna

from chat.text import is_mixed_script, text_problem

MAX_LOCAL_CHARS = 64  # RFC 5321 §4.5.3.1.1
MAX_ADDRESS_CHARS = 254  # RFC 5321 §4.5.3.1.3 (a path of 256 with its angle brackets)
ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-")


class EmailProblem(ValueError):
    """Why an address is refused, in words that quote none of it."""


def legacy_email(email: str) -> str:
    """How addresses were stored before canonical_email existed."""
    return email.strip().lower()


def _local_part_ok(local: str) -> bool:
    if not 1 <= len(local) <= MAX_LOCAL_CHARS or local.startswith(".") or local.endswith("."):
        return False
    if ".." in local or is_mixed_script(local):
        return False
    for char in local:
        if char in ATEXT or char == ".":
            continue
        if char.isascii() or unicodedata.category(char)[0] not in "LMN":
            return False
    return True


def canonical_email(email: str) -> str:
    """The one stored spelling of an address. Raises EmailProblem."""
    if text_problem(email) or any(unicodedata.category(c) == "Cf" for c in email):
        raise EmailProblem("holds an invisible or control character")
    text = unicodedata.normalize("NFKC", email).strip()
    local, at, domain = text.rpartition("@")
    local = local.lower()
    if not at or not _local_part_ok(local):
        raise EmailProblem("not an email address")
    domain = domain.removesuffix(".")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        domain = idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        raise EmailProblem("the domain is not a valid domain name") from None
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        raise EmailProblem("the domain needs a dot and a top-level domain")
    if any(is_mixed_script(label) for label in labels):
        raise EmailProblem("the domain mixes scripts (lookalike letters)")
    if len(local) + 1 + len(ascii_domain) > MAX_ADDRESS_CHARS:
        raise EmailProblem(f"must be at most {MAX_ADDRESS_CHARS} characters")
    return f"{local}@{domain}"
