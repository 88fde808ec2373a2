"""The file service's part writes (chat/files/service.py): chunks joined once per part, at most
`part_writes` parts written at once per node, on SQLite and PostgreSQL with the local folder."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

from chat.blobs.local import LocalBlobs
from chat.clock import SystemClock
from chat.files.service import FileService, _Chunks
from tests.support.store_data import users

PART = 64 * 1024


class CountingBlobs(LocalBlobs):
    """The local folder, counting the parts being written at once; each write waits until
    `gate` opens, then lets the loop run a while before it writes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writing = 0
        self.most = 0
        self.gate = asyncio.Event()

    async def put_part(self, key: str, handle: str, number: int, offset: int, data: bytes) -> str:
        self.writing += 1
        self.most = max(self.most, self.writing)
        try:
            if self.writing >= 2:
                self.gate.set()
            await self.gate.wait()
            for _ in range(20):
                await asyncio.sleep(0)
            return await super().put_part(key, handle, number, offset, data)
        finally:
            self.writing -= 1


def service(store, blobs, part_writes: int) -> FileService:
    async def no_room(user, room_id):
        raise AssertionError("no rooms here")

    return FileService(store, blobs, SystemClock(), visible_room=no_room, max_bytes=1 << 30,
                       part_bytes=PART, quota_bytes=1 << 30, expire_ms=3_600_000,
                       retention_ms=0, sweep_s=600, part_writes=part_writes)


async def body(data: bytes, chunk: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start:start + chunk]


def text(seed: int, size: int) -> bytes:
    line = f"line {seed} of a plain text file to upload\n".encode()
    return (line * (size // len(line) + 1))[:size]


async def test_at_most_part_writes_parts_are_written_at_once_and_every_file_is_whole(store, tmp_path):
    blobs = CountingBlobs(tmp_path / "files")
    await blobs.prepare()
    files = service(store, blobs, part_writes=2)
    members = await users(store, "ann", "bob", "cai", "dee", "eve")
    contents = [text(i, 3 * PART + 1000 * i + 7) for i in range(len(members))]
    uploads = [await files.create_upload(m, f"notes-{i}.txt", len(c))
               for i, (m, c) in enumerate(zip(members, contents, strict=True))]
    done = await asyncio.gather(*(files.patch(m, u.upload_id, 0, body(c, 5000))
                                  for m, u, c in zip(members, uploads, contents, strict=True)))
    assert blobs.most == 2  # five uploads, never more than two parts at once
    for (upload, file), content in zip(done, contents, strict=True):
        assert file is not None and file.size == len(content) and upload.offset == len(content)
        assert file.sha256 == hashlib.sha256(content).hexdigest()
        got = b"".join([chunk async for chunk in files.stream(file)])
        assert got == content


async def test_a_part_sent_in_two_requests_resumes_at_the_part_and_hashes_right(store, tmp_path):
    blobs = LocalBlobs(tmp_path / "files")
    await blobs.prepare()
    files = service(store, blobs, part_writes=1)
    ann, = await users(store, "ann")
    content = text(1, 2 * PART + 123)
    upload = await files.create_upload(ann, "notes.txt", len(content))
    # 1.5 parts, then the link drops: one part committed, the half part dropped.
    moved, file = await files.patch(ann, upload.upload_id, 0, body(content[:PART + PART // 2], 3000))
    assert file is None and moved.offset == PART
    moved, file = await files.patch(ann, upload.upload_id, PART, body(content[PART:], 7777))
    assert file is not None and file.sha256 == hashlib.sha256(content).hexdigest()
    assert b"".join([chunk async for chunk in files.stream(file)]) == content


def test_chunks_give_parts_of_exactly_the_size_asked_in_order():
    held = _Chunks()
    data = bytes(range(256)) * 40  # 10,240 bytes
    for start in range(0, len(data), 3000):
        held.add(data[start:start + 3000])
    assert held.held == len(data)
    assert held.head(5) == data[:5] and held.head(4000) == data[:4000]
    assert held.head(20_000) == data
    first = held.take(4096)
    assert b"".join(first) == data[:4096] and held.held == len(data) - 4096
    second = held.take(4096)
    assert b"".join(second) == data[4096:8192]
    assert held.head(10) == data[8192:8202]
    rest = held.take(10_000)
    assert b"".join(rest) == data[8192:] and held.held == 0 and held.take(5) == []
