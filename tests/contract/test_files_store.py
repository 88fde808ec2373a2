"""The Store contract for files and uploads (chat/store/files.py, migration 0018), on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from chat.models import StoredFile, Upload
from tests.support.store_data import users

NOW = 1_700_000_000_000
HOUR = 3_600_000


def upload(owner: int, upload_id: str = "u-1", key: str | None = None, size: int = 100) -> Upload:
    return Upload(upload_id, owner, key, "报告.pdf", "application/pdf", size, 0, 10, (), "o/k" + upload_id,
                  "h-" + upload_id, None, None, NOW, NOW + HOUR)


def stored(owner: int, file_id: str, size: int = 10, **changes: object) -> StoredFile:
    f = StoredFile(file_id, owner, "城市 plan.pdf", "application/pdf", "pdf", size, "ab" * 32,
                   "o/" + file_id, created_at_ms=NOW)
    return replace(f, **changes)  # type: ignore[arg-type]


async def test_an_upload_is_created_once_per_client_key_and_moves_only_from_its_offset(store):
    ann, bob = await users(store, "ann", "bob")
    first, created = await store.create_upload(upload(ann.user_id, "u-1", key="key-0001"))
    assert created and first.upload_id == "u-1"
    again, created = await store.create_upload(upload(ann.user_id, "u-2", key="key-0001"))
    assert not created and again.upload_id == "u-1"
    _, created = await store.create_upload(upload(bob.user_id, "u-3", key="key-0001"))
    assert created  # keys are per member
    assert (await store.upload_by_key(ann.user_id, "key-0001")).upload_id == "u-1"
    assert await store.commit_part("u-1", 0, 10, [(1, "t1")], "application/pdf", "pdf", NOW + 2 * HOUR)
    assert not await store.commit_part("u-1", 0, 10, [(1, "t1")], None, None, NOW)  # moved on
    assert await store.commit_part("u-1", 10, 20, [(1, "t1"), (2, "t2")], None, None, NOW + 3 * HOUR)
    got = await store.get_upload("u-1")
    assert (got.offset, got.parts, got.mime, got.kind, got.expires_at_ms) == (
        20, ((1, "t1"), (2, "t2")), "application/pdf", "pdf", NOW + 3 * HOUR)
    assert got.name == "报告.pdf" and got.client_key == "key-0001"
    assert await store.bytes_in_use(ann.user_id) == 100


async def test_finishing_an_upload_stores_its_file_once_and_only_when_whole(store):
    ann, = await users(store, "ann")
    await store.create_upload(upload(ann.user_id, "u-1", size=10))
    f = stored(ann.user_id, "f-1")
    assert not await store.finish_upload("u-1", f)  # nothing received yet
    assert await store.get_file("f-1") is None
    assert await store.commit_part("u-1", 0, 10, [(1, "t")], "application/pdf", "pdf", NOW + HOUR)
    assert await store.finish_upload("u-1", f)
    assert not await store.finish_upload("u-1", replace(f, file_id="f-2"))
    assert await store.get_file("f-2") is None
    assert await store.get_file("f-1") == f
    assert (await store.get_upload("u-1")).file_id == "f-1"
    assert not await store.commit_part("u-1", 10, 20, [], None, None, NOW)  # finished: no more parts
    assert await store.bytes_in_use(ann.user_id) == 10  # the file, not the finished upload
    assert [u.upload_id for u in await store.expired_uploads(NOW + HOUR, 10)] == ["u-1"]
    assert await store.expired_uploads(NOW + HOUR - 1, 10) == []
    assert await store.delete_upload("u-1") and not await store.delete_upload("u-1")


async def test_files_bind_to_a_scope_once_get_a_ref_and_release_by_it(store):
    ann, bob = await users(store, "ann", "bob")
    for file_id in ("f-1", "f-2", "f-3"):
        await store.add_file(stored(ann.user_id, file_id))
    await store.add_file(stored(bob.user_id, "f-b"))
    assert await store.bind_files(ann.user_id, ["f-1", "f-2", "f-b"], "room:zhuhai", NOW + 5) == 2
    assert await store.bind_files(ann.user_id, ["f-1"], "room:other", NOW + 6) == 0  # bound already
    got = await store.files_by_id(["f-1", "f-2", "f-3", "f-b", "f-none"])
    assert sorted(got) == ["f-1", "f-2", "f-3", "f-b"]
    assert (got["f-1"].scope, got["f-1"].bound_at_ms) == ("room:zhuhai", NOW + 5)
    assert got["f-3"].scope is None and got["f-b"].scope is None
    assert await store.set_file_ref(["f-1", "f-2", "f-3"], "msg:zhuhai:m1") == 2  # f-3 unbound
    # Some of a holder's files only (an edit dropped them), and none.
    assert await store.release_files("msg:zhuhai:m1", NOW + 10, NOW + 20, ["f-2", "f-3"]) == 1
    assert await store.release_files("msg:zhuhai:m1", NOW + 10, NOW + 20, []) == 0
    assert (await store.get_file("f-1")).state == "ready"
    assert await store.release_files("msg:zhuhai:m1", NOW + 10, NOW + 20) == 1
    assert await store.release_files("msg:zhuhai:m1", NOW + 11, NOW + 21) == 0
    gone = await store.get_file("f-1")
    assert (gone.state, gone.deleted_at_ms, gone.purge_after_ms) == ("deleted", NOW + 10, NOW + 20)
    assert await store.bytes_in_use(ann.user_id) == 10  # f-3 only
    assert await store.files_to_purge(NOW + 19, 10) == []
    assert sorted(f.file_id for f in await store.files_to_purge(NOW + 20, 10)) == ["f-1", "f-2"]
    assert await store.forget_file("f-1") and not await store.forget_file("f-1")
    assert not await store.forget_file("f-3")  # a ready file is never forgotten
    assert await store.get_file("f-1") is None


async def test_orphans_are_files_without_a_ref_unbound_since_before_the_cutoff(store):
    ann, = await users(store, "ann")
    await store.add_file(stored(ann.user_id, "f-old", created_at_ms=NOW))
    await store.add_file(stored(ann.user_id, "f-new", created_at_ms=NOW + 2 * HOUR))
    await store.add_file(stored(ann.user_id, "f-held", created_at_ms=NOW, scope="room:x",
                                bound_at_ms=NOW, ref="msg:x:1"))
    await store.add_file(stored(ann.user_id, "f-late", created_at_ms=NOW, scope="room:x",
                                bound_at_ms=NOW + 2 * HOUR))
    assert await store.drop_orphan_files(NOW + HOUR, NOW + 3 * HOUR, NOW + 3 * HOUR) == 1
    states = {i: f.state for i, f in (await store.files_by_id(["f-old", "f-new", "f-held", "f-late"])).items()}
    assert states == {"f-old": "deleted", "f-new": "ready", "f-held": "ready", "f-late": "ready"}
