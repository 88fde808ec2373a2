"""The streamed zip (chat/export/archive.py), no I/O: what it writes opens with the stdlib, each
member with a data descriptor and zip64 sizes (sizes unknown in advance), the manifest lists
every member's SHA-256, and bytes leave before later members are even started."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile

from chat.export.archive import Member, jsonl_with_digest, zip_stream

MADE_AT = 1_700_000_000_000


def run(coro):
    return asyncio.run(coro)


async def collect(chunks) -> list[bytes]:
    return [chunk async for chunk in chunks]


def test_the_archive_opens_with_every_member_and_a_manifest_of_their_hashes():
    big = bytes(range(256)) * 1024  # deflated in a worker thread

    async def members():
        async def text():
            yield "中文 and English\n".encode()

        async def data():
            yield big
            yield b"tail"

        yield Member("README.txt", text)
        yield Member("data.bin", data)

    chunks = run(collect(zip_stream(members(), MADE_AT, {"scope": "personal"})))
    raw = b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["README.txt", "data.bin", "manifest.json"]
        assert archive.read("data.bin") == big + b"tail"
        info = archive.getinfo("data.bin")
        assert info.flag_bits & 0x08  # sizes in a data descriptor: written without seeking
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.date_time == (2023, 11, 14, 22, 13, 20)
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["scope"] == "personal" and manifest["format_version"] == 1
    assert manifest["made_at"] == "2023-11-14T22:13:20.000Z"
    assert manifest["files"] == [
        {"name": "README.txt", "bytes": len("中文 and English\n".encode()),
         "sha256": hashlib.sha256("中文 and English\n".encode()).hexdigest()},
        {"name": "data.bin", "bytes": len(big) + 4, "sha256": hashlib.sha256(big + b"tail").hexdigest()},
    ]


def test_bytes_leave_before_the_next_member_is_started():
    started: list[str] = []

    async def members():
        for name in ("a.txt", "b.txt"):
            def chunks(name=name):
                async def gen():
                    started.append(name)
                    yield name.encode() * 1000
                return gen()
            yield Member(name, chunks)

    async def first_bytes() -> tuple[bytes, list[str]]:
        stream = zip_stream(members(), MADE_AT, {})
        chunk = await anext(stream)
        seen = list(started)
        await stream.aclose()
        return chunk, seen

    chunk, seen = run(first_bytes())
    assert chunk.startswith(b"PK\x03\x04") and seen == ["a.txt"]


def test_jsonl_members_end_with_the_digest_of_the_lines_before():
    async def lines():
        yield {"type": "message", "text": "绿色"}
        yield {"type": "message", "text": "two"}

    data = b"".join(run(collect(jsonl_with_digest(lines()))))
    *body, last = data.decode().splitlines(keepends=True)
    assert [json.loads(line)["text"] for line in body] == ["绿色", "two"]
    assert json.loads(last) == {"type": "digest", "sha256": hashlib.sha256("".join(body).encode()).hexdigest()}
    assert b"\\u" not in data  # non-ASCII as is
