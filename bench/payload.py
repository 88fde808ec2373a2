"""Large test files made on the fly: a ZIP archive of one stored (uncompressed) entry of
pseudo-random bytes, of an exact total size, readable from any offset, never held in memory.

The files suite uploads these: the node's type check sees a real ZIP (``PK\\x03\\x04``, a
central directory, a CRC that matches), and the payload does not compress. The payload is
windows of one 16 MiB pool of random bytes (fixed seed), each 1 MiB block taken from a place
that depends on the file's `seed` and the block's number, so files of different seeds differ
and any byte range can be produced again (a resumed upload resends from the server's offset).
`Payload.digest()` reads the whole file once, before it is sent, for its CRC-32 (which the
header holds) and SHA-256 (what the download is checked against).
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from functools import cache

BLOCK = 1 << 20  # payload bytes per block (one window of the pool)
POOL = 16 << 20
CHUNK = 256 << 10  # bytes per piece handed to the HTTP client
# A fixed date and time (2026-01-01 00:00) in the ZIP's MS-DOS format.
DOS_TIME, DOS_DATE = 0, ((2026 - 1980) << 9) | (1 << 5) | 1
ZIP32_MAX = 0xFFFFFFFF


@cache
def pool() -> bytes:
    return random.Random(0xEC0).randbytes(POOL + BLOCK)


class Payload:
    """A ZIP file of exactly `size` bytes holding one stored entry `entry`."""

    def __init__(self, size: int, seed: int, entry: str = "payload.bin") -> None:
        self.size, self.seed = size, seed
        self.entry = entry.encode()
        self.head_len = 30 + len(self.entry)
        self.tail_len = 46 + len(self.entry) + 22
        self.data_len = size - self.head_len - self.tail_len
        if self.data_len < 0:
            raise ValueError(f"a ZIP with the entry {entry!r} needs at least {self.head_len + self.tail_len} bytes")
        if size > ZIP32_MAX:
            raise ValueError("files over 4 GiB would need ZIP64")
        self.crc: int | None = None
        self.sha256: str | None = None
        self._head = self._tail = b""

    def _block(self, number: int) -> int:
        """Where payload block `number` starts in the pool."""
        return ((number * 0x9E3779B1 + self.seed * 0x85EBCA77) & 0xFFFFFFFF) % (POOL // 4096) * 4096

    def _data(self, start: int, end: int) -> Iterator[memoryview]:
        """Payload bytes [start, end), in pieces of at most CHUNK."""
        view = memoryview(pool())
        pos = start
        while pos < end:
            number, inside = divmod(pos, BLOCK)
            n = min(end - pos, BLOCK - inside, CHUNK)
            at = self._block(number) + inside
            yield view[at:at + n]
            pos += n

    def digest(self) -> str:
        """Read the payload for its CRC-32, build header and trailer, then the whole file's
        SHA-256 (returned, also kept as `sha256`)."""
        if self.sha256 is not None:
            return self.sha256
        crc = 0
        for piece in self._data(0, self.data_len):
            crc = zlib.crc32(piece, crc)
        self.crc = crc
        n, name = self.data_len, self.entry
        self._head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, DOS_TIME, DOS_DATE, crc, n, n,
                                 len(name), 0) + name
        central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, DOS_TIME, DOS_DATE, crc, n, n,
                              len(name), 0, 0, 0, 0, 0, 0) + name
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), self.head_len + n, 0)
        self._tail = central + end
        assert len(self._head) == self.head_len and len(self._tail) == self.tail_len
        h = hashlib.sha256()
        for piece in self.chunks(0, self.size):
            h.update(piece)
        self.sha256 = h.hexdigest()
        return self.sha256

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes | memoryview]:
        """The file's bytes [start, end) (end None = to the end), in pieces; digest() first."""
        if self.crc is None:
            raise RuntimeError("call digest() first: the header holds the payload's CRC-32")
        end = self.size if end is None else end
        if not 0 <= start <= end <= self.size:
            raise ValueError(f"range [{start}, {end}) is outside a file of {self.size} bytes")
        data_at, tail_at = self.head_len, self.head_len + self.data_len
        if start < data_at:
            yield self._head[start:min(end, data_at)]
        lo, hi = max(start, data_at), min(end, tail_at)
        if lo < hi:
            yield from self._data(lo - data_at, hi - data_at)
        if end > tail_at:
            yield self._tail[max(start, tail_at) - tail_at:end - tail_at]

    async def stream(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """chunks() for an async HTTP client's request body."""
        for piece in self.chunks(start, end):
            yield bytes(piece)
