"""Eco-city projects over real sockets on two production nodes: a moderator creates a project
(its thread appears in its city and sector rooms), a member posts an update (the thread's
readers get it live on the other node, followers get a notification there), following,
listing with filters and paging, documents, who may do what, and bad input changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cli import cli_env, ecolink
from tests.support.client import WsClient, call, moderator, register
from tests.support.nodes import running_nodes
from tests.support.store_data import table_rows

P = "/api/v1/projects"


def draft(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": {"en": "Xiangzhou retrofit", "zh": "香洲老旧小区改造"}, "city": "zhuhai",
        "sectors": ["green-buildings", "urban-renewal"], "status": "running",
        "description": "Insulating 40 blocks of 1990s flats.",
        "figures": [{"label_en": "CO2 saved", "label_zh": "二氧化碳减排", "value": 1250.5, "unit": "t/yr"},
                    {"label_en": "Floor area", "value": 320000, "unit": "m²"}],
        "organisations": ["Zhuhai Housing Bureau", "GIZ"],
    }
    body.update(fields)
    return body


async def create(node: Any, account: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await call(node, "POST", P, account, json=draft(**fields))
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()["project"]
    return project


async def upload(node: Any, account: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
    response = await call(node, "POST", "/api/v1/files", account, params={"name": name},
                          headers={"Content-Type": "text/plain"}, content=data)
    assert response.status_code == 201, response.text
    file: dict[str, Any] = response.json()
    return file


async def published_document(node: Any, mod: dict[str, Any]) -> str:
    """A library document, proposed and published by a moderator."""
    file = await upload(node, mod, "guide.txt", b"sponge city guide\n")
    response = await call(node, "POST", "/api/v1/library", mod, json={
        "title_en": "Sponge city guide", "title_zh": "海绵城市指南", "description": "Rain gardens.",
        "type": "guide", "language": "both", "year": 2021, "source": "EC-Link",
        "sectors": ["water-management"], "cities": ["zhuhai"], "file": file["id"], "note": "first"})
    assert response.status_code == 201, response.text
    doc_id: str = response.json()["document"]["id"]
    if response.json()["document"]["state"] != "published":
        review = await call(node, "POST", f"/api/v1/library/{doc_id}/review", mod, json={"action": "publish"})
        assert review.status_code == 200, review.text
    return doc_id


def notified(project: str) -> Any:
    return lambda f: (f["type"] == "notification" and f["notification"]["kind"] == "project_update"
                      and f["notification"].get("project") == project)


async def test_an_update_reaches_the_thread_live_and_followers_on_the_other_node(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        mod = await moderator(n1, "Mod")
        ann, fay, zed = (await register(n1.url, "Ann"), await register(n2.url, "Fay"),
                         await register(n2.url, "Zed"))
        project = await create(n1, mod, members=[ann["user"]["id"]])
        pid, thread = project["id"], project["thread"]
        assert pid.startswith("p-") and thread.startswith("t-")
        assert project["name"] == {"en": "Xiangzhou retrofit", "zh": "香洲老旧小区改造"}
        assert (project["city"], project["sectors"], project["status"]) == (
            "zhuhai", ["urban-renewal", "green-buildings"], "running")  # catalog order
        assert project["figures"][1] == {"label_en": "Floor area", "label_zh": "", "value": 320000, "unit": "m²"}
        assert project["members"] == [{"id": ann["user"]["id"], "name": "Ann"}]
        assert (project["followers"], project["following"], project["can_edit"]) == (1, False, True)

        # The thread is listed in the city room and the sector rooms, like a topic.
        for room in ("zhuhai", "green-buildings", "urban-renewal"):
            topics = (await call(n2, "GET", f"/api/v1/rooms/{room}/topics", fay)).json()["topics"]
            assert [t["id"] for t in topics] == [thread]
        assert (await call(n2, "GET", f"/api/v1/topics/{thread}", fay)).json()["topic"]["title"] == \
            "Xiangzhou retrofit / 香洲老旧小区改造"

        followed = await call(n2, "PUT", f"{P}/{pid}/follow", fay)
        assert followed.status_code == 200, followed.text
        assert (followed.json()["project"]["followers"], followed.json()["project"]["following"]) == (2, True)
        assert followed.json()["project"]["can_edit"] is False

        fay_ws = await WsClient.connect(n2.ws_url, fay["token"])
        zed_ws = await WsClient.connect(n2.ws_url, zed["token"])  # reads the thread, follows nothing
        assert (await zed_ws.join(thread, since=0))["type"] == "joined"

        report = await upload(n1, ann, "block7 报告.txt", b"U-value 0.35\n")
        posted = await call(n1, "POST", f"{P}/{pid}/updates", ann, json={
            "happened_on": "2026-03-01", "body": "Block 7 **insulated** <script>x</script>",
            "attachments": [report["id"]]})
        assert posted.status_code == 201, posted.text
        update = posted.json()["update"]
        assert (update["happened_on"], update["author"], update["attachments"]) == (
            "2026-03-01", {"id": ann["user"]["id"], "name": "Ann"}, [report])
        assert "<strong>insulated</strong>" in update["html"] and "<script" not in update["html"]

        live = await zed_ws.wait_for(lambda f: f["type"] == "message" and f["room"] == thread
                                     and "project_update" in f)
        assert live["project_update"] == {"id": update["id"], "project": pid, "happened_on": "2026-03-01"}
        assert live["id"] == update["message_id"] and live["author"]["id"] == ann["user"]["id"]
        assert live["attachments"] == [report]
        # Every signed-in member may download an update's file, on either node.
        got = await call(n2, "GET", f"/api/v1/files/{report['id']}", zed)
        assert got.status_code == 200 and got.content == b"U-value 0.35\n"
        note = (await fay_ws.wait_for(notified(pid)))["notification"]
        assert (note["room"], note["message_id"], note["actor"]["name"]) == (thread, update["message_id"], "Ann")
        assert note["excerpt"].startswith("Block 7")

        # Listed for Fay with the project; Zed (not following) and Ann (its author) get none.
        listed = (await call(n1, "GET", "/api/v1/notifications", fay)).json()["notifications"]
        assert [(n["kind"], n.get("project")) for n in listed] == [("project_update", pid)]
        for account in (zed, ann):
            assert (await call(n1, "GET", "/api/v1/notifications", account)).json()["notifications"] == []
        # No "reply" notification for the thread's author (the moderator) either: followers only.
        assert (await call(n1, "GET", "/api/v1/notifications", mod)).json()["notifications"] == []

        timeline = (await call(n2, "GET", f"{P}/{pid}/updates", zed)).json()
        assert [u["id"] for u in timeline["updates"]] == [update["id"]] and timeline["next"] is None
        await fay_ws.close()
        await zed_ws.close()


async def test_timeline_listing_follow_and_documents(production):
    async with running_nodes(production()) as [node]:
        mod = await moderator(node, "Mod")
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        first = await create(node, mod, members=[ann["user"]["id"]])
        second = await create(node, mod, name={"zh": "柳州公交"}, city="liuzhou",
                              sectors=["green-transport"], status="planned")
        for day in ("2026-01-10", "2026-04-02", "2026-02-20"):
            r = await call(node, "POST", f"{P}/{first['id']}/updates", ann, json={"happened_on": day, "body": day})
            assert r.status_code == 201, r.text
        page = (await call(node, "GET", f"{P}/{first['id']}/updates?limit=2", bob)).json()
        assert [u["happened_on"] for u in page["updates"]] == ["2026-04-02", "2026-02-20"]
        rest = (await call(node, "GET", f"{P}/{first['id']}/updates?limit=2&before={page['next']}", bob)).json()
        assert [u["happened_on"] for u in rest["updates"]] == ["2026-01-10"] and rest["next"] is None

        async def ids(query: str) -> list[str]:
            got = await call(node, "GET", f"{P}{query}", bob)
            assert got.status_code == 200, got.text
            return [p["id"] for p in got.json()["projects"]]

        assert await ids("") == [second["id"], first["id"]]
        assert await ids("?city=zhuhai") == [first["id"]]
        assert await ids("?sector=green-transport") == [second["id"]]
        assert await ids("?status=planned&city=liuzhou") == [second["id"]]
        assert await ids("?sector=water-management") == []
        one = (await call(node, "GET", f"{P}?limit=1", bob)).json()
        assert [p["id"] for p in one["projects"]] == [second["id"]]
        assert await ids(f"?limit=1&after={one['next']}") == [first["id"]]

        for _ in range(2):  # idempotent
            assert (await call(node, "PUT", f"{P}/{first['id']}/follow", bob)).json()["project"]["followers"] == 2
        for _ in range(2):
            assert (await call(node, "DELETE", f"{P}/{first['id']}/follow", bob)).json()["project"]["following"] is False

        edited = await call(node, "PATCH", f"{P}/{first['id']}", ann, json={"status": "completed",
                                                                              "figures": []})
        assert edited.status_code == 200, edited.text
        assert (edited.json()["project"]["status"], edited.json()["project"]["figures"]) == ("completed", [])
        # A member may not change the member list; a moderator may (the new member follows).
        members = {"members": [ann["user"]["id"], bob["user"]["id"]]}
        assert (await call(node, "PATCH", f"{P}/{first['id']}", ann, json=members)).status_code == 403
        moved = (await call(node, "PATCH", f"{P}/{first['id']}", mod, json=members)).json()["project"]
        assert [m["name"] for m in moved["members"]] == ["Ann", "Bob"] and moved["followers"] == 2

        # Documents: a published library document, or one of your uploads (then readable by all).
        doc_id = await published_document(node, mod)
        plan = await upload(node, ann, "plan.txt", b"site plan\n")
        docs = f"{P}/{first['id']}/documents"
        for body in ({"doc": doc_id}, {"file": plan["id"]}, {"doc": doc_id}, {"file": plan["id"]}):
            added = await call(node, "POST", docs, ann, json=body)
            assert added.status_code == 200, added.text
        # The page holds the file: an update may not show it too (removing it from the page
        # would take it from the update).
        reused = await call(node, "POST", f"{P}/{first['id']}/updates", ann,
                            json={"happened_on": "2026-04-03", "body": "again", "attachments": [plan["id"]]})
        assert reused.status_code == 422, reused.text
        listed = added.json()["project"]["documents"]
        assert [(d["kind"], d["id"]) for d in listed] == [("doc", doc_id), ("file", plan["id"])]
        assert (listed[0]["title_en"], listed[0]["title_zh"], listed[1]["file"]) == (
            "Sponge city guide", "海绵城市指南", plan)
        assert (await call(node, "GET", f"/api/v1/files/{plan['id']}", bob)).status_code == 200
        for body, status in (({"doc": "d-nope"}, 404), ({"file": "f-nope"}, 422), ({}, 422),
                             ({"doc": doc_id, "file": plan["id"]}, 422)):
            refused = await call(node, "POST", docs, ann, json=body)
            assert refused.status_code == status, (body, refused.text)
        cat = await register(node.url, "Cat")  # (Bob is a member by now)
        assert (await call(node, "POST", docs, cat, json={"doc": doc_id})).status_code == 403
        removed = await call(node, "DELETE", f"{docs}?id={plan['id']}", ann)
        assert [d["id"] for d in removed.json()["project"]["documents"]] == [doc_id]
        assert (await call(node, "GET", f"/api/v1/files/{plan['id']}", bob)).status_code == 404
        assert (await call(node, "DELETE", f"{docs}?id={plan['id']}", ann)).status_code == 404
        assert (await call(node, "DELETE", f"{docs}?id=nonsense", ann)).status_code == 400


async def test_who_may_and_bad_input_change_nothing(production):
    # A budget that lets every bad request through to be refused for what it is.
    async with running_nodes(production(member_rate_per_s=1000, member_rate_burst=10_000)) as [node]:
        mod = await moderator(node, "Mod")
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        project = await create(node, mod, members=[ann["user"]["id"]])
        pid = project["id"]

        refused = await call(node, "POST", P, bob, json=draft())
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        for path, body in ((f"{P}/{pid}/updates", {"happened_on": "2026-03-01", "body": "hi"}),
                           (f"{P}/{pid}", {"status": "completed"})):
            method = "POST" if path.endswith("updates") else "PATCH"
            got = await call(node, method, path, bob, json=body)
            assert got.status_code == 403, got.text
            assert "members" in got.json()["error"]["message"]
        assert (await call(node, "GET", P, None)).status_code == 401
        # A webinar's guest may neither read nor follow projects.
        start = datetime.now(UTC) + timedelta(hours=1)
        webinar = await call(node, "POST", "/api/v1/webinars", mod, json={
            "title": {"en": "Retrofits"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(), "guests_allowed": True})
        assert webinar.status_code == 201, webinar.text
        guest = await call(node, "POST", f"/api/v1/webinars/{webinar.json()['webinar']['id']}/guests", None,
                           json={"display_name": "Guest"})
        assert guest.status_code == 201, guest.text
        for method, path in (("GET", P), ("GET", f"{P}/{pid}"), ("PUT", f"{P}/{pid}/follow"),
                             ("GET", f"{P}/{pid}/updates")):
            refused = await call(node, method, path, guest.json())
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "guest_scope", refused.text
        assert (await call(node, "GET", f"{P}/p-0000000000000000", bob)).status_code == 404
        assert (await call(node, "GET", f"{P}/nope", bob)).status_code == 400

        bad_projects = [
            {"name": {}}, {"name": {"en": " "}}, {"city": "berlin"}, {"city": "green-buildings"},
            {"sectors": ["zhuhai"]}, {"sectors": ["urban-renewal", "green-buildings", "green-transport",
                                                  "clean-energy", "water-management"]},
            {"status": "done"}, {"figures": [{"label_en": "x", "value": "12"}]},
            {"figures": [{"value": 3}]}, {"figures": [{"label_en": "x", "value": True}]},
            {"figures": [{"label_en": "x", "value": 1, "unit": "u"}] * 21},
            {"organisations": [""]}, {"members": [999_999]}, {"members": ["1"]},
            {"description": "x" * 4001}, {"name": {"en": "x" * 201}}, {"city": None},
        ]
        for fields in bad_projects:
            got = await call(node, "POST", P, mod, json=draft(**fields))
            assert got.status_code == 422, (fields, got.text)
        assert (await call(node, "POST", P, mod, content=b"{", headers={"Content-Type": "application/json"})).status_code == 400

        bad_updates = [{"happened_on": "2026-13-01", "body": "x"}, {"happened_on": "yesterday", "body": "x"},
                       {"happened_on": "1989-12-31", "body": "x"}, {"happened_on": "2999-01-01", "body": "x"},
                       {"happened_on": "2026-03-01", "body": "  "}, {"happened_on": "2026-03-01"},
                       {"happened_on": "2026-03-01", "body": "x" * 20_001},
                       {"happened_on": "2026-03-01", "body": "x", "attachments": ["f-nope"]},
                       {"happened_on": "2026-03-01", "body": "x", "attachments": ["f-a"] * 11}]
        bad_updates += [{"happened_on": "2026-03-01", "body": "x", "attachments": [3]},
                        {"happened_on": "2026-03-01", "body": "x", "attachments": "f-a"}]
        for body in bad_updates:
            got = await call(node, "POST", f"{P}/{pid}/updates", ann, json=body)
            assert got.status_code == 422, (body, got.text)
            if "attachments" in body:  # named as every body that attaches files names it
                assert "attachments" in {k.split(".")[0] for k in got.json()["error"]["details"]}, (body, got.text)
        for query in ("?status=done", "?city=berlin", "?sector=zhuhai", "?limit=0", "?after=x"):
            assert (await call(node, "GET", f"{P}{query}", bob)).status_code in (400, 422), query
        assert (await call(node, "GET", f"{P}/{pid}/updates?before=1.2.3", bob)).status_code == 400

        assert (await call(node, "PATCH", f"{P}/{pid}", mod, json={"name": {"en": "", "zh": ""}})).status_code == 422
        settings = node.node.settings
        assert len(await table_rows(settings, "projects")) == 1
        assert await table_rows(settings, "project_updates") == []
        after = (await call(node, "GET", f"{P}/{pid}", bob)).json()["project"]
        assert {k: v for k, v in after.items() if k not in ("following", "can_edit")} == \
            {k: v for k, v in project.items() if k not in ("following", "can_edit")}


async def test_seed_projects_creates_them_once_and_reports_refusals(make_settings, tmp_path):
    settings = make_settings()
    env = cli_env(ECOLINK_DATA_DIR=str(settings.data_dir))
    async with running_nodes(settings) as [node]:
        mod = await moderator(node, "Mod")
        ann = await register(node.url, "Ann")
    seed = tmp_path / "projects.yaml"
    seed.write_text(f"""
- name: {{en: Xiangzhou retrofit, zh: 香洲老旧小区改造}}
  city: zhuhai
  sectors: [green-buildings]
  status: running
  figures: [{{label_en: CO2 saved, value: 1250, unit: t/yr}}]
  organisations: [GIZ]
  members: [{ann['user']['email']}]
- name: {{zh: 柳州公交}}
  city: berlin
- name: {{en: Nobody}}
  city: hefei
  members: [nobody@example.test]
""", encoding="utf-8")
    first = await ecolink("seed-projects", str(seed), "--as", mod["user"]["email"], env=env)
    assert first.code == 1, first.out
    assert "created 1 of 3 projects; refused 2" in first.out
    assert "project 2: some fields are not valid" in first.out and "city" in first.out
    assert "project 3: a member's email has no account" in first.out
    again = await ecolink("seed-projects", str(seed), "--as", mod["user"]["email"], env=env)
    assert "created 0 of 3 projects" in again.out
    async with running_nodes(settings) as [node]:
        listed = (await call(node, "GET", P, ann)).json()["projects"]
        assert [(p["name"]["zh"], p["members"][0]["name"], p["following"]) for p in listed] == [
            ("香洲老旧小区改造", "Ann", True)]
        topics = (await call(node, "GET", "/api/v1/rooms/zhuhai/topics", ann)).json()["topics"]
        assert [t["id"] for t in topics] == [listed[0]["thread"]]
    for args in (["seed-projects", str(tmp_path / "missing.yaml")], ["seed-projects", str(seed), "--as", ann["user"]["email"]]):
        refused = await ecolink(*args, env=env)
        assert refused.code == 2, refused.out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: not a list\n", encoding="utf-8")
    assert (await ecolink("seed-projects", str(bad), env=env)).code == 2
