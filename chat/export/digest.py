"""The digest rule of text exports (docs/protocol.md, "Exports"; docs/decisions.md, "Export
digests"): the last line states the SHA-256, in hex, of every byte before that line, so anyone
can check a file with `head -n -1 FILE | sha256sum`. The service hashes what it streams
(`Digest`) and hands the hex to the writer's `end`; `verify` is the check, for tests and tools.
"""

from __future__ import annotations

import hashlib
import re

_HEX = re.compile(rb"[0-9a-f]{64}")


class Digest:
    """SHA-256 of the bytes passed through `add`, in order."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def add(self, chunk: bytes) -> bytes:
        self._hash.update(chunk)
        self.size += len(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def split_digest(data: bytes) -> tuple[bytes, str | None]:
    """(the bytes before the last line, the hex digest that line states or None). A trailing
    newline after the last line is allowed."""
    body = data[:-1] if data.endswith(b"\n") else data
    cut = body.rfind(b"\n") + 1
    found = _HEX.findall(body[cut:])
    return data[:cut], (found[-1].decode() if len(found) == 1 else None)


def verify(data: bytes) -> bool:
    """Whether a text export's last line states the SHA-256 of everything before it."""
    before, stated = split_digest(data)
    return stated is not None and hashlib.sha256(before).hexdigest() == stated
