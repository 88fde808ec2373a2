"""Notifications over real sockets: mentions delivered live to the mentioned user's connections
on another node, direct messages and topic replies, listing, paging, marking read, bad input,
and that nobody ever receives another user's notifications."""

from __future__ import annotations

from tests.e2e.test_reads import open_direct
from tests.support.client import WsClient, call, is_type, register, send_acked, sync
from tests.support.nodes import running_nodes

ROOM = "water-management"


def notification(**fields):
    return lambda f: f["type"] == "notification" and all(
        f["notification"].get(k) == v for k, v in fields.items())


async def notifications(node, account, query=""):
    response = await call(node, "GET", f"/api/v1/notifications{query}", account)
    assert response.status_code == 200, response.text
    return response.json()


async def unread(node, account):
    return (await call(node, "GET", "/api/v1/notifications/count", account)).json()["unread"]


async def test_a_mention_reaches_the_mentioned_users_connections_on_another_node(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob, cat = (await register(n1.url, "Ann"), await register(n1.url, "Bob"),
                         await register(n1.url, "Cat"))
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b2 = await WsClient.connect(n2.ws_url, bob["token"])
        b1 = await WsClient.connect(n1.ws_url, bob["token"], binary=False)
        c = await WsClient.connect(n2.ws_url, cat["token"])
        for client in (b1, b2, c):
            await sync(client)  # the first answer: notifications now reach this connection
        bob_id, cat_id = bob["user"]["id"], cat["user"]["id"]
        ack = await send_acked(a, ROOM, "@Bob the 水资源 report is in", "m1", mentions=[bob_id])
        for client in (b2, b1):
            frame = await client.wait_for(notification(message_id=ack["id"]))
            assert frame["notification"]["kind"] == "mention"
            assert (frame["notification"]["room"], frame["notification"]["seq"]) == (ROOM, ack["seq"])
            assert frame["notification"]["actor"] == {"id": ann["user"]["id"], "name": "Ann"}
            assert frame["notification"]["excerpt"] == "@Bob the 水资源 report is in"
            assert frame["notification"]["read_at"] is None
        # Cat gets her own mention, and never Bob's; Ann (the author) gets nothing.
        ack2 = await send_acked(a, ROOM, "@Cat and @Bob, see above", "m2", mentions=[cat_id, bob_id])
        await c.wait_for(notification(message_id=ack2["id"]))
        await b2.wait_for(notification(message_id=ack2["id"]))
        assert [f["notification"]["message_id"] for f in c.frames if f["type"] == "notification"] == [ack2["id"]]
        await sync(a)
        assert not [f for f in a.frames if f["type"] in ("notification", "notifications_read")]

        listed = await notifications(n1, bob)
        assert [(n["kind"], n["message_id"]) for n in listed["notifications"]] == [
            ("mention", ack2["id"]), ("mention", ack["id"])]
        assert listed["next"] is None
        assert await unread(n2, bob) == 2 and await unread(n1, cat) == 1
        first = listed["notifications"][1]["id"]
        marked = await call(n1, "POST", "/api/v1/notifications/read", bob, json={"ids": [first]})
        assert marked.json() == {"marked": 1, "unread": 1}
        sync_frame = await b2.wait_for(is_type("notifications_read"))
        assert sync_frame == {"type": "notifications_read", "ids": [first], "unread": 1}
        # Marking someone else's notification does nothing to it.
        cats = (await notifications(n2, cat))["notifications"][0]["id"]
        marked = await call(n1, "POST", "/api/v1/notifications/read", bob, json={"ids": [cats]})
        assert marked.json() == {"marked": 0, "unread": 1}
        assert await unread(n1, cat) == 1
        await sync(c)
        assert not [f for f in c.frames if f["type"] == "notifications_read"]
        for client in (a, b1, b2, c):
            await client.close()


async def test_direct_messages_and_topic_replies_notify_and_page(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob, cat = (await register(node.url, "Ann"), await register(node.url, "Bob"),
                         await register(node.url, "Cat"))
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"])
        c = await WsClient.connect(node.ws_url, cat["token"])
        for client in (a, b, c):
            await sync(client)
        room = await open_direct(node, ann, bob)
        direct = await send_acked(a, room, "Hello from the Zhuzhou team", "d1")
        frame = await b.wait_for(notification(message_id=direct["id"]))
        assert (frame["notification"]["kind"], frame["notification"]["room"]) == ("direct", room)

        created = await call(node, "POST", "/api/v1/rooms/green-transport/topics", bob,
                             json={"title": "Electric bus depots", "body": "Who has numbers?"})
        assert created.status_code == 201, created.text
        topic = created.json()["topic"]["id"]
        replies = [await send_acked(a, topic, f"reply {i}", f"r{i}") for i in range(3)]
        await send_acked(b, topic, "thanks", "own")  # the author's own reply: nothing
        for reply in replies:
            frame = await b.wait_for(notification(message_id=reply["id"]))
            assert (frame["notification"]["kind"], frame["notification"]["room"]) == ("reply", topic)
        await sync(a)
        assert not [f for f in a.frames if f["type"] == "notification"]
        # A topic is a room of its own: its own read position and unread count.
        marked = await call(node, "PUT", f"/api/v1/rooms/{topic}/read", bob, json={"seq": replies[1]["seq"]})
        assert marked.json() == {"room": topic, "last_read": replies[1]["seq"], "unread": 1}
        reads = (await call(node, "GET", f"/api/v1/rooms/{topic}/reads", bob)).json()["reads"]
        assert [r["seq"] for r in reads] == [replies[1]["seq"]]

        page = await notifications(node, bob, "?limit=2")
        assert [n["message_id"] for n in page["notifications"]] == [replies[2]["id"], replies[1]["id"]]
        rest = await notifications(node, bob, f"?limit=2&before={page['next']}")
        assert [n["message_id"] for n in rest["notifications"]] == [replies[0]["id"], direct["id"]]
        assert rest["next"] is None
        everything = await call(node, "POST", "/api/v1/notifications/read", bob, json={"all": True})
        assert everything.json() == {"marked": 4, "unread": 0}
        assert await b.wait_for(is_type("notifications_read", all=True))
        assert (await notifications(node, bob, "?unread=true"))["notifications"] == []
        assert all(n["read_at"] for n in (await notifications(node, bob))["notifications"])
        # Cat, in none of these rooms, heard of none of it.
        await sync(c)
        assert not [f for f in c.frames if f["type"] != "pong"]
        assert (await notifications(node, cat))["notifications"] == []
        for client in (a, b, c):
            await client.close()


async def test_a_removed_member_no_longer_sees_the_rooms_notifications(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"])
        await sync(b)
        room = await open_direct(node, ann, bob)
        sent = await send_acked(a, room, "private note", "p1")
        await b.wait_for(notification(message_id=sent["id"]))
        assert await unread(node, bob) == 1
        left = await call(node, "DELETE", f"/api/v1/rooms/{room}/members/{bob['user']['id']}", bob)
        assert left.status_code in (200, 204), left.text
        assert (await notifications(node, bob))["notifications"] == []
        assert await unread(node, bob) == 0
        for client in (a, b):
            await client.close()


async def test_bad_notification_requests_are_refused(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        for query in ("?unread=yes", "?limit=0", "?limit=101", "?before=0", "?before=abc", "?limit=²"):
            response = await call(node, "GET", f"/api/v1/notifications{query}", ann)
            assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_request"), query
        for body in ({}, {"ids": "1"}, {"ids": [0]}, {"ids": [True]}, {"ids": ["1"]}, {"all": False},
                     {"all": "true"}, {"ids": [1], "all": True}, {"ids": list(range(1, 102))}):
            response = await call(node, "POST", "/api/v1/notifications/read", ann, json=body)
            assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid"), body
        assert (await call(node, "POST", "/api/v1/notifications/read", ann, content=b"[]",
                           headers={"Content-Type": "application/json"})).status_code == 400
        for method, path in (("GET", "/api/v1/notifications"), ("GET", "/api/v1/notifications/count"),
                             ("POST", "/api/v1/notifications/read")):
            assert (await call(node, method, path, None, json={"all": True})).status_code == 401
        assert (await call(node, "POST", "/api/v1/notifications/read", ann, json={"ids": []})).json() == {
            "marked": 0, "unread": 0}
