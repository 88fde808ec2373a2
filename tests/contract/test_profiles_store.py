"""The Store contract for profiles, the member directory and roles (chat/store/port.py), one
body per test, run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from chat.errors import Conflict
from chat.models import MemberQuery, ProfileChanges

NOW = 1_700_000_000_000
_emails = itertools.count(1)


async def make_user(store, name: str, role: str = "member", **changes: object) -> object:
    user = await store.create_user(f"user{next(_emails)}@example.test", name, "hash", role, NOW)
    if changes:
        await store.update_profile(user.user_id, ProfileChanges(**changes))
    return user


async def names(store, **query: object) -> list[str]:
    page = await store.list_members(MemberQuery(**query))
    return [member.display_name for member in page.members]


async def test_a_new_member_has_the_default_profile(store):
    ann = await make_user(store, "Ann")
    profile = await store.get_profile(ann.user_id)
    assert (profile.user_id, profile.display_name, profile.role) == (ann.user_id, "Ann", "member")
    assert (profile.affiliation, profile.organisation, profile.country, profile.city) == (
        "other", "", "", "")
    assert (profile.sectors, profile.languages, profile.time_zone, profile.bio) == ((), (), None, "")
    assert profile.created_at_ms == NOW
    assert await store.get_profile(ann.user_id + 1000) is None


async def test_update_changes_only_the_given_fields(store):
    ann = await make_user(store, "Ann")
    first = await store.update_profile(ann.user_id, ProfileChanges(
        affiliation="expert", organisation="TU Delft", country="NL", city="Delft",
        sectors=("green-transport", "clean-energy"), languages=("zh-Hant", "en", "de"),
        time_zone="Europe/Amsterdam", bio="Trams 🚋\nand bikes."))
    assert first == await store.get_profile(ann.user_id)
    assert first.sectors == ("clean-energy", "green-transport")  # code-point order
    assert first.languages == ("de", "en", "zh-Hant")
    assert first.bio == "Trams 🚋\nand bikes." and first.country == "NL"
    second = await store.update_profile(ann.user_id, ProfileChanges(
        display_name="李安", city="", languages=("zh",)))
    assert second.display_name == "李安" and second.city == "" and second.languages == ("zh",)
    assert second.sectors == first.sectors and second.organisation == "TU Delft"
    assert second.time_zone == "Europe/Amsterdam"
    cleared = await store.update_profile(ann.user_id, ProfileChanges(sectors=()))
    assert cleared.sectors == () and cleared.languages == ("zh",)
    # The display name is the one messages and sessions show.
    assert (await store.user_credentials(ann.email))[0].display_name == "李安"


async def test_update_of_an_unknown_member_changes_nothing(store):
    assert await store.update_profile(4242, ProfileChanges(city="Hefei", sectors=("solid-waste",))) is None
    assert (await store.list_members(MemberQuery())).members == []


async def test_an_empty_update_returns_the_profile(store):
    ann = await make_user(store, "Ann", city="Guilin")
    assert (await store.update_profile(ann.user_id, ProfileChanges())).city == "Guilin"


async def test_concurrent_tag_replacements_leave_one_of_them(store):
    ann = await make_user(store, "Ann")
    lists = [("urban-renewal",), ("green-buildings", "solid-waste"), ("municipal-finance",)] * 4
    await asyncio.gather(*(store.update_profile(ann.user_id, ProfileChanges(sectors=sectors))
                           for sectors in lists))
    assert (await store.get_profile(ann.user_id)).sectors in {tuple(sorted(s)) for s in lists}


async def test_directory_orders_by_folded_name_then_id(store):
    for name in ("bob", "Émile", "Ann", "ann", "Zoë", "李华", "carl"):
        await make_user(store, name)
    listed = await store.list_members(MemberQuery())
    assert [m.display_name for m in listed.members] == [
        "Ann", "ann", "bob", "carl", "Zoë", "Émile", "李华"]  # code-point order after folding
    ids = [m.user_id for m in listed.members]
    assert ids[0] < ids[1] and listed.next_after is None


async def test_directory_pages_by_keyset_without_gaps_or_repeats(store):
    for i in range(7):
        await make_user(store, f"member {i % 3}")  # equal names: the id breaks the tie
    everyone = (await store.list_members(MemberQuery(limit=100))).members
    seen, after = [], None
    while True:
        page = await store.list_members(MemberQuery(limit=3, after=after))
        seen += page.members
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == everyone and len(seen) == 7
    assert len((await store.list_members(MemberQuery(limit=7))).members) == 7
    assert (await store.list_members(MemberQuery(limit=7))).next_after is None


async def test_directory_filters_combine_with_and(store):
    await make_user(store, "Ann", affiliation="expert", city="Liuzhou",
                    sectors=("green-transport",), languages=("en", "zh-Hans"))
    await make_user(store, "Bob", affiliation="expert", city="liuzhou",
                    sectors=("clean-energy",), languages=("de",))
    await make_user(store, "Cai", affiliation="city", city="Liuzhou",
                    sectors=("green-transport", "clean-energy"), languages=("zh",))
    await make_user(store, "Dan")
    assert await names(store, sector="green-transport") == ["Ann", "Cai"]
    assert await names(store, sector="clean-energy", affiliation="expert") == ["Bob"]
    assert await names(store, city="LIUZHOU") == ["Ann", "Bob", "Cai"]
    assert await names(store, city="Liuzhou", affiliation="city", sector="clean-energy") == ["Cai"]
    assert await names(store, language="zh") == ["Ann", "Cai"]  # zh finds zh-Hans too
    assert await names(store, language="zh-Hans") == ["Ann"]
    assert await names(store, language="z") == []  # a prefix of a subtag is not a match
    assert await names(store, language="de", sector="green-transport") == []
    assert await names(store, affiliation="ngo") == []


async def test_directory_text_search_is_case_insensitive_in_every_script(store):
    await make_user(store, "Jürgen Müller", organisation="Stadtwerke München")
    await make_user(store, "李华", organisation="柳州市城市规划设计研究院")
    await make_user(store, "Σοφία", organisation="ΕΜΠ")
    await make_user(store, "Bob", organisation="100% Green_Energy")
    assert await names(store, text="MÜLLER") == ["Jürgen Müller"]
    assert await names(store, text="münchen") == ["Jürgen Müller"]
    assert await names(store, text="李") == ["李华"]
    assert await names(store, text="规划") == ["李华"]  # organisation, two Chinese characters
    assert await names(store, text="σοφ") == ["Σοφία"]
    assert await names(store, text="εμπ") == ["Σοφία"]
    # LIKE wildcards in the query are literal characters.
    assert await names(store, text="%") == ["Bob"]
    assert await names(store, text="n_e") == ["Bob"]
    assert await names(store, text="0%") == ["Bob"]
    assert await names(store, text="x%y") == []


async def test_change_role(store):
    admin = await make_user(store, "Root", role="admin")
    ann = await make_user(store, "Ann")
    promoted = await store.change_role(ann.user_id, "moderator")
    assert promoted.role == "moderator" and promoted.display_name == "Ann"
    assert (await store.user_credentials(ann.email))[0].role == "moderator"
    assert (await store.change_role(ann.user_id, "admin")).role == "admin"
    assert await store.change_role(9999, "moderator") is None
    assert (await store.change_role(admin.user_id, "member")).role == "member"  # Ann is admin


async def test_the_last_admin_cannot_be_demoted(store):
    root = await make_user(store, "Root", role="admin")
    with pytest.raises(Conflict):
        await store.change_role(root.user_id, "moderator")
    assert (await store.get_profile(root.user_id)).role == "admin"
    assert (await store.change_role(root.user_id, "admin")).role == "admin"


async def test_two_admins_demoting_each_other_at_once_keep_one(store):
    for _ in range(5):
        a = await make_user(store, "A", role="admin")
        b = await make_user(store, "B", role="admin")
        # Everyone else steps down first, so a and b are the only admins.
        for member in (await store.list_members(MemberQuery(limit=100))).members:
            if member.role == "admin" and member.user_id not in (a.user_id, b.user_id):
                await store.change_role(member.user_id, "member")
        results = await asyncio.gather(store.change_role(a.user_id, "member"),
                                       store.change_role(b.user_id, "member"),
                                       return_exceptions=True)
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        roles = [(await store.get_profile(u.user_id)).role for u in (a, b)]
        assert sorted(roles) == ["admin", "member"]


async def test_the_search_key_finds_members_by_pinyin_and_alt_name(store):
    from chat.accounts.search_keys import search_key

    await make_user(store, "李华", search_key=search_key("李华"))
    await make_user(store, "Anna Müller", alt_name="安娜", search_key=search_key("Anna Müller", "安娜"))
    await make_user(store, "Lina Ho", search_key=search_key("Lina Ho"))
    await make_user(store, "Zhang Wei")  # no key written yet: the name still matches
    assert await names(store, text="Li") == ["Lina Ho", "李华"]
    assert await names(store, text="LI HUA") == ["李华"]
    assert await names(store, text="lihua") == ["李华"]
    assert await names(store, text="安娜") == ["Anna Müller"]
    assert await names(store, text="anna") == ["Anna Müller"]
    assert await names(store, text="zhang") == ["Zhang Wei"]
    # The key is matched as text, never as a pattern.
    assert await names(store, text="%") == []


async def test_members_without_a_search_key_are_listed_until_one_is_written(store):
    ann = await make_user(store, "Ann")
    bo = await make_user(store, "薄")
    cy = await make_user(store, "Cy", search_key="cy")
    assert await store.members_without_search_key(10) == [(ann.user_id, "Ann", ""),
                                                          (bo.user_id, "薄", "")]
    assert await store.members_without_search_key(1) == [(ann.user_id, "Ann", "")]
    await store.update_profile(ann.user_id, ProfileChanges(search_key="ann"))
    await store.update_profile(bo.user_id, ProfileChanges(search_key=""))
    assert await store.members_without_search_key(10) == []
    assert (await store.get_profile(cy.user_id)).display_name == "Cy"


async def test_a_time_zone_is_unknown_until_set_and_can_be_cleared(store):
    ann = await make_user(store, "Ann")
    assert (await store.get_profile(ann.user_id)).time_zone is None
    set_zone = await store.update_profile(ann.user_id, ProfileChanges(time_zone="Europe/Berlin"))
    assert set_zone.time_zone == "Europe/Berlin"
    # UTC chosen on purpose is a zone like any other.
    assert (await store.update_profile(ann.user_id, ProfileChanges(time_zone="UTC"))).time_zone == "UTC"
    assert (await store.update_profile(ann.user_id, ProfileChanges(time_zone=""))).time_zone is None
    assert (await store.update_profile(ann.user_id, ProfileChanges(bio="x"))).time_zone is None
