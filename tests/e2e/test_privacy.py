"""Nothing about a direct conversation leaks to a removed member: presence, threads, and a
join racing the removal. (That every route and frame with an id answers non-members exactly
as for a missing id, and that no event reaches them, is the authorization matrix's:
tests/e2e/test_authorization_matrix.py.)"""

from __future__ import annotations

import asyncio

import httpx

from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes


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
