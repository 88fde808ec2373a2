"""Direct dialogue, consultation status, topics and news over real nodes, on both backends
and across nodes."""

from __future__ import annotations

import httpx

from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes


def change_of(frame):
    """A `membership` frame without its log fields (seq, id, author, sent_at)."""
    return {key: frame[key] for key in ("type", "room", "change", "user", "by")}


def auth(account):
    return bearer(account["token"])


async def test_direct_conversation_is_found_again_and_private(backend):
    async with running_nodes(backend()) as [node]:
        expert, city, outsider = (await register(node.url, "Expert"), await register(node.url, "珠海市"),
                                  await register(node.url, "Outsider"))
        async with httpx.AsyncClient(base_url=node.url) as http:
            first = await http.post("/api/v1/direct", json={"members": [city["user"]["id"]]},
                                    headers=auth(expert))
            assert first.status_code == 201, first.text
            room = first.json()["room"]
            assert room["kind"] == "direct" and room["status"] == "open"
            assert {m["name"] for m in room["members"]} == {"Expert", "珠海市"}
            again = await http.post("/api/v1/direct", json={"members": [expert["user"]["id"]]},
                                    headers=auth(city))
            assert again.status_code == 200 and again.json()["room"]["id"] == room["id"]
            listed = (await http.get("/api/v1/rooms", headers=auth(city))).json()["rooms"]
            assert room["id"] in [r["id"] for r in listed]
            outsider_rooms = (await http.get("/api/v1/rooms", headers=auth(outsider))).json()["rooms"]
            assert room["id"] not in [r["id"] for r in outsider_rooms]
            hidden = await http.get(f"/api/v1/rooms/{room['id']}/messages", headers=auth(outsider))
            missing = await http.get("/api/v1/rooms/d-0000000000000000/messages", headers=auth(outsider))
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json() == missing.json()
            bad = await http.post("/api/v1/direct", json={"members": [999999]}, headers=auth(expert))
            assert bad.status_code == 404
            alone = await http.post("/api/v1/direct", json={"members": [expert["user"]["id"]]},
                                    headers=auth(expert))
            assert alone.status_code == 422


async def test_direct_messages_status_and_removal(backend):
    async with running_nodes(backend()) as [node]:
        expert, city, admin = (await register(node.url, "Expert"), await register(node.url, "City"),
                               await register(node.url, "Ada"))
        await node.node.store.set_role(admin["user"]["id"], "admin")
        async with httpx.AsyncClient(base_url=node.url) as http:
            room = (await http.post("/api/v1/direct", json={
                "members": [city["user"]["id"], admin["user"]["id"]]}, headers=auth(expert))).json()["room"]
            e = await WsClient.connect(node.ws_url, expert["token"])
            c = await WsClient.connect(node.ws_url, city["token"])
            await e.join(room["id"])
            await c.join(room["id"])
            await e.send(room["id"], "Which districts need retrofits?", cid="q1")
            assert (await c.wait_for(lambda f: f["type"] == "message"))["body"].startswith("Which")
            answered = await http.put(f"/api/v1/rooms/{room['id']}/status", json={"status": "answered"},
                                      headers=auth(city))
            assert answered.status_code == 200 and answered.json()["seq"] == 2
            status = await e.wait_for(lambda f: f["type"] == "status")
            assert status["status"] == "answered" and status["author"]["name"] == "City"
            rooms = (await http.get("/api/v1/rooms", headers=auth(expert))).json()["rooms"]
            assert [r["status"] for r in rooms if r["id"] == room["id"]] == ["answered"]
            wrong = await http.put(f"/api/v1/rooms/{room['id']}/status", json={"status": "done"},
                                   headers=auth(city))
            assert wrong.status_code == 422
            # The expert may not remove the city; the admin may.
            assert (await http.delete(f"/api/v1/rooms/{room['id']}/members/{city['user']['id']}",
                                      headers=auth(expert))).status_code == 403
            assert (await http.delete(f"/api/v1/rooms/{room['id']}/members/{city['user']['id']}",
                                      headers=auth(admin))).status_code == 204
            left = await c.wait_for(lambda f: f["type"] == "left")
            assert left == {"type": "left", "room": room["id"], "reason": "removed"}
            removal = await e.wait_for(lambda f: f["type"] == "membership")
            assert removal["seq"] == 3  # in the room's log
            assert change_of(removal) == {"type": "membership", "room": room["id"], "change": "removed",
                               "user": {"id": city["user"]["id"], "name": "City"},
                               "by": {"id": admin["user"]["id"], "name": "Ada"}}
            # Someone added is told on every connection (no join needed), and so are the members.
            guest = await register(node.url, "Guest")
            g = await WsClient.connect(node.ws_url, guest["token"])
            await g.send_frame({"type": "ping"})
            await g.wait_for(lambda f: f["type"] == "pong")  # its personal channel is live
            added = await http.post(f"/api/v1/rooms/{room['id']}/members",
                                    json={"user_id": guest["user"]["id"]}, headers=auth(expert))
            assert added.status_code == 204
            expected = {"type": "membership", "room": room["id"], "change": "added",
                        "user": {"id": guest["user"]["id"], "name": "Guest"},
                        "by": {"id": expert["user"]["id"], "name": "Expert"}}
            assert await g.wait_for(lambda f: f["type"] == "membership") == expected
            entry = await e.wait_for(lambda f: f["type"] == "membership" and f["change"] == "added")
            assert change_of(entry) == expected and entry["seq"] == 4
            await g.close()
            await e.send(room["id"], "after removal", cid="q2")
            await e.wait_for(lambda f: f["type"] == "message" and f["seq"] == 5)
            await c.send_frame({"type": "ping"})
            await c.wait_for(lambda f: f["type"] == "pong")
            assert [f["seq"] for f in c.messages(room["id"])] == [1]
            assert (await http.get(f"/api/v1/rooms/{room['id']}/messages", headers=auth(city))).status_code == 404
            rejoin = await c.join(room["id"])
            assert rejoin["type"] == "error" and rejoin["code"] == "not_found"
            await e.close()
            await c.close()


async def test_topics_with_replies_resolve_and_pin(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob, mod = await register(node.url, "Ann"), await register(node.url, "Bob"), await register(node.url, "Mod")
        await node.node.store.set_role(mod["user"]["id"], "moderator")
        watcher = await WsClient.connect(node.ws_url, bob["token"])
        await watcher.join("green-transport")
        async with httpx.AsyncClient(base_url=node.url) as http:
            created = await http.post("/api/v1/rooms/green-transport/topics", json={
                "title": "Electric buses in Liuzhou", "body": "What did the **fleet** cost?",
                "also_in": ["liuzhou"]}, headers=auth(ann))
            assert created.status_code == 201, created.text
            topic = created.json()["topic"]
            assert topic["rooms"] == ["green-transport", "liuzhou"] and "<strong>fleet</strong>" in topic["html"]
            announced = await watcher.wait_for(lambda f: f["type"] == "topic")
            assert announced["topic"]["id"] == topic["id"] and announced["topic"]["title"] == topic["title"]
            # Replies go to the topic's own room; both parent rooms list the one thread.
            replier = await WsClient.connect(node.ws_url, bob["token"])
            await replier.join(topic["id"])
            for i in range(3):
                await replier.send(topic["id"], f"reply {i}")
            await replier.wait_for(lambda f: f["type"] == "message" and f["seq"] == 3)
            for room in ("green-transport", "liuzhou"):
                [listed] = (await http.get(f"/api/v1/rooms/{room}/topics", headers=auth(bob))).json()["topics"]
                assert listed["id"] == topic["id"] and listed["replies"] == 3
            assert (await http.patch(f"/api/v1/topics/{topic['id']}", json={"pinned": True},
                                     headers=auth(ann))).status_code == 403
            resolved = await http.patch(f"/api/v1/topics/{topic['id']}", json={"resolved": True}, headers=auth(ann))
            assert resolved.json()["topic"]["resolved"] is True
            pinned = await http.patch(f"/api/v1/topics/{topic['id']}", json={"pinned": True}, headers=auth(mod))
            assert pinned.json()["topic"]["pinned"] is True
            update = await watcher.wait_for(lambda f: f["type"] == "topic" and f["topic"]["pinned"])
            assert update["topic"]["resolved"] is True
            bad = await http.post("/api/v1/rooms/green-transport/topics", json={"title": " "}, headers=auth(ann))
            assert bad.status_code == 422
            nowhere = await http.post("/api/v1/rooms/green-transport/topics",
                                      json={"title": "x", "also_in": ["no-such-room"]}, headers=auth(ann))
            assert nowhere.status_code == 404
        for client in (watcher, replier):
            await client.close()


async def test_news_cross_listed_in_a_sector_and_a_city_room(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        editor, reader = await register(n1.url, "Editor"), await register(n2.url, "Reader")
        await n1.node.store.set_role(editor["user"]["id"], "moderator")
        r = await WsClient.connect(n2.ws_url, reader["token"])
        await r.join("liuzhou")
        async with httpx.AsyncClient(base_url=n1.url) as http:
            refused = await http.post("/api/v1/news", json={"title": "t", "body": "b", "rooms": ["liuzhou"]},
                                      headers=auth(reader))
            assert refused.status_code == 403
            posted = await http.post("/api/v1/news", json={
                "title": "柳州 opens 100 e-bus lines", "summary": "Green Transport × Liuzhou",
                "body": "Details *inside*.", "rooms": ["green-transport", "liuzhou"]}, headers=auth(editor))
            assert posted.status_code == 201, posted.text
            news = posted.json()["topic"]
        announced = await r.wait_for(lambda f: f["type"] == "topic")
        assert announced["topic"]["id"] == news["id"] and announced["topic"]["kind"] == "news"
        async with httpx.AsyncClient(base_url=n2.url, headers=auth(reader)) as http:
            for room in ("green-transport", "liuzhou"):
                listed = (await http.get(f"/api/v1/rooms/{room}/news")).json()["news"]
                assert [n["id"] for n in listed] == [news["id"]]
            feed = (await http.get("/api/v1/news")).json()["news"]
            assert feed[0]["id"] == news["id"] and feed[0]["html"] == "<p>Details <em>inside</em>.</p>"
            detail = (await http.get(f"/api/v1/topics/{news['id']}")).json()["topic"]
            assert detail["rooms"] == ["green-transport", "liuzhou"]
        # One reply thread shared by both rooms.
        await r.join(news["id"])
        await r.send(news["id"], "Which depots charge them?")
        await r.wait_for(lambda f: f["type"] == "message" and f["room"] == news["id"])
        await r.close()
