"""A new direct conversation tells the others at once (issue 10: "Nobody else is online" while
the other was online): opening it sends each other member's connections an `added` membership
frame on their personal channel, on every node, so their client lists and joins the room and
each side's presence shows the other — on both backends, and across two production nodes."""

from __future__ import annotations

from tests.e2e.test_presence import FAST, Watcher, uid
from tests.support.client import WsClient, call, is_type, register
from tests.support.nodes import running_nodes


async def opened_and_seen(node_a, node_b) -> None:
    anna = await register(node_a.url, "Anna")
    li = await register(node_b.url, "李华")
    li_socket = await WsClient.connect(node_b.ws_url, li["token"])
    try:
        await li_socket.send_frame({"type": "ping"})
        await li_socket.recv_until(is_type("pong"))  # connected, personal channel joined
        opened = await call(node_a, "POST", "/api/v1/direct", anna, json={"members": [uid(li)]})
        assert opened.status_code == 201, opened.text
        room = opened.json()["room"]["id"]
        added = await li_socket.recv_until(is_type("membership"))
        assert added == {"type": "membership", "room": room, "change": "added",
                         "user": {"id": uid(li), "name": "李华"}, "by": {"id": uid(anna), "name": "Anna"}}
        # Li's client joins the room it was told of; Anna, in it already, sees Li online.
        anna_socket = await WsClient.connect(node_a.ws_url, anna["token"])
        watcher = Watcher(anna_socket, room)
        try:
            assert (await anna_socket.join(room))["type"] == "joined"
            assert (await li_socket.join(room))["type"] == "joined"
            await watcher.until({uid(anna), uid(li)})
            # Found again (200), it is no news: no second frame.
            again = await call(node_a, "POST", "/api/v1/direct", anna, json={"members": [uid(li)]})
            assert again.status_code == 200
            await li_socket.send_frame({"type": "ping"})
            await li_socket.recv_until(is_type("pong"))
            assert [f for f in li_socket.frames if f["type"] == "membership"] == [added]
        finally:
            await anna_socket.close()
    finally:
        await li_socket.close()


async def test_a_new_direct_conversation_reaches_the_other_at_once(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        await opened_and_seen(node, node)


async def test_across_two_nodes(production):
    async with running_nodes(production(**FAST), production(**FAST)) as [a, b]:
        await opened_and_seen(a, b)
