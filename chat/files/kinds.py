"""What a file is, decided from its first bytes, never from its name or the client's word
(docs/decisions.md, "File types from the bytes"): the `filetype` library's signatures for PDF,
images, Office documents and ZIP; valid UTF-8 (a BOM allowed) with no NUL in the window for
plain text and CSV. Only the allowlist passes, and the name's extension and the claimed type
must agree with what the bytes are; anything else is UnsupportedType (415)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import filetype

from chat.errors import UnsupportedType
from chat.models import FileKind

# How many leading bytes decide (filetype reads as many; an upload's first part holds them).
SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class FileType:
    mime: str
    kind: FileKind
    extensions: tuple[str, ...]  # lower case, without the dot; the first is the usual one


_OOXML = "application/vnd.openxmlformats-officedocument."
ALLOWED: dict[str, FileType] = {t.mime: t for t in (
    FileType("application/pdf", "pdf", ("pdf",)),
    FileType("image/png", "image", ("png",)),
    FileType("image/jpeg", "image", ("jpg", "jpeg", "jfif")),
    FileType("image/gif", "image", ("gif",)),
    FileType("image/webp", "image", ("webp",)),
    FileType(_OOXML + "wordprocessingml.document", "office", ("docx",)),
    FileType(_OOXML + "spreadsheetml.sheet", "office", ("xlsx",)),
    FileType(_OOXML + "presentationml.presentation", "office", ("pptx",)),
    FileType("application/msword", "office", ("doc",)),
    FileType("application/vnd.ms-excel", "office", ("xls",)),
    FileType("application/vnd.ms-powerpoint", "office", ("ppt",)),
    FileType("application/zip", "zip", ("zip",)),
    FileType("text/plain", "text", ("txt", "text", "md", "log")),
    FileType("text/csv", "csv", ("csv",)),
)}
# filetype's answers that are an allowed type under another name (an animated PNG is a PNG).
_DETECTED_AS = {"image/apng": "image/png"}
# The legacy Office formats share one container (OLE2); filetype tells them apart by a few bytes
# that some writers do not put where it looks, so an OLE2 file counts as whichever of the three
# its extension names.
_OLE_TYPES = ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint")
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
# An Office Open XML document is a ZIP whose first entry filetype may not recognise: a ZIP named
# .docx/.xlsx/.pptx counts as that document (it is served as the attachment it is either way).
_OOXML_TYPES = tuple(mime for mime in ALLOWED if mime.startswith(_OOXML))
# What clients claim for these types besides the type's own name (a claim of
# application/octet-stream, or none, says nothing). Browsers on Windows call a CSV file
# application/vnd.ms-excel; some call a ZIP x-zip-compressed.
_CLAIM_ALIASES = {
    "image/jpeg": {"image/jpg", "image/pjpeg"},
    "application/zip": {"application/x-zip-compressed", "application/x-zip"},
    "text/csv": {"application/vnd.ms-excel", "text/plain", "application/csv", "text/x-csv",
                 "text/comma-separated-values"},
    "text/plain": {"text/markdown", "text/x-markdown", "text/x-log"},
    "application/pdf": {"application/x-pdf"},
}
_SAYS_NOTHING = {"", "application/octet-stream", "binary/octet-stream"}


def extension(name: str) -> str:
    """The name's extension, lower case, without the dot ("" when none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _is_text(window: bytes, whole: bool) -> bool:
    """Valid UTF-8 (an optional BOM) without NUL; a character cut at the window's end passes
    when the window is not the whole file."""
    if b"\x00" in window:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(window, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def check_text_part(data: bytes, *, first: bool, last: bool) -> None:
    """A part of a text or CSV file (the first 8 KiB decided the type; the rest must be text
    too, or a program could follow a page of text): UTF-8 without NUL, else UnsupportedType.
    Parts are checked alone, so a character may straddle two: up to 3 continuation bytes at
    the start of a later part and an unfinished character at the end of any but the last pass."""
    start = 0
    if not first:
        while start < min(3, len(data)) and data[start] & 0xC0 == 0x80:
            start += 1
    if not _is_text(data[start:], last):
        raise UnsupportedType("the file is not all text: only its first bytes were",
                              details={"detected": None})


def sniff(window: bytes, name: str, claimed: str | None, *, whole: bool) -> FileType:
    """The allowed type of a file whose first bytes are `window` (all of it when `whole`),
    named `name`, claimed to be `claimed`; else UnsupportedType. The message names types and
    extensions only, never the file's contents."""
    ext = extension(name)
    guess = filetype.guess(window[:SNIFF_BYTES]) if window else None
    detected = _DETECTED_AS.get(guess.mime, guess.mime) if guess is not None else None
    found: FileType | None = None
    if window.startswith(_OLE_MAGIC):
        by_ext = next((ALLOWED[m] for m in _OLE_TYPES if ext in ALLOWED[m].extensions), None)
        found = by_ext or (ALLOWED.get(detected) if detected in _OLE_TYPES else None)
    elif detected == "application/zip" and any(ext in ALLOWED[m].extensions for m in _OOXML_TYPES):
        found = next(ALLOWED[m] for m in _OOXML_TYPES if ext in ALLOWED[m].extensions)
    elif detected is not None:
        found = ALLOWED.get(detected)
        if found is None:
            raise UnsupportedType("this type of file is not allowed: PDF, Office documents,"
                                  " images (PNG, JPEG, GIF, WebP), text, CSV and ZIP are",
                                  details={"detected": detected})
    elif window and _is_text(window[:SNIFF_BYTES], whole and len(window) <= SNIFF_BYTES):
        found = ALLOWED["text/csv"] if ext == "csv" else ALLOWED["text/plain"]
    if found is None:
        raise UnsupportedType("this type of file is not allowed: PDF, Office documents, images"
                              " (PNG, JPEG, GIF, WebP), text, CSV and ZIP are")
    if ext not in found.extensions:
        raise UnsupportedType(
            f"the file's contents are {found.mime}, which its name must end in"
            f" .{found.extensions[0]}", details={"detected": found.mime, "extension": ext or None})
    check_claim(found, claimed)
    return found


def normalise_claim(claimed: str | None) -> str:
    return (claimed or "").partition(";")[0].strip().lower()


def check_claim(found: FileType, claimed: str | None) -> None:
    claim = normalise_claim(claimed)
    if claim in _SAYS_NOTHING or claim == found.mime or claim in _CLAIM_ALIASES.get(found.mime, ()):
        return
    raise UnsupportedType(f"the file's contents are {found.mime}, not the type it was sent as",
                          details={"detected": found.mime, "claimed": claim[:100]})


def claim_allowed(claimed: str | None) -> bool:
    """Whether a claimed type could pass at all (checked when an upload is created)."""
    claim = normalise_claim(claimed)
    return (claim in _SAYS_NOTHING or claim in ALLOWED
            or any(claim in aliases for aliases in _CLAIM_ALIASES.values()))
