"""Signed one-click unsubscribe links: `…/api/v1/mail/unsubscribe?u=<user id>&k=<kind>&t=<mac>`.
The mac is HMAC-SHA256 over the user and kind with the store's shared secret "mail-unsubscribe"
(chat/store/secrets.py), so any node checks a link any node made, nothing is stored per link,
and a link only ever turns off the one kind of mail it came with, for the one member."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from chat.models import MAIL_SWITCH_KINDS

SECRET_NAME = "mail-unsubscribe"
# What a link can turn off: the switchable kinds and the digest.
UNSUBSCRIBE_KINDS: tuple[str, ...] = (*MAIL_SWITCH_KINDS, "digest")
PATH = "/api/v1/mail/unsubscribe"


def mac(key: bytes, user_id: int, kind: str) -> str:
    digest = hmac.new(key, f"unsubscribe\x00{user_id}\x00{kind}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def link(base: str, key: bytes, user_id: int, kind: str) -> str:
    """The absolute unsubscribe URL for (user, kind) under `base` (settings.public_base)."""
    if kind not in UNSUBSCRIBE_KINDS:
        raise ValueError(f"mail of kind {kind!r} has no unsubscribe link")
    return f"{base}{PATH}?" + urlencode({"u": user_id, "k": kind, "t": mac(key, user_id, kind)})


def check(key: bytes, user_id: int, kind: str, token: str) -> bool:
    """Whether `token` is the mac of (user, kind) (compared in constant time)."""
    return kind in UNSUBSCRIBE_KINDS and hmac.compare_digest(mac(key, user_id, kind), token)
