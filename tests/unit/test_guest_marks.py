"""How a webinar guest is marked wherever a person is shown (docs/protocol.md, "Guests
(webinars)"): author maps, presence and typing entries; members and staff as before."""

from __future__ import annotations

from chat.models import User
from chat.presence.frames import GUEST_MARK, person, presence_frame, presence_label, typing_frame
from chat.protocol.frames import staff_marked

MEMBER = User(1, "ann@example.test", "Ann", "member", 0)
GUEST = User(2, "guest:00", "Gao Wei", "member", 0, guest_of="webinar-0000000000000001")
ADMIN = User(3, "boss@example.test", "Boss", "admin", 0)


def test_author_maps_mark_guests_and_staff_only():
    assert staff_marked({"id": 1, "name": "Ann"}, MEMBER.author_role) == {"id": 1, "name": "Ann"}
    assert staff_marked({"id": 2, "name": "Gao Wei"}, GUEST.author_role) == {
        "id": 2, "name": "Gao Wei", "guest": True}
    assert staff_marked({"id": 3, "name": "Boss"}, ADMIN.author_role) == {"id": 3, "name": "Boss", "role": "admin"}


def test_presence_and_typing_entries_carry_the_guest_mark_through_one_string():
    labels = {u.user_id: presence_label(u) for u in (MEMBER, GUEST)}
    assert labels == {1: "Ann", 2: GUEST_MARK + "Gao Wei"}
    assert not GUEST_MARK.isprintable()  # no display name can start with it
    expected = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Gao Wei", "guest": True}]
    assert presence_frame("r", labels, [5], full=False)["online"] == expected
    assert typing_frame("r", labels)["users"] == expected
    assert person(7, "") == {"id": 7, "name": ""}
