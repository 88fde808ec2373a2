"""Moderation across two production nodes (PostgreSQL + Redis): reports over HTTP and the
WebSocket, the moderators' queue and actions, a mute refusing sends in its room, a ban closing
the member's sockets on the other node at once (the sweep slowed down so only the broker can)
and refusing their logins, suspensions with an end, the audit log, and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


from chat.config import Settings
from chat.protocol import closecodes
from tests.support.client import WsClient, call, close_code, is_type, login, moderator, register, send_acked, sync
from tests.support.nodes import NodeServer, running_nodes

ROOM = "green-transport"
OTHER = "zhuhai"


async def connected(node: NodeServer, account: dict[str, Any], *rooms: str) -> WsClient:
    ws = await WsClient.connect(node.ws_url, account["token"])
    for room in rooms:
        await ws.join(room)
    return ws


async def admin(node: NodeServer, name: str) -> dict[str, Any]:
    account = await register(node.url, name)
    await node.node.profiles.set_role_by_email(account["user"]["email"], "admin")
    return account


async def audit_actions(node: NodeServer, reader: dict[str, Any]) -> list[dict[str, Any]]:
    response = await call(node, "GET", "/api/v1/admin/audit", reader)
    assert response.status_code == 200, response.text
    return [e for e in response.json()["entries"] if e["action"].startswith("moderation.")]


async def test_a_ban_closes_the_members_sockets_on_the_other_node_at_once_and_refuses_logins(
    production: Callable[..., Settings],
) -> None:
    settings = production(sweep_interval_s=60)
    async with running_nodes(settings, settings) as (n1, n2):
        mod, boss = await moderator(n1, "Mod"), await admin(n1, "Boss")
        bob = await register(n2.url, "Bob")
        second = (await login(n1, bob["user"]["email"])).json()
        sockets = [await connected(n2, bob, ROOM), await connected(n1, second, ROOM)]
        watcher = await connected(n2, await register(n2.url, "Watcher"), ROOM)

        response = await call(n1, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                              json={"action": "ban", "reason": "spam wave"})
        assert response.status_code == 200, response.text
        assert response.json()["sanction"]["kind"] == "ban" and response.json()["sanction"]["until"] is None
        for ws in sockets:
            assert await close_code(ws) == closecodes.SESSION_ENDED
        await sync(watcher)  # the other member's socket is untouched
        assert (await call(n2, "GET", "/api/v1/me", bob)).status_code == 401
        refused = await login(n2, bob["user"]["email"])
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "account_suspended"
        assert refused.json()["error"]["details"] == {"until": None, "banned": True}
        # The refused login left no session behind.
        assert await n1.node.store.user_sessions(bob["user"]["id"], n1.node.clock.now_ms()) == []

        lifted = await call(n2, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                            json={"action": "unban"})
        assert [s["kind"] for s in lifted.json()["lifted"]] == ["ban"]
        assert (await login(n1, bob["user"]["email"])).status_code == 200
        again = await call(n2, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                           json={"action": "unban"})
        assert again.json()["lifted"] == []  # nothing in force: nothing done, nothing recorded

        suspended = await call(n1, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                               json={"action": "suspend", "duration_s": 3600})
        until = suspended.json()["sanction"]["until"]
        refused = await login(n2, bob["user"]["email"])
        assert refused.json()["error"] == {"code": "account_suspended", "message": "this account is suspended",
                                           "retry": False, "details": {"until": until, "banned": False}}

        actions = [(e["action"], e["actor"]["label"], e["detail"]["user_id"]) for e in await audit_actions(n2, boss)]
        uid = bob["user"]["id"]
        assert actions == [("moderation.suspend", "Mod", uid), ("moderation.unban", "Mod", uid),
                           ("moderation.ban", "Mod", uid)]
        assert (await call(n1, "GET", "/api/v1/admin/audit", mod)).status_code == 403
        record = (await call(n2, "GET", f"/api/v1/moderation/members/{uid}", mod)).json()
        assert [(s["kind"], s["in_force"]) for s in record["sanctions"]] == [("suspend", True), ("ban", False)]
        await watcher.close()


async def test_reports_over_both_transports_reach_the_queue_and_a_removal_deletes_the_message(
    production: Callable[..., Settings],
) -> None:
    settings = production()
    async with running_nodes(settings, settings) as (n1, n2):
        mod = await moderator(n1, "Mod")
        ann, bob = await register(n1.url, "Ann"), await register(n2.url, "Bob")
        ann_ws, bob_ws = await connected(n1, ann, ROOM), await connected(n2, bob, ROOM)
        sent = await send_acked(bob_ws, ROOM, "buy cheap pills", "c1")
        message_id = sent["id"]

        await ann_ws.send_frame({"type": "report", "rid": "r1", "room": ROOM, "id": message_id,
                                 "reason": "spam", "note": "an advert"})
        reported = await ann_ws.wait_for(is_type("reported", rid="r1"))
        assert reported["created"] and reported["report"]["status"] == "open"
        report_id = reported["report"]["id"]
        same = await call(n2, "POST", "/api/v1/reports", ann,
                          json={"room": ROOM, "message_id": message_id, "reason": "abuse"})
        assert same.status_code == 200 and same.json()["report"]["id"] == report_id
        member = await call(n2, "POST", "/api/v1/reports", ann, json={"member": bob["user"]["id"], "reason": "other"})
        assert member.status_code == 201

        # Refused, and nothing stored: own message, self, a message not there, bad frames.
        await bob_ws.send_frame({"type": "report", "rid": "r2", "room": ROOM, "id": message_id, "reason": "spam"})
        own = await bob_ws.wait_for(is_type("error", rid="r2"))
        assert own["code"] == "forbidden"
        themselves = await call(n1, "POST", "/api/v1/reports", ann, json={"member": ann["user"]["id"], "reason": "spam"})
        assert themselves.status_code == 403
        for body, status in [({"room": ROOM, "message_id": "m-nope", "reason": "spam"}, 404),
                             ({"room": ROOM, "message_id": message_id, "reason": "boring"}, 422),
                             ({"room": "Bad Room", "message_id": message_id, "reason": "spam"}, 400),
                             ({"room": ROOM, "reason": "spam"}, 422),
                             ({"room": ROOM, "message_id": message_id, "member": 1, "reason": "spam"}, 422),
                             ({"member": 10**12, "reason": "spam"}, 404),
                             ({"room": ROOM, "message_id": message_id, "reason": "spam", "note": "x" * 1001}, 422)]:
            response = await call(n1, "POST", "/api/v1/reports", ann, json=body)
            assert response.status_code == status, (body, response.text)
        for frame, field in [({"room": ROOM, "id": message_id, "reason": "spam"}, None),
                             ({"rid": "b1", "room": ROOM, "id": message_id}, "reason"),
                             ({"rid": "b2", "room": ROOM, "reason": "spam"}, "id"),
                             ({"rid": "b3", "member": "x", "reason": "spam"}, "member"),
                             ({"rid": "b4", "room": ROOM, "id": message_id, "reason": "spam", "note": 5}, "note")]:
            await ann_ws.send_frame({"type": "report", **frame})
            error = await ann_ws.recv_until(lambda f: f["type"] == "error")
            assert error["code"] == "invalid"
            if field is not None:
                assert field in error["details"] and error["rid"] == frame["rid"]

        assert (await call(n1, "GET", "/api/v1/moderation/reports", ann)).status_code == 403
        queue = (await call(n2, "GET", "/api/v1/moderation/reports", mod)).json()
        assert [r["id"] for r in queue["reports"]] == [report_id, member.json()["report"]["id"]]
        assert queue["open"] == 2 and queue["next"] is None
        assert queue["reports"][0]["note"] == "an advert" and queue["reports"][0]["member"]["name"] == "Bob"
        first = (await call(n2, "GET", "/api/v1/moderation/reports?limit=1", mod)).json()
        assert [r["id"] for r in first["reports"]] == [report_id] and first["next"] == report_id

        removed = await call(n1, "POST", f"/api/v1/moderation/reports/{report_id}/actions", mod,
                             json={"action": "remove"})
        assert removed.status_code == 200, removed.text
        assert removed.json()["report"]["status"] == "resolved" and removed.json()["report"]["resolution"] == "remove"
        await bob_ws.wait_for(lambda f: f["type"] == "delete" and f.get("target") == message_id)
        twice = await call(n1, "POST", f"/api/v1/moderation/reports/{report_id}/actions", mod,
                           json={"action": "dismiss"})
        assert twice.status_code == 409
        closed = (await call(n1, "GET", "/api/v1/moderation/reports?state=closed", mod)).json()
        assert [r["id"] for r in closed["reports"]] == [report_id]
        # A removed message can no longer be reported.
        gone = await call(n1, "POST", "/api/v1/reports", mod, json={"room": ROOM, "message_id": message_id,
                                                                     "reason": "spam"})
        assert gone.status_code == 404
        for path, body, status in [
            ("/api/v1/moderation/reports/999999/actions", {"action": "dismiss"}, 404),
            (f"/api/v1/moderation/reports/{member.json()['report']['id']}/actions", {"action": "remove"}, 422),
            (f"/api/v1/moderation/reports/{member.json()['report']['id']}/actions", {"action": "explode"}, 422),
            (f"/api/v1/moderation/reports/{member.json()['report']['id']}/actions", {"action": "mute"}, 422),
            (f"/api/v1/moderation/members/{mod['user']['id']}/actions", {"action": "warn"}, 403),
            (f"/api/v1/moderation/members/{bob['user']['id']}/actions", {"action": "suspend"}, 422),
            (f"/api/v1/moderation/members/{bob['user']['id']}/actions", {"action": "ban", "duration_s": 60}, 422),
            (f"/api/v1/moderation/members/{bob['user']['id']}/actions",
             {"action": "suspend", "duration_s": 10}, 422),
            ("/api/v1/moderation/members/abc/actions", {"action": "warn"}, 400),
        ]:
            response = await call(n2, "POST", path, mod, json=body)
            assert response.status_code == status, (path, body, response.text)
        assert (await call(n2, "GET", "/api/v1/moderation/reports?state=nope", mod)).status_code == 400
        assert (await call(n2, "GET", "/api/v1/moderation/reports?limit=0", mod)).status_code == 400
        assert (await call(n2, "GET", "/api/v1/moderation/reports", mod)).json()["open"] == 1
        for ws in (ann_ws, bob_ws):
            await ws.close()


async def test_a_mute_refuses_sends_in_its_room_only_and_a_warning_reaches_the_member_at_once(
    production: Callable[..., Settings],
) -> None:
    settings = production()
    async with running_nodes(settings, settings) as (n1, n2):
        mod, bob = await moderator(n1, "Mod"), await register(n2.url, "Bob")
        bob_ws = await connected(n2, bob, ROOM, OTHER)
        warned = await call(n1, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                            json={"action": "warn", "reason": "keep it civil"})
        assert warned.status_code == 200
        notice = await bob_ws.wait_for(is_type("moderation_notice"))
        assert notice["notice"]["kind"] == "warn" and notice["notice"]["reason"] == "keep it civil"

        muted = await call(n1, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                           json={"action": "mute", "room": ROOM, "duration_s": 600})
        until = muted.json()["sanction"]["until"]
        await bob_ws.send_frame({"type": "send", "room": ROOM, "body": "hello", "cid": "m1"})
        refused = await bob_ws.wait_for(is_type("error", cid="m1"))
        assert refused["code"] == "muted" and refused["details"] == {"until": until}
        await send_acked(bob_ws, OTHER, "hello elsewhere", "m2")
        topic = await call(n2, "POST", f"/api/v1/rooms/{ROOM}/topics", bob, json={"title": "Hi", "body": "x"})
        assert topic.status_code == 403 and topic.json()["error"]["code"] == "muted"
        standing = (await call(n2, "GET", "/api/v1/me/moderation", bob)).json()
        assert [m["room"] for m in standing["mutes"]] == [ROOM]
        assert [w["reason"] for w in standing["warnings"]] == ["keep it civil"]

        unmuted = await call(n2, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", mod,
                             json={"action": "unmute", "room": ROOM})
        assert len(unmuted.json()["lifted"]) == 1
        await send_acked(bob_ws, ROOM, "hello again", "m3")
        await bob_ws.close()


async def test_reports_are_throttled_per_member(production: Callable[..., Settings]) -> None:
    settings = production(reports_per_window=2)
    async with running_nodes(settings, settings) as (n1, n2):
        ann = await register(n1.url, "Ann")
        others = [await register(n1.url, f"Other{i}") for i in range(3)]
        statuses = []
        for node, other in zip((n1, n2, n1), others, strict=True):
            response = await call(node, "POST", "/api/v1/reports", ann, json={"member": other["user"]["id"],
                                                                             "reason": "spam"})
            statuses.append(response.status_code)
        assert statuses == [201, 201, 429]
        assert len((await call(n1, "GET", "/api/v1/moderation/reports", await moderator(n1, "Mod"))).json()["reports"]) == 2


async def test_moderators_without_two_factor_are_refused_while_operators_require_it(
    production: Callable[..., Settings],
) -> None:
    settings = production(admin_two_factor="required")
    async with running_nodes(settings, settings) as (n1, n2):
        mod, ann, bob = await moderator(n1, "Mod"), await register(n1.url, "Ann"), await register(n2.url, "Bob")
        filed = await call(n2, "POST", "/api/v1/reports", ann, json={"member": bob["user"]["id"], "reason": "spam"})
        assert filed.status_code == 201  # reporting is every member's
        for method, path, body in [
            ("GET", "/api/v1/moderation/reports", None),
            ("POST", f"/api/v1/moderation/reports/{filed.json()['report']['id']}/actions", {"action": "dismiss"}),
            ("POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", {"action": "ban"}),
            ("GET", f"/api/v1/moderation/members/{bob['user']['id']}", None),
        ]:
            response = await call(n1, method, path, mod, json=body)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "two_factor_setup_required"
        assert (await login(n2, bob["user"]["email"])).status_code == 200  # nothing was done
        assert (await call(n1, "GET", "/api/v1/moderation/reports", ann)).json()["error"]["code"] == "forbidden"

        # Staff privilege anywhere else passes the same check: deleting or editing another's
        # message (over the WebSocket), scheduling a webinar. Their own message stays theirs.
        bob_ws, mod_ws = await connected(n2, bob, ROOM), await connected(n1, mod, ROOM)
        theirs = await send_acked(bob_ws, ROOM, "a message", "t1")
        for frame in ({"type": "delete", "room": ROOM, "id": theirs["id"], "cid": "m1"},
                      {"type": "edit", "room": ROOM, "id": theirs["id"], "cid": "m2", "body": "mine"}):
            await mod_ws.send_frame(frame)
            error = await mod_ws.wait_for(is_type("error", cid=frame["cid"]))
            assert error["code"] == "two_factor_setup_required"
        own = await send_acked(mod_ws, ROOM, "my own", "m3")
        await mod_ws.send_frame({"type": "delete", "room": ROOM, "id": own["id"], "cid": "m4"})
        await bob_ws.wait_for(lambda f: f["type"] == "delete" and f.get("target") == own["id"])
        assert await n2.node.store.message_author(ROOM, theirs["id"]) == (bob["user"]["id"], False)
        start = datetime.now(UTC) + timedelta(hours=1)
        scheduled = await call(n2, "POST", "/api/v1/webinars", mod, json={
            "title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        assert scheduled.status_code == 403 and scheduled.json()["error"]["code"] == "two_factor_setup_required"
        for ws in (bob_ws, mod_ws):
            await ws.close()


async def test_on_sqlite_a_mute_refuses_questions_in_its_webinar_and_a_ban_closes_the_socket(
    make_settings: Callable[..., Settings],
) -> None:
    """The same rules in embedded mode (one node, SQLite, the in-process broker), and a mute in
    a webinar's room refusing questions on its board as well as its chat."""
    async with running_nodes(make_settings(sweep_interval_s=60)) as [node]:
        host = await register(node.url, "Host")
        await node.node.store.set_role(host["user"]["id"], "admin")
        bob = await register(node.url, "Bob")
        start = datetime.now(UTC) + timedelta(hours=1)
        scheduled = await call(node, "POST", "/api/v1/webinars", host, json={
            "title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        webinar = scheduled.json()["webinar"]["id"]
        asked = await call(node, "POST", f"/api/v1/webinars/{webinar}/questions", bob, json={"body": "First?"})
        assert asked.status_code == 201, asked.text
        muted = await call(node, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", host,
                           json={"action": "mute", "room": webinar, "duration_s": 600})
        assert muted.status_code == 200, muted.text
        refused = await call(node, "POST", f"/api/v1/webinars/{webinar}/questions", bob, json={"body": "Again?"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "muted"
        assert refused.json()["error"]["details"] == {"until": muted.json()["sanction"]["until"]}

        ws = await connected(node, bob, ROOM)
        await send_acked(ws, ROOM, "still here", "s1")  # muted in the webinar only
        banned = await call(node, "POST", f"/api/v1/moderation/members/{bob['user']['id']}/actions", host,
                            json={"action": "ban"})
        assert banned.status_code == 200
        assert await close_code(ws) == closecodes.SESSION_ENDED
        assert (await login(node, bob["user"]["email"])).json()["error"]["code"] == "account_suspended"


async def test_a_moderator_outside_a_direct_conversation_removes_its_reported_message_and_one_act_wins(
    production: Callable[..., Settings],
) -> None:
    settings = production()
    async with running_nodes(settings, settings) as (n1, n2):
        mod, other_mod, boss = await moderator(n1, "Mod"), await moderator(n2, "Moddy"), await admin(n2, "Boss")
        ann, bob = await register(n1.url, "Ann"), await register(n2.url, "Bob")
        opened = await call(n1, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        assert opened.status_code in (200, 201), opened.text
        room = opened.json()["room"]["id"]
        bob_ws = await connected(n2, bob, room)
        message_id = (await send_acked(bob_ws, room, "send me your password", "d1"))["id"]
        reported = await call(n1, "POST", "/api/v1/reports", ann,
                              json={"room": room, "message_id": message_id, "reason": "abuse"})
        report_id = reported.json()["report"]["id"]

        removed = await call(n2, "POST", f"/api/v1/moderation/reports/{report_id}/actions", mod,
                             json={"action": "remove"})
        assert removed.status_code == 200, removed.text
        await bob_ws.wait_for(lambda f: f["type"] == "delete" and f.get("target") == message_id)
        assert (await n1.node.store.message_author(room, message_id)) == (bob["user"]["id"], True)

        # An act refused (staff are not sanctioned) leaves the report open and records nothing.
        about_mod = await call(n1, "POST", "/api/v1/reports", ann, json={"member": mod["user"]["id"], "reason": "other"})
        refused = await call(n2, "POST", f"/api/v1/moderation/reports/{about_mod.json()['report']['id']}/actions",
                             other_mod, json={"action": "ban"})
        assert refused.status_code == 403
        assert (await n1.node.store.get_report(about_mod.json()["report"]["id"])).status == "open"

        # Two moderators act on one report at once, on two nodes: one act is done, the other 409.
        about_bob = await call(n1, "POST", "/api/v1/reports", ann, json={"member": bob["user"]["id"], "reason": "spam"})
        path = f"/api/v1/moderation/reports/{about_bob.json()['report']['id']}/actions"
        answers = await asyncio.gather(call(n1, "POST", path, mod, json={"action": "warn"}),
                                       call(n2, "POST", path, other_mod, json={"action": "warn"}))
        assert sorted(a.status_code for a in answers) == [200, 409]
        assert [s.kind for s in await n1.node.store.sanctions_of(bob["user"]["id"], 10)] == ["warn"]
        actions = [e["action"] for e in await audit_actions(n1, boss)]
        assert actions == ["moderation.warn", "moderation.remove"]
        await bob_ws.close()


async def test_a_moderator_outside_a_direct_conversation_reads_the_reported_text_also_after_an_edit_and_a_delete(
    production: Callable[..., Settings],
) -> None:
    settings = production()
    async with running_nodes(settings, settings) as (n1, n2):
        mod = await moderator(n2, "Mod")
        ann, bob = await register(n1.url, "Ann"), await register(n2.url, "Bob")
        opened = await call(n1, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        assert opened.status_code in (200, 201), opened.text
        room = opened.json()["room"]["id"]
        bob_ws = await connected(n2, bob, room)
        sent = await send_acked(bob_ws, room, "pay me or <b>else</b>", "d1")
        reported = await call(n1, "POST", "/api/v1/reports", ann,
                              json={"room": room, "message_id": sent["id"], "reason": "harassment"})
        assert reported.status_code == 201, reported.text
        copy = {"body": "pay me or <b>else</b>", "author": {"id": bob["user"]["id"], "name": "Bob"},
                "sent_at": reported.json()["report"]["message"]["sent_at"], "room": room, "seq": sent["seq"]}
        assert reported.json()["report"]["message"] == copy
        assert (await call(n2, "GET", f"/api/v1/rooms/{room}/messages", mod)).status_code in (403, 404)

        async def queued() -> dict[str, Any]:
            response = await call(n2, "GET", "/api/v1/moderation/reports", mod)
            assert response.status_code == 200, response.text
            [report] = [r for r in response.json()["reports"] if r["id"] == reported.json()["report"]["id"]]
            return report

        assert (await queued())["message"] == copy
        await bob_ws.send_frame({"type": "edit", "room": room, "id": sent["id"], "body": "hello there", "cid": "e1"})
        await bob_ws.wait_for(is_type("ack", cid="e1"))
        assert (await queued())["message"] == copy
        await bob_ws.send_frame({"type": "delete", "room": room, "id": sent["id"], "cid": "x1"})
        await bob_ws.wait_for(is_type("ack", cid="x1"))
        assert (await n1.node.store.message_author(room, sent["id"])) == (bob["user"]["id"], True)
        assert (await queued())["message"] == copy
        record = await call(n1, "GET", f"/api/v1/moderation/members/{bob['user']['id']}", mod)
        assert record.status_code == 200, record.text
        assert [r["message"] for r in record.json()["reports"]] == [copy]
        dismissed = await call(n1, "POST", f"/api/v1/moderation/reports/{reported.json()['report']['id']}/actions",
                               mod, json={"action": "dismiss"})
        assert dismissed.status_code == 200, dismissed.text
        assert dismissed.json()["report"]["message"] == copy
        await bob_ws.close()
