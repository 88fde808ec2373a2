"""The Store contract for attachments (migration 0021), on SQLite and PostgreSQL: a topic's and a
webinar's files are kept as their wire dicts, in order, exactly (Chinese names included), read
back by every read of them; an edit replaces a webinar's list or leaves it; a message keeps its
own in data, and its notification excerpt names them when it has no text."""

from __future__ import annotations

import json
from dataclasses import replace

from chat.models import SendRequest, Topic, WebinarChanges
from tests.contract.test_webinars_store import create, told, webinar
from tests.support.store_data import NOW, users

PDF = {"id": "f-" + "a" * 22, "name": "城市更新 report.pdf", "type": "application/pdf", "size": 123456,
       "kind": "pdf", "preview": {"w": 480, "h": 640}}
CSV = {"id": "f-" + "b" * 22, "name": "figures.csv", "type": "text/csv", "size": 42, "kind": "csv"}


def topic(topic_id: str, author, **fields) -> Topic:
    base = Topic(topic_id=topic_id, kind="topic", title="Heat pumps", summary="", body="", body_html="",
                 author_id=author.user_id, author_name=author.display_name, created_at_ms=NOW,
                 last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False, room_ids=("hefei",))
    return replace(base, **fields)


async def test_topics_keep_their_files_exactly(store):
    [ann] = await users(store, "ann")
    await store.create_topic(topic("t-files", ann, attachments=(PDF, CSV)))
    await store.create_topic(topic("t-plain", ann))
    got = await store.get_topic("t-files")
    assert got.attachments == (PDF, CSV)
    assert (await store.get_topic("t-plain")).attachments == ()
    listed = {t.topic_id: t.attachments for t in await store.topics_in_room("hefei", "topic", 10)}
    assert listed == {"t-files": (PDF, CSV), "t-plain": ()}


async def test_a_webinars_files_are_kept_and_an_edit_replaces_or_leaves_them(store):
    [ann] = await users(store, "ann")
    await create(store, replace(webinar("webinar-f", ann.user_id), attachments=(PDF,)))
    assert (await store.get_webinar("webinar-f")).attachments == (PDF,)
    changes = WebinarChanges(attachments=json.dumps([CSV, PDF]))
    assert await store.edit_webinar("webinar-f", changes, NOW + 1, told("edited")) is not None
    assert (await store.get_webinar("webinar-f")).attachments == (CSV, PDF)
    assert await store.edit_webinar("webinar-f", WebinarChanges(title_zh="屋顶"), NOW + 2, told("edited"))
    assert (await store.get_webinar("webinar-f")).attachments == (CSV, PDF)


async def test_a_message_of_files_alone_is_notified_by_their_names(store):
    ann, bob = await users(store, "ann", "bob")
    await store.open_direct("d-files", [ann.user_id, bob.user_id], ann.user_id, "", NOW)
    [outcome] = await store.append_batch([SendRequest("d-files", ann.user_id, "ann", "c1", "",
                                                data={"attachments": [PDF, CSV]})], NOW)
    assert outcome.message.data["attachments"] == [PDF, CSV]
    [note] = await store.create_notifications([outcome.message.message_id], NOW)
    assert note.excerpt == "📎 城市更新 report.pdf, 📎 figures.csv"
    [listed] = await store.list_notifications(bob.user_id, unread_only=False, before_id=2**62, limit=10)
    assert listed.excerpt == "📎 城市更新 report.pdf, 📎 figures.csv"
    page, _ = await store.message_page("d-files", after=None, before=None, limit=10)
    assert [m.data.get("attachments") for m in page if m.kind == "message"] == [[PDF, CSV]]
