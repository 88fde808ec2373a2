"""The Store contract for edits, deletes, reactions and mentions, on SQLite and PostgreSQL."""

from __future__ import annotations

from chat.models import SendRequest
from tests.support.store_data import users

NOW = 1_700_000_000_000


def req(user, cid, *, kind="message", body="", target=None, data=None, role="member", mentions=()):
    return SendRequest("zhuhai", user.user_id, user.display_name, cid, body, kind=kind,
                       target_id=target, data=data or {}, author_role=role, mentions=mentions,
                       html=f"<p>{body}</p>" if body else "")


async def append(store, *requests, now=NOW):
    return await store.append_batch(list(requests), now)


async def test_edit_keeps_versions_and_takes_a_seq(store):
    ann, = await users(store, "ann")
    [sent] = await append(store, req(ann, "m", body="first"))
    [edit] = await append(store, req(ann, "e1", kind="edit", body="second", target=sent.message.message_id),
                          now=NOW + 10)
    assert edit.created and edit.message.seq == 2 and edit.message.kind == "edit"
    await append(store, req(ann, "e2", kind="edit", body="third", target=sent.message.message_id), now=NOW + 20)
    messages, _ = await store.message_page("zhuhai", after=0, before=None, limit=10)
    assert [(m.seq, m.body, m.html, m.edited_at_ms) for m in messages] == [(1, "third", "<p>third</p>", NOW + 20)]
    versions = await store.message_versions("zhuhai", sent.message.message_id)
    assert [(v, body) for v, body, _, _ in versions] == [(1, "first"), (2, "second")]
    log = await store.messages_after("zhuhai", 0, 10)
    assert [(m.seq, m.kind, m.target_id) for m in log] == [
        (1, "message", None), (2, "edit", sent.message.message_id), (3, "edit", sent.message.message_id)]


async def test_only_the_author_or_a_moderator_edits_and_deletes(store):
    ann, bob, mod = await users(store, "ann", "bob", "mod")
    [sent] = await append(store, req(ann, "m", body="ann's"))
    target = sent.message.message_id
    [refused] = await append(store, req(bob, "x", kind="edit", body="bob's now", target=target))
    assert refused.message is None and refused.error[0] == "forbidden"
    [refused] = await append(store, req(bob, "y", kind="delete", target=target))
    assert refused.error[0] == "forbidden"
    assert (await store.room_heads(["zhuhai"]))["zhuhai"] == 1  # refusals take no seq
    [moderated] = await append(store, req(mod, "z", kind="delete", target=target, role="moderator"))
    assert moderated.created and moderated.message.seq == 2


async def test_delete_leaves_a_tombstone_without_versions_or_reactions(store):
    ann, bob = await users(store, "ann", "bob")
    [sent] = await append(store, req(ann, "m", body="secret plan"))
    target = sent.message.message_id
    await append(store, req(ann, "e", kind="edit", body="still secret", target=target),
                 req(bob, "r", kind="reaction", target=target, data={"emoji": "👍", "added": True}))
    [deleted] = await append(store, req(ann, "d", kind="delete", target=target))
    assert deleted.created
    messages, reactions = await store.message_page("zhuhai", after=None, before=None, limit=10)
    assert [(m.body, m.html, m.deleted) for m in messages] == [("", "", True)]
    assert reactions == {} and await store.message_versions("zhuhai", target) == []
    [again] = await append(store, req(ann, "e2", kind="edit", body="revive", target=target))
    assert again.error[0] == "not_found"


async def test_reactions_add_remove_and_refuse_repeats(store):
    ann, bob = await users(store, "ann", "bob")
    [sent] = await append(store, req(ann, "m", body="hi"))
    target = sent.message.message_id
    outcomes = await append(
        store,
        req(bob, "r1", kind="reaction", target=target, data={"emoji": "👍", "added": True}),
        req(ann, "r2", kind="reaction", target=target, data={"emoji": "👍", "added": True}),
        req(bob, "r3", kind="reaction", target=target, data={"emoji": "👍", "added": True}),  # repeat
        req(bob, "r4", kind="reaction", target=target, data={"emoji": "🎉", "added": False}),  # absent
    )
    assert [o.created for o in outcomes] == [True, True, False, False]
    assert [o.error[0] if o.error else None for o in outcomes] == [None, None, "invalid", "invalid"]
    _, reactions = await store.message_page("zhuhai", after=0, before=None, limit=10)
    assert reactions == {target: {"👍": sorted([ann.user_id, bob.user_id])}}
    await append(store, req(bob, "r5", kind="reaction", target=target, data={"emoji": "👍", "added": False}))
    _, reactions = await store.message_page("zhuhai", after=0, before=None, limit=10)
    assert reactions == {target: {"👍": [ann.user_id]}}


async def test_events_on_an_unknown_or_foreign_message_are_refused(store):
    ann, = await users(store, "ann")
    other = await store.append_batch([SendRequest("hefei", ann.user_id, "ann", "h", "elsewhere")], NOW)
    [refused] = await append(store, req(ann, "e", kind="edit", body="x", target=other[0].message.message_id))
    assert refused.error[0] == "not_found"  # the target is in another room
    [refused] = await append(store, req(ann, "e2", kind="delete", target="no-such-message"))
    assert refused.error[0] == "not_found"


async def test_a_repeated_event_cid_returns_the_original(store):
    ann, = await users(store, "ann")
    [sent] = await append(store, req(ann, "m", body="hi"))
    [first] = await append(store, req(ann, "e", kind="edit", body="v2", target=sent.message.message_id))
    [again] = await append(store, req(ann, "e", kind="edit", body="v3", target=sent.message.message_id))
    assert not again.created and again.message == first.message


async def test_mentions_of_unknown_users_are_ignored(store):
    ann, bob = await users(store, "ann", "bob")
    [sent] = await append(store, req(ann, "m", body="@bob look", mentions=(bob.user_id, 999_999),
                                     data={"mentions": [bob.user_id, 999_999]}))
    assert sent.created and sent.message.data == {"mentions": [bob.user_id, 999_999]}
