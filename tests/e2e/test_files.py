"""Files over real nodes on the production backends (PostgreSQL + Redis; the nodes share one
files folder): resumable uploads across a dropped link and across nodes, the cap, types, quota,
downloads, previews, who may read, release and the sweeper (docs/protocol.md, "Files")."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from tests.support.client import bearer, call, http_client, register
from tests.support.files import GPS_IFD, image_bytes, metadata_of, pdf_bytes
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

MIB = 1024 * 1024
PART = 5 * MIB


def stored_files(folder: Path) -> list[Path]:
    """Every file the local storage holds (objects and unfinished uploads)."""
    return [p for p in folder.rglob("*") if p.is_file()]


def big_text(size: int, seed: str = "生态城市 eco-city ") -> bytes:
    """`size` bytes of valid UTF-8 text that differ from place to place."""
    out = bytearray()
    n = 0
    while len(out) < size:
        out += f"{seed}{n:08d}\n".encode()
        n += 1
    data = bytes(out[:size]).decode("utf-8", "ignore").encode()  # not ending mid-character
    return data + b"x" * (size - len(data))


async def start_upload(node, account, name: str, size: int, **extra) -> dict:
    response = await call(node, "POST", "/api/v1/uploads", account, json={"name": name, "size": size, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def patch(node, account, upload_id: str, offset: int, data: bytes):
    return await call(node, "PATCH", f"/api/v1/uploads/{upload_id}", account, content=data,
                      headers={"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})


async def head_offset(node, account, upload_id: str) -> int:
    response = await call(node, "HEAD", f"/api/v1/uploads/{upload_id}", account)
    assert response.status_code == 204, response.text
    return int(response.headers["upload-offset"])


async def upload_whole(node, account, name: str, data: bytes, claimed: str | None = None) -> dict:
    headers = {"Content-Type": claimed} if claimed else {}
    response = await call(node, "POST", "/api/v1/files", account, params={"name": name}, content=data,
                          headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def user_of(node, account):
    return await node.node.accounts.authenticate(account["token"])


@pytest.mark.parametrize("storage", ["local", "s3"])
async def test_chunks_sent_alternately_to_two_nodes_and_a_dropped_link_make_a_byte_exact_file(
        production, tmp_path, storage, request):
    data = big_text(3 * PART + 12345)
    # Both nodes share the storage: one files folder, or one bucket of the S3 server (moto).
    where = request.getfixturevalue("s3_settings") if storage == "s3" else {}
    async with running_nodes(production(upload_part_mb=5, **where), production(upload_part_mb=5, **where)) as [a, b]:
        ann = await register(a.url, "Ann")
        up = await start_upload(a, ann, "城市更新 notes.txt", len(data), type="text/plain", key="retry-key-1")
        assert (up["offset"], up["size"], up["part_size"]) == (0, len(data), PART)
        # A retried POST with the same key: the same upload, no second one.
        again = await start_upload(b, ann, "城市更新 notes.txt", len(data), type="text/plain", key="retry-key-1")
        assert again["id"] == up["id"]
        upload_id = up["id"]
        # Part 1 to node A.
        first = await patch(a, ann, upload_id, 0, data[:PART])
        assert first.status_code == 200 and first.json() == {"offset": PART}
        # Node B: a request that drops mid-way, after one whole part and a half.
        reader, writer = await asyncio.open_connection("127.0.0.1", b.port)
        body = data[PART:3 * PART]
        writer.write((f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {ann['token']}\r\nUpload-Offset: {PART}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode())
        writer.write(body[:PART + PART // 2])
        await writer.drain()
        deadline = asyncio.get_running_loop().time() + timeout(10)
        while await head_offset(a, ann, upload_id) != 2 * PART:
            assert asyncio.get_running_loop().time() < deadline, "the second part was never committed"
            await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.2)
        # Resume where the upload stands: the half part was dropped.
        assert await head_offset(b, ann, upload_id) == 2 * PART
        stale = await patch(a, ann, upload_id, PART, data[PART:2 * PART])
        assert stale.status_code == 409 and stale.json()["error"]["details"] == {"offset": 2 * PART}
        done = await patch(a, ann, upload_id, 2 * PART, data[2 * PART:])
        assert done.status_code == 201, done.text
        file = done.json()["file"]
        assert file["name"] == "城市更新 notes.txt" and file["type"] == "text/plain" and file["kind"] == "text"
        assert file["size"] == len(data) and "preview" not in file
        # A retried last chunk (its answer lost) gets the file again.
        retried = await patch(b, ann, upload_id, len(data), b"")
        assert retried.status_code == 201 and retried.json()["file"] == file
        download = await call(b, "GET", f"/api/v1/files/{file['id']}", ann,
                              headers={"Accept-Encoding": "gzip"})
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(data).hexdigest()
        assert download.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
        assert "content-encoding" not in download.headers  # served as stored, never gzipped
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "sandbox"
        assert download.headers["cache-control"].startswith("private")
        disposition = download.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="notes.txt"; filename*=UTF-8\'\'')
        assert unquote(disposition.split("''", 1)[1]) == "城市更新 notes.txt"
        # Range: one range → 206; past the end → 416; If-None-Match → 304.
        ranged = await call(a, "GET", f"/api/v1/files/{file['id']}", ann, headers={"Range": "bytes=10-19"})
        assert ranged.status_code == 206 and ranged.content == data[10:20]
        assert ranged.headers["content-range"] == f"bytes 10-19/{len(data)}"
        tail = await call(a, "GET", f"/api/v1/files/{file['id']}", ann, headers={"Range": "bytes=-5"})
        assert tail.status_code == 206 and tail.content == data[-5:]
        outside = await call(a, "GET", f"/api/v1/files/{file['id']}", ann,
                             headers={"Range": f"bytes={len(data)}-"})
        assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(data)}"
        cached = await call(a, "GET", f"/api/v1/files/{file['id']}", ann,
                            headers={"If-None-Match": download.headers["etag"]})
        assert cached.status_code == 304
        # Nothing left over: the one object, no unfinished upload.
        if storage == "local":
            assert len(stored_files(tmp_path / "data" / "files")) == 1
        else:
            stored = await a.node.store.get_file(file["id"])
            assert await a.node.blobs.size(stored.storage_key) == len(data)


async def test_refusals_while_streaming_and_before(production, tmp_path):
    async with running_nodes(production(upload_part_mb=5, upload_max_mb=1, upload_quota_mb=2)) as [node]:
        ann = await register(node.url, "Ann")
        folder = tmp_path / "data" / "files"
        # Announced too big: 413 at once.
        big = await call(node, "POST", "/api/v1/uploads", ann, json={"name": "a.txt", "size": MIB + 1})
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"

        # Past the cap while streaming, without a length: 413 and nothing kept.
        async def body():
            for _ in range(17):
                yield b"x" * 65536

        async with http_client(node.url) as http:
            streamed = await http.post("/api/v1/files", params={"name": "big.txt"}, content=body(),
                                       headers=bearer(ann["token"]))
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        assert stored_files(folder) == []
        # A PDF that is HTML: 415, nothing kept.
        fake = await call(node, "POST", "/api/v1/files", ann, params={"name": "invoice.pdf"},
                          content=b"<html><script>alert(1)</script></html>",
                          headers={"Content-Type": "application/pdf"})
        assert fake.status_code == 415 and fake.json()["error"]["code"] == "unsupported_type"
        # Claimed PNG, bytes of a PDF, over the resumable upload: 415 and the upload is gone.
        pdf = pdf_bytes()
        up = await start_upload(node, ann, "photo.png", len(pdf), type="image/png")
        mismatch = await patch(node, ann, up["id"], 0, pdf)
        assert mismatch.status_code == 415
        assert (await call(node, "HEAD", f"/api/v1/uploads/{up['id']}", ann)).status_code == 404
        # Text for its first 8 KiB, then something else (a program appended): not text, 415,
        # on either route; UTF-8 whose characters straddle the parts stays text.
        polyglot = "城市 notes\n".encode() * 800 + bytes.fromhex("4d5a9000") + bytes(range(256)) * 4
        tail = await call(node, "POST", "/api/v1/files", ann, params={"name": "notes.txt"}, content=polyglot,
                          headers={"Content-Type": "text/plain"})
        assert tail.status_code == 415 and tail.json()["error"]["code"] == "unsupported_type", tail.text
        up = await start_upload(node, ann, "notes.txt", len(polyglot), type="text/plain")
        assert (await patch(node, ann, up["id"], 0, polyglot)).status_code == 415
        assert (await call(node, "HEAD", f"/api/v1/uploads/{up['id']}", ann)).status_code == 404
        assert stored_files(folder) == []
        assert stored_files(folder) == []
        # The same in a 1 MiB body: the answer still arrives as a 415 (the node reads on).
        body = pdf + b"\n" * (MIB - len(pdf))
        up = await start_upload(node, ann, "big.png", len(body), type="image/png")
        mismatch = await patch(node, ann, up["id"], 0, body)
        assert mismatch.status_code == 415 and mismatch.json()["error"]["code"] == "unsupported_type"
        assert stored_files(folder) == []
        # An extension that is not allowed: 415 at once.
        exe = await call(node, "POST", "/api/v1/uploads", ann, json={"name": "setup.exe", "size": 10})
        assert exe.status_code == 415
        # More bytes than announced: 413.
        small = await start_upload(node, ann, "a.txt", 10)
        extra = await patch(node, ann, small["id"], 0, b"0123456789ABC")
        assert extra.status_code == 413
        # Bad offsets and headers.
        wrong = await patch(node, ann, small["id"], 3, b"3456789")
        assert wrong.status_code == 409 and wrong.json()["error"]["details"] == {"offset": 0}
        no_header = await call(node, "PATCH", f"/api/v1/uploads/{small['id']}", ann, content=b"x")
        assert no_header.status_code == 400
        for bad in ({"name": "a.txt"}, {"name": "a.txt", "size": 0}, {"name": "", "size": 5},
                    {"name": "a.txt", "size": "5"}, {"name": "a.txt", "size": 5, "key": "short"}):
            response = await call(node, "POST", "/api/v1/uploads", ann, json=bad)
            assert response.status_code in (400, 422), (bad, response.text)
        # Quota (2 MiB): what is stored and what is being uploaded both count.
        await call(node, "DELETE", f"/api/v1/uploads/{small['id']}", ann)
        await upload_whole(node, ann, "one.txt", big_text(900_000))
        pending = await start_upload(node, ann, "two.txt", 900_000)
        over = await call(node, "POST", "/api/v1/uploads", ann, json={"name": "three.txt", "size": 900_000})
        assert over.status_code == 413 and over.json()["error"]["code"] == "quota_exceeded"
        cancelled = await call(node, "DELETE", f"/api/v1/uploads/{pending['id']}", ann)
        assert cancelled.status_code == 204
        assert (await start_upload(node, ann, "three.txt", 900_000))["offset"] == 0
        # Without credentials: 401.
        assert (await call(node, "POST", "/api/v1/uploads", None, json={"name": "a.txt", "size": 5})).status_code == 401


async def test_previews_have_no_metadata_and_only_the_uploader_sees_an_unattached_file(production):
    async with running_nodes(production(upload_part_mb=5), production(upload_part_mb=5)) as [a, b]:
        ann, bob, eve = (await register(a.url, "Ann"), await register(a.url, "Bob"),
                         await register(b.url, "Eve"))
        photo = image_bytes("JPEG", (1600, 900))
        assert GPS_IFD in metadata_of(photo)[1]
        file = await upload_whole(a, ann, "工地 photo.jpg", photo, "image/jpeg")
        assert file["kind"] == "image" and file["type"] == "image/jpeg"
        assert file["preview"] == {"w": 360, "h": 640}
        preview = await call(b, "GET", f"/api/v1/files/{file['id']}/preview", ann)
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
        fmt, exif, xmp, _ = metadata_of(preview.content)
        assert fmt == "WEBP" and exif == {} and xmp is None
        with Image.open(io.BytesIO(preview.content)) as image:
            assert image.size == (360, 640)
        # The original is served as stored (its EXIF is the uploader's own to keep).
        original = await call(b, "GET", f"/api/v1/files/{file['id']}", ann)
        assert original.content == photo
        report = await upload_whole(a, ann, "report.pdf", pdf_bytes(pages=2), "application/pdf")
        assert report["kind"] == "pdf" and max(report["preview"].values()) == 640
        # Unattached: visible to its uploader only; for others it does not exist.
        for path in ("", "/preview", "/meta"):
            assert (await call(b, "GET", f"/api/v1/files/{file['id']}{path}", bob)).status_code == 404
        assert (await call(a, "GET", "/api/v1/files/f-nonexistent0000000000000", ann)).status_code == 404
        assert (await call(a, "GET", "/api/v1/files/not-an-id", ann)).status_code == 404
        meta = await call(a, "GET", f"/api/v1/files/{file['id']}/meta", ann)
        assert meta.json() == file
        # Someone else's upload: 404 whatever they try.
        up = await start_upload(a, ann, "a.txt", 10)
        for method in ("GET", "HEAD", "DELETE"):
            assert (await call(b, method, f"/api/v1/uploads/{up['id']}", eve)).status_code == 404
        assert (await patch(b, eve, up["id"], 0, b"0123456789")).status_code == 404


async def test_attached_files_follow_the_room_and_go_when_released(production, tmp_path):
    async with running_nodes(production(upload_part_mb=5, file_retention_days=0), production(upload_part_mb=5)) as [a, b]:
        ann, bob, eve = (await register(a.url, "Ann"), await register(a.url, "Bob"),
                         await register(b.url, "Eve"))
        opened = await call(a, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        room_id = opened.json()["room"]["id"]
        file = await upload_whole(a, ann, "plan.txt", "方案 plan\n".encode())
        files = a.node.files
        ann_user = await user_of(a, ann)
        wires = await files.attach(ann_user, [file["id"]], f"room:{room_id}")
        assert wires == [file]
        assert await files.attach(ann_user, [file["id"]], f"room:{room_id}") == [file]  # a retried send
        await files.bind_ref([file["id"]], f"msg:{room_id}:m1")
        assert (await call(b, "GET", f"/api/v1/files/{file['id']}", bob)).content == "方案 plan\n".encode()
        assert (await call(b, "GET", f"/api/v1/files/{file['id']}", eve)).status_code == 404
        # Not Eve's to attach, and not attachable elsewhere.
        eve_user = await user_of(b, eve)
        for user, scope in ((eve_user, f"room:{room_id}"), (ann_user, "room:green-buildings")):
            try:
                await files.attach(user, [file["id"]], scope)
            except Exception as exc:
                assert getattr(exc, "code", None) == "invalid"
                assert "attachments" in exc.details
            else:
                raise AssertionError("attached")
        # Released: gone at once; bytes gone after retention 0 and a sweep.
        assert await files.release(f"msg:{room_id}:m1") == 1
        assert (await call(b, "GET", f"/api/v1/files/{file['id']}", bob)).status_code == 404
        assert (await call(a, "GET", f"/api/v1/files/{file['id']}", ann)).status_code == 404
        folder = tmp_path / "data" / "files"
        assert len(stored_files(folder)) == 1
        swept = await files.sweep()
        assert swept["purged"] == 1 and stored_files(folder) == []
        assert await b.node.files.sweep() == {"uploads": 0, "orphans": 0, "purged": 0}


async def test_the_sweeper_drops_expired_uploads_and_orphans_on_any_node(production, tmp_path):
    hour_ms = 3_600_000
    async with running_nodes(production(upload_part_mb=5, file_retention_days=0), production(upload_part_mb=5, file_retention_days=0)) as [a, b]:
        ann = await register(a.url, "Ann")
        kept = await upload_whole(a, ann, "kept.txt", b"kept")
        orphan = await upload_whole(a, ann, "orphan.txt", b"orphan")
        up = await start_upload(a, ann, "half.txt", PART + 10)
        assert (await patch(a, ann, up["id"], 0, big_text(PART))).json() == {"offset": PART}
        ann_user = await user_of(a, ann)
        await a.node.files.attach(ann_user, [kept["id"]], "room:green-buildings")
        await a.node.files.bind_ref([kept["id"]], "msg:green-buildings:m1")
        folder = tmp_path / "data" / "files"
        assert len(stored_files(folder)) == 3
        # A day later (as the sweeper sees it): both nodes sweep at once.
        for node in (a, b):
            node.node.files.clock = FutureClock(25 * hour_ms)
        results = await asyncio.gather(a.node.files.sweep(), b.node.files.sweep())
        assert sum(r["uploads"] for r in results) == 1 and sum(r["orphans"] for r in results) == 1
        assert (await call(a, "GET", f"/api/v1/files/{kept['id']}/meta", ann)).status_code == 200
        assert (await call(a, "GET", f"/api/v1/files/{orphan['id']}/meta", ann)).status_code == 404
        assert [p.name for p in stored_files(folder)] == [
            p.name for p in stored_files(folder) if p.parent.parent.name == "objects"]
        assert len(stored_files(folder)) == 1
        assert os.listdir(folder / "tmp") == []
        # An upload begun on A and abandoned, swept by B: A forgets its running hash too (it
        # kept one per upload it had received parts of, for ever).
        up = await start_upload(a, ann, "half.txt", PART + 10)
        assert (await patch(a, ann, up["id"], 0, big_text(PART))).json() == {"offset": PART}
        for node in (a, b):
            node.node.files.clock = FutureClock(50 * hour_ms)
        assert (await b.node.files.sweep())["uploads"] == 1
        await a.node.files.sweep()
        assert a.node.files._hashers == {}


class FutureClock:
    """The system clock, `ahead_ms` later."""

    def __init__(self, ahead_ms: int) -> None:
        from chat.clock import SystemClock

        self._clock = SystemClock()
        self._ahead = ahead_ms

    def now_ms(self) -> int:
        return self._clock.now_ms() + self._ahead

    def monotonic(self) -> float:
        return self._clock.monotonic()


async def test_ingest_from_a_path_and_a_retried_one_shot_with_its_key(production, tmp_path):
    async with running_nodes(production(upload_part_mb=5)) as [node]:
        ann = await register(node.url, "Ann")
        source = tmp_path / "城市 guide.pdf"
        source.write_bytes(pdf_bytes(pages=2))
        ann_user = await user_of(node, ann)
        stored = await node.node.files.ingest(ann_user, source.name, source, None)
        assert (stored.name, stored.kind, stored.size) == ("城市 guide.pdf", "pdf", source.stat().st_size)
        assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        assert stored.preview_key is not None
        chunks = [chunk async for chunk in node.node.files.stream(stored, 5, 15)]
        assert b"".join(chunks) == source.read_bytes()[5:15]
        first = await call(node, "POST", "/api/v1/files", ann, params={"name": "a.txt", "key": "one-shot-1"},
                           content=b"first try")
        again = await call(node, "POST", "/api/v1/files", ann, params={"name": "a.txt", "key": "one-shot-1"},
                           content=b"first try")
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert (await call(node, "GET", f"/api/v1/files/{first.json()['id']}", ann)).content == b"first try"
        # Only one file's bytes were kept for the two requests (the PDF, its preview, the text).
        assert len(stored_files(tmp_path / "data" / "files")) == 3


async def test_file_names_and_search_words_stay_out_of_the_access_log(production, tmp_path):
    """The one-shot upload names its file in the query string, the library searches with one:
    the node's access log gives the path without its query."""
    from tests.e2e.test_hostile_input import node_log

    with node_log() as log:
        async with running_nodes(production(files_dir=tmp_path / "files")) as [node]:
            ann = await register(node.url, "Ann")
            stored = await call(node, "POST", "/api/v1/files", ann, params={"name": "zq7secret 合同.txt"},
                                headers={"Content-Type": "text/plain"}, content=b"terms\n")
            assert stored.status_code == 201, stored.text
            found = await call(node, "GET", "/api/v1/library", ann, params={"q": "zq7secret"})
            assert found.status_code == 200, found.text
    # (The test's own HTTP client logs its requests to the same handler: not the node's.)
    text = "\n".join(line for line in log.getvalue().splitlines() if '"logger": "httpx"' not in line)
    assert "POST /api/v1/files" in text and "GET /api/v1/library" in text, "the access log was not captured"
    assert "zq7secret" not in text and "%E5%90%88" not in text


async def test_uploads_announced_at_once_on_two_nodes_stay_within_the_quota(production, tmp_path):
    """The quota is checked against what is stored and reserved, including uploads announced at
    the same moment elsewhere: of several that each fit alone but not together, no two stand."""
    shared = tmp_path / "files"
    async with running_nodes(production(files_dir=shared, upload_quota_mb=2),
                             production(files_dir=shared, upload_quota_mb=2)) as nodes:
        ann = await register(nodes[0].url, "Ann")
        size = 1536 * 1024  # 1.5 MiB: one fits in 2 MiB, two do not
        for attempt in range(3):
            answers = await asyncio.gather(*(
                call(nodes[i % 2], "POST", "/api/v1/uploads", ann,
                     json={"name": f"r{attempt}-{i}.txt", "size": size, "type": "text/plain"})
                for i in range(8)))
            assert {a.status_code for a in answers} <= {201, 413}, [a.text for a in answers]
            made = [a.json()["id"] for a in answers if a.status_code == 201]
            assert len(made) <= 1, (attempt, made)
            refused = [a.json()["error"]["code"] for a in answers if a.status_code == 413]
            assert set(refused) == {"quota_exceeded"}
            for upload_id in made:  # cancelled: the quota is free again
                assert (await call(nodes[0], "DELETE", f"/api/v1/uploads/{upload_id}", ann)).status_code == 204
