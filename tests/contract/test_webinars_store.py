"""The Store contract for webinars (chat/store/webinars.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from chat.models import SendRequest, Webinar, WebinarChanges, WebinarPerson
from tests.support.store_data import NOW, users

HOUR = 3600_000
_cids = iter(range(1, 10**6))


def told(change: str):
    """The entry a change appends: a `webinar` entry with the state it left (as the service's)."""
    def make(w: Webinar) -> SendRequest:
        return SendRequest(w.webinar_id, w.created_by, "x", f"~{next(_cids)}", w.title_en, kind="webinar",
                           data={"change": change, "state": w.state, "title": w.title_en,
                                 "rooms": list(w.listed_in), "sequence": w.sequence})
    return make


async def create(store, w: Webinar):
    return await store.create_webinar(w, told("scheduled"))


async def move(store, webinar_id: str, state: str, now: int) -> bool:
    return await store.set_webinar_state(webinar_id, state, now, told(state)) is not None


def webinar(webinar_id: str, creator: int, *, starts: int = NOW + HOUR, people: tuple[WebinarPerson, ...] = (),
            rooms: tuple[str, ...] = ("clean-energy",)) -> Webinar:
    return Webinar(
        webinar_id=webinar_id, title_en="Green roofs", title_zh="绿色屋顶", description="**Hi**",
        description_html="<p><strong>Hi</strong></p>", starts_at_ms=starts, ends_at_ms=starts + HOUR,
        time_zone="Europe/Berlin", created_by=creator, created_at_ms=NOW, updated_at_ms=NOW,
        premoderated=True, people=people, listed_in=rooms)


async def test_a_webinar_is_a_room_with_its_schedule_people_and_listing(store):
    ann, bob = await users(store, "ann", "bob")
    people = (WebinarPerson(ann.user_id, "ann", "host"), WebinarPerson(bob.user_id, "bob", "panelist"))
    await create(store, webinar("webinar-0000000000000001", ann.user_id, people=people,
                                       rooms=("zhuhai", "clean-energy")))
    room = await store.get_room("webinar-0000000000000001")
    assert (room.kind, room.title_en, room.title_zh, room.head_seq) == ("webinar", "Green roofs", "绿色屋顶", 1)
    got = await store.get_webinar("webinar-0000000000000001")
    assert got.people == people and got.listed_in == ("clean-energy", "zhuhai")
    assert (got.state, got.premoderated, got.chat_mode, got.sequence, got.registrations) == (
        "scheduled", True, "open", 0, 0)
    assert got.description_html == "<p><strong>Hi</strong></p>" and got.time_zone == "Europe/Berlin"
    assert await store.get_webinar("webinar-0000000000000002") is None
    assert await store.get_webinar("clean-energy") is None
    # Every member may see a webinar room, as a sector room.
    assert (await store.room_access("webinar-0000000000000001", bob.user_id))[1] is True
    assert await store.webinar_person_role("webinar-0000000000000001", bob.user_id) == "panelist"
    assert await store.webinar_chat_rules("webinar-0000000000000001", ann.user_id) == (
        "scheduled", "open", 0, "host")
    assert await store.webinar_chat_rules("webinar-0000000000000002", ann.user_id) is None


async def test_states_move_once_and_only_from_where_they_may(store):
    (ann,) = await users(store, "ann")
    await create(store, webinar("webinar-a", ann.user_id))
    assert await move(store, "webinar-a", "ended", NOW) is False  # not live yet
    assert await move(store, "webinar-a", "live", NOW + 1) is True
    assert await move(store, "webinar-a", "live", NOW + 2) is False
    assert await move(store, "webinar-a", "cancelled", NOW + 2) is False
    assert await store.edit_webinar("webinar-a", WebinarChanges(title_en="x"), NOW, told("edited")) is None
    assert await store.set_webinar_chat("webinar-a", "slow", 30, NOW + 3, told("chat")) is not None
    assert await move(store, "webinar-a", "ended", NOW + 4) is True
    assert await store.set_webinar_chat("webinar-a", "open", 0, NOW + 5, told("chat")) is None
    got = await store.get_webinar("webinar-a")
    assert (got.state, got.started_at_ms, got.ended_at_ms, got.chat_mode, got.slow_mode_s) == (
        "ended", NOW + 1, NOW + 4, "slow", 30)
    await create(store, webinar("webinar-b", ann.user_id))
    assert await move(store, "webinar-b", "cancelled", NOW) is True
    got = await store.get_webinar("webinar-b")
    assert (got.state, got.sequence, got.ended_at_ms) == ("cancelled", 1, NOW)


async def test_an_edit_changes_what_it_names_and_replaces_the_lists(store):
    ann, bob = await users(store, "ann", "bob")
    await create(store, webinar("webinar-a", ann.user_id, people=(WebinarPerson(ann.user_id, "ann", "host"),)))
    changes = WebinarChanges(title_zh="屋顶", starts_at_ms=NOW + 2 * HOUR, ends_at_ms=NOW + 3 * HOUR,
                             people=((bob.user_id, "host"), (ann.user_id, "panelist")),
                             listed_in=("hefei",), premoderated=False)
    assert await store.edit_webinar("webinar-a", changes, NOW + 5, told("edited")) is not None
    got = await store.get_webinar("webinar-a")
    assert (got.title_en, got.title_zh, got.starts_at_ms, got.ends_at_ms, got.premoderated) == (
        "Green roofs", "屋顶", NOW + 2 * HOUR, NOW + 3 * HOUR, False)
    assert got.people == (WebinarPerson(bob.user_id, "bob", "host"), WebinarPerson(ann.user_id, "ann", "panelist"))
    assert (got.listed_in, got.sequence, got.updated_at_ms) == (("hefei",), 1, NOW + 5)
    assert (await store.get_room("webinar-a")).title_zh == "屋顶"


async def test_lists_page_by_start_and_filter_by_listing_room(store):
    (ann,) = await users(store, "ann")
    for index in range(5):
        await create(store, webinar(f"webinar-{index}", ann.user_id, starts=NOW + index * HOUR,
                                           rooms=("clean-energy",) if index % 2 else ("hefei",)))
    await move(store, "webinar-1", "live", NOW)
    await move(store, "webinar-3", "cancelled", NOW)
    await move(store, "webinar-4", "live", NOW)
    await move(store, "webinar-4", "ended", NOW)

    async def ids(when, **kw):
        return [w.webinar_id for w in await store.list_webinars(when, listed_in=kw.get("room"),
                                                                 after=kw.get("after"), limit=kw.get("limit", 10))]

    assert await ids("upcoming") == ["webinar-0", "webinar-2"]
    assert await ids("upcoming", limit=1) == ["webinar-0"]
    assert await ids("upcoming", after=(NOW, "webinar-0")) == ["webinar-2"]
    assert await ids("live") == ["webinar-1"]
    assert await ids("past") == ["webinar-4", "webinar-3"]
    assert await ids("past", after=(NOW + 4 * HOUR, "webinar-4")) == ["webinar-3"]
    assert await ids("past", room="clean-energy") == ["webinar-3"]
    assert await ids("upcoming", room="hefei") == ["webinar-0", "webinar-2"]
    assert await ids("upcoming", room="clean-energy") == []


async def test_the_sweep_ends_each_overdue_webinar_once_however_many_run_it(store):
    (ann,) = await users(store, "ann")
    for index in range(3):
        await create(store, webinar(f"webinar-{index}", ann.user_id, starts=NOW - 3 * HOUR + index * HOUR))
        await move(store, f"webinar-{index}", "live", NOW)
    # Ends: NOW-2h, NOW-1h, NOW. Overdue before NOW-30min: the first two.
    results = await asyncio.gather(*(store.end_overdue_webinars(NOW - HOUR // 2, NOW, 100, told("ended"))
                                     for _ in range(4)))
    assert sorted(w.webinar_id for ended in results for w, _, _ in ended) == ["webinar-0", "webinar-1"]
    for webinar_id in ("webinar-0", "webinar-1"):  # one "ended" entry each, after "live"
        log = await store.messages_after(webinar_id, 0, 10)
        assert [m.data["change"] for m in log] == ["scheduled", "live", "ended"]
    assert (await store.get_webinar("webinar-2")).state == "live"


async def test_registrations_are_idempotent_and_notify_registered_members_but_the_author(store):
    ann, bob, cy = await users(store, "ann", "bob", "cy")
    await create(store, webinar("webinar-a", ann.user_id))
    assert await store.set_registration("webinar-a", bob.user_id, True, NOW) is True
    assert await store.set_registration("webinar-a", bob.user_id, True, NOW) is False
    assert await store.set_registration("webinar-a", cy.user_id, True, NOW) is True
    assert await store.set_registration("webinar-a", ann.user_id, True, NOW) is True
    assert await store.set_registration("webinar-a", cy.user_id, False, NOW) is True
    assert await store.set_registration("webinar-a", cy.user_id, False, NOW) is False
    assert (await store.get_webinar("webinar-a")).registrations == 2
    assert await store.registered_for(bob.user_id, ["webinar-a", "webinar-b"]) == {"webinar-a"}
    assert await store.registered_for(cy.user_id, ["webinar-a"]) == set()
    entry = (await store.set_webinar_state("webinar-a", "live", NOW, told("live"))).entry
    made = await store.notify_registered("webinar-a", entry.message_id, "webinar_live", NOW + 1)
    assert [(n.user_id, n.kind, n.seq, n.actor_id, n.excerpt) for n in made] == [
        (bob.user_id, "webinar_live", 2, ann.user_id, "Green roofs")]
    listed = await store.list_notifications(bob.user_id, unread_only=True, before_id=2**62, limit=10)
    assert [(n.notification_id, n.kind, n.room_id) for n in listed] == [
        (made[0].notification_id, "webinar_live", "webinar-a")]
    # An entry of another room notifies nobody.
    assert await store.notify_registered("webinar-b", entry.message_id, "webinar_live", NOW) == []


async def test_slow_mode_reads_the_last_message_and_whether_a_cid_is_stored(store):
    (ann,) = await users(store, "ann")
    await create(store, webinar("webinar-a", ann.user_id))
    assert await store.last_chat_message("webinar-a", ann.user_id, "c1") == (False, None)
    await store.append_batch([SendRequest("webinar-a", ann.user_id, "ann", "c1", "hello")], NOW)
    assert await store.last_chat_message("webinar-a", ann.user_id, "c1") == (True, NOW)
    assert await store.last_chat_message("webinar-a", ann.user_id, "c2") == (False, NOW)


async def test_each_change_and_its_entry_commit_together_made_from_the_state_it_leaves(store):
    ann, bob = await users(store, "ann", "bob")
    stored, first, _ = await create(store, webinar("webinar-a", ann.user_id))
    assert (stored.state, first.seq, first.kind, first.data["change"]) == ("scheduled", 1, "webinar", "scheduled")
    assert (await store.get_room("webinar-a")).head_seq == 1
    changed, entry, _ = await store.edit_webinar("webinar-a", WebinarChanges(title_en="Roofs", listed_in=("hefei",)),
                                              NOW + 1, told("edited"))
    assert (changed.title_en, changed.sequence, changed.listed_in) == ("Roofs", 1, ("hefei",))
    assert (entry.seq, entry.data) == (2, {"change": "edited", "state": "scheduled", "title": "Roofs",
                                           "rooms": ["hefei"], "sequence": 1})
    live = (await store.set_webinar_state("webinar-a", "live", NOW + 2, told("live"))).entry
    assert (live.seq, live.data["state"]) == (3, "live")

    def refused(w: Webinar) -> SendRequest:  # an entry the log refuses: the change goes too
        return SendRequest("webinar-a", bob.user_id, "bob", "~x", "", kind="edit", target_id="nope")

    try:
        await store.set_webinar_state("webinar-a", "ended", NOW + 3, refused)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a refused entry must fail the change")
    assert (await store.get_webinar("webinar-a")).state == "live"
    assert [m.seq for m in await store.messages_after("webinar-a", 0, 10)] == [1, 2, 3]


async def test_without_an_entry_maker_a_bare_entry_tells_of_the_change(store):
    (ann,) = await users(store, "ann")
    await store.create_webinar(webinar("webinar-a", ann.user_id))
    changed = await store.set_webinar_state("webinar-a", "live", NOW + 1)
    assert changed is not None and await store.set_webinar_state("webinar-a", "live", NOW + 2) is None
    log = await store.messages_after("webinar-a", 0, 10)
    assert [(m.kind, m.data, m.author_id) for m in log] == [
        ("webinar", {"change": "scheduled"}, ann.user_id), ("webinar", {"change": "live"}, ann.user_id)]
