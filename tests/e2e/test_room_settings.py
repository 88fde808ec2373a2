"""Room settings (mute) and "mark all read" over real sockets: the level follows the member to
every connection of theirs, bad input is refused and changes nothing, and nobody can set or
see it for a room they may not see."""

from __future__ import annotations

import pytest

from tests.support.client import WsClient, call, is_type, register, send_acked, sync
from tests.support.nodes import running_nodes


async def rooms_by_id(node, account):
    response = await call(node, "GET", "/api/v1/rooms", account)
    assert response.status_code == 200
    return {room["id"]: room for room in response.json()["rooms"]}


async def test_a_notify_level_is_stored_per_member_and_listed_with_the_rooms(backend):
    async with running_nodes(backend(), backend()) as [one, two]:
        ann, bob = await register(one.url, "Ann"), await register(one.url, "Bob")
        response = await call(one, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        direct = response.json()["room"]["id"]
        elsewhere = await WsClient.connect(one.ws_url, ann["token"])  # Ann's other device
        bobs = await WsClient.connect(one.ws_url, bob["token"])
        await sync(elsewhere)
        await sync(bobs)
        rooms = await rooms_by_id(one, ann)
        assert (rooms["zhuhai"]["notify"], rooms[direct]["notify"]) == ("mentions", "all")  # defaults
        response = await call(one, "PUT", "/api/v1/rooms/zhuhai/settings", ann, json={"notify": "none"})
        assert (response.status_code, response.json()) == (200, {"room": "zhuhai", "notify": "none"})
        await elsewhere.wait_for(is_type("room_settings", room="zhuhai", notify="none"))  # live
        response = await call(one, "PUT", f"/api/v1/rooms/{direct}/settings", ann, json={"notify": "mentions"})
        assert response.json()["notify"] == "mentions"
        # Another node (another device) lists the same; Bob's own levels are untouched.
        rooms = await rooms_by_id(two, ann)
        assert (rooms["zhuhai"]["notify"], rooms[direct]["notify"]) == ("none", "mentions")
        rooms = await rooms_by_id(two, bob)
        assert (rooms["zhuhai"]["notify"], rooms[direct]["notify"]) == ("mentions", "all")
        # null goes back to the default.
        response = await call(one, "PUT", "/api/v1/rooms/zhuhai/settings", ann, json={"notify": None})
        assert response.json() == {"room": "zhuhai", "notify": "mentions"}
        assert (await rooms_by_id(two, ann))["zhuhai"]["notify"] == "mentions"
        await elsewhere.wait_for(is_type("room_settings", room="zhuhai", notify="mentions"))
        await sync(bobs)
        assert not [f for f in bobs.frames if f["type"] == "room_settings"]  # nobody else hears of it


@pytest.mark.parametrize("body", [{"notify": "loud"}, {"notify": 1}, {}, {"notify": ["none"]}])
async def test_bad_settings_are_refused_and_change_nothing(backend, body):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        await call(node, "PUT", "/api/v1/rooms/hefei/settings", ann, json={"notify": "none"})
        response = await call(node, "PUT", "/api/v1/rooms/hefei/settings", ann, json=body)
        assert 400 <= response.status_code < 500 and response.json()["error"]["code"]
        response = await call(node, "PUT", "/api/v1/rooms/Not_A_Room/settings", ann, json={"notify": "all"})
        assert 400 <= response.status_code < 500
        assert (await rooms_by_id(node, ann))["hefei"]["notify"] == "none"


async def test_another_members_direct_room_is_not_found(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob, eve = [await register(node.url, name) for name in ("Ann", "Bob", "Eve")]
        response = await call(node, "POST", "/api/v1/direct", ann, json={"members": [bob["user"]["id"]]})
        direct = response.json()["room"]["id"]
        for room in (direct, "no-such-room"):
            response = await call(node, "PUT", f"/api/v1/rooms/{room}/settings", eve, json={"notify": "none"})
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
        assert direct not in await rooms_by_id(node, eve)
        assert (await rooms_by_id(node, ann))[direct]["notify"] == "all"


async def test_mark_all_read_raises_every_room_with_unread_and_announces_each(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        b = await WsClient.connect(node.ws_url, bob["token"])
        for room, n in (("hefei", 2), ("zhuhai", 1)):
            for i in range(n):
                await send_acked(b, room, f"hello {room} {i}", f"{room}{i}")
        a = await WsClient.connect(node.ws_url, ann["token"])
        await sync(a)
        rooms = await rooms_by_id(node, ann)
        assert (rooms["hefei"]["unread"], rooms["zhuhai"]["unread"]) == (2, 1)
        response = await call(node, "POST", "/api/v1/rooms/read-all", ann)
        assert (response.status_code, sorted(response.json()["rooms"])) == (200, ["hefei", "zhuhai"])
        await a.wait_for(is_type("read", room="hefei", seq=2))
        await a.wait_for(is_type("read", room="zhuhai", seq=1))
        rooms = await rooms_by_id(node, ann)
        assert all(room["unread"] == 0 for room in rooms.values())
        assert (rooms["hefei"]["last_read"], rooms["zhuhai"]["last_read"]) == (2, 1)
        # Again: nothing moves. Bob's own state is untouched.
        assert (await call(node, "POST", "/api/v1/rooms/read-all", ann)).json() == {"rooms": []}
        assert (await rooms_by_id(node, bob))["hefei"]["last_read"] == 0
