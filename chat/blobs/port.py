"""The BlobStore port: opaque keys to bytes, written in numbered parts, read as a stream.

Contract shared by every backend (tests/contract/test_blobs.py runs it against each):
- An object is written as a multipart upload: `start` names it, `put_part` stores part N (parts
  may arrive in any order, each at its byte offset; a part sent again replaces the earlier
  copy), `complete` makes the object readable with the parts concatenated in number order, and
  `abort` throws everything away. Nothing is readable under the key before `complete`.
- Every part but the last is exactly the store's part size (the file service's chunking); a
  part is held in memory only while it is sent, so memory per upload is one part.
- `read` streams an object (or the byte range [start, end) of it; an end past the object is
  cut, a start past it gives nothing) in chunks of at most 256 KiB; NotFound when the key does
  not exist (raised when iteration starts). `delete` and `abort` are idempotent; a part or a
  complete for an aborted upload is NotFound, a complete sent again is harmless.
- A bad key (or range, or a tag the store never gave) is a ValueError: the caller's bug. A store
  that fails is chat.errors.Unavailable (503, retry), its message naming no key nor secret.
- Keys are the file service's random names ([A-Za-z0-9_-], at most 100 characters, optionally
  with one '/'), never a user's file name.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol


class BlobStore(Protocol):
    kind: str  # "local" or "s3", for logs and metrics

    async def start(self, key: str) -> str:
        """Begin a multipart upload of `key`; returns its handle (S3's UploadId; the local
        folder's name for its temp file). Keep the handle with the upload: every later call
        needs it, and a second `start` of the same key is a separate upload."""

    async def put_part(self, key: str, handle: str, number: int, offset: int, data: bytes) -> str:
        """Store part `number` (1-based) whose first byte is at `offset`; returns its tag
        (S3's ETag), which `complete` needs."""

    async def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None:
        """Join the parts (number, tag), in number order, into the object `key`."""

    async def abort(self, key: str, handle: str) -> None:
        """Drop an unfinished upload and its parts (idempotent)."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store a small object whole (a preview image)."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes [start, end) (end None = to the end), in chunks."""

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, None when it does not exist."""

    async def delete(self, key: str) -> None:
        """Remove the object (nothing when it is already gone)."""

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness: /readyz may report it as a check
        of its own)."""

    async def close(self) -> None:
        """Release connections."""


# One '/' at most, never first or last; nothing else but [A-Za-z0-9_-]: no "..", no absolute
# path, no character a file system or an S3 URL treats specially.
_KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)?")
MAX_KEY = 100


def check_key(key: str) -> str:
    """The key itself, or ValueError when it is not a store key (every backend calls this)."""
    if not isinstance(key, str) or len(key) > MAX_KEY or not _KEY.fullmatch(key):
        raise ValueError("not a blob key: [A-Za-z0-9_-], at most one '/', 1-100 characters")
    return key


def check_range(start: int, end: int | None) -> None:
    """ValueError unless 0 <= start and (end is None or start <= end)."""
    if start < 0 or (end is not None and end < start):
        raise ValueError("byte range must satisfy 0 <= start <= end")
