"""Edits, deletes, reactions and mentions over real sockets: live readers and resuming readers
see them as events in the room's sequence; history shows the current state."""

from __future__ import annotations

import httpx

from tests.support.client import WsClient, bearer, is_type, register
from tests.support.nodes import running_nodes

ROOM = "green-buildings"


async def test_edit_delete_and_react_reach_live_and_resuming_readers(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a = await WsClient.connect(node.ws_url, ann["token"])
        b = await WsClient.connect(node.ws_url, bob["token"], binary=False)
        await a.join(ROOM)
        await b.join(ROOM)
        await a.send(ROOM, "**Retrofit** <script>x</script> plan", cid="m1")
        sent = await a.wait_for(is_type("ack", cid="m1"))
        live = await b.wait_for(is_type("message", seq=1))
        assert live["html"] == "<p><strong>Retrofit</strong> &lt;script&gt;x&lt;/script&gt; plan</p>"
        await a.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "Retrofit v2", "cid": "e1"})
        await a.wait_for(is_type("ack", cid="e1"))
        await b.send_frame({"type": "react", "room": ROOM, "id": sent["id"], "emoji": "👍", "cid": "r1"})
        assert (await b.wait_for(is_type("ack", cid="r1")))["seq"] == 3
        edit = await b.wait_for(is_type("edit", seq=2))
        assert edit["target"] == sent["id"] and edit["body"] == "Retrofit v2" and edit["author"]["name"] == "Ann"
        reaction = await a.wait_for(is_type("reaction", seq=3))
        assert reaction["emoji"] == "👍" and reaction["added"] is True and reaction["author"]["name"] == "Bob"
        # Bob may not edit Ann's message: an error with his cid, nothing in the sequence.
        await b.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "mine", "cid": "e9"})
        error = await b.wait_for(is_type("error", cid="e9"))
        assert error["code"] == "forbidden"
        await a.send_frame({"type": "delete", "room": ROOM, "id": sent["id"], "cid": "d1"})
        assert (await a.wait_for(is_type("ack", cid="d1")))["seq"] == 4
        assert (await b.wait_for(is_type("delete", seq=4)))["target"] == sent["id"]
        # A reader resuming from 0 replays the tombstone, then every event in order.
        c = await WsClient.connect(node.ws_url, bob["token"])
        await c.join(ROOM, since=0)
        await c.recv_until(lambda f: f.get("seq") == 4)
        replay = [f for f in c.frames if "seq" in f and f["type"] != "joined"]
        assert [(f["seq"], f["type"]) for f in replay] == [
            (1, "message"), (2, "edit"), (3, "reaction"), (4, "delete")]
        assert replay[0]["deleted"] is True and replay[0]["body"] == ""
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(bob["token"])) as http:
            history = (await http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
            assert [(m["seq"], m["deleted"], m["reactions"]) for m in history] == [(1, True, {})]
            versions = await http.get(f"/api/v1/rooms/{ROOM}/messages/{sent['id']}/versions")
            assert versions.json() == {"versions": []}  # a delete keeps no earlier versions
            assert (await http.get(f"/api/v1/rooms/{ROOM}/messages/nope/versions")).status_code == 404
        for client in (a, b, c):
            await client.close()


async def test_history_shows_edits_versions_reactions_and_mentions(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "李华")
        a = await WsClient.connect(node.ws_url, ann["token"])
        await a.send_frame({"type": "send", "room": ROOM, "body": "@李华 see the 绿色建筑 data",
                            "cid": "m1", "mentions": [bob["user"]["id"]]})
        sent = await a.wait_for(is_type("ack", cid="m1"))
        await a.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "@李华 see the updated data", "cid": "e1"})
        await a.wait_for(is_type("ack", cid="e1"))
        await a.send_frame({"type": "react", "room": ROOM, "id": sent["id"], "emoji": "🌱", "cid": "r1"})
        await a.wait_for(is_type("ack", cid="r1"))
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(ann["token"])) as http:
            [message] = (await http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
            assert message["body"] == "@李华 see the updated data" and "edited_at" in message
            assert message["mentions"] == [bob["user"]["id"]]
            assert message["reactions"] == {"🌱": [ann["user"]["id"]]}
            versions = (await http.get(f"/api/v1/rooms/{ROOM}/messages/{sent['id']}/versions")).json()
            assert [v["body"] for v in versions["versions"]] == ["@李华 see the 绿色建筑 data"]
        await a.close()


async def test_events_cross_nodes(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob = await register(n1.url), await register(n2.url)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b = await WsClient.connect(n2.ws_url, bob["token"])
        await a.join(ROOM)
        await b.join(ROOM)
        await a.send(ROOM, "hello", cid="m1")
        sent = await a.wait_for(is_type("ack", cid="m1"))
        await b.send_frame({"type": "react", "room": ROOM, "id": sent["id"], "emoji": "🎉", "cid": "r1"})
        assert (await a.wait_for(is_type("reaction", seq=2)))["emoji"] == "🎉"
        await a.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "hello all", "cid": "e1"})
        assert (await b.wait_for(is_type("edit", seq=3)))["body"] == "hello all"
        await a.close()
        await b.close()
