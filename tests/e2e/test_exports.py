"""Transcript exports over real nodes on the production backends (PostgreSQL + Redis): what an
export holds, who may take it, its range and zone, refusals before the first byte, the running
exports' cap, and streaming (docs/protocol.md, "Exports")."""

from __future__ import annotations

import json

import httpx

from chat.export.digest import verify
from tests.support.client import WsClient, bearer, http_client, is_type, register, send_acked
from tests.support.nodes import running_nodes

ROOM = "green-buildings"


def auth(account):
    return bearer(account["token"])


def jsonl(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines()]


async def export(node, account, path, **params) -> httpx.Response:
    async with http_client(node.url) as http:
        return await http.get(path, params=params, headers=auth(account) if account else {})


async def test_a_message_sent_on_one_node_is_in_an_export_from_another(production):
    async with running_nodes(production(), production()) as [a, b]:
        ann, bob = await register(a.url, "Ann"), await register(b.url, "Bob")
        client = await WsClient.connect(a.ws_url, ann["token"])
        await client.join(ROOM)
        sent = await send_acked(client, ROOM, "**Retrofit** plan for 2027", "m1")
        await send_acked(client, ROOM, "second", "m2")
        await client.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "Retrofit plan v2", "cid": "e1"})
        await client.wait_for(is_type("ack", cid="e1"))
        await client.send_frame({"type": "react", "room": ROOM, "id": sent["id"], "emoji": "👍", "cid": "r1"})
        await client.wait_for(is_type("ack", cid="r1"))
        await client.close()
        response = await export(b, bob, f"/api/v1/rooms/{ROOM}/export", format="jsonl", tz="Asia/Shanghai")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert response.headers["cache-control"] == "no-store"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="ecolink-sector-green-buildings-start_')
        assert disposition.endswith(".jsonl")
        assert verify(response.content)
        lines = jsonl(response)
        header, section, *records, digest = lines
        assert header["type"] == "header" and header["scope"] == "sector" and header["room"] == ROOM
        assert header["time_zone"] == "Asia/Shanghai" and header["made_by"]["name"] == "Bob"
        assert header["participants"] == ["Ann"] and header["format"] == "jsonl"
        assert section == {"type": "section", "name": "chat"}
        assert digest["type"] == "digest" and len(digest["sha256"]) == 64
        messages = [r for r in records if r["type"] == "message"]
        assert [m["text"] for m in messages] == ["Retrofit plan v2", "second"]
        first = messages[0]
        assert first["edited_at"] is not None and first["reactions"] == [{"emoji": "👍", "names": ["Ann"]}]
        assert first["at"].endswith("+08:00") and first["author"]["name"] == "Ann"


async def test_a_direct_room_is_exported_by_its_members_only(production):
    async with running_nodes(production()) as [node]:
        ann, bob, eve = (await register(node.url, "Ann"), await register(node.url, "Bob"),
                         await register(node.url, "Eve"))
        async with http_client(node.url) as http:
            room = (await http.post("/api/v1/direct", json={"members": [bob["user"]["id"]]},
                                    headers=auth(ann))).json()["room"]
        client = await WsClient.connect(node.ws_url, ann["token"])
        await client.join(room["id"])
        await send_acked(client, room["id"], "private plan", "p1")
        await client.close()
        mine = await export(node, bob, f"/api/v1/rooms/{room['id']}/export", format="jsonl")
        assert mine.status_code == 200 and "private plan" in mine.text
        hidden = await export(node, eve, f"/api/v1/rooms/{room['id']}/export", format="jsonl")
        missing = await export(node, eve, "/api/v1/rooms/d-0000000000000000/export", format="jsonl")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        assert "private plan" not in hidden.text
        nobody = await export(node, None, f"/api/v1/rooms/{room['id']}/export")
        assert nobody.status_code == 401


async def test_bad_parameters_are_refused_before_anything_is_exported(production):
    async with running_nodes(production()) as [node]:
        ann = await register(node.url, "Ann")
        path = f"/api/v1/rooms/{ROOM}/export"
        cases = [
            ({"format": "docx"}, "format"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2026-13-01"}, "to"),
            ({"from": "2026-11-03", "to": "2026-11-01"}, "to"),
            ({"tz": "Mars/Olympus"}, "tz"),
            ({"lang": "fr"}, "lang"),
            ({"from": "0001-01-01"}, "from"),
        ]
        for params, field in cases:
            response = await export(node, ann, path, **params)
            assert response.status_code == 422, (params, response.text)
            body = response.json()["error"]
            assert body["code"] == "invalid" and field in body["details"], params
            assert "attachment" not in response.headers.get("content-disposition", "")
        bad_room = await export(node, ann, "/api/v1/rooms/NO_SUCH/export")
        assert bad_room.status_code == 400
        assert node.node.exports.running == 0
