"""ExportService (chat/export/service.py) over each store backend: pages by seq with topics'
replies where they belong, a PDF built into a temporary file and sent with its hash, a failure
after the first byte that ends the stream without its digest line, and the running exports'
slots coming back in every case. The PDF is the real writer's (chat/export/formats/pdf.py), read
back with pypdf."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from chat.clock import FakeClock
from chat.errors import ExportBusy
from chat.export.digest import verify
from chat.export.scope import parse_request
from chat.audit.service import AuditLog
from chat.export.personal import PersonalArchives
from chat.export.service import ExportService
from chat.models import SendRequest, Topic
from tests.support.store_data import NOW, users


def exports(store, page=3):
    return ExportService(store, FakeClock(NOW), concurrency=2, page=page)


async def read(transcript) -> bytes:
    return b"".join([chunk async for chunk in transcript.chunks])


async def test_a_room_streams_in_pages_with_each_topics_replies_after_it(store):
    ann, bob = await users(store, "ann", "bob")
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", f"a{i}", f"m{i}") for i in range(4)], NOW)
    await store.create_topic(Topic(
        topic_id="t-0000000000000001", kind="topic", title="Roofs", summary="", body="Roof **post**",
        body_html="<p>Roof <strong>post</strong></p>", author_id=ann.user_id, author_name="ann",
        created_at_ms=NOW, last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False,
        room_ids=("zhuhai",)))
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "t1", "", kind="topic",
                                          data={"topic": {"id": "t-0000000000000001", "title": "Roofs"}})], NOW)
    await store.append_batch([SendRequest("t-0000000000000001", bob.user_id, "bob", f"r{i}", f"reply {i}")
                              for i in range(5)], NOW)
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "last", "last")], NOW)
    service = exports(store)
    transcript = await service.room("zhuhai", parse_request({"format": "jsonl"}, ann, NOW))
    assert service.running == 1
    data = await read(transcript)
    assert service.running == 0 and verify(data) and not transcript.chunks.incomplete
    lines = [json.loads(line) for line in data.splitlines()]
    assert [(r.get("text"), r.get("thread")) for r in lines if r["type"] in ("message", "event")] == [
        ("m0", None), ("m1", None), ("m2", None), ("m3", None), ("topic: Roofs", None),
        *[(f"reply {i}", "t-0000000000000001") for i in range(5)], ("last", None)]
    assert lines[0]["participants"] == ["ann", "bob"]


async def test_a_topic_started_before_the_range_is_followed_by_its_replies_in_the_range(store):
    ann, bob = await users(store, "ann", "bob")
    day = 86_400_000
    await store.create_topic(Topic(
        topic_id="t-0000000000000002", kind="topic", title="Old roofs", summary="", body="old post",
        body_html="<p>old post</p>", author_id=ann.user_id, author_name="ann",
        created_at_ms=NOW - 2 * day, last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False,
        room_ids=("zhuhai",)))
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "t2", "", kind="topic",
                                          data={"topic": {"id": "t-0000000000000002", "title": "Old roofs"}})],
                             NOW - 2 * day)
    await store.append_batch([SendRequest("t-0000000000000002", bob.user_id, "bob", "old", "old reply")],
                             NOW - 2 * day)
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "m", "in range")], NOW)
    await store.append_batch([SendRequest("t-0000000000000002", bob.user_id, "bob", "new", "new reply")], NOW + 1)
    start = datetime.fromtimestamp((NOW - day) / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    transcript = await exports(store).room("zhuhai", parse_request({"format": "jsonl", "from": start}, ann, NOW))
    data = await read(transcript)
    assert verify(data)
    lines = [json.loads(line) for line in data.splitlines()]
    shown = [(r.get("text"), r.get("thread")) for r in lines if r["type"] in ("message", "event")]
    assert shown == [("topic: Old roofs", None), ("new reply", "t-0000000000000002"), ("in range", None)]


async def test_a_markdown_digest_line_is_a_paragraph_of_its_own_after_the_last_message(store):
    from markdown_it import MarkdownIt

    from chat.export.digest import split_digest

    ann, = await users(store, "ann")
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "x", "| a | b |\n| - | - |\n| 1 | 2 |")], NOW)
    data = await read(await exports(store).room("zhuhai", parse_request({}, ann, NOW)))
    assert verify(data)
    rendered = MarkdownIt("commonmark").enable("table").render(data.decode())
    assert f"<p>SHA-256: {split_digest(data)[1]}</p>" in rendered


async def test_a_head_request_for_a_pdf_checks_everything_but_builds_nothing(store, monkeypatch):
    from chat.errors import ExportTooLarge
    from chat.export.formats import pdf

    ann, = await users(store, "ann")
    built = []
    monkeypatch.setattr(pdf, "writer", lambda **kwargs: built.append(kwargs))
    service = ExportService(store, FakeClock(NOW), concurrency=2, page=3, pdf_max_pages=2)
    transcript = await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW), head=True)
    assert transcript.filename.endswith(".pdf") and transcript.media_type == "application/pdf"
    assert await read(transcript) == b"" and built == [] and service.running == 0
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", f"p{i}", f"m{i}") for i in range(200)], NOW)
    with pytest.raises(ExportTooLarge):  # still refused as a GET would be
        await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW), head=True)
    assert built == [] and service.running == 0


async def test_one_running_export_per_member_and_the_slot_comes_back(store):
    ann, bob, cai = await users(store, "ann", "bob", "cai")
    service = exports(store)
    first = await service.room("zhuhai", parse_request({}, ann, NOW))
    with pytest.raises(ExportBusy):
        await service.room("hefei", parse_request({}, ann, NOW))
    second = await service.room("zhuhai", parse_request({}, bob, NOW))
    with pytest.raises(ExportBusy):
        await service.room("zhuhai", parse_request({}, cai, NOW))  # the node's cap (2)
    await read(first)
    await second.chunks.aclose()  # a client that went away before reading
    assert service.running == 0
    assert verify(await read(await service.room("zhuhai", parse_request({}, cai, NOW))))


async def test_a_failure_after_the_first_byte_ends_the_stream_without_its_digest(store, monkeypatch):
    ann, = await users(store, "ann")
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", f"a{i}", f"m{i}") for i in range(10)], NOW)
    service = exports(store)
    transcript = await service.room("zhuhai", parse_request({"format": "jsonl"}, ann, NOW))
    calls = []

    async def broken(room_id, after, upto, limit):
        calls.append(after)
        if len(calls) > 1:
            raise ConnectionResetError("the database went away")
        return await type(store).export_page(store, room_id, after, upto, limit)

    monkeypatch.setattr(store, "export_page", broken)
    data = await read(transcript)
    lines = [json.loads(line) for line in data.splitlines()]
    assert lines[0]["type"] == "header" and len([r for r in lines if r["type"] == "message"]) == 3
    assert lines[-1]["type"] != "digest" and not verify(data)
    assert service.running == 0
    assert transcript.chunks.incomplete  # what the command line exits 1 on


async def test_a_pdf_is_built_in_a_temporary_file_then_streamed_with_its_hash(store, monkeypatch, tmp_path):
    ann, = await users(store, "ann")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # this test's own, under xdist
    (tmp_path / "tmp").mkdir()
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", f"a{i}", f"m{i} 绿色建筑{i}")
                              for i in range(7)], NOW)
    before = set(os.listdir(tempfile.gettempdir()))
    service = exports(store)
    transcript = await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW))
    assert transcript.media_type == "application/pdf" and transcript.filename.endswith(".pdf")
    built = set(os.listdir(tempfile.gettempdir())) - before
    assert [name for name in built if name.startswith("ecolink-export-")]  # built before the first byte
    data = await read(transcript)
    assert transcript.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "m6 绿色建筑6" in text and "m0 绿色建筑0" in text
    assert transcript.headers["Content-Length"] == str(len(data))
    assert not [n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("ecolink-export-")]
    assert service.running == 0
    # One never read (its client went away): closing it removes the file and frees the slot.
    unread = await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW))
    assert [n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("ecolink-export-")]
    await unread.chunks.aclose()
    assert not [n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("ecolink-export-")]
    assert service.running == 0
    # Past the page limit: refused before anything is built or read.
    service.pdf_max_pages = 0
    with pytest.raises(Exception) as refused:
        await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW))
    assert getattr(refused.value, "code", None) == "export_too_large"
    assert service.running == 0


async def test_a_personal_archive_holds_one_of_the_running_exports_until_its_stream_ends(store):
    ann, bob = await users(store, "ann", "bob")
    service = exports(store)  # two at once on this node, one per member
    archives = PersonalArchives(store, AuditLog(store, FakeClock(NOW)), FakeClock(NOW), service)
    archive = await archives.archive(ann, None, actor=ann)
    assert service.running == 1
    with pytest.raises(ExportBusy):  # Ann's one slot is taken: nothing more recorded
        await service.room("zhuhai", parse_request({}, ann, NOW))
    with pytest.raises(ExportBusy):
        await archives.archive(ann, None, actor=ann)
    assert len(await store.audit_entries(2**62, 10)) == 1
    other = await service.room("zhuhai", parse_request({}, bob, NOW))
    with pytest.raises(ExportBusy):  # and the node's two are taken
        await archives.archive(ann, "en", actor=ann)
    await read(other)
    data = await read(archive)
    assert data.startswith(b"PK") and service.running == 0


async def test_a_compliance_transcript_that_fails_part_way_is_marked_in_the_zip(store, monkeypatch):
    import zipfile

    from chat.export.compliance import ComplianceExports

    admin = await store.create_user("root@example.test", "root", "h", "admin", NOW)
    await store.append_batch([SendRequest("zhuhai", admin.user_id, "root", f"a{i}", f"m{i}") for i in range(10)], NOW)
    clock = FakeClock(NOW)
    service = exports(store)
    calls = []

    async def broken(room_id, after, upto, limit):
        calls.append(after)
        if room_id == "zhuhai" and len(calls) > 1:
            raise ConnectionResetError("the database went away")
        return await type(store).export_page(store, room_id, after, upto, limit)

    monkeypatch.setattr(store, "export_page", broken)
    archive = await ComplianceExports(store, service, AuditLog(store, clock)).archive(
        ["zhuhai", "hefei"], parse_request({"format": "jsonl"}, admin, NOW))
    data = b"".join([chunk async for chunk in archive.chunks])
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        names = zipped.namelist()
        assert "zhuhai.error.txt" in names and b"incomplete" in zipped.read("zhuhai.error.txt")
        assert not any(name.startswith("hefei") and name.endswith(".error.txt") for name in names)
        assert any(f["name"] == "zhuhai.error.txt" for f in json.loads(zipped.read("manifest.json"))["files"])
    assert service.running == 0
