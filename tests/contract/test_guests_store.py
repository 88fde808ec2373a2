"""The Store contract for webinar guests (users.guest_of, migration 0015), on SQLite and
PostgreSQL: a guest's session names their webinar; a guest never logs in, is never listed,
named as someone to add, or mentioned; their entries read back marked "guest"."""

from __future__ import annotations

from chat.models import MemberQuery, SendRequest
from tests.contract.test_webinars_store import create, webinar
from tests.support.store_data import NOW, users

WID = "webinar-00000000000000a1"


async def test_a_guest_is_a_users_row_of_one_webinar_and_no_member(store):
    [ann] = await users(store, "ann")
    await create(store, webinar(WID, ann.user_id))
    guest = await store.create_guest(WID, "guest:0123", "Gao Wei", "!guest", NOW)
    assert (guest.guest_of, guest.role, guest.display_name, guest.author_role) == (
        WID, "member", "Gao Wei", "guest")
    assert ann.guest_of is None and ann.author_role == "member"
    await store.create_session(b"g" * 32, guest.user_id, NOW + 1000)
    assert (await store.session_user(b"g" * 32, NOW)).guest_of == WID
    assert await store.user_credentials("guest:0123") is None  # no login, ever
    assert await store.users_by_id([ann.user_id, guest.user_id]) == {ann.user_id: "ann"}
    page = await store.list_members(MemberQuery(text="Gao"))
    assert page.members == []
    assert (await store.get_profile(guest.user_id)).guest_of == WID

    # What a guest writes reads back marked; a mention of a guest is no mention.
    [said, hello] = await store.append_batch([
        SendRequest(WID, guest.user_id, "Gao Wei", "c1", "hello", author_role="guest"),
        SendRequest(WID, ann.user_id, "ann", "c2", "hi @Gao Wei", data={"mentions": [guest.user_id]},
                    mentions=(guest.user_id,)),
    ], NOW)
    assert said.message is not None and hello.message is not None
    messages, _ = await store.message_page(WID, after=None, before=None, limit=10)
    roles = {m.message_id: m.author_role for m in messages}
    assert roles[said.message.message_id] == "guest" and roles[hello.message.message_id] == "member"
    created = await store.create_notifications([hello.message.message_id], NOW)
    assert [n.user_id for n in created] == []
