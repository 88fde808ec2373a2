"""The Store contract for eco-city projects (chat/store/projects.py), on SQLite and PostgreSQL:
pages, members who follow, listing with filters and paging, documents, the timeline and the
notifications an update makes."""

from __future__ import annotations

from chat.models import (
    Project, ProjectChanges, ProjectDocument, ProjectFigure, ProjectUpdate, SendRequest, Topic,
)
from tests.support.store_data import NOW, users


async def thread(store, author, topic_id: str, rooms=("zhuhai", "green-buildings")) -> None:
    await store.create_topic(Topic(
        topic_id=topic_id, kind="topic", title="Retrofit", summary="", body="", body_html="",
        author_id=author.user_id, author_name=author.display_name, created_at_ms=NOW,
        last_activity_ms=NOW, reply_count=0, resolved=False, pinned=False, room_ids=rooms))


async def project(store, author, project_id: str, *, city="zhuhai", sectors=("green-buildings",),
                  status="running", at=NOW, members=()) -> Project:
    topic_id = f"t-{project_id.removeprefix('p-')}"
    await thread(store, author, topic_id, (city, *sectors))
    p = Project(
        project_id=project_id, name_en="Xiangzhou retrofit", name_zh="香洲改造", city=city,
        sectors=tuple(sectors), status=status, description="Old flats, new insulation.",
        figures=(ProjectFigure("CO2 saved", "减排", 1250.5, "t/yr"), ProjectFigure("", "面积", 32000, "m²")),
        organisations=("Zhuhai HCB", "GIZ"), topic_id=topic_id, created_by=author.user_id,
        created_at_ms=at, updated_at_ms=at, members=tuple((m.user_id, "") for m in members))
    await store.create_project(p)
    return p


async def test_a_project_keeps_its_page_and_its_members_follow_it(store):
    mod, ann, bob = await users(store, "mod", "ann", "bob")
    await project(store, mod, "p-0001", members=(ann, bob))
    got = await store.get_project("p-0001", ann.user_id)
    assert (got.name_en, got.name_zh, got.city, got.sectors, got.status) == (
        "Xiangzhou retrofit", "香洲改造", "zhuhai", ("green-buildings",), "running")
    assert got.figures == (ProjectFigure("CO2 saved", "减排", 1250.5, "t/yr"), ProjectFigure("", "面积", 32000, "m²"))
    assert got.organisations == ("Zhuhai HCB", "GIZ")
    assert got.members == ((ann.user_id, "ann"), (bob.user_id, "bob"))
    assert (got.followers, got.following, got.topic_id) == (2, True, "t-0001")
    assert (await store.get_project("p-0001", mod.user_id)).following is False
    assert await store.get_project("p-nope", ann.user_id) is None
    assert await store.is_project_member("p-0001", bob.user_id)
    assert not await store.is_project_member("p-0001", mod.user_id)


async def test_follow_and_unfollow_are_idempotent(store):
    mod, ann = await users(store, "mod", "ann")
    await project(store, mod, "p-0001")
    assert await store.set_following("p-0001", ann.user_id, True, NOW) is True
    assert await store.set_following("p-0001", ann.user_id, True, NOW) is False
    assert (await store.get_project("p-0001", ann.user_id)).followers == 1
    assert await store.set_following("p-0001", ann.user_id, False, NOW) is True
    assert await store.set_following("p-0001", ann.user_id, False, NOW) is False
    got = await store.get_project("p-0001", ann.user_id)
    assert (got.followers, got.following) == (0, False)


async def test_edits_change_named_fields_and_new_members_follow(store):
    mod, ann, bob = await users(store, "mod", "ann", "bob")
    await project(store, mod, "p-0001", members=(ann,))
    await store.set_following("p-0001", ann.user_id, False, NOW)  # a member may stop following
    changed = await store.edit_project("p-0001", ProjectChanges(
        status="completed", sectors=("green-buildings", "clean-energy"), figures=(),
        organisations=("GIZ",), members=(bob.user_id,)), NOW + 5)
    assert changed
    got = await store.get_project("p-0001", bob.user_id)
    assert (got.status, got.sectors, got.figures, got.organisations) == (
        "completed", ("green-buildings", "clean-energy"), (), ("GIZ",))
    assert (got.name_en, got.description, got.updated_at_ms) == ("Xiangzhou retrofit", "Old flats, new insulation.", NOW + 5)
    assert got.members == ((bob.user_id, "bob"),) and got.following and got.followers == 1
    assert await store.edit_project("p-nope", ProjectChanges(status="planned"), NOW) is False


async def test_listing_filters_by_city_sector_and_status_newest_first_in_pages(store):
    mod, = await users(store, "mod")
    await project(store, mod, "p-0001", city="zhuhai", sectors=("green-buildings",), status="running", at=NOW)
    await project(store, mod, "p-0002", city="liuzhou", sectors=("green-transport", "clean-energy"),
                  status="planned", at=NOW + 1)
    await project(store, mod, "p-0003", city="zhuhai", sectors=("clean-energy",), status="completed", at=NOW + 2)
    await project(store, mod, "p-0004", city="zhuhai", sectors=(), status="running", at=NOW + 2)

    async def ids(**filters):
        args = {"city": None, "sector": None, "status": None, "after": None, "limit": 10} | filters
        return [p.project_id for p in await store.list_projects(mod.user_id, **args)]

    assert await ids() == ["p-0004", "p-0003", "p-0002", "p-0001"]
    assert await ids(city="zhuhai") == ["p-0004", "p-0003", "p-0001"]
    assert await ids(sector="clean-energy") == ["p-0003", "p-0002"]
    assert await ids(status="running") == ["p-0004", "p-0001"]
    assert await ids(city="zhuhai", sector="clean-energy", status="completed") == ["p-0003"]
    assert await ids(sector="water-management") == []
    assert await ids(limit=2) == ["p-0004", "p-0003"]
    assert await ids(limit=2, after=(NOW + 2, "p-0003")) == ["p-0002", "p-0001"]


async def test_documents_are_added_once_and_removed(store):
    mod, = await users(store, "mod")
    await project(store, mod, "p-0001")
    doc = ProjectDocument("d-abc", "doc", {"title_en": "Guide", "title_zh": "指南"}, mod.user_id, NOW + 1)
    file = ProjectDocument("f-xyz", "file", {"id": "f-xyz", "name": "城市.pdf", "size": 10}, mod.user_id, NOW + 2)
    assert await store.add_project_document("p-0001", doc)
    assert await store.add_project_document("p-0001", file)
    assert not await store.add_project_document("p-0001", doc)
    got = await store.get_project("p-0001", mod.user_id)
    assert got.documents == (doc, file) and got.updated_at_ms == NOW + 2
    assert await store.remove_project_document("p-0001", "d-abc", NOW + 3)
    assert not await store.remove_project_document("p-0001", "d-abc", NOW + 3)
    assert [d.item_id for d in (await store.get_project("p-0001", mod.user_id)).documents] == ["f-xyz"]


def update(update_id: str, author, day: str, at: int) -> ProjectUpdate:
    return ProjectUpdate(update_id=update_id, project_id="p-0001", author_id=author.user_id,
                         author_name=author.display_name, happened_on=day, body=f"**{update_id}**",
                         html=f"<p><strong>{update_id}</strong></p>",
                         attachments=({"id": "f-1", "name": "a.png"},), created_at_ms=at)


async def test_the_timeline_is_newest_first_by_date_then_posting_in_pages(store):
    mod, ann = await users(store, "mod", "ann")
    await project(store, mod, "p-0001", members=(ann,))
    for u in (update("pu-a", ann, "2026-03-01", NOW), update("pu-b", ann, "2026-05-01", NOW + 1),
              update("pu-c", ann, "2026-03-01", NOW + 2), update("pu-d", ann, "2026-01-15", NOW + 3)):
        await store.add_project_update(u)
    page = await store.project_updates("p-0001", before=None, limit=3)
    assert [u.update_id for u in page] == ["pu-b", "pu-c", "pu-a"]
    last = page[-1]
    assert (last.author_name, last.body, last.attachments, last.message_id) == (
        "ann", "**pu-a**", ({"id": "f-1", "name": "a.png"},), None)
    rest = await store.project_updates("p-0001", before=(last.happened_on, last.created_at_ms, last.update_id), limit=3)
    assert [u.update_id for u in rest] == ["pu-d"]
    assert (await store.get_project_update("pu-c")).happened_on == "2026-03-01"
    assert await store.get_project_update("pu-nope") is None


async def test_an_update_notifies_followers_and_members_but_its_author_once_each(store):
    mod, ann, bob, cat, dan = await users(store, "mod", "ann", "bob", "cat", "dan")
    await project(store, mod, "p-0001", members=(ann, bob))
    await store.set_following("p-0001", bob.user_id, False, NOW)  # still a member
    await store.set_following("p-0001", cat.user_id, True, NOW)
    await store.add_project_update(update("pu-a", ann, "2026-03-01", NOW))
    [outcome] = await store.append_batch([SendRequest(
        "t-0001", ann.user_id, "ann", "~pu-a", "**pu-a**", data={"project_update": {"id": "pu-a", "project": "p-0001"}})], NOW)
    made = await store.notify_project_update("p-0001", "pu-a", outcome.message.message_id, NOW + 1)
    assert sorted(n.user_id for n in made) == sorted([bob.user_id, cat.user_id])
    assert {(n.kind, n.room_id, n.seq, n.actor_id, n.project_id, n.excerpt) for n in made} == {
        ("project_update", "t-0001", outcome.message.seq, ann.user_id, "p-0001", "**pu-a**")}
    assert (await store.get_project_update("pu-a")).message_id == outcome.message.message_id
    listed = await store.list_notifications(cat.user_id, unread_only=True, before_id=2**62, limit=10)
    assert [(n.kind, n.project_id) for n in listed] == [("project_update", "p-0001")]
    assert await store.unread_notifications(dan.user_id) == 0
    # A message outside the project's thread notifies nobody.
    [other] = await store.append_batch([SendRequest("zhuhai", ann.user_id, "ann", "c2", "hi")], NOW)
    assert await store.notify_project_update("p-0001", "pu-a", other.message.message_id, NOW) == []
