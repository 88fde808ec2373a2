"""GET /api/v1/rooms says what each sector and city room is for, in English and Chinese (the
first-visit welcome and the room header show it); direct conversations carry no description.
On both backends."""

from __future__ import annotations

import httpx

from chat.store.catalog import SEED_ROOMS
from tests.support.client import bearer, register
from tests.support.nodes import running_nodes


async def test_the_room_list_carries_each_rooms_description_in_both_languages(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = [await register(node.url, name) for name in ("Ann", "Bob")]
        async with httpx.AsyncClient(base_url=node.url) as http:
            opened = await http.post("/api/v1/direct", json={"members": [bob["user"]["id"]]},
                                     headers=bearer(ann["token"]))
            assert opened.status_code == 201, opened.text
            reply = await http.get("/api/v1/rooms", headers=bearer(ann["token"]))
            assert reply.status_code == 200
            rooms = reply.json()["rooms"]
        listed = {room["id"]: room for room in rooms if room["kind"] in ("sector", "city")}
        assert list(listed) == [room.room_id for room in SEED_ROOMS]
        for seed in SEED_ROOMS:
            assert listed[seed.room_id]["description"] == {"en": seed.description_en, "zh": seed.description_zh}
        assert "cycling" in listed["green-transport"]["description"]["en"]
        assert "试点" in listed["liuzhou"]["description"]["zh"]
        [direct] = [room for room in rooms if room["kind"] == "direct"]
        assert "description" not in direct
