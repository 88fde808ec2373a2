"""Webinar guests (docs/protocol.md, "Guests") over real nodes: a guest joins through the
webinar's link, reads and sends in its chat, asks, votes and answers a poll, marked `guest: true`
to members on the other node (PostgreSQL + Redis); every other HTTP route refuses a guest (a
table over the app's own route list, so a new route cannot silently let guests in), and so do
other rooms over the WebSocket and the poll transport; guests are no members (directory, direct
conversations, mentions); a webinar without guests answers 404, an ended one 409; bad names
422; too many guests from one address 429."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.routing import Route

from chat.transport.guest_scope import GUEST_ROUTES
from tests.support.client import WsClient, call, is_type, register, send_acked, sync
from tests.support.history import eventually
from tests.support.nodes import running_nodes
from tests.support.poll import PollPeer

W = "/api/v1/webinars"
ROOM = "green-buildings"

# Routes that take no session at all (a guest's credentials are not even looked at), and the
# poll transport's, whose frames the room service scopes as the WebSocket's (tested below).
# Every other /api/v1 route must answer a guest 403 or 404 unless it is in GUEST_ROUTES.
NO_SESSION_ROUTES = {
    ("POST", "/api/v1/accounts"), ("POST", "/api/v1/sessions"), ("GET", "/api/v1/privacy"),
    ("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/webinars/{webinar}/guests"),
    # The signed link in emails is its own authority (tests/e2e/test_mail.py).
    ("GET", "/api/v1/mail/unsubscribe"), ("POST", "/api/v1/mail/unsubscribe"),
    ("GET", "/api/v1/registration/challenge"),
    # Account recovery: the mailed link's token is the authority (tests/e2e/test_account_recovery.py).
    ("POST", "/api/v1/account/verification/confirm"), ("POST", "/api/v1/account/password-reset"),
    ("POST", "/api/v1/account/password-reset/confirm"), ("POST", "/api/v1/account/email/confirm"),
}
TRANSPORT_ROUTES = {
    ("POST", "/api/v1/poll"), ("GET", "/api/v1/poll/{session}"),
    ("POST", "/api/v1/poll/{session}"), ("DELETE", "/api/v1/poll/{session}"),
}


async def host_and_webinar(node: Any, **fields: Any) -> tuple[dict[str, Any], str]:
    host = await register(node.url, "Host")
    await node.node.store.set_role(host["user"]["id"], "admin")
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {"title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(), "rooms": [ROOM], **fields}
    response = await call(node, "POST", W, host, json=body)
    assert response.status_code == 201, response.text
    return host, response.json()["webinar"]["id"]


async def join_as_guest(node: Any, webinar: str, name: str) -> dict[str, Any]:
    response = await call(node, "POST", f"{W}/{webinar}/guests", None, json={"display_name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_guest_takes_part_in_their_webinar_marked_as_a_guest_on_the_other_node(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        host, webinar = await host_and_webinar(n1, guests_allowed=True)
        ann, bob = await register(n2.url, "Ann"), await register(n1.url, "Bob")
        ws_ann = await WsClient.connect(n2.ws_url, ann["token"])
        assert (await ws_ann.join(webinar))["type"] == "joined"

        joined = await call(n1, "POST", f"{W}/{webinar}/guests", None, json={"display_name": " Gao Wei "})
        assert joined.status_code == 201, joined.text
        guest = joined.json()
        assert guest["user"]["name"] == "Gao Wei" and guest["user"]["guest"] is True
        assert guest["user"]["webinar"] == webinar and guest["user"]["email"] is None
        assert joined.cookies.get("ecolink_session") == guest["token"]
        gid = guest["user"]["id"]
        assert (await call(n2, "GET", "/api/v1/sessions", guest)).json()["user"] == guest["user"]

        # Over the WebSocket: their webinar's room, and nothing else, as if nothing else existed.
        ws_guest = await WsClient.connect(n1.ws_url, guest["token"])
        for other in (ROOM, "hefei", "webinar-0123456789abcdef"):
            refused = await ws_guest.join(other)
            assert (refused["type"], refused["code"]) == ("error", "not_found"), refused
        assert (await ws_guest.join(webinar, since=0))["type"] == "joined"
        await ws_guest.wait_for(lambda f: f["type"] == "webinar" and f["change"] == "scheduled")
        await ws_guest.send_frame({"type": "send", "room": ROOM, "body": "elsewhere", "cid": "x1"})
        assert (await ws_guest.wait_for(is_type("error", cid="x1")))["code"] == "not_found"

        # Ann, on the other node, sees the guest online and their message, both marked.
        presence = await ws_ann.wait_for(lambda f: f["type"] == "presence" and any(
            u["id"] == gid for u in f["online"]))
        assert {"id": gid, "name": "Gao Wei", "guest": True} in presence["online"]
        assert not any("guest" in u for u in presence["online"] if u["id"] != gid)
        ack = await send_acked(ws_guest, webinar, "Hello from a guest", "g1")
        seen = await ws_ann.wait_for(lambda f: f["type"] == "message" and f.get("id") == ack["id"])
        assert seen["author"] == {"id": gid, "name": "Gao Wei", "guest": True}
        mine = await send_acked(ws_ann, webinar, "Welcome @Gao Wei and @Bob", "a1",
                                mentions=[gid, bob["user"]["id"]])
        history = await call(n1, "GET", f"/api/v1/rooms/{webinar}/messages", guest)
        assert history.status_code == 200, history.text
        by_id = {m["id"]: m for m in history.json()["messages"]}
        assert by_id[ack["id"]]["author"]["guest"] is True and "guest" not in by_id[mine["id"]]["author"]

        # The board: the guest asks (marked), votes on Ann's question and answers a poll.
        asked = await call(n1, "POST", f"{W}/{webinar}/questions", guest, json={"body": "Cost per m²?"})
        assert asked.status_code == 201, asked.text
        assert asked.json()["question"]["author"] == {"id": gid, "name": "Gao Wei", "guest": True}
        event = await ws_ann.wait_for(is_type("question", room=webinar))
        assert event["question"]["author"]["guest"] is True and event["author"]["guest"] is True
        ann_q = (await call(n2, "POST", f"{W}/{webinar}/questions", ann, json={"body": "Which plants?"})).json()
        voted = await call(n1, "PUT", f"{W}/{webinar}/questions/{ann_q['question']['id']}/vote", guest)
        assert voted.status_code == 200, voted.text
        created = await call(n1, "POST", f"{W}/{webinar}/polls", host, json={
            "question": {"en": "Which roof?"}, "options": [{"en": "Extensive"}, {"en": "Intensive"}],
            "results_public": True})
        poll = created.json()["poll"]["id"]
        assert (await call(n1, "POST", f"{W}/{webinar}/polls/{poll}/open", host)).status_code == 200
        answered = await call(n2, "PUT", f"{W}/{webinar}/polls/{poll}/answer", guest, json={"choices": [1]})
        assert answered.status_code == 200, answered.text
        snapshot = (await call(n2, "GET", f"{W}/{webinar}/board", guest)).json()
        assert snapshot["my_votes"] == [ann_q["question"]["id"]] and snapshot["my_answers"] == {poll: [1]}
        own = {q["id"]: q for q in snapshot["questions"]}[asked.json()["question"]["id"]]
        assert own["author"]["guest"] is True
        withdrawn = await call(n1, "PATCH", f"{W}/{webinar}/questions/{own['id']}", guest,
                               json={"withdrawn": True})
        assert withdrawn.status_code == 200, withdrawn.text
        assert (await call(n1, "GET", f"{W}/{webinar}", guest)).json()["webinar"]["id"] == webinar
        ics = await call(n1, "GET", f"{W}/{webinar}/calendar.ics", guest)
        assert ics.status_code == 200 and "BEGIN:VCALENDAR" in ics.text

        # No member: not in the directory, nobody to talk to directly, not notified by mentions.
        found = (await call(n2, "GET", "/api/v1/members", ann, params={"q": "Gao Wei"})).json()
        assert gid not in [m["id"] for m in found["members"]]
        profile = await call(n2, "GET", f"/api/v1/members/{gid}", ann)
        assert profile.status_code == 200 and profile.json()["member"]["guest"] is True
        direct = await call(n2, "POST", "/api/v1/direct", ann, json={"members": [gid]})
        assert (direct.status_code, direct.json()["error"]["code"]) == (404, "not_found"), direct.text
        with_bob = await call(n2, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        assert with_bob.status_code in (200, 201), with_bob.text
        added = await call(n2, "POST", f"/api/v1/rooms/{with_bob.json()['room']['id']}/members", ann,
                           json={"user_id": gid})
        assert (added.status_code, added.json()["error"]["code"]) == (404, "not_found"), added.text
        as_host = await call(n1, "PATCH", f"{W}/{webinar}", host, json={"panelists": [gid]})
        assert as_host.status_code == 422 and "panelists" in as_host.json()["error"]["details"]
        store = n1.node.store
        await eventually(lambda: store.unread_notifications(bob["user"]["id"]), "Bob's mention")
        assert await store.unread_notifications(gid) == 0
        await sync(ws_guest)
        assert not [f for f in ws_guest.frames if f["type"] == "notification"]
        # Never another room's frames: Ann's message in a room the guest cannot join.
        assert (await ws_ann.join(ROOM))["type"] == "joined"
        await send_acked(ws_ann, ROOM, "members only", "a2")
        await sync(ws_guest)
        assert {f.get("room") for f in ws_guest.frames if "room" in f} <= {webinar}

        # The placeholder email never logs in; logging out ends the session.
        user = await n1.node.accounts.authenticate(guest["token"])
        assert user.guest_of == webinar and "@" not in user.email
        login = await call(n1, "POST", "/api/v1/sessions", None,
                           json={"email": user.email, "password": "!guest"})
        assert login.status_code == 401
        assert (await call(n2, "DELETE", "/api/v1/sessions", guest)).status_code == 204
        assert (await call(n1, "GET", "/api/v1/sessions", guest)).json()["user"] is None
        assert (await call(n1, "GET", f"{W}/{webinar}", guest)).status_code == 401
        for ws in (ws_ann, ws_guest):
            await ws.close()


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


async def test_every_other_route_and_room_refuses_a_guest(backend):
    async with running_nodes(backend()) as [node]:
        host, webinar = await host_and_webinar(node, guests_allowed=True)
        _, other = await host_and_webinar(node, guests_allowed=True)
        ann = await register(node.url, "Ann")
        guest = await join_as_guest(node, webinar, "Guest One")
        question = (await call(node, "POST", f"{W}/{webinar}/questions", ann,
                               json={"body": "A question"})).json()["question"]["id"]
        poll = (await call(node, "POST", f"{W}/{webinar}/polls", host, json={
            "question": {"en": "Q"}, "options": [{"en": "a"}, {"en": "b"}]})).json()["poll"]["id"]
        own = {"webinar": webinar, "room": webinar, "question": question, "poll": poll,
               "user_id": str(ann["user"]["id"]), "user": str(ann["user"]["id"]),
               "message": "m-unknown", "topic": "topic-0123456789abcdef", "session": "s",
               "project": "p-0123456789abcdef", "doc": "d-0123456789abcdef",
               "upload": "u-0123456789abcdefghijkl", "file": "f-0123456789abcdefghijkl", "report": "1"}

        routes = {(method, route.path) for route in node.app.routes if isinstance(route, Route)
                  and route.path.startswith("/api/v1/") for method in (route.methods or ()) - {"HEAD"}}
        # The tables name real routes only (a renamed route must be classified again).
        assert routes >= GUEST_ROUTES | NO_SESSION_ROUTES | TRANSPORT_ROUTES
        refused = sorted(routes - GUEST_ROUTES - NO_SESSION_ROUTES - TRANSPORT_ROUTES)
        assert len(refused) > 40
        for method, path in refused:
            for values in (own, {**own, "room": ROOM, "webinar": other}):
                url = fill(path, values)
                kwargs: dict[str, Any] = {} if method in ("GET", "DELETE") else {"json": {}}
                response = await call(node, method, url, guest, **kwargs)
                assert response.status_code == 403, (method, url, response.status_code, response.text)
                assert response.json()["error"]["code"] == "guest_scope"
        # Even their own webinar's hosts' routes and a member's ways in refuse them; the routes
        # they may use answer 404 for any other webinar or room, as for one that does not exist.
        for method, path in sorted(GUEST_ROUTES):
            if "{webinar}" not in path and "{room}" not in path:
                continue
            url = fill(path, {**own, "room": ROOM if "{room}" in path else webinar, "webinar": other})
            kwargs = {} if method in ("GET", "DELETE") else {"json": {"body": "x", "choices": [0]}}
            response = await call(node, method, url, guest, **kwargs)
            assert response.status_code == 404, (method, url, response.text)
        # A member is not affected: the same list answers Ann (not 403 guest_scope).
        members = await call(node, "GET", "/api/v1/members", ann)
        assert members.status_code == 200

        # The poll transport scopes rooms as the WebSocket does.
        poller = await PollPeer.open(node.url, guest)
        await poller.client.send_frame({"type": "join", "room": ROOM})
        await poller.until(lambda: any(f["type"] == "error" for f in poller.client.frames), "refused")
        assert [f["code"] for f in poller.client.frames if f["type"] == "error"] == ["not_found"]
        await poller.client.send_frame({"type": "join", "room": webinar})
        await poller.until(lambda: any(f["type"] == "joined" for f in poller.client.frames), "joined")
        cid = await poller.send(webinar, "polled in")
        await poller.until(lambda: poller.answered(webinar, cid), "the ack")
        await poller.close()


async def test_guests_only_where_allowed_before_the_end_with_valid_names_and_a_limit(backend):
    async with running_nodes(backend(guest_per_address_max=3)) as [node]:
        host, closed = await host_and_webinar(node)  # guests_allowed off by default
        _, webinar = await host_and_webinar(node, guests_allowed=True)
        for target in (closed, "webinar-0123456789abcdef", ROOM):
            response = await call(node, "POST", f"{W}/{target}/guests", None, json={"display_name": "Li"})
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
        bad_id = await call(node, "POST", f"{W}/Bad!/guests", None, json={"display_name": "Li"})
        assert bad_id.status_code == 400
        for bad in ("", "   ", "x" * 65, "Admin", "the admin", "管理员小王", "Mod\u200berator", "bell\u0007", 5, None):
            response = await call(node, "POST", f"{W}/{webinar}/guests", None, json={"display_name": bad})
            assert response.status_code == 422, (bad, response.text)
            assert "display_name" in response.json()["error"]["details"]
        assert (await call(node, "POST", f"{W}/{webinar}/guests", None, json={})).status_code == 422
        assert (await call(node, "POST", f"{W}/{webinar}/guests", None, content=b"{",
                           headers={"content-type": "application/json"})).status_code == 400

        # Ended or cancelled: 409 (and no guest counted against the address).
        _, ended = await host_and_webinar(node, guests_allowed=True)
        _, cancelled = await host_and_webinar(node, guests_allowed=True)
        assert (await call(node, "POST", f"{W}/{ended}/start", host)).status_code == 200
        assert (await call(node, "POST", f"{W}/{ended}/end", host)).status_code == 200
        assert (await call(node, "POST", f"{W}/{cancelled}/cancel", host)).status_code == 200
        for target in (ended, cancelled):
            late = await call(node, "POST", f"{W}/{target}/guests", None, json={"display_name": "Late"})
            assert (late.status_code, late.json()["error"]["code"]) == (409, "conflict"), late.text

        first = await call(node, "POST", f"{W}/{webinar}/guests", None, json={"display_name": "李华"})
        assert first.status_code == 201
        # The session ends 12 h (ECOLINK_GUEST_SESSION_AFTER_END_H) after the scheduled end,
        # which host_and_webinar put 2 h from now.
        found = re.search(r"Max-Age=(\d+)", first.headers["set-cookie"])
        assert found is not None
        expected = (timedelta(hours=2 + 12)).total_seconds()
        assert expected - 600 < int(found.group(1)) <= expected
        for name in ("Two", "Three"):
            assert (await call(node, "POST", f"{W}/{webinar}/guests", None,
                               json={"display_name": name})).status_code == 201
        limited = await call(node, "POST", f"{W}/{webinar}/guests", None, json={"display_name": "Four"})
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) > 0

        # Once their webinar ended, a guest still reads it but writes nothing.
        guest = first.json()
        assert (await call(node, "POST", f"{W}/{webinar}/start", host)).status_code == 200
        assert (await call(node, "POST", f"{W}/{webinar}/end", host)).status_code == 200
        assert (await call(node, "GET", f"/api/v1/rooms/{webinar}/messages", guest)).status_code == 200
        assert (await call(node, "POST", f"{W}/{webinar}/questions", guest,
                           json={"body": "too late"})).status_code == 409
