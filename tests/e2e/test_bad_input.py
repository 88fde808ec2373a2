"""Bad input everywhere gets a clear error and changes nothing else (invariant 7).

Over real uvicorn sockets: WebSocket frames (both subprotocols, both backends), the WebSocket
handshake, HTTP bodies, query strings and paths. After each bad frame the test proves the
connection (where it stays open) and the room are unaffected: the next good send is acked with
the next seq, the other member sees exactly the good messages, and the store holds exactly them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgpack
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.config import Settings
from tests.support.client import WsClient, bearer, http_client, register, create_account
from tests.support.nodes import NodeServer, running_nodes
from tests.support.timing import timeout

ROOM = "green-buildings"
MAX_BODY = 200
SECRET = "hunter2-Secret-pw"


async def http_get(node: NodeServer, path: str, token: str | None = None) -> httpx.Response:
    async with http_client(node.url) as http:
        return await http.get(path, headers=bearer(token) if token else {})


class Scene:
    """A node, a member `a` who misbehaves and an observer `b`, both in ROOM."""

    def __init__(self, node: NodeServer, ann: dict[str, Any], a: WsClient, b: WsClient) -> None:
        self.node, self.ann, self.a, self.b = node, ann, a, b
        self.good: list[str] = []

    async def good_send(self, client: WsClient | None = None) -> dict[str, Any]:
        client = client or self.a
        body = f"good {len(self.good) + 1}"
        cid = await client.send(ROOM, body, cid=f"good-{len(self.good) + 1}")
        ack = await client.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("cid") == cid)
        self.good.append(body)
        assert ack["type"] == "ack" and ack["seq"] == len(self.good), ack
        return ack

    async def assert_unaffected(self) -> None:
        """b saw exactly the good messages in order and nothing else; the store holds them."""
        await self.b.send_frame({"type": "ping"})
        await self.b.recv_until(lambda f: f["type"] == "pong")
        seen = [f for f in self.b.frames
                if f["type"] == "error" or (f.get("room") == ROOM and f["type"] not in ("joined", "presence"))]
        assert [(f["type"], f["seq"], f["body"]) for f in seen] == [
            ("message", seq, body) for seq, body in enumerate(self.good, 1)]
        page = await http_get(self.node, f"/api/v1/rooms/{ROOM}/messages?limit=200", self.ann["token"])
        assert [m["body"] for m in page.json()["messages"]] == self.good
        rooms = (await http_get(self.node, "/api/v1/rooms", self.ann["token"])).json()["rooms"]
        assert {r["id"]: r["seq"] for r in rooms}[ROOM] == len(self.good)


@asynccontextmanager
async def scene(settings: Settings, *, binary: bool = True) -> AsyncIterator[Scene]:
    async with running_nodes(settings) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        a = await WsClient.connect(node.ws_url, ann["token"], binary=binary)
        b = await WsClient.connect(node.ws_url, bob["token"], binary=True)
        assert (await a.join(ROOM))["type"] == "joined"
        assert (await b.join(ROOM))["type"] == "joined"
        try:
            yield Scene(node, ann, a, b)
        finally:
            await a.ws.close()
            await b.ws.close()


# -- frames that get an error and leave the connection open --------------------------------

def send(**fields: Any) -> dict[str, Any]:
    return {"type": "send", "room": ROOM, "body": "sneaky body", "cid": "bad", **fields}


def without(doc: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != key}


# (name, frame, code, cid the error must carry). Frames are encoded with the connection's codec.
FIELD_CASES: list[tuple[str, Any, str, str | None]] = [
    ("list", [1, 2], "bad_frame", None),
    ("string", "send", "bad_frame", None),
    ("no type", {"room": ROOM, "cid": "k1"}, "bad_frame", "k1"),
    ("type not a string", {"type": 7, "cid": "k2"}, "bad_frame", "k2"),
    ("unknown type", {"type": "dance", "cid": "k3"}, "unknown_type", "k3"),
    ("send without cid", without(send(), "cid"), "invalid", None),
    ("send with empty cid", send(cid=""), "invalid", None),
    ("send with cid too long", send(cid="x" * 65), "invalid", None),
    ("send with int cid", send(cid=5), "invalid", None),
    ("send without body", without(send(cid="k4"), "body"), "invalid", "k4"),
    ("send with int body", send(body=5, cid="k5"), "invalid", "k5"),
    ("send with blank body", send(body=" \n\t ", cid="k6"), "invalid", "k6"),
    ("send with body too long", send(body="x" * (MAX_BODY + 1), cid="k7"), "too_large", "k7"),
    ("send without room", without(send(cid="k8"), "room"), "invalid", "k8"),
    ("send to a bad room id", send(room="Green_Buildings", cid="k9"), "invalid", "k9"),
    ("send to an int room", send(room=5, cid="k10"), "invalid", "k10"),
    ("send to an unknown room", send(room="atlantis", cid="k11"), "not_found", "k11"),
    ("join an unknown room", {"type": "join", "room": "atlantis"}, "not_found", None),
    ("join without room", {"type": "join"}, "invalid", None),
    ("join since true", {"type": "join", "room": "zhuhai", "since": True}, "invalid", None),
    ("join since -1", {"type": "join", "room": "zhuhai", "since": -1}, "invalid", None),
    ("join since '1'", {"type": "join", "room": "zhuhai", "since": "1"}, "invalid", None),
    ("join since 1.5", {"type": "join", "room": "zhuhai", "since": 1.5}, "invalid", None),
    ("join since past the head", {"type": "join", "room": "zhuhai", "since": 10**6}, "invalid", None),
    ("leave a bad room id", {"type": "leave", "room": "../etc"}, "invalid", None),
]

# (name, raw WebSocket message, code): what the connection's decoder must refuse.
RAW_CASES = {
    "json": [
        ("not json", "not json", "bad_frame"),
        ("truncated json", '{"type": "send", "room": "green-buildings"', "bad_frame"),
        ("empty text", "", "bad_frame"),
        ("deep nesting", "[" * 20_000 + "]" * 20_000, "bad_frame"),
        ("binary that is not utf-8", b"\xff\xfe\xfd", "bad_frame"),
    ],
    "msgpack": [
        ("text frame with valid json", json.dumps({"type": "ping"}), "bad_frame"),
        ("reserved byte", b"\xc1", "bad_frame"),
        ("truncated map", b"\x83\xa4type\xa4send", "bad_frame"),
        ("empty binary", b"", "bad_frame"),
        ("non-string keys", msgpack.packb({1: "send", 2: ROOM}), "bad_frame"),
        ("deep nesting", b"\x91" * 20_000 + b"\xc0", "bad_frame"),
        ("trailing bytes", msgpack.packb(send(cid="k12")) + b"\x00", "bad_frame"),
    ],
}


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_each_bad_frame_gets_an_error_and_changes_nothing_else(backend, binary):
    async with scene(backend(max_body_chars=MAX_BODY, ws_rate_burst=10_000), binary=binary) as s:
        await s.good_send()
        cases = [(name, msgpack.packb(doc) if binary else json.dumps(doc), code, cid)
                 for name, doc, code, cid in FIELD_CASES]
        cases += [(name, raw, code, None)
                  for name, raw, code in RAW_CASES["msgpack" if binary else "json"]]
        for name, raw, code, cid in cases:
            await s.a.ws.send(raw)
            error = await s.a.recv_until(lambda f: f["type"] == "error")
            assert error["code"] == code, (name, error)
            assert error.get("cid") == cid, (name, error)
            assert error["retry"] is False, (name, error)  # a refusal: resending cannot help
            assert error["message"] and "sneaky" not in error["message"], (name, error)
            await s.good_send()  # the connection still works and the seq has no hole
        # exactly one error per bad frame, and nothing else went to a either
        await s.a.send_frame({"type": "ping"})
        await s.a.recv_until(lambda f: f["type"] == "pong")
        assert len([f for f in s.a.frames if f["type"] == "error"]) == len(cases)
        assert {f["type"] for f in s.a.frames} - {"presence"} == {"joined", "ack", "message", "error", "pong"}
        await s.assert_unaffected()


async def test_bad_frames_from_one_member_reach_no_other_member(backend):
    """Errors go to the sender only: b, in the same room and on the same user, sees none."""
    async with scene(backend(ws_rate_burst=10_000)) as s:
        twin = await WsClient.connect(s.node.ws_url, s.ann["token"])  # same user, 2nd device
        await twin.join(ROOM)
        for doc in (send(room="atlantis", cid="x1"), {"type": "dance"}, send(body="")):
            await s.a.send_frame(doc)
            await s.a.recv_until(lambda f: f["type"] == "error")
        await s.good_send()
        await twin.recv_until(lambda f: f["type"] == "message")
        await twin.send_frame({"type": "ping"})
        await twin.recv_until(lambda f: f["type"] == "pong")
        assert [f["type"] for f in twin.frames if f["type"] != "presence"] == ["joined", "message", "pong"]
        await s.assert_unaffected()
        await twin.close()


async def test_a_refused_rejoin_keeps_the_membership(make_settings):
    async with scene(make_settings()) as s:
        await s.good_send()
        await s.a.send_frame({"type": "join", "room": ROOM, "since": 99})
        error = await s.a.recv_until(lambda f: f["type"] == "error")
        assert error["code"] == "invalid" and "since" in error["message"]
        await s.b.send(ROOM, "after the refused rejoin")
        await s.b.recv_until(lambda f: f["type"] == "message" and f["seq"] == 2)
        # one node: the fan-out that reached b has queued the message for a too, before the pong
        await s.a.send_frame({"type": "ping"})
        await s.a.recv_until(lambda f: f["type"] == "pong")
        assert [m["seq"] for m in s.a.messages(ROOM)] == [1, 2]


# -- frames that close the connection ------------------------------------------------------


async def closed_code(client: WsClient) -> int:
    """Read until the server closes; the close code it sent."""
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await client.recv()
    assert info.value.rcvd is not None, "the server dropped the TCP connection without a close frame"
    return info.value.rcvd.code


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_a_frame_over_max_frame_bytes_closes_with_1009_and_stores_nothing(backend, binary):
    async with scene(backend(max_frame_bytes=4096), binary=binary) as s:
        await s.good_send()
        huge = send(body="sneaky " * 800, cid="huge")  # ~5.6 kB encoded, body under max_body_chars
        await s.a.send_frame(huge)
        assert await closed_code(s.a) == 1009
        # The user reconnects: a fresh connection works and continues the room's seq.
        again = await WsClient.connect(s.node.ws_url, s.ann["token"], binary=binary)
        await s.good_send(again)
        await s.b.recv_until(lambda f: f["type"] == "message" and f["seq"] == 2)
        await s.assert_unaffected()
        await again.close()


async def test_too_many_frames_get_rate_limited_errors_then_close_4029(backend):
    # burst 4 frames, then (practically) no refill: every later frame is over the limit.
    settings = backend(ws_rate_per_s=0.001, ws_rate_burst=4, ws_rate_strikes=2)
    async with scene(settings) as s:  # a has spent 1 frame (join)
        await s.good_send()  # 2
        for _ in range(2):  # 3, 4
            await s.a.send_frame({"type": "ping"})
            await s.a.recv_until(lambda f: f["type"] == "pong")
        await s.a.send_frame(send(body="sneaky over the limit", cid="r1"))  # strike 1
        first = await s.a.recv_until(lambda f: f["type"] == "error")
        assert first == {"type": "error", "code": "rate_limited", "message": first["message"],
                         "retry": True, "retry_after": first["retry_after"], "cid": "r1"}
        assert first["retry_after"] >= 1
        await s.a.ws.send(b"\xc1")  # strike 2: refused before it is even decoded
        second = await s.a.recv_until(lambda f: f["type"] == "error")
        assert second["code"] == "rate_limited" and "cid" not in second
        await s.a.send_frame({"type": "ping"})  # strike 3 > ws_rate_strikes
        assert await closed_code(s.a) == 4029
        assert not [f for f in s.a.frames if f["type"] == "ack" and f["cid"] == "r1"]
        # Others, and the same user's new connection (a new bucket), are unaffected.
        again = await WsClient.connect(s.node.ws_url, s.ann["token"])
        await s.good_send(again)
        await s.assert_unaffected()
        await again.close()


async def test_a_connection_joins_at_most_max_joined_rooms(backend):
    async with scene(backend(max_joined_rooms=2)) as s:  # a is in ROOM: 1 of 2
        assert (await s.a.join("zhuhai"))["type"] == "joined"
        refused = await s.a.join("luoyang")
        assert refused["type"] == "error" and refused["code"] == "too_many_rooms"
        assert "2" in refused["message"]
        # the refused room was not joined: b's message there does not reach a
        await s.b.join("luoyang")
        await s.b.send("luoyang", "not for a")
        await s.b.recv_until(lambda f: f["type"] == "message" and f["room"] == "luoyang")
        await s.a.send_frame({"type": "ping"})
        await s.a.recv_until(lambda f: f["type"] == "pong")
        assert s.a.messages("luoyang") == []
        # rejoining a room already joined is not a new room; leaving frees a place
        assert (await s.a.join("zhuhai"))["type"] == "joined"
        await s.a.send_frame({"type": "leave", "room": "zhuhai"})
        await s.a.recv_until(lambda f: f["type"] == "left")
        assert (await s.a.join("luoyang")) == {"type": "joined", "room": "luoyang", "seq": 1}
        await s.good_send()  # and ROOM was never affected
        await s.assert_unaffected()


# -- the WebSocket handshake ---------------------------------------------------------------


async def denied(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(url, open_timeout=timeout(10), **kwargs)
    response = info.value.response
    return response.status_code, json.loads(bytes(response.body))


async def test_handshake_without_a_valid_token_or_subprotocol_is_denied_over_http(make_settings):
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url)
        proto = {"subprotocols": ["ecolink.v1.json"]}
        status, body = await denied(node.ws_url, **proto)
        assert (status, body["error"]["code"]) == (401, "unauthorized")
        for header in ("Bearer not-a-token", "Bearer " + "x" * 5000, f"Basic {ann['token']}",
                       f"Bearer {ann['token']}x"):
            status, body = await denied(node.ws_url, additional_headers={"Authorization": header},
                                        **proto)
            assert (status, body["error"]["code"]) == (401, "unauthorized"), header
        status, body = await denied(node.ws_url, subprotocols=["ecolink.v2.json", "chat"],
                                    additional_headers=bearer(ann["token"]))
        assert (status, body["error"]["code"], body["error"]["retry"]) == (400, "unsupported_subprotocol", False)
        assert "ecolink.v1.json" in body["error"]["message"]
        # None of that cost the node anything: the same token connects fine.
        ok = await WsClient.connect(node.ws_url, ann["token"], binary=False)
        assert ok.ws.subprotocol == "ecolink.v1.json"
        await ok.send_frame({"type": "ping"})
        assert await ok.recv() == {"type": "pong"}
        await ok.close()


# -- HTTP bodies ---------------------------------------------------------------------------

JSON_TYPE = {"Content-Type": "application/json"}
GOOD_ACCOUNT = {"email": "mei@example.test", "password": SECRET, "display_name": "Mei"}
BIG = 64 * 1024 + 1


def chunked(data: bytes) -> Callable[[], AsyncIterator[bytes]]:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 8192):
            yield data[start:start + 8192]
    return stream


BODY_CASES: list[tuple[str, dict[str, str], Any, int, str]] = [
    # (name, headers, content, status, code)
    ("text/plain", {"Content-Type": "text/plain"}, json.dumps(GOOD_ACCOUNT), 400, "bad_request"),
    ("form", {"Content-Type": "application/x-www-form-urlencoded"},
     f"email=mei%40example.test&password={SECRET}&display_name=Mei", 400, "bad_request"),
    ("no content type", {}, json.dumps(GOOD_ACCOUNT).encode(), 400, "bad_request"),
    ("invalid json", JSON_TYPE, '{"email": "mei@example.test", "password": "' + SECRET, 400,
     "bad_request"),
    ("not utf-8", JSON_TYPE, b'{"email": "\xff\xfe"}', 400, "bad_request"),
    ("empty", JSON_TYPE, b"", 400, "bad_request"),
    ("array", JSON_TYPE, json.dumps([GOOD_ACCOUNT]), 400, "bad_request"),
    ("string", JSON_TYPE, json.dumps(SECRET), 400, "bad_request"),
    ("null", JSON_TYPE, "null", 400, "bad_request"),
    ("deep nesting", JSON_TYPE, "[" * 30_000 + "]" * 30_000, 400, "bad_request"),
    ("oversized", JSON_TYPE, json.dumps({**GOOD_ACCOUNT, "pad": "x" * BIG}), 413, "too_large"),
]


@pytest.mark.parametrize("path", ["/api/v1/accounts", "/api/v1/sessions"])
async def test_bodies_that_are_not_a_small_json_object_are_refused_and_create_nothing(backend, path):
    async with running_nodes(backend()) as [node], \
            http_client(node.url) as http:
        cases = [*BODY_CASES, ("oversized, chunked", JSON_TYPE,
                               chunked(json.dumps({**GOOD_ACCOUNT, "pad": "x" * BIG}).encode()),
                               413, "too_large")]
        for name, headers, content, status, code in cases:
            response = await http.post(path, headers=headers,
                                       content=content() if callable(content) else content)
            assert response.status_code == status, (name, response.text)
            assert response.headers["content-type"] == "application/json", name
            error = response.json()["error"]
            assert error["code"] == code and error["message"], name
            assert SECRET not in response.text, name
            assert "set-cookie" not in response.headers, name
        # Nothing was created: the account does not exist yet and can be registered once.
        login = await http.post("/api/v1/sessions", json=GOOD_ACCOUNT)
        assert login.status_code == 401
        assert (await create_account(http, GOOD_ACCOUNT)).status_code == 201


FIELD_BODY_CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("empty object", {}, {"email", "password", "display_name"}),
    ("missing password", {"email": "mei@example.test", "display_name": "Mei"}, {"password"}),
    ("int password", {**GOOD_ACCOUNT, "password": 987654321}, {"password"}),
    ("list password", {**GOOD_ACCOUNT, "password": [SECRET]}, {"password"}),
    ("object password", {**GOOD_ACCOUNT, "password": {"value": SECRET}}, {"password"}),
    ("null name, list email", {**GOOD_ACCOUNT, "email": ["mei@example.test"], "display_name": None},
     {"email", "display_name"}),
    ("bool name", {**GOOD_ACCOUNT, "display_name": True}, {"display_name"}),
    # well-typed but not valid: the service names the fields
    ("not an email", {**GOOD_ACCOUNT, "email": "mei at example"}, {"email"}),
    ("short password", {**GOOD_ACCOUNT, "password": "Sh0rt!7"}, {"password"}),
    ("long password", {**GOOD_ACCOUNT, "password": SECRET * 100}, {"password"}),
    ("blank name", {**GOOD_ACCOUNT, "display_name": "   "}, {"display_name"}),
    ("control chars in name", {**GOOD_ACCOUNT, "display_name": "Mei\x00\x1b[31m"}, {"display_name"}),
    ("name too long", {**GOOD_ACCOUNT, "display_name": "名" * 65}, {"display_name"}),
]


async def test_register_with_missing_wrong_typed_or_invalid_fields_is_422_naming_them(backend):
    async with running_nodes(backend()) as [node], \
            http_client(node.url) as http:
        for name, body, fields in FIELD_BODY_CASES:
            response = await create_account(http, body)
            assert response.status_code == 422, (name, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid", name
            assert set(error["details"]) == fields, (name, error)
            password = body.get("password")
            for secret in (SECRET, "987654321", "Sh0rt!7"):
                if secret in json.dumps(password):
                    assert secret not in response.text, (name, response.text)
        login = await http.post("/api/v1/sessions", json={"email": "mei@example.test"})
        assert login.status_code == 422 and set(login.json()["error"]["details"]) == {"password"}
        login = await http.post("/api/v1/sessions", json={"email": 1, "password": 987654321})
        assert login.status_code == 422
        assert set(login.json()["error"]["details"]) == {"email", "password"}
        assert "987654321" not in login.text
        # Nothing was created by any of them.
        assert (await create_account(http, GOOD_ACCOUNT)).status_code == 201


# -- query strings and paths ---------------------------------------------------------------

QUERY_CASES = [
    ("after=-1", 400, "after"), ("after=abc", 400, "after"), ("after=1.5", 400, "after"),
    ("after=1e3", 400, "after"), ("after=0x10", 400, "after"), ("after=%201", 400, "after"),
    (f"after={2**62 + 1}", 400, "after"), ("after=" + "9" * 5000, 400, "after"),
    ("after=%C2%B2", 400, "after"),  # '²' — str.isdigit() says yes, int() says no
    ("limit=0", 400, "limit"), ("limit=abc", 400, "limit"), ("limit=201", 400, "limit"),
    ("limit=-5", 400, "limit"), ("limit=" + "1" * 30, 400, "limit"),
    ("limit=%D9%A1%D9%A2", 400, "limit"),  # Arabic-Indic "12"
    ("before=0", 400, "before"), ("before=-1", 400, "before"), ("before=x", 400, "before"),
    ("after=1&before=3", 422, "before"),
]


async def test_bad_query_strings_on_history_are_refused_with_a_clear_error(make_settings):
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url)
        ws = await WsClient.connect(node.ws_url, ann["token"])
        await ws.send(ROOM, "one")
        await ws.recv_until(lambda f: f["type"] == "ack")
        await ws.close()
        path = f"/api/v1/rooms/{ROOM}/messages"
        async with http_client(node.url, headers=bearer(ann["token"])) as http:
            for query, status, param in QUERY_CASES:
                response = await http.get(f"{path}?{query}")
                assert response.status_code == status, (query, response.text)
                error = response.json()["error"]
                assert error["code"] in ("bad_request", "invalid"), query
                assert f"'{param}'" in error["message"], query
            # The limits themselves, and an empty value (= default), are fine.
            for query in ("after=0", "limit=1", "limit=200", f"after={2**62}", "before=1", "limit="):
                response = await http.get(f"{path}?{query}")
                assert response.status_code == 200, (query, response.text)
            ok = await http.get(f"{path}?after=0&limit=1")
            assert [m["body"] for m in ok.json()["messages"]] == ["one"]


async def test_unknown_routes_wrong_methods_and_bad_room_ids_get_json_errors(make_settings):
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url)
        async with http_client(node.url, headers=bearer(ann["token"])) as http:
            for path in ("/nope", "/api/v1/nope", "/api/v2/rooms", "/api/v1/rooms/hefei",
                         "/api/v1/rooms/hefei/messages/1", "/api/v1/rooms//messages"):
                response = await http.get(path)
                assert response.status_code == 404, path
                assert response.json()["error"]["code"] == "not_found", path
                assert response.json()["error"]["retry"] is False, path
            for method, path, allowed in (("GET", "/api/v1/accounts", "POST"),
                                          ("POST", "/api/v1/rooms", "GET"),
                                          ("PUT", "/api/v1/me", "GET"),
                                          ("DELETE", f"/api/v1/rooms/{ROOM}/messages", "GET"),
                                          ("POST", "/healthz", "GET")):
                response = await http.request(method, path, json={})
                assert response.status_code == 405, (method, path)
                assert response.json()["error"]["code"] == "method_not_allowed", (method, path)
                assert response.json()["error"]["retry"] is False, (method, path)
                assert allowed in response.headers["allow"], (method, path)
            for room in ("Hefei", "he_fei", "a" * 65, "%E5%90%88%E8%82%A5", "he%20fei", "-%00"):
                response = await http.get(f"/api/v1/rooms/{room}/messages")
                assert response.status_code == 400, (room, response.text)
                assert response.json()["error"] == {"code": "bad_request", "retry": False,
                                                    "message": response.json()["error"]["message"]}, room
            response = await http.get("/api/v1/rooms/atlantis/messages")
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
            # and the node still serves
            assert (await http.get("/api/v1/me")).json()["user"]["id"] == ann["user"]["id"]
