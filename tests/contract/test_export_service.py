"""ExportService (chat/export/service.py) over each store backend: pages by seq with topics'
replies where they belong, a PDF built into a temporary file and sent with its hash, a failure
after the first byte that ends the stream without its digest line, and the running exports'
slots coming back in every case. The PDF writer here is a stand-in (the real one is tested with
its module): what is tested is the service's PDF path."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

import pytest

from chat.clock import FakeClock
from chat.errors import ExportBusy
from chat.export import service as service_module
from chat.export.digest import verify
from chat.export.formats.jsonl import JsonLinesWriter
from chat.export.scope import parse_request
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
    assert service.running == 0 and verify(data)
    lines = [json.loads(line) for line in data.splitlines()]
    assert [(r.get("text"), r.get("thread")) for r in lines if r["type"] in ("message", "event")] == [
        ("m0", None), ("m1", None), ("m2", None), ("m3", None), ("topic: Roofs", None),
        *[(f"reply {i}", "t-0000000000000001") for i in range(5)], ("last", None)]
    assert lines[0]["participants"] == ["ann", "bob"]


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


class StandInPdf(JsonLinesWriter):
    media_type = "application/pdf"
    extension = "pdf"


async def test_a_pdf_is_built_in_a_temporary_file_then_streamed_with_its_hash(store, monkeypatch, tmp_path):
    ann, = await users(store, "ann")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # this test's own, under xdist
    (tmp_path / "tmp").mkdir()
    await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", f"a{i}", f"m{i}") for i in range(7)], NOW)
    monkeypatch.setattr(service_module, "new_writer", lambda fmt: StandInPdf())
    before = set(os.listdir(tempfile.gettempdir()))
    service = exports(store)
    transcript = await service.room("zhuhai", parse_request({"format": "pdf"}, ann, NOW))
    assert transcript.media_type == "application/pdf" and transcript.filename.endswith(".pdf")
    built = set(os.listdir(tempfile.gettempdir())) - before
    assert [name for name in built if name.startswith("ecolink-export-")]  # built before the first byte
    data = await read(transcript)
    assert transcript.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    assert b'"text":"m6"' in data
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
