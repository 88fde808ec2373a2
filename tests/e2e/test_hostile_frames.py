"""Frames built to break the store, over real sockets on both backends (embedded, and
PostgreSQL + Redis): ids past signed 64 bits, NUL, unpaired surrogates. Each gets an `invalid`
error when it is decoded; none fails another member's sends (they once shared a group-commit
transaction with it), none leaves the attacker's socket open but deaf. And a deleted message's
text does not come back to a reader who joins later with `since`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes

ROOM = "green-buildings"  # Bob's room
OTHER = "zhuhai"  # Mallory's room
SENDS = 40


def hostile_frames(target: str, *, binary: bool) -> list[tuple[dict[str, Any], str | None]]:
    """(frame, the cid its error must carry). msgpack cannot carry an unpaired surrogate (its
    strings are UTF-8) nor an int past 64 bits, so those go over JSON only."""
    send = {"type": "send", "room": OTHER, "body": "payload"}
    react = {"type": "react", "room": OTHER, "id": target}
    frames = [
        ({**send, "cid": "m1", "mentions": [2**63]}, "m1"),
        ({**send, "cid": "m2", "mentions": [2**63 - 1, 0]}, "m2"),
        ({**send, "cid": "n1", "body": "nul \x00 inside"}, "n1"),
        ({**send, "cid": "n2\x00"}, None),
        ({**react, "cid": "r1", "emoji": "\x00"}, "r1"),
        ({**react, "cid": "r2", "emoji": "\u202e"}, "r2"),
        ({"type": "join", "room": OTHER, "since": 2**63}, None),
        ({"type": "read", "room": OTHER, "seq": 2**63}, None),
    ]
    if not binary:
        frames += [
            ({**send, "cid": "m3", "mentions": [2**64 + 5]}, "m3"),
            ({**send, "cid": "s1", "body": "lone \ud800"}, "s1"),
            ({**send, "cid": "s2\udfff"}, None),
            ({**react, "cid": "r3", "emoji": "\ud83d"}, "r3"),
            ({**react, "cid": "\ud83d", "emoji": "\ud83d"}, None),
        ]
    return frames


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_hostile_sends_are_refused_alone_and_never_fail_another_members_sends(backend, binary):
    async with running_nodes(backend(ws_rate_burst=10_000, member_rate_per_s=10_000, member_rate_burst=10_000)) as [node]:
        bob_auth, mallory_auth = await register(node.url, "Bob"), await register(node.url, "Mallory")
        bob = await WsClient.connect(node.ws_url, bob_auth["token"])
        mallory = await WsClient.connect(node.ws_url, mallory_auth["token"], binary=binary)
        await bob.join(ROOM)
        await mallory.join(OTHER)
        await mallory.send(OTHER, "a message to react to", cid="target")
        target = (await mallory.recv_until(lambda f: f["type"] == "ack"))["id"]
        frames = hostile_frames(target, binary=binary)
        for round_ in range(3):
            # Bob's 40 sends and Mallory's frames interleaved, so they meet in the committer.
            for n in range(SENDS):
                await bob.send(ROOM, f"bob {round_}.{n}", cid=f"b{round_}.{n}")
                frame, _ = frames[n % len(frames)]
                await mallory.send_frame(frame)
            acks = [await bob.recv_until(lambda f: f["type"] in ("ack", "error")) for _ in range(SENDS)]
            assert [a["type"] for a in acks] == ["ack"] * SENDS, [a for a in acks if a["type"] != "ack"]
            errors = [await mallory.recv_until(lambda f: f["type"] in ("ack", "error"))
                      for _ in range(SENDS)]
            for n, error in enumerate(errors):
                frame, cid = frames[n % len(frames)]
                assert (error["type"], error["code"], error.get("cid")) == ("error", "invalid", cid), (
                    n, error)
        assert sorted(a["seq"] for a in bob.frames if a["type"] == "ack") == list(range(1, 3 * SENDS + 1))
        # Mallory's socket still hears and answers: a ping, then a good send.
        await mallory.send_frame({"type": "ping"})
        await mallory.recv_until(lambda f: f["type"] == "pong")
        await mallory.send(OTHER, "still here", cid="after")
        ack = await mallory.recv_until(lambda f: f["type"] in ("ack", "error"))
        assert (ack["type"], ack["seq"]) == ("ack", 2)
        async with httpx.AsyncClient(base_url=node.url) as http:
            page = await http.get(f"/api/v1/rooms/{OTHER}/messages",
                                  headers=bearer(bob_auth["token"]))
        assert [m["body"] for m in page.json()["messages"]] == ["a message to react to", "still here"]
        await bob.close()
        await mallory.close()


async def test_a_cid_with_an_unpaired_surrogate_never_makes_the_socket_deaf(backend):
    """The error frame once echoed the cid; encoding it failed inside the socket's send, which
    marked the connection dead without closing it: open, online, answering nothing."""
    async with running_nodes(backend(ws_rate_burst=10_000, member_rate_burst=10_000)) as [node]:
        auth = await register(node.url, "Mallory")
        mallory = await WsClient.connect(node.ws_url, auth["token"], binary=False)
        await mallory.join(OTHER)
        for frame in ({"type": "send", "room": OTHER, "body": "x", "cid": "\ud800"},
                      {"type": "dance", "cid": "\udc00"},
                      {"type": "send", "room": "atlantis", "body": "x", "cid": "ok\ud800"}):
            await mallory.send_frame(frame)
            error = await mallory.recv_until(lambda f: f["type"] == "error")
            assert "cid" not in error, error
            await mallory.send_frame({"type": "ping"})
            assert await mallory.recv_until(lambda f: f["type"] in ("pong", "error")) == {"type": "pong"}
        await mallory.send(OTHER, "heard", cid="c1")
        message = await mallory.recv_until(lambda f: f["type"] == "message")
        assert message["body"] == "heard"
        await mallory.close()


async def test_a_binary_frame_on_the_json_subprotocol_is_a_bad_frame(backend):
    async with running_nodes(backend()) as [node]:
        auth = await register(node.url)
        client = await WsClient.connect(node.ws_url, auth["token"], binary=False)
        await client.ws.send(b'{"type": "ping"}')
        error = await client.recv_until(lambda f: f["type"] == "error")
        assert error["code"] == "bad_frame" and "binary" in error["message"]
        await client.send_frame({"type": "ping"})
        assert await client.recv() == {"type": "pong"}
        await client.close()


async def test_a_deleted_messages_text_is_not_replayed_to_a_later_reader(backend):
    async with running_nodes(backend()) as [node]:
        ann_auth, bob_auth = await register(node.url, "Ann"), await register(node.url, "Bob")
        ann = await WsClient.connect(node.ws_url, ann_auth["token"])
        await ann.join(ROOM)
        await ann.send(ROOM, "secret first", cid="m")
        target = (await ann.recv_until(lambda f: f["type"] == "ack"))["id"]
        for n, body in enumerate(("secret second", "secret third")):
            await ann.send_frame({"type": "edit", "room": ROOM, "id": target, "body": body, "cid": f"e{n}"})
            await ann.recv_until(lambda f: f["type"] == "ack")
        await ann.send_frame({"type": "delete", "room": ROOM, "id": target, "cid": "d"})
        assert (await ann.recv_until(lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
        await ann.close()
        bob = await WsClient.connect(node.ws_url, bob_auth["token"], binary=False)
        assert (await bob.join(ROOM, since=0))["seq"] == 4
        replayed = [await bob.recv_until(lambda f, seq=seq: f.get("seq") == seq) for seq in range(1, 5)]
        assert [f["type"] for f in replayed] == ["message", "edit", "edit", "delete"]
        assert all("secret" not in str(f) for f in replayed), replayed
        assert replayed[0]["deleted"] is True
        headers = bearer(bob_auth["token"])
        async with httpx.AsyncClient(base_url=node.url, headers=headers) as http:
            page = await http.get(f"/api/v1/rooms/{ROOM}/messages")
            versions = await http.get(f"/api/v1/rooms/{ROOM}/messages/{target}/versions")
        assert "secret" not in page.text and page.json()["messages"][0]["deleted"] is True
        assert versions.json() == {"versions": []}
        await bob.close()
