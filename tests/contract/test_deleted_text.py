"""The Store contract for deletes, on SQLite and PostgreSQL: a deleted message's text is gone
from every place that held it — the message row (history), its versions, and the bodies of
its earlier `edit` events in the room log, which a reader resuming with `since` replays."""

from __future__ import annotations

from chat.models import SendRequest

NOW = 1_700_000_000_000
ROOM = "zhuhai"


async def author(store, name="ann"):
    return await store.create_user(f"{name}@example.test", name, "h", "member", NOW)


def req(user, cid, *, kind="message", body="", target=None):
    return SendRequest(ROOM, user.user_id, user.display_name, cid, body, kind=kind, target_id=target,
                       html=f"<p>{body}</p>" if body else "")


def texts(log):
    return [(m.kind, m.body, m.html) for m in log]


async def assert_no_text_left(store, message_id):
    log = await store.messages_after(ROOM, 0, 100)
    assert not any("secret" in m.body or "secret" in m.html for m in log), texts(log)
    page, _ = await store.message_page(ROOM, after=0, before=None, limit=100)
    [tombstone] = [m for m in page if m.message_id == message_id]
    assert (tombstone.body, tombstone.html, tombstone.deleted) == ("", "", True)
    assert await store.message_versions(ROOM, message_id) == []


async def test_a_delete_blanks_the_bodies_of_the_messages_earlier_edit_events(store):
    ann = await author(store)
    [sent] = await store.append_batch([req(ann, "m", body="secret v1")], NOW)
    target = sent.message.message_id
    await store.append_batch([req(ann, "e1", kind="edit", body="secret v2", target=target)], NOW + 1)
    await store.append_batch([req(ann, "e2", kind="edit", body="secret v3", target=target)], NOW + 2)
    [other] = await store.append_batch([req(ann, "keep", body="kept text")], NOW + 3)
    await store.append_batch([req(ann, "e3", kind="edit", body="kept text, edited",
                                  target=other.message.message_id)], NOW + 4)
    [deleted] = await store.append_batch([req(ann, "d", kind="delete", target=target)], NOW + 5)
    assert deleted.created
    await assert_no_text_left(store, target)
    log = await store.messages_after(ROOM, 0, 100)
    # The log keeps its seqs (nothing is removed: resuming readers stay gapless) and the other
    # message's edit keeps its text.
    assert [(m.seq, m.kind) for m in log] == [(1, "message"), (2, "edit"), (3, "edit"),
                                               (4, "message"), (5, "edit"), (6, "delete")]
    assert log[4].body == "kept text, edited"


async def test_an_edit_and_a_delete_in_one_batch_leave_no_text(store):
    ann = await author(store)
    [sent] = await store.append_batch([req(ann, "m", body="secret v1")], NOW)
    target = sent.message.message_id
    outcomes = await store.append_batch([req(ann, "e1", kind="edit", body="secret v2", target=target),
                                         req(ann, "d", kind="delete", target=target)], NOW + 1)
    assert [o.created for o in outcomes] == [True, True]
    await assert_no_text_left(store, target)


async def test_migration_0007_blanks_what_older_deletes_left(store):
    """Data written before the fix: edit events and versions of a deleted message with text."""
    ann = await author(store)
    [sent] = await store.append_batch([req(ann, "m", body="secret v1")], NOW)
    target = sent.message.message_id
    await store.append_batch([req(ann, "e1", kind="edit", body="secret v2", target=target)], NOW + 1)
    [kept] = await store.append_batch([req(ann, "k", body="kept")], NOW + 2)
    await store.append_batch([req(ann, "e2", kind="edit", body="kept, edited",
                                  target=kept.message.message_id)], NOW + 3)
    await store.append_batch([req(ann, "d", kind="delete", target=target)], NOW + 4)
    # What a delete left before the fix: the edit event's text, and a version row.
    await store._db.execute("UPDATE messages SET body = ?, html = ? WHERE kind = 'edit' AND target_id = ?",
                            "secret v2", "<p>secret v2</p>", target)
    await store._db.execute("INSERT INTO message_versions (message_id, version, body, edited_at_ms,"
                            " editor_id) VALUES (?, 1, ?, ?, ?)", target, "secret v1", NOW + 1, ann.user_id)
    await store._db.execute("DELETE FROM schema_migrations WHERE version = ?", "0007_blank_deleted_edits")
    assert await store.migrate() == ["0007_blank_deleted_edits"]
    await assert_no_text_left(store, target)
    assert [m.body for m in await store.messages_after(ROOM, 0, 100) if m.kind == "edit"] == [
        "", "kept, edited"]
    assert [(v, body) for v, body, _, _ in await store.message_versions(ROOM, kept.message.message_id)] == [
        (1, "kept")]
