"""Webinars over real sockets: scheduling (moderators), reading and listing them, states with
their log entries and notifications across two nodes, the audience chat's modes, edits and
cancellation, the calendar file (parsed back with icalendar), the sweep, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from icalendar import Calendar

from chat.errors import NotFound

from tests.support.client import WsClient, call, is_type, moderator, register, send_acked, sync
from tests.support.nodes import running_nodes

HOUR = timedelta(hours=1)
ROOM = "green-buildings"


def at(delta: timedelta, offset_h: int = 8) -> str:
    """An instant `delta` from now, written with a +offset (as a host in Shanghai would)."""
    zone = timezone(timedelta(hours=offset_h))
    return (datetime.now(UTC) + delta).astimezone(zone).isoformat(timespec="seconds")


def draft(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": {"en": "Green roofs in Hefei", "zh": "合肥的绿色屋顶"},
        "description": "**Why** roofs matter <script>alert(1)</script>",
        "starts_at": at(2 * HOUR), "ends_at": at(3 * HOUR), "time_zone": "Asia/Shanghai",
        "rooms": [ROOM, "hefei"],
    }
    body.update(fields)
    return body


async def schedule(node: Any, account: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = await call(node, "POST", "/api/v1/webinars", account, json=draft(**fields))
    assert response.status_code == 201, response.text
    webinar: dict[str, Any] = response.json()["webinar"]
    return webinar


def webinar_entry(room: str, change: str) -> Any:
    return lambda f: f["type"] == "webinar" and f["room"] == room and f["change"] == change


def notified(kind: str, room: str) -> Any:
    return lambda f: (f["type"] == "notification" and f["notification"]["kind"] == kind
                      and f["notification"]["room"] == room)


async def test_a_moderator_schedules_a_webinar_members_read_list_and_register(backend):
    async with running_nodes(backend()) as [node]:
        mod = await moderator(node, "Mod")
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        starts = at(2 * HOUR)
        webinar = await schedule(node, mod, starts_at=starts, hosts=[ann["user"]["id"]],
                                 panelists=[bob["user"]["id"]], premoderated=True)
        wid = webinar["id"]
        assert wid.startswith("webinar-") and len(wid) == len("webinar-") + 16
        assert webinar["title"] == {"en": "Green roofs in Hefei", "zh": "合肥的绿色屋顶"}
        assert webinar["starts_at"] == datetime.fromisoformat(starts).astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
        assert webinar["local"]["starts_at"] == starts  # in Asia/Shanghai, +08:00
        assert webinar["time_zone"] == "Asia/Shanghai"
        assert (webinar["state"], webinar["chat"], webinar["premoderated"], webinar["guests_allowed"]) == (
            "scheduled", {"mode": "open", "slow_s": 0}, True, False)
        assert webinar["rooms"] == [ROOM, "hefei"]
        assert webinar["hosts"] == [{"id": ann["user"]["id"], "name": "Ann"}]
        assert webinar["panelists"] == [{"id": bob["user"]["id"], "name": "Bob"}]
        assert "<strong>Why</strong>" in webinar["html"] and "<script" not in webinar["html"]
        assert (webinar["role"], webinar["registered"], webinar["registrations"], webinar["version"]) == (
            "moderator", False, 0, 0)
        assert webinar["page"] == f"/#/webinar/{wid}"

        cat = await register(node.url, "Cat")
        seen = (await call(node, "GET", f"/api/v1/webinars/{wid}", cat)).json()["webinar"]
        assert (seen["role"], seen["registered"]) == ("attendee", False)
        for account, role in ((ann, "host"), (bob, "panelist")):
            got = await call(node, "GET", f"/api/v1/webinars/{wid}", account)
            assert got.json()["webinar"]["role"] == role
        # The helper the board's rules ask (by room id), as the routes answer.
        service = node.node.webinars
        for account, role in ((ann, "host"), (bob, "panelist"), (cat, "attendee"), (mod, "moderator")):
            user = await node.node.accounts.authenticate(account["token"])
            assert await service.role_in(user, wid) == role
        with pytest.raises(NotFound):
            await service.role_in(user, "zhuhai")
        for _ in range(2):  # idempotent
            put = await call(node, "PUT", f"/api/v1/webinars/{wid}/registration", cat)
            assert put.status_code == 200, put.text
            assert (put.json()["webinar"]["registered"], put.json()["webinar"]["registrations"]) == (True, 1)

        upcoming = (await call(node, "GET", "/api/v1/webinars?when=upcoming", cat)).json()
        assert [w["id"] for w in upcoming["webinars"]] == [wid] and upcoming["next"] is None
        assert upcoming["webinars"][0]["registered"] is True and "description" not in upcoming["webinars"][0]
        in_room = (await call(node, "GET", f"/api/v1/rooms/{ROOM}/webinars", cat)).json()
        assert [w["id"] for w in in_room["webinars"]] == [wid]
        assert (await call(node, "GET", "/api/v1/rooms/zhuhai/webinars", cat)).json()["webinars"] == []
        assert (await call(node, "GET", "/api/v1/webinars?when=live", cat)).json()["webinars"] == []

        # Its log and the listing room's tell of it; every member may join the webinar's room.
        c = await WsClient.connect(node.ws_url, cat["token"])
        for room in (wid, ROOM):
            assert (await c.join(room, since=0))["type"] == "joined"
            entry = await c.wait_for(webinar_entry(room, "scheduled"))
            assert entry["webinar"]["id"] == wid and entry["author"]["id"] == mod["user"]["id"]
            assert "description" not in entry["webinar"]
        gone = await call(node, "DELETE", f"/api/v1/webinars/{wid}/registration", cat)
        assert (gone.json()["webinar"]["registered"], gone.json()["webinar"]["registrations"]) == (False, 0)
        await c.close()


async def test_pages_of_upcoming_webinars_follow_next(backend):
    async with running_nodes(backend()) as [node]:
        mod = await moderator(node, "Mod")
        ids = [(await schedule(node, mod, starts_at=at(HOUR * (i + 1)), ends_at=at(HOUR * (i + 2))))["id"]
               for i in range(3)]
        first = (await call(node, "GET", "/api/v1/webinars?limit=2", mod)).json()
        assert [w["id"] for w in first["webinars"]] == ids[:2] and first["next"]
        second = (await call(node, "GET", f"/api/v1/webinars?limit=2&after={first['next']}", mod)).json()
        assert [w["id"] for w in second["webinars"]] == ids[2:] and second["next"] is None


async def test_states_chat_modes_and_notifications_reach_members_on_the_other_node(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        mod = await moderator(n1, "Mod")
        host, bob, cat = (await register(n1.url, "Host"), await register(n2.url, "Bob"),
                          await register(n2.url, "Cat"))
        wid = (await schedule(n1, mod, hosts=[host["user"]["id"]]))["id"]
        assert (await call(n2, "PUT", f"/api/v1/webinars/{wid}/registration", bob)).status_code == 200
        b = await WsClient.connect(n2.ws_url, bob["token"])
        c = await WsClient.connect(n2.ws_url, cat["token"], binary=False)
        h = await WsClient.connect(n1.ws_url, host["token"])
        for client in (b, c, h):
            await sync(client)
            assert (await client.join(wid))["type"] == "joined"
        assert (await c.join(ROOM))["type"] == "joined"

        # Only hosts (and moderators, admins) run it.
        for account in (bob, cat):
            refused = await call(n2, "POST", f"/api/v1/webinars/{wid}/start", account)
            assert refused.status_code == 403, refused.text
        started = await call(n1, "POST", f"/api/v1/webinars/{wid}/start", host)
        assert started.status_code == 200, started.text
        assert started.json()["webinar"]["state"] == "live" and started.json()["webinar"]["started_at"]
        again = await call(n1, "POST", f"/api/v1/webinars/{wid}/start", host)
        assert again.status_code == 200 and again.json()["webinar"]["state"] == "live"
        live = await b.wait_for(webinar_entry(wid, "live"))
        assert live["webinar"]["state"] == "live" and live["author"]["id"] == host["user"]["id"]
        await c.wait_for(webinar_entry(ROOM, "live"))
        note = (await b.wait_for(notified("webinar_live", wid)))["notification"]
        assert (note["seq"], note["message_id"], note["actor"]["id"]) == (live["seq"], live["id"], host["user"]["id"])
        assert note["excerpt"] == "Green roofs in Hefei / 合肥的绿色屋顶"
        await sync(c)
        assert not [f for f in c.frames if f["type"] == "notification"]  # Cat did not register
        listed = (await call(n2, "GET", "/api/v1/notifications", bob)).json()["notifications"]
        assert [(n["kind"], n["room"]) for n in listed] == [("webinar_live", wid)]

        # Started: no more edits.
        late = await call(n1, "PATCH", f"/api/v1/webinars/{wid}", host, json={"title": {"en": "New"}})
        assert late.status_code == 409, late.text

        # Slow mode: attendees one message per 60 s (a repeat of the same cid is answered);
        # hosts never slowed.
        slow = await call(n1, "PUT", f"/api/v1/webinars/{wid}/chat", host, json={"mode": "slow", "slow_s": 60})
        assert slow.json()["webinar"]["chat"] == {"mode": "slow", "slow_s": 60}
        entry = await b.wait_for(webinar_entry(wid, "chat"))
        assert entry["webinar"]["chat"] == {"mode": "slow", "slow_s": 60}
        first = await send_acked(b, wid, "hello", "b1")
        await b.send_frame({"type": "send", "room": wid, "body": "hello", "cid": "b1"})
        assert (await b.recv_until(is_type("ack", cid="b1")))["seq"] == first["seq"]
        await b.send_frame({"type": "send", "room": wid, "body": "again", "cid": "b2"})
        error = await b.wait_for(is_type("error", cid="b2"))
        assert (error["code"], error["retry"]) == ("slow_mode", True) and 1 <= error["retry_after"] <= 60
        for cid in ("h1", "h2"):
            await send_acked(h, wid, "from the host", cid)

        # Off: attendees send nothing; hosts still do.
        await call(n1, "PUT", f"/api/v1/webinars/{wid}/chat", host, json={"mode": "off"})
        await c.send_frame({"type": "send", "room": wid, "body": "hi", "cid": "c1"})
        assert (await c.wait_for(is_type("error", cid="c1")))["code"] == "chat_closed"
        await send_acked(h, wid, "still me", "h3")
        await call(n1, "PUT", f"/api/v1/webinars/{wid}/chat", host, json={"mode": "open"})
        await send_acked(c, wid, "now I can", "c2")
        # Only mentions notify in a webinar's chat.
        mention = await send_acked(c, wid, "@Bob look", "c2m", mentions=[bob["user"]["id"]])
        got = (await b.wait_for(lambda f: f["type"] == "notification"
                                and f["notification"]["message_id"] == mention["id"]))["notification"]
        assert got["kind"] == "mention"

        ended = await call(n2, "POST", f"/api/v1/webinars/{wid}/end", mod)
        assert ended.json()["webinar"]["state"] == "ended"
        await b.wait_for(webinar_entry(wid, "ended"))
        for client, cid in ((c, "c3"), (h, "h4")):  # read-only, for hosts too
            await client.send_frame({"type": "send", "room": wid, "body": "after", "cid": cid})
            assert (await client.wait_for(is_type("error", cid=cid)))["code"] == "chat_closed"
        closed = await call(n1, "PUT", f"/api/v1/webinars/{wid}/chat", host, json={"mode": "open"})
        assert closed.status_code == 409
        assert (await call(n1, "POST", f"/api/v1/webinars/{wid}/cancel", host)).status_code == 409
        past = (await call(n2, "GET", "/api/v1/webinars?when=past", bob)).json()["webinars"]
        assert [w["id"] for w in past] == [wid]
        for client in (b, c, h):
            await client.close()


async def test_edits_and_cancellation_notify_and_the_calendar_follows(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        mod = await moderator(n1, "Mod")
        bob = await register(n2.url, "Bob")
        wid = (await schedule(n1, mod, rooms=[ROOM]))["id"]
        await call(n2, "PUT", f"/api/v1/webinars/{wid}/registration", bob)
        b = await WsClient.connect(n2.ws_url, bob["token"])
        await sync(b)

        ics = await call(n2, "GET", f"/api/v1/webinars/{wid}/calendar.ics?lang=zh", bob)
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
        uid = str(event["uid"])
        assert uid == f"{wid}@webinars.ecolink"
        assert str(event["summary"]) == "合肥的绿色屋顶" and int(event["sequence"]) == 0
        assert str(event["status"]) == "CONFIRMED"
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert str(event["url"]).endswith(f"/#/webinar/{wid}")
        text = str(event["description"])  # the text as written, without Markdown or HTML
        assert text.startswith("Why roofs matter") and "**" not in text and "<strong>" not in text
        assert text.endswith(f"/#/webinar/{wid}")

        starts = at(5 * HOUR)
        edited = await call(n1, "PATCH", f"/api/v1/webinars/{wid}", mod, json={
            "title": {"zh": ""}, "starts_at": starts, "ends_at": at(6 * HOUR), "rooms": ["hefei"]})
        assert edited.status_code == 200, edited.text
        assert (edited.json()["webinar"]["title"], edited.json()["webinar"]["rooms"]) == (
            {"en": "Green roofs in Hefei", "zh": ""}, ["hefei"])
        assert (await b.wait_for(notified("webinar_edited", wid)))["notification"]["excerpt"] == "Green roofs in Hefei"
        # Both the room it left and the one it joined hear of the edit.
        for room in (ROOM, "hefei"):
            history = await WsClient.connect(n1.ws_url, bob["token"])
            await history.join(room, since=0)
            assert (await history.wait_for(webinar_entry(room, "edited")))["webinar"]["rooms"] == ["hefei"]
            await history.close()
        ics = await call(n2, "GET", f"/api/v1/webinars/{wid}/calendar.ics", bob,
                         headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
        assert (str(event["uid"]), int(event["sequence"])) == (uid, 1)
        assert str(event["summary"]) == "Green roofs in Hefei"  # no Chinese title now: the other
        assert event.decoded("dtstart") == datetime.fromisoformat(starts).astimezone(UTC)

        cancelled = await call(n1, "POST", f"/api/v1/webinars/{wid}/cancel", mod)
        assert cancelled.json()["webinar"]["state"] == "cancelled"
        await b.wait_for(notified("webinar_cancelled", wid))
        event = Calendar.from_ical((await call(n2, "GET", f"/api/v1/webinars/{wid}/calendar.ics", bob)).content
                                   ).walk("VEVENT")[0]
        assert (str(event["uid"]), int(event["sequence"]), str(event["status"])) == (uid, 2, "CANCELLED")
        again = await call(n1, "PATCH", f"/api/v1/webinars/{wid}", mod, json={"title": {"en": "x"}})
        assert again.status_code == 409
        assert (await call(n2, "PUT", f"/api/v1/webinars/{wid}/registration", bob)).status_code == 409
        kinds = [n["kind"] for n in (await call(n2, "GET", "/api/v1/notifications", bob)).json()["notifications"]]
        assert kinds == ["webinar_cancelled", "webinar_edited"]
        await b.close()


async def test_the_sweep_ends_an_overdue_live_webinar_once_across_nodes(production):
    settings = {"webinar_auto_end_min": 0, "webinar_sweep_s": 0.2}
    async with running_nodes(production(**settings), production(**settings)) as [n1, n2]:
        mod = await moderator(n1, "Mod")
        wid = (await schedule(n1, mod, starts_at=at(-2 * HOUR), ends_at=at(-HOUR)))["id"]
        m = await WsClient.connect(n2.ws_url, mod["token"])
        await m.join(wid)
        assert (await call(n1, "POST", f"/api/v1/webinars/{wid}/start", mod)).status_code == 200
        ended = await m.wait_for(webinar_entry(wid, "ended"))
        assert ended["auto"] is True
        got = (await call(n2, "GET", f"/api/v1/webinars/{wid}", mod)).json()["webinar"]
        assert got["state"] == "ended"
        # Both nodes sweep; one entry: join again from the start and count.
        r = await WsClient.connect(n1.ws_url, mod["token"])
        await r.join(wid, since=0)
        await sync(r)
        changes = [f["change"] for f in r.frames if f["type"] == "webinar"]
        assert changes == ["scheduled", "live", "ended"]
        await m.close()
        await r.close()


BAD_DRAFTS: list[tuple[dict[str, Any], int, str]] = [
    ({"title": {}}, 422, "title"),
    ({"title": {"en": "x" * 201}}, 422, "title.en"),
    ({"title": "flat"}, 422, "title"),
    ({"starts_at": "tomorrow"}, 422, "starts_at"),
    ({"starts_at": "2027-03-01T09:30:00"}, 422, "starts_at"),  # no offset
    ({"starts_at": "2027-02-30T09:30:00+01:00"}, 422, "starts_at"),
    ({"starts_at": 1700000000}, 422, "starts_at"),
    ({"ends_at": at(HOUR)}, 422, "ends_at"),  # before the start (2 h)
    ({"ends_at": at(2 * HOUR + timedelta(seconds=30))}, 422, "ends_at"),  # too short
    ({"ends_at": at(40 * HOUR)}, 422, "ends_at"),  # too long
    ({"starts_at": at(-48 * HOUR), "ends_at": at(-47 * HOUR)}, 422, "starts_at"),
    ({"starts_at": at(timedelta(days=1000)), "ends_at": at(timedelta(days=1000) + HOUR)}, 422, "starts_at"),
    ({"time_zone": "Mars/Olympus"}, 422, "time_zone"),
    ({"rooms": ["no-such-room"]}, 422, "rooms"),
    ({"rooms": ["green-buildings", "zhuhai", "hefei", "weihai", "guilin", "qingdao"]}, 422, "rooms"),
    ({"rooms": ["BAD ID"]}, 422, "rooms"),
    ({"hosts": [987654321]}, 422, "hosts"),
    ({"hosts": [0]}, 422, "hosts.0"),
    ({"panelists": ["1"]}, 422, "panelists.0"),
    ({"description": "x" * 20_001}, 422, "description"),
    ({"premoderated": "yes"}, 422, "premoderated"),
]


async def test_bad_input_is_refused_clearly_and_changes_nothing(backend):
    # Every refused write still costs its budget: a budget for the lot.
    async with running_nodes(backend(member_rate_burst=10_000)) as [node]:
        mod = await moderator(node, "Mod")
        ann = await register(node.url, "Ann")
        for fields, status, field in BAD_DRAFTS:
            response = await call(node, "POST", "/api/v1/webinars", mod, json=draft(**fields))
            assert response.status_code == status, (fields, response.text)
            assert field in (response.json()["error"].get("details") or {}), (fields, response.text)
        topic = await call(node, "POST", f"/api/v1/rooms/{ROOM}/topics", mod, json={"title": "T"})
        thread = topic.json()["topic"]["id"]
        response = await call(node, "POST", "/api/v1/webinars", mod, json=draft(rooms=[thread]))
        assert response.status_code == 422, response.text
        both = await call(node, "POST", "/api/v1/webinars", mod,
                          json=draft(hosts=[ann["user"]["id"]], panelists=[ann["user"]["id"]]))
        assert both.status_code == 422
        member = await call(node, "POST", "/api/v1/webinars", ann, json=draft())
        assert member.status_code == 403 and member.json()["error"]["code"] == "forbidden"
        nobody = await call(node, "POST", "/api/v1/webinars", None, json=draft())
        assert nobody.status_code == 401
        for when in ("upcoming", "past"):
            listed = await call(node, "GET", f"/api/v1/webinars?when={when}", mod)
            assert listed.json()["webinars"] == []

        wid = (await schedule(node, mod))["id"]
        for path in ("/api/v1/webinars/webinar-0123456789abcdef", "/api/v1/webinars/zhuhai",
                     "/api/v1/webinars/webinar-0123456789abcdef/calendar.ics"):
            missing = await call(node, "GET", path, ann)
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found", path
        for method, path in (("POST", "start"), ("POST", "end"), ("POST", "cancel"), ("PUT", "registration")):
            missing = await call(node, method, f"/api/v1/webinars/webinar-0123456789abcdef/{path}", mod)
            assert missing.status_code == 404, path
        assert (await call(node, "GET", "/api/v1/webinars/Not_An_Id", ann)).status_code == 400
        assert (await call(node, "GET", "/api/v1/rooms/no-such-room/webinars", ann)).status_code == 404
        for query, status in (("when=soon", 422), ("limit=0", 400), ("limit=x", 400), ("after=nonsense", 400),
                              ("after=12.BAD", 400)):
            response = await call(node, "GET", f"/api/v1/webinars?{query}", ann)
            assert response.status_code == status, (query, response.text)
        bad_lang = await call(node, "GET", f"/api/v1/webinars/{wid}/calendar.ics?lang=fr", ann)
        assert bad_lang.status_code == 400

        before = (await call(node, "GET", f"/api/v1/webinars/{wid}", mod)).json()["webinar"]
        for body, status in (({"title": {"en": "", "zh": ""}}, 422), ({"ends_at": at(HOUR)}, 422),
                             ({"hosts": []}, 422), ({"time_zone": "Nowhere"}, 422)):
            response = await call(node, "PATCH", f"/api/v1/webinars/{wid}", mod, json=body)
            assert response.status_code == status, (body, response.text)
        assert (await call(node, "PATCH", f"/api/v1/webinars/{wid}", ann, json={"title": {"en": "Mine"}})
                ).status_code == 403
        for body in ({"mode": "fast"}, {"mode": "slow"}, {"mode": "slow", "slow_s": 0},
                     {"mode": "slow", "slow_s": 3601}, {"mode": "slow", "slow_s": True}):
            response = await call(node, "PUT", f"/api/v1/webinars/{wid}/chat", mod, json=body)
            assert response.status_code == 422, (body, response.text)
        assert (await call(node, "PUT", f"/api/v1/webinars/{wid}/chat", ann, json={"mode": "off"})
                ).status_code == 403
        assert (await call(node, "POST", f"/api/v1/webinars/{wid}/end", mod)).status_code == 409
        after = (await call(node, "GET", f"/api/v1/webinars/{wid}", mod)).json()["webinar"]
        assert after == before
