"""Deleting an account (docs/protocol.md, "Deleting an account") over real nodes: every session
ends and its sockets close on both production nodes; `keep` leaves the messages under "deleted
member", `erase` deletes each through the delete path (readers get the `delete` events, the
room's order stays gapless); exactly the documented data goes; the address registers again;
wrong passwords, a missing code and bad bodies change nothing."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from chat.protocol import closecodes
from tests.support.client import WsClient, call, close_code, create_account, http_client, is_type, login, register, send_acked
from tests.support.nodes import NodeServer, running_nodes

RIGHT = "correct horse"
ROOM = "green-transport"


async def joined(node: NodeServer, token: str) -> WsClient:
    ws = await WsClient.connect(node.ws_url, token)
    assert (await ws.join(ROOM))["type"] == "joined"
    return ws


async def delete(node: NodeServer, account: dict[str, Any], **body: Any):
    return await call(node, "POST", "/api/v1/account/delete", account, json=body)


async def history(node: NodeServer, account: dict[str, Any]) -> list[dict[str, Any]]:
    answer = await call(node, "GET", f"/api/v1/rooms/{ROOM}/messages?limit=200", account)
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"]


async def scenario(nodes: list[NodeServer], messages: str) -> None:
    first, second = nodes[0], nodes[-1]
    ann = await register(first.url, "ann")
    email = ann["user"]["email"]
    other = (await login(second, email)).json()  # a second session
    bob = await register(first.url, "bob")
    bob_ws = await joined(second, bob["token"])
    ann_ws = await joined(first, ann["token"])
    doomed = [ann_ws, await joined(second, ann["token"]), await joined(second, other["token"])]
    sent = [await send_acked(ann_ws, ROOM, f"words {n}", f"c{n}") for n in range(3)]
    ids = {ack["id"] for ack in sent}
    await call(first, "PUT", f"/api/v1/me/blocks/{bob['user']['id']}", ann)
    await call(first, "PATCH", "/api/v1/me/profile", ann, json={"bio": "about me", "city": "Lyon"})

    answer = await delete(first, ann, password=RIGHT, messages=messages)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"erased": 3 if messages == "erase" else 0}
    assert 'ecolink_session=""' in answer.headers["set-cookie"]

    for ws in doomed:
        assert await close_code(ws) == closecodes.SESSION_ENDED
    for token in (ann, other):
        assert (await call(second, "GET", "/api/v1/me", token)).status_code == 401
    assert (await login(second, email)).status_code == 401

    if messages == "erase":
        deletes = [await bob_ws.wait_for(is_type("delete", target=message_id)) for message_id in ids]
        assert all(frame["room"] == ROOM for frame in deletes)
    seen = await history(second, bob)
    mine = [m for m in seen if m["id"] in ids]
    assert len(mine) == 3
    for message in mine:
        assert message["author"] == {"id": ann["user"]["id"], "name": "", "deleted": True}
        if messages == "erase":
            assert message.get("deleted") is True and message["body"] == ""
        else:
            assert message["body"].startswith("words ") and "deleted" not in message
    # The log stays gapless: resuming from 0 replays every seq once.
    replay = await WsClient.connect(second.ws_url, bob["token"])
    head = (await replay.join(ROOM, since=0))["seq"]
    await replay.send_frame({"type": "ping"})
    await replay.recv_until(is_type("pong"))
    seqs = [f["seq"] for f in replay.frames if f.get("room") == ROOM and "seq" in f and f["type"] != "joined"]
    assert seqs == list(range(1, head + 1))
    await replay.close()

    # Gone from the directory and their profile blank; bob's block list lost nothing of his.
    listed = (await call(first, "GET", "/api/v1/members?limit=100", bob)).json()["members"]
    assert ann["user"]["id"] not in {m["id"] for m in listed}
    profile = (await call(first, "GET", f"/api/v1/members/{ann['user']['id']}", bob)).json()["member"]
    assert (profile["display_name"], profile["bio"], profile["city"]) == ("", "", "")
    # The address is free: a new account, a new id.
    async with http_client(first.url) as http:
        again = await create_account(http, {"email": email, "password": RIGHT, "display_name": "Ann again"})
    assert again.status_code == 201 and again.json()["user"]["id"] != ann["user"]["id"], again.text
    await bob_ws.close()


@pytest.mark.parametrize("messages", ["keep", "erase"])
async def test_deleting_ends_every_session_on_both_production_nodes(production, messages):
    settings = production(sweep_interval_s=60)  # only the broker can close them in time
    async with running_nodes(settings, settings) as nodes:
        await scenario(nodes, messages)


async def test_deleting_in_embedded_mode(make_settings):
    async with running_nodes(make_settings(sweep_interval_s=60)) as nodes:
        await scenario(nodes, "erase")


async def test_refusals_change_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "ann")
        for body in ({"password": RIGHT}, {"password": RIGHT, "messages": "burn"},
                     {"password": 5, "messages": "keep"}, {"messages": "keep"},
                     {"password": RIGHT, "messages": "keep", "code": "1" * 33}):
            answer = await delete(node, ann, **body)
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid", body
        wrong = await delete(node, ann, password="not it", messages="keep")
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        assert (await delete(node, None, password=RIGHT, messages="keep")).status_code == 401

        secret = (await call(node, "POST", "/api/v1/account/two-factor/setup", ann,
                             json={"password": RIGHT})).json()["secret"]
        totp = pyotp.TOTP(secret)
        await call(node, "POST", "/api/v1/account/two-factor/enable", ann, json={"code": totp.now()})
        no_code = await delete(node, ann, password=RIGHT, messages="keep")
        assert no_code.status_code == 401 and no_code.json()["error"]["code"] == "second_factor_required"
        assert (await call(node, "GET", "/api/v1/me", ann)).status_code == 200  # still there
        done = await delete(node, ann, password=RIGHT, messages="keep",
                            code=totp.at(time.time() + 30))
        assert done.status_code == 200, done.text
        assert (await call(node, "GET", "/api/v1/me", ann)).status_code == 401


async def test_the_last_admin_cannot_delete_their_account(backend):
    async with running_nodes(backend()) as [node]:
        boss = await register(node.url, "boss")
        await node.node.profiles.set_role_by_email(boss["user"]["email"], "admin")
        await send_acked(await joined(node, boss["token"]), ROOM, "kept", "c-kept")
        refused = await delete(node, boss, password=RIGHT, messages="erase")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
        assert (await call(node, "GET", "/api/v1/me", boss)).json()["user"]["role"] == "admin"
        assert [m["body"] for m in await history(node, boss)] == ["kept"]  # nothing erased
        other = await register(node.url, "deputy")
        await node.node.profiles.set_role_by_email(other["user"]["email"], "admin")
        assert (await delete(node, boss, password=RIGHT, messages="keep")).status_code == 200
