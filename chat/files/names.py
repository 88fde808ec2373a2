"""A file's display name, made safe, and the Content-Disposition that carries it (RFC 6266 with
RFC 5987's filename*=UTF-8''…, so Chinese names arrive intact; an ASCII fallback for the rest).

The name is only ever shown and offered as a download name: the bytes live under a random key
(chat/files/service.py), so no name reaches a path."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_CHARS = 200
# Characters Windows refuses in file names, and the path separators.
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
# Device names Windows will not save a file as, whatever the extension.
_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+,=@-]")


def safe_name(raw: str, fallback: str = "file") -> str:
    """`raw` as a display name: the last path part only, NFC, no control or format characters
    (bidi overrides, zero-width), reserved characters as '_', spaces collapsed, no leading or
    trailing dots and spaces, at most MAX_NAME_CHARS (the extension kept); Chinese and every
    other script kept. Empty after that: `fallback`."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" or ch in "\t ")
    name = _RESERVED.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[:MAX_NAME_CHARS - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME_CHARS].rstrip(" .")
    if name.partition(".")[0].lower() in _DEVICES:
        name = "_" + name
    return name or fallback


def ascii_fallback(name: str) -> str:
    """The name in plain ASCII for clients that ignore filename*: accents dropped, other
    characters as '_', never a quote or backslash; an all-non-ASCII stem becomes "file"."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    def plain(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return _ASCII_UNSAFE.sub("_", folded) if folded else ""
    ascii_stem = plain(stem).strip("_ .") or "file"
    ascii_ext = plain(ext).strip("_ ")
    return f"{ascii_stem}.{ascii_ext}" if ascii_ext else ascii_stem


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """`attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded UTF-8>`."""
    return (f'{disposition}; filename="{ascii_fallback(name)}";'
            f" filename*=UTF-8''{quote(name, safe='')}")
