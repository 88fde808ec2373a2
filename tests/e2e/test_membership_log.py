"""People coming and going in a direct conversation are entries in its log (kind
"membership"), between its messages and status changes: replayed in order to a connection
that joins from the start, on both backends. They are not writing: a member who declined comes
back into the same room when only people came and went since."""

from __future__ import annotations

import httpx

from tests.support.client import WsClient, bearer, register
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
            # History as people read it (HTTP) stays the messages only.
            history = (await http.get(f"/api/v1/rooms/{room}/messages", headers=auth(expert))).json()
            assert [m["seq"] for m in history["messages"]] == [1]
