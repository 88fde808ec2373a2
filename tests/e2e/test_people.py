"""Finding people and their local time over real sockets, on both backends: the browser's zone
recorded at registration (a zone nobody set is never shown as local time), and the directory
search that finds Han names by pinyin and members by their name in the other script."""

from __future__ import annotations

import itertools
from typing import Any

from tests.e2e.test_members import MARK, call
from tests.support.client import create_account, http_client
from tests.support.nodes import NodeServer, running_nodes

_ids = itertools.count(1)


async def register(node: NodeServer, name: str, **extra: Any):
    async with http_client(node.url) as http:
        return await create_account(http, {
            "email": f"people{next(_ids)}@example.test", "password": "correct horse",
            "display_name": name, **extra})


async def register_as(node: NodeServer, body: dict[str, Any]):
    async with http_client(node.url) as http:
        return await create_account(http, body)


async def found(node: NodeServer, token: str, q: str) -> list[str]:
    response = await call(node, "GET", "/api/v1/members", token, params={"q": q})
    assert response.status_code == 200, response.text
    return [member["display_name"] for member in response.json()["members"]]


async def test_registration_records_the_browsers_time_zone(backend):
    async with running_nodes(backend()) as [node]:
        li = await register(node, "李华", time_zone="Asia/Shanghai")
        assert li.status_code == 201, li.text
        anna = await register(node, "Anna")  # an older client: no zone
        assert anna.status_code == 201
        li_token = li.json()["token"]
        for user_id, zone in ((li.json()["user"]["id"], "Asia/Shanghai"),
                              (anna.json()["user"]["id"], None)):
            member = await call(node, "GET", f"/api/v1/members/{user_id}", li_token)
            assert member.json()["member"]["time_zone"] == zone
        # The room's member list (direct conversations show the other's local time) says
        # null for a zone nobody set, never the default.
        room = await call(node, "POST", "/api/v1/direct", li_token,
                          json={"members": [anna.json()["user"]["id"]]})
        assert room.status_code in (200, 201), room.text
        members = {m["name"]: m["time_zone"] for m in room.json()["room"]["members"]}
        assert members == {"李华": "Asia/Shanghai", "Anna": None}


async def test_registration_with_a_bad_time_zone_gets_422_and_creates_nothing(backend):
    async with running_nodes(backend()) as [node]:
        for zone in (f"Mars/{MARK}", "+08:00", "", "localtime", 8, ["Asia/Shanghai"]):
            email = f"zone{next(_ids)}@example.test"
            response = await register_as(node, {
                "email": email, "password": "correct horse", "display_name": "Zed",
                "time_zone": zone})
            assert response.status_code == 422, (zone, response.text)
            assert response.json()["error"]["code"] == "invalid"
            assert MARK not in response.text
            again = await register_as(node, {
                "email": email, "password": "correct horse", "display_name": "Zed"})
            assert again.status_code == 201, (zone, again.text)  # the first made no account


async def test_members_find_each_other_across_scripts(backend):
    async with running_nodes(backend()) as [node]:
        li = (await register(node, "李华", time_zone="Asia/Shanghai")).json()
        anna = (await register(node, "Anna Müller", time_zone="Europe/Berlin")).json()
        await register(node, "Lina Ho")
        token = anna["token"]
        assert await found(node, token, "Li") == ["Lina Ho", "李华"]
        assert await found(node, token, "Li Hua") == ["李华"]
        assert await found(node, token, "lihua") == ["李华"]
        assert await found(node, token, "Hua Li") == ["李华"]  # given name first
        assert await found(node, token, "安娜") == []
        # A name in the other script, then found by it (and by its pinyin).
        patched = await call(node, "PATCH", "/api/v1/me/profile", token, json={"alt_name": "安娜"})
        assert patched.status_code == 200 and patched.json()["profile"]["alt_name"] == "安娜"
        assert await found(node, li["token"], "安娜") == ["Anna Müller"]
        assert await found(node, li["token"], "an na") == ["Anna Müller"]
        # Renaming keeps the key current: the old name no longer finds her.
        await call(node, "PATCH", "/api/v1/me/profile", token, json={"display_name": "Anna Schmidt"})
        assert await found(node, li["token"], "müller") == []
        assert await found(node, li["token"], "安娜") == ["Anna Schmidt"]
        await call(node, "PATCH", "/api/v1/me/profile", token, json={"alt_name": ""})
        assert await found(node, li["token"], "安娜") == []


async def test_members_from_before_the_search_key_are_found_after_a_start(backend):
    async with running_nodes(backend()) as [node]:
        token = (await register(node, "Anna")).json()["token"]
        # As a member registered before migration 0009: a row with no search key.
        await node.node.store.create_user("old@example.test", "王伟", "hash", "member", 1)
        assert await found(node, token, "wang") == []
        assert await node.node.profiles.fill_search_keys() == 1
        assert await found(node, token, "wang wei") == ["王伟"]
        assert await node.node.profiles.fill_search_keys() == 0
