"""People coming and going in a direct conversation are entries in its log (kind
"membership"), between its messages and status changes: replayed in order to a connection
that joins from the start, on both backends. They are not writing: a member who declined comes
back into the same room when only people came and went since."""

from __future__ import annotations

import httpx

from tests.support.client import WsClient, bearer, register, send_acked
from tests.support.nodes import running_nodes


def auth(account):
    return bearer(account["token"])


async def test_membership_changes_are_replayed_in_order(backend):
    async with running_nodes(backend()) as [node]:
        expert, city, guest, dora = [await register(node.url, name)
                                     for name in ("Expert", "珠海市", "Guest", "Dora")]
        uid = {name: account["user"]["id"] for name, account in
               (("Expert", expert), ("珠海市", city), ("Guest", guest), ("Dora", dora))}
        async with httpx.AsyncClient(base_url=node.url) as http:
            room = (await http.post("/api/v1/direct", json={"members": [uid["珠海市"], uid["Guest"]]},
                                    headers=auth(expert))).json()["room"]["id"]
            e = await WsClient.connect(node.ws_url, expert["token"])
            await e.join(room)
            await e.send(room, "Which permits apply?")
            await e.wait_for(lambda f: f["type"] == "message" and f["room"] == room)
            assert (await http.put(f"/api/v1/rooms/{room}/status", json={"status": "answered"},
                                   headers=auth(expert))).status_code == 200
            assert (await http.post(f"/api/v1/rooms/{room}/decline", json={"block": False},
                                    headers=auth(city))).status_code == 204
            assert (await http.delete(f"/api/v1/rooms/{room}/members/{uid['Guest']}",
                                      headers=auth(guest))).status_code == 204
            # Only people went since the city declined: it comes back into the same room.
            back = await http.post("/api/v1/direct", json={"members": [uid["Expert"], uid["Guest"]]},
                                   headers=auth(city))
            assert back.status_code == 200, back.text
            assert back.json()["room"]["id"] == room
            assert (await http.post(f"/api/v1/rooms/{room}/members", json={"user_id": uid["Dora"]},
                                    headers=auth(expert))).status_code == 204
            await e.close()

            # A connection joining from the start gets the whole log, in order.
            fresh = await WsClient.connect(node.ws_url, expert["token"])
            await fresh.join(room, since=0)
            await fresh.wait_for(lambda f: f["type"] == "membership" and f.get("seq") == 6)
            log = [f for f in fresh.frames if f.get("room") == room and f["type"] != "joined"]
            assert [f["seq"] for f in log] == [1, 2, 3, 4, 5, 6]
            assert [f["type"] for f in log] == ["message", "status", "membership", "membership",
                                                "membership", "membership"]

            def change(frame):
                return (frame["change"], frame["user"]["name"], frame["by"]["name"])

            assert [change(f) for f in log[2:]] == [("declined", "珠海市", "珠海市"), ("left", "Guest", "Guest"),
                                                    ("rejoined", "珠海市", "珠海市"), ("added", "Dora", "Expert")]
            assert all(f["author"]["name"] == f["by"]["name"] for f in log[2:])
            await fresh.close()
            # History over HTTP: the messages, and the timeline events among them, as their
            # frames (a reloaded client shows the same lines as a live one).
            history = (await http.get(f"/api/v1/rooms/{room}/messages", headers=auth(expert))).json()
            assert [m["seq"] for m in history["messages"]] == [1]
            replayed = [{k: v for k, v in f.items() if k != "type"} | {"type": f["type"]} for f in log[1:]]
            assert history["events"] == replayed


async def test_history_pages_hand_out_each_timeline_event_once(backend):
    """Events between messages go with the page whose span holds them: none is lost or given
    twice when a client pages back (before) or forwards (after), on both backends."""
    async with running_nodes(backend()) as [node]:
        expert, city = [await register(node.url, name) for name in ("Expert", "City")]
        async with httpx.AsyncClient(base_url=node.url) as http:
            room = (await http.post("/api/v1/direct", json={"members": [city["user"]["id"]]},
                                    headers=auth(expert))).json()["room"]["id"]
            e = await WsClient.connect(node.ws_url, expert["token"])
            await e.join(room)
            statuses = iter(["answered", "closed", "open", "answered", "closed", "open"])
            # log: status, m1, status, m2, m3, status, status, m4, status, status
            for n, step in enumerate(["s", "m", "s", "m", "m", "s", "s", "m", "s", "s"]):
                if step == "m":
                    await send_acked(e, room, f"message {n}", f"c{n}")
                else:
                    reply = await http.put(f"/api/v1/rooms/{room}/status", json={"status": next(statuses)},
                                           headers=auth(expert))
                    assert reply.status_code == 200, reply.text
            await e.close()

            async def page(query):
                reply = await http.get(f"/api/v1/rooms/{room}/messages?{query}", headers=auth(expert))
                assert reply.status_code == 200, reply.text
                doc = reply.json()
                return [m["seq"] for m in doc["messages"]], [f["seq"] for f in doc["events"]]

            assert await page("limit=50") == ([2, 4, 5, 8], [1, 3, 6, 7, 9, 10])
            assert all(f["type"] == "status" for f in (await http.get(
                f"/api/v1/rooms/{room}/messages", headers=auth(expert))).json()["events"])
            # backwards, two messages a page: the latest page's events run to the head
            assert await page("limit=2") == ([5, 8], [6, 7, 9, 10])
            assert await page("limit=2&before=5") == ([2, 4], [3])
            assert await page("limit=2&before=2") == ([], [1])  # before the first message
            # forwards: a full page stops at its last message, the next takes it from there
            assert await page("limit=2&after=0") == ([2, 4], [1, 3])
            assert await page("limit=2&after=4") == ([5, 8], [6, 7])
            assert await page("limit=2&after=8") == ([], [9, 10])
            assert await page("limit=3&after=1") == ([2, 4, 5], [3])
