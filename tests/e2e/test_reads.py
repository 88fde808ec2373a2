"""Read state over real sockets: read markers over HTTP and the WebSocket, unread counts in the
room list, "read by" in direct rooms (live, across nodes), and bad input."""

from __future__ import annotations


from tests.support.client import WsClient, call, is_type, register, send_acked, sync
from tests.support.nodes import running_nodes

ROOM = "clean-energy"


async def rooms_by_id(node, account):
    response = await call(node, "GET", "/api/v1/rooms", account)
    assert response.status_code == 200
    return {room["id"]: room for room in response.json()["rooms"]}


async def open_direct(node, owner, *others):
    response = await call(node, "POST", "/api/v1/direct", owner,
                          json={"members": [o["user"]["id"] for o in others]})
    assert response.status_code == 201, response.text
    return response.json()["room"]["id"]


async def test_read_markers_move_unread_counts_and_reach_the_readers_other_connections(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        b = await WsClient.connect(node.ws_url, bob["token"])
        assert (await b.join(ROOM))["type"] == "joined"
        for i in range(3):
            await send_acked(b, ROOM, f"news {i}", f"b{i}")
        await send_acked(b, "hefei", "hello hefei", "h1")
        rooms = await rooms_by_id(node, ann)
        assert (rooms[ROOM]["last_read"], rooms[ROOM]["unread"], rooms[ROOM]["seq"]) == (0, 3, 3)
        assert (rooms["hefei"]["unread"], rooms["zhuhai"]["unread"]) == (1, 0)
        # Bob's own messages are never unread for him.
        assert (await rooms_by_id(node, bob))[ROOM]["unread"] == 0

        a1 = await WsClient.connect(node.ws_url, ann["token"])
        a2 = await WsClient.connect(node.ws_url, ann["token"], binary=False)
        await sync(a1)
        await sync(a2)
        response = await call(node, "PUT", f"/api/v1/rooms/{ROOM}/read", ann, json={"seq": 2})
        assert response.json() == {"room": ROOM, "last_read": 2, "unread": 1}
        for client in (a1, a2):  # every connection of the reader hears of it
            frame = await client.wait_for(is_type("read", room=ROOM, seq=2))
            assert frame["user"] == {"id": ann["user"]["id"], "name": "Ann"}
        # Lower or equal positions change nothing and are not errors.
        response = await call(node, "PUT", f"/api/v1/rooms/{ROOM}/read", ann, json={"seq": 1})
        assert (response.status_code, response.json()["last_read"]) == (200, 2)
        await a1.send_frame({"type": "read", "room": ROOM, "seq": 3})
        await a2.wait_for(is_type("read", room=ROOM, seq=3))
        rooms = await rooms_by_id(node, ann)
        assert (rooms[ROOM]["last_read"], rooms[ROOM]["unread"]) == (3, 0)
        # Read positions are not room entries: the head did not move, and a reader of the open
        # room never hears of anyone's position (no receipts outside direct rooms).
        await send_acked(a1, ROOM, "thanks", "a1")
        await b.wait_for(is_type("message", room=ROOM, seq=4))
        assert not [f for f in b.frames if f["type"] == "read"]
        reads = (await call(node, "GET", f"/api/v1/rooms/{ROOM}/reads", ann)).json()
        assert reads == {"reads": [{"user": {"id": ann["user"]["id"], "name": "Ann"}, "seq": 3}]}
        assert not [f for f in a1.frames if f["type"] == "error"]
        for client in (a1, a2, b):
            await client.close()


async def test_read_by_in_a_direct_room_is_live_across_nodes(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob, eve = (await register(n1.url, "Ann"), await register(n1.url, "Bob"),
                         await register(n1.url, "Eve"))
        room = await open_direct(n1, ann, bob)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b = await WsClient.connect(n2.ws_url, bob["token"])
        e = await WsClient.connect(n2.ws_url, eve["token"])
        assert (await a.join(room))["type"] == "joined"
        assert (await b.join(room))["type"] == "joined"
        await send_acked(a, room, "Can your team review the district heating plan?", "m1")
        await send_acked(a, room, "Draft attached.", "m2")
        await b.wait_for(is_type("message", room=room, seq=2))
        assert (await rooms_by_id(n2, bob))[room]["unread"] == 2
        await b.send_frame({"type": "read", "room": room, "seq": 2})
        receipt = await a.wait_for(is_type("read", room=room))
        assert receipt == {"type": "read", "room": room, "seq": 2,
                           "user": {"id": bob["user"]["id"], "name": "Bob"}}
        reads = (await call(n1, "GET", f"/api/v1/rooms/{room}/reads", ann)).json()["reads"]
        assert reads == [{"user": {"id": ann["user"]["id"], "name": "Ann"}, "seq": 0},
                         {"user": {"id": bob["user"]["id"], "name": "Bob"}, "seq": 2}]
        # Eve is no member: the room does not exist for her, and she heard nothing of it.
        assert (await call(n2, "GET", f"/api/v1/rooms/{room}/reads", eve)).status_code == 404
        assert (await call(n2, "PUT", f"/api/v1/rooms/{room}/read", eve, json={"seq": 1})).status_code == 404
        await e.send_frame({"type": "read", "room": room, "seq": 1})
        assert (await e.recv_until(is_type("error")))["code"] == "not_found"
        assert room not in await rooms_by_id(n2, eve)
        assert not [f for f in e.frames if f.get("room") == room and f["type"] != "error"]
        for client in (a, b, e):
            await client.close()


async def test_bad_read_markers_are_refused_and_change_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        b = await WsClient.connect(node.ws_url, bob["token"])
        await send_acked(b, ROOM, "one", "b1")
        path = f"/api/v1/rooms/{ROOM}/read"
        for body, status in (
            ({"seq": -1}, 422), ({"seq": "1"}, 422), ({"seq": True}, 422), ({"seq": 1.5}, 422),
            ({}, 422), ({"seq": 2}, 422), ({"seq": 2**64}, 422), ([1], 400),
        ):
            response = await call(node, "PUT", path, ann, json=body)
            assert response.status_code == status, (body, response.text)
        assert (await call(node, "PUT", path, ann, content=b"seq=1")).status_code == 400
        assert (await call(node, "PUT", path, None, json={"seq": 1})).status_code == 401
        assert (await call(node, "PUT", "/api/v1/rooms/nowhere/read", ann, json={"seq": 0})).status_code == 404
        assert (await call(node, "PUT", "/api/v1/rooms/No_Room/read", ann, json={"seq": 0})).status_code == 400
        assert (await call(node, "GET", "/api/v1/rooms/nowhere/reads", ann)).status_code == 404
        past = (await call(node, "PUT", path, ann, json={"seq": 2})).json()["error"]
        assert past["code"] == "invalid" and "head" in past["message"]

        a = await WsClient.connect(node.ws_url, ann["token"], binary=False)
        for frame in ({"type": "read", "room": ROOM, "seq": -1}, {"type": "read", "room": ROOM},
                      {"type": "read", "room": ROOM, "seq": True}, {"type": "read", "room": ROOM, "seq": "1"},
                      {"type": "read", "room": ROOM, "seq": 2}, {"type": "read", "room": "Bad!", "seq": 1}):
            await a.send_frame(frame)
            assert (await a.recv_until(is_type("error")))["code"] == "invalid", frame
        await a.send_frame({"type": "read", "room": "nowhere", "seq": 0})
        assert (await a.recv_until(is_type("error")))["code"] == "not_found"
        await sync(a)
        assert not [f for f in a.frames if f["type"] == "read"]
        rooms = await rooms_by_id(node, ann)
        assert (rooms[ROOM]["last_read"], rooms[ROOM]["unread"]) == (0, 1)
        for client in (a, b):
            await client.close()
