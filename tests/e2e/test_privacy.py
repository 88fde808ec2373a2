"""Nothing about a direct conversation leaks to non-members, removed members or anonymous
users: every HTTP route that takes a room, topic, message or user id, and every WebSocket
frame that takes a room or message id, answers them exactly as for an id that does not exist,
and no fan-out event reaches them."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from starlette.routing import Route

from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes

MISSING_ROOM = "d-ffffffffffffffff"
MISSING_MESSAGE = "no-such-message-id"

# A plausible body for each method, so a route fails on access, not on validation.
BODIES = {
    "POST": {"user_id": 1, "title": "t", "body": "b", "members": [1], "seq": 1, "status": "open",
             "rooms": ["zhuhai"], "ids": [1]},
    "PUT": {"status": "answered", "seq": 1, "role": "member"},
    "PATCH": {"resolved": True},
}
# Every client frame that names a room or a message (frames.parse accepts these types).
FRAMES = [
    {"type": "join"}, {"type": "join", "since": 0}, {"type": "leave"},
    {"type": "send", "body": "hi", "cid": "p1"},
    {"type": "edit", "id": "{message}", "body": "x", "cid": "p2"},
    {"type": "delete", "id": "{message}", "cid": "p3"},
    {"type": "react", "id": "{message}", "emoji": "👍", "cid": "p4"},
    {"type": "typing"}, {"type": "read", "seq": 1},
]


def routes_with_ids(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route) and re.search(r"\{(room|topic|message|user)\}", route.path):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, route.path))
    return found


def fill(path: str, room: str, message: str, user_id: int) -> str:
    return (path.replace("{room}", room).replace("{topic}", room)
            .replace("{message}", message).replace("{user}", str(user_id)))


async def answers(http: httpx.AsyncClient, method: str, url: str, headers: dict) -> tuple[int, object]:
    response = await http.request(method, url, headers=headers,
                                  json=BODIES.get(method) if method in BODIES else None)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


async def frame_reply(client: WsClient, frame: dict) -> dict:
    if "cid" in frame:  # answered after the commit attempt: wait for the answer naming it
        client.frames.clear()
        await client.send_frame(frame)
        return await client.recv_until(lambda f: f.get("cid") == frame["cid"])
    await client.send_frame(frame)
    await client.send_frame({"type": "ping"})
    replies = []
    while True:
        reply = await client.recv()
        if reply["type"] == "pong":
            return replies[0] if replies else {"type": "nothing"}
        if reply.get("room") != "zhuhai":  # traffic of the room Eve may see is not an answer
            replies.append(reply)


def normalise(reply: dict, room: str) -> dict:
    return {k: (v.replace(room, "<room>") if isinstance(v, str) else v) for k, v in reply.items()}


@pytest.mark.parametrize("who", ["outsider", "removed"])
async def test_private_rooms_look_exactly_like_missing_ones(backend, who):
    # Eve tries every route and frame: far more writes than a member's budget allows (the
    # budget is charged before any lookup, so it could not tell the two apart anyway).
    async with running_nodes(backend(member_rate_per_s=10_000, member_rate_burst=10_000)) as [node]:
        ann, bob, eve, admin = [await register(node.url, n) for n in ("Ann", "Bob", "Eve", "Ada")]
        await node.node.store.set_role(admin["user"]["id"], "admin")
        members = [bob["user"]["id"], admin["user"]["id"]] + ([eve["user"]["id"]] if who == "removed" else [])
        async with httpx.AsyncClient(base_url=node.url) as http:
            room = (await http.post("/api/v1/direct", json={"members": members},
                                    headers=bearer(ann["token"]))).json()["room"]["id"]
            a = await WsClient.connect(node.ws_url, ann["token"])
            await a.send(room, "private plan", cid="m1")
            message = (await a.wait_for(lambda f: f["type"] == "ack"))["id"]
            topic = (await http.post(f"/api/v1/rooms/{room}/topics", json={"title": "private topic"},
                                     headers=bearer(ann["token"]))).json()["topic"]["id"]
            if who == "removed":
                assert (await http.delete(f"/api/v1/rooms/{room}/members/{eve['user']['id']}",
                                          headers=bearer(admin["token"]))).status_code == 204
            eve_headers = bearer(eve["token"])
            routes = routes_with_ids(node.app)
            assert len(routes) >= 10, routes
            for method, path in routes:
                for private in (room, topic):
                    real = await answers(http, method, fill(path, private, message, ann["user"]["id"]), eve_headers)
                    fake = await answers(http, method, fill(path, MISSING_ROOM, MISSING_MESSAGE, ann["user"]["id"]),
                                         eve_headers)
                    assert real == fake, (method, path, private, real, fake)
                    anonymous = await answers(http, method, fill(path, private, message, ann["user"]["id"]), {})
                    assert anonymous[0] == 401, (method, path, anonymous)
            # Nothing in lists either.
            for url in ("/api/v1/rooms", "/api/v1/news", "/api/v1/rooms/zhuhai/topics"):
                listing = await http.get(url, headers=eve_headers)
                assert room not in listing.text and topic not in listing.text, url

        eve_ws = await WsClient.connect(node.ws_url, eve["token"])
        await eve_ws.join("zhuhai")  # a room she may see, so a stray fan-out would show
        for template in FRAMES:
            for private in (room, topic):
                frame = {k: (v.replace("{message}", message) if isinstance(v, str) else v)
                         for k, v in template.items()}
                real = await frame_reply(eve_ws, {**frame, "room": private})
                fake_frame = {k: (MISSING_MESSAGE if v == message else v) for k, v in frame.items()}
                fake = await frame_reply(eve_ws, {**fake_frame, "room": MISSING_ROOM})
                assert normalise(real, private) == normalise(fake, MISSING_ROOM), (frame, real, fake)
        # Live traffic in the private room and its topic reaches members, never Eve.
        b = await WsClient.connect(node.ws_url, bob["token"])
        await b.join(room)
        await a.send(room, "after the checks", cid="m2")
        await a.send(topic, "in the topic", cid="m3")
        await b.wait_for(lambda f: f["type"] == "message" and f["body"] == "after the checks")
        await eve_ws.send_frame({"type": "ping"})
        await eve_ws.recv_until(lambda f: f["type"] == "pong")
        leaked = [f for f in eve_ws.frames if room in str(f) or topic in str(f) or "private" in str(f)
                  or "after the checks" in str(f)]
        assert all(f["type"] == "error" for f in leaked), leaked
        for client in (a, b, eve_ws):
            await client.close()


async def _direct_room(node, http):
    ann, eve, admin = [await register(node.url, n) for n in ("Ann", "Eve", "Ada")]
    await node.node.store.set_role(admin["user"]["id"], "admin")
    room = (await http.post("/api/v1/direct", json={"members": [eve["user"]["id"], admin["user"]["id"]]},
                            headers=bearer(ann["token"]))).json()["room"]["id"]
    return ann, eve, admin, room


async def test_a_removed_member_leaves_presence_and_the_rooms_threads(backend):
    async with running_nodes(backend(presence_interval_s=0.05)) as [node], \
            httpx.AsyncClient(base_url=node.url) as http:
        ann, eve, admin, room = await _direct_room(node, http)
        topic = (await http.post(f"/api/v1/rooms/{room}/topics", json={"title": "inner"},
                                 headers=bearer(ann["token"]))).json()["topic"]["id"]
        e = await WsClient.connect(node.ws_url, eve["token"])
        await e.join(room)
        await e.join(topic)
        assert (await http.delete(f"/api/v1/rooms/{room}/members/{eve['user']['id']}",
                                  headers=bearer(admin["token"]))).status_code == 204
        await e.wait_for(lambda f: f["type"] == "left" and f["room"] == room)
        await e.wait_for(lambda f: f["type"] == "left" and f["room"] == topic)
        a = await WsClient.connect(node.ws_url, ann["token"])
        await a.send(topic, "inner secret", cid="t1")
        await a.wait_for(lambda f: f["type"] == "ack")
        await e.send_frame({"type": "ping"})
        await e.recv_until(lambda f: f["type"] == "pong")
        assert not [f for f in e.frames if f.get("body") == "inner secret"]
        await e.close()
        online = (await http.get(f"/api/v1/rooms/{room}/presence",
                                 headers=bearer(ann["token"]))).json()["online"]
        assert eve["user"]["id"] not in [u["id"] for u in online]
        await a.close()


async def test_a_join_racing_a_removal_never_subscribes_the_removed_member(backend):
    """The access check passes, the member is removed, then the join reaches the feed: the
    feed checks again in its own order and refuses."""
    async with running_nodes(backend()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        ann, eve, admin, room = await _direct_room(node, http)
        a = await WsClient.connect(node.ws_url, ann["token"])
        await a.join(room)
        store = node.node.store
        real = store.room_access
        checked, go = asyncio.Event(), asyncio.Event()

        async def held_access(room_id, user_id):  # the real check, held open once for Eve
            result = await real(room_id, user_id)
            if user_id == eve["user"]["id"] and room_id == room and not go.is_set():
                checked.set()
                await go.wait()
            return result

        store.room_access = held_access
        e = await WsClient.connect(node.ws_url, eve["token"])
        await e.send_frame({"type": "join", "room": room})
        await checked.wait()
        assert (await http.delete(f"/api/v1/rooms/{room}/members/{eve['user']['id']}",
                                  headers=bearer(admin["token"]))).status_code == 204
        go.set()
        refused = await e.wait_for(lambda f: f["type"] in ("joined", "error"))
        assert refused["type"] == "error" and refused["code"] == "not_found"
        await a.send(room, "secret after removal", cid="s1")
        await a.wait_for(lambda f: f["type"] == "message" and f["body"] == "secret after removal")
        await e.send_frame({"type": "ping"})
        await e.recv_until(lambda f: f["type"] == "pong")
        assert not [f for f in e.frames if f.get("body") == "secret after removal"]
        await a.close()
        await e.close()


async def test_opening_the_same_direct_conversation_at_once_finds_one_room(backend):
    async with running_nodes(backend()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        ann, bob = [await register(node.url, n) for n in ("Ann", "Bob")]
        answers = await asyncio.gather(*(
            http.post("/api/v1/direct", json={"members": [bob["user"]["id"]]},
                      headers=bearer(ann["token"])) for _ in range(8)))
        assert sorted(r.status_code for r in answers) == [200] * 7 + [201]
        assert len({r.json()["room"]["id"] for r in answers}) == 1
