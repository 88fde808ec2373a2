"""End to end over real uvicorn sockets: accounts, rooms, join/send/ack/message, history,
multiple nodes, resume. Each test runs embedded (SQLite + memory) and production
(PostgreSQL + Redis)."""

from __future__ import annotations


import httpx
import pytest

from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_join_send_ack_and_message_reach_every_member(backend, binary):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "王芳")
        a = await WsClient.connect(node.ws_url, ann["token"], binary=binary)
        b = await WsClient.connect(node.ws_url, bob["token"], binary=not binary)
        assert (await a.join("green-transport")) == {"type": "joined", "room": "green-transport", "seq": 0}
        await b.join("green-transport")
        cid = await a.send("green-transport", "柳州的电动公交 works")
        ack = await a.recv_until(lambda f: f["type"] == "ack")
        assert ack["cid"] == cid and ack["seq"] == 1 and ack["room"] == "green-transport"
        got = await b.recv_until(lambda f: f["type"] == "message")
        assert got["seq"] == 1 and got["id"] == ack["id"]
        assert got["author"] == {"id": ann["user"]["id"], "name": "Ann"}
        assert got["body"] == "柳州的电动公交 works" and got["sent_at"].endswith("Z")
        mine = a.messages("green-transport") or [await a.recv_until(lambda f: f["type"] == "message")]
        assert mine[0]["id"] == ack["id"]
        await a.close()
        await b.close()


async def test_repeated_cid_returns_the_original_ack_and_stores_one_row(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        await a.send("hefei", "first", cid="same-cid")
        first = await a.recv_until(lambda f: f["type"] == "ack")
        await a.close()
        again = await WsClient.connect(node.ws_url, ann["token"])  # a reconnect
        await again.send("hefei", "first, resent", cid="same-cid")
        second = await again.recv_until(lambda f: f["type"] == "ack")
        assert second == first
        async with httpx.AsyncClient(base_url=node.url) as http:
            page = await http.get("/api/v1/rooms/hefei/messages",
                                  headers=bearer(ann["token"]))
        assert [m["body"] for m in page.json()["messages"]] == ["first"]
        await again.close()


async def test_message_on_one_node_reaches_members_on_the_other(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob = await register(n1.url), await register(n2.url)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b = await WsClient.connect(n2.ws_url, bob["token"])
        await a.join("qingdao")
        await b.join("qingdao")
        await a.send("qingdao", "from node 1")
        got = await b.recv_until(lambda f: f["type"] == "message")
        assert got["body"] == "from node 1" and got["seq"] == 1
        await b.send("qingdao", "from node 2")
        got = await a.recv_until(lambda f: f["type"] == "message" and f["seq"] == 2)
        assert got["body"] == "from node 2"
        # The same cid on the other node returns the original ack.
        await b.send("qingdao", "again", cid="x1")
        ack1 = await b.recv_until(lambda f: f["type"] == "ack" and f["cid"] == "x1")
        await a.ws.close()
        a2 = await WsClient.connect(n1.ws_url, bob["token"])
        await a2.send("qingdao", "again", cid="x1")
        assert await a2.recv_until(lambda f: f["type"] == "ack") == ack1
        await b.close()
        await a2.close()


async def test_resume_with_since_gets_exactly_what_was_missed_then_live(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url), await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"])
        await a.join("weihai")
        await b.join("weihai")
        for i in range(3):
            await a.send("weihai", f"m{i}")
        await b.recv_until(lambda f: f["type"] == "message" and f["seq"] == 3)
        await b.close()  # drop the connection
        for i in range(3, 10):
            await a.send("weihai", f"m{i}")
        await a.recv_until(lambda f: f["type"] == "ack" and f["seq"] == 10)
        b2 = await WsClient.connect(node.ws_url, bob["token"])
        joined = await b2.join("weihai", since=3)
        assert joined == {"type": "joined", "room": "weihai", "seq": 10}
        await a.send("weihai", "live")
        await b2.recv_until(lambda f: f["type"] == "message" and f["seq"] == 11)
        assert [m["seq"] for m in b2.messages("weihai")] == list(range(4, 12))
        assert [m["body"] for m in b2.messages("weihai")][:2] == ["m3", "m4"]
        await a.close()
        await b2.close()


async def test_resume_beyond_the_replay_limit_says_resync(backend):
    async with running_nodes(backend(replay_limit=5)) as [node]:
        ann = await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        for i in range(8):
            await a.send("guilin", f"m{i}")
        await a.recv_until(lambda f: f["type"] == "ack" and f["seq"] == 8)
        b = await WsClient.connect(node.ws_url, ann["token"])
        await b.send_frame({"type": "join", "room": "guilin", "since": 1})
        assert await b.recv() == {"type": "resync", "room": "guilin", "seq": 8}
        assert await b.recv() == {"type": "joined", "room": "guilin", "seq": 8}
        await a.send("guilin", "live")
        got = await b.recv_until(lambda f: f["type"] == "message")
        assert got["seq"] == 9  # nothing replayed silently, live continues
        # Within the limit the replay is exact.
        c = await WsClient.connect(node.ws_url, ann["token"])
        await c.join("guilin", since=6)
        await c.recv_until(lambda f: f["type"] == "message" and f["seq"] == 9)
        assert [m["seq"] for m in c.messages("guilin")] == [7, 8, 9]
        for client in (a, b, c):
            await client.close()


async def test_since_ahead_of_the_head_is_an_error(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        reply = await a.join("zhuzhou", since=99)
        assert reply["type"] == "error" and reply["code"] == "invalid"
        assert (await a.join("zhuzhou"))["type"] == "joined"  # the connection still works
        await a.close()


async def test_history_pages_over_http(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        for i in range(1, 26):
            await a.send("xixian", f"m{i}")
        await a.recv_until(lambda f: f["type"] == "ack" and f["seq"] == 25)
        headers = bearer(ann["token"])
        async with httpx.AsyncClient(base_url=node.url, headers=headers) as http:
            latest = (await http.get("/api/v1/rooms/xixian/messages?limit=10")).json()["messages"]
            assert [m["seq"] for m in latest] == list(range(16, 26))
            back = (await http.get("/api/v1/rooms/xixian/messages?before=16&limit=10")).json()
            assert [m["seq"] for m in back["messages"]] == list(range(6, 16))
            fwd = (await http.get("/api/v1/rooms/xixian/messages?after=20")).json()
            assert [m["body"] for m in fwd["messages"]] == [f"m{i}" for i in range(21, 26)]
            assert (await http.get("/api/v1/rooms/nowhere/messages")).status_code == 404
        await a.close()


async def test_rooms_list_has_every_sector_and_city_in_both_languages(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url)
        async with httpx.AsyncClient(base_url=node.url) as http:
            assert (await http.get("/api/v1/rooms")).status_code == 401
            rooms = (await http.get("/api/v1/rooms", headers=bearer(ann["token"]))).json()["rooms"]
        by_id = {room["id"]: room for room in rooms}
        assert [r["id"] for r in rooms if r["kind"] == "sector"] == [
            "urban-renewal", "green-buildings", "green-transport", "clean-energy",
            "water-management", "solid-waste", "municipal-finance"]
        assert len([r for r in rooms if r["kind"] == "city"]) == 10
        assert by_id["xixian"]["title"] == {"en": "Xixian New Area", "zh": "西咸新区"}
        assert by_id["municipal-finance"]["title"]["zh"] == "市政金融"


async def test_leave_stops_delivery(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url), await register(node.url)
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"])
        await a.join("changzhou")
        await b.join("changzhou")
        await b.send_frame({"type": "leave", "room": "changzhou"})
        assert await b.recv_until(lambda f: f["type"] == "left") == {"type": "left", "room": "changzhou"}
        await a.send("changzhou", "after leave")
        await a.recv_until(lambda f: f["type"] == "message")
        await b.send_frame({"type": "ping"})
        await b.recv_until(lambda f: f["type"] == "pong")
        assert b.messages("changzhou") == []
        await a.close()
        await b.close()
