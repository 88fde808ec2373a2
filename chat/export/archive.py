"""Zip archives streamed as they are made: the personal data archive and the admins'
compliance export (docs/decisions.md, "Zip archives streamed").

The stdlib zipfile writes into a sink that cannot seek: each member gets a local header
without sizes, its data (deflated) and a data descriptor after it, and the central directory
comes last; every byte the zipfile writes is passed on at once. A member whose size is not
known in advance is opened with force_zip64, so it may grow past 4 GiB. Memory stays flat: the
archive holds one chunk at a time, plus the list of member names and hashes for the manifest.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from chat.clock import iso_ms
from chat.export.scope import Transcript

# An archive is served like a transcript: a file name, its media type and its bytes.
Archive = Transcript

log = structlog.get_logger("chat.export.archive")

ARCHIVE_FORMAT_VERSION = 1
MEDIA_TYPE = "application/zip"
# Chunks at least this long are deflated in a worker thread, so the event loop stays free.
THREAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Member:
    """One file of an archive: its name and its bytes, produced when the archive reaches it."""

    name: str
    chunks: Callable[[], AsyncIterator[bytes]]


class _Sink:
    """What zipfile writes into: it keeps what was written until the stream takes it. No
    seek() and no tell(): zipfile then writes data descriptors (the stream case)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


async def zip_stream(members: AsyncIterable[Member], made_at_ms: int,
                     manifest: dict[str, Any]) -> AsyncIterator[bytes]:
    """The archive's bytes: each member in turn, then manifest.json (the given fields, the
    format version, when it was made, and each member's name, size and SHA-256)."""
    sink = _Sink()
    stamp = datetime.fromtimestamp(made_at_ms / 1000, tz=UTC).timetuple()[:6]
    files: list[dict[str, Any]] = []
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        async for member in members:
            info = zipfile.ZipInfo(member.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            digest, size = hashlib.sha256(), 0
            with archive.open(info, mode="w", force_zip64=True) as handle:
                async for chunk in member.chunks():
                    digest.update(chunk)
                    size += len(chunk)
                    if len(chunk) >= THREAD_BYTES:
                        await asyncio.to_thread(handle.write, chunk)
                    else:
                        handle.write(chunk)
                    if out := sink.take():
                        yield out
            files.append({"name": member.name, "bytes": size, "sha256": digest.hexdigest()})
            if out := sink.take():
                yield out
        document = {**manifest, "format_version": ARCHIVE_FORMAT_VERSION,
                    "made_at": iso_ms(made_at_ms), "files": files}
        info = zipfile.ZipInfo("manifest.json", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, json_bytes(document, indent=2))
    yield sink.take()


def json_bytes(value: Any, *, indent: int | None = None) -> bytes:
    """UTF-8 JSON as archives hold it (non-ASCII as is, keys in a stable order)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=indent,
                      separators=None if indent else (",", ":"))
    return (text + "\n").encode()


async def jsonl_with_digest(lines: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """JSON Lines, then `{"type":"digest","sha256":…}`: the SHA-256 of every byte before that
    last line (as the JSON Lines transcripts end; verify with `head -n -1 FILE | sha256sum`)."""
    digest = hashlib.sha256()
    async for line in lines:
        data = json_bytes(line)
        digest.update(data)
        yield data
    yield json_bytes({"type": "digest", "sha256": digest.hexdigest()})
