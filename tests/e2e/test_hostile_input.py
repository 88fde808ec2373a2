"""Values built to break the node, thrown at every HTTP route and every frame type over real
sockets, on both backends: ids past signed 64 bits; NUL, unpaired surrogates and control
characters in any string; bidirectional controls in one-line fields. Each is a 4xx naming the
field (bodies: 422), never a 500; and the node's log holds none of the values, even where a
value reached code that failed.

Every hostile string carries CANARY, so one search of the captured log proves the last point.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import structlog

from chat import logs
from chat.text import INT64_MAX
from tests.support.client import WsClient, bearer, register
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

CANARY = "zq7canary"
ROOM = "green-buildings"

# Bad strings, by which fields must refuse them. "\ud800" reaches the node as the JSON
# escape \ud800 (json.dumps keeps ensure_ascii), which decodes to an unpaired surrogate.
UNSTORABLE = [f"{CANARY}\x00nul", f"{CANARY}\ud800lone", f"\udfff{CANARY}"]
CONTROLS = [f"{CANARY}\x1bescape", f"{CANARY}\x7fdel", f"{CANARY}\u2028separator"]
BIDI = [f"{CANARY}\u202eright-to-left", f"\u2066{CANARY}"]
BAD_INTS = [2**63, INT64_MAX + 2**40, 2**64, -(2**63) - 1, 10**30]

# What each kind of field refuses (a password refuses only what no store can hold: its other
# rules belong to the account service).
REFUSED = {
    "line": UNSTORABLE + CONTROLS + BIDI,
    "text": UNSTORABLE + CONTROLS,
    "password": UNSTORABLE,
    "id": BAD_INTS,
    "ids": [[value] for value in BAD_INTS],
    "lines": [[value] for value in UNSTORABLE + CONTROLS + BIDI],
}


def routes(ctx: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    """(method, path, a body the route takes, {field: kind}) for every route with a body."""
    return [
        ("POST", "/api/v1/accounts", {"email": "new@example.test", "password": "long enough pw",
                                      "display_name": "New"},
         {"email": "line", "password": "password", "display_name": "line"}),
        ("POST", "/api/v1/sessions", {"email": "x@example.test", "password": "long enough pw"},
         {"email": "password", "password": "password"}),
        ("PATCH", "/api/v1/me/profile", {"display_name": "Mal"},
         {"display_name": "line", "organisation": "line", "city": "line", "country": "line",
          "time_zone": "line", "bio": "text", "languages": "lines", "sectors": "lines",
          "affiliation": "line"}),
        ("PUT", f"/api/v1/members/{ctx['bob_id']}/role", {"role": "member"}, {"role": "line"}),
        ("PUT", f"/api/v1/rooms/{ROOM}/read", {"seq": 0}, {"seq": "id"}),
        ("POST", "/api/v1/notifications/read", {"ids": [1]}, {"ids": "ids"}),
        ("POST", "/api/v1/direct", {"members": [ctx["bob_id"]], "title": "t"},
         {"members": "ids", "title": "line"}),
        ("POST", f"/api/v1/rooms/{ctx['direct']}/members", {"user_id": ctx["bob_id"]},
         {"user_id": "id"}),
        ("PUT", f"/api/v1/rooms/{ctx['direct']}/status", {"status": "open"}, {"status": "line"}),
        ("POST", f"/api/v1/rooms/{ROOM}/topics", {"title": "t", "body": "b"},
         {"title": "line", "body": "text", "also_in": "lines", "message_id": "line"}),
        ("POST", "/api/v1/news", {"title": "t", "summary": "s", "body": "b", "rooms": [ROOM]},
         {"title": "line", "summary": "text", "body": "text", "rooms": "lines"}),
    ]


# Paths and query strings that once reached int() or the store unchecked. The access log
# prints paths and queries, so these carry no canary: they must only never be a 500.
PATH_CASES = [
    "/api/v1/members/9223372036854775808", "/api/v1/members/" + "9" * 5000,
    "/api/v1/members/-1/role", "/api/v1/members/%00", f"/api/v1/rooms/{ROOM}/members/{2**64}",
    f"/api/v1/rooms/{ROOM}/members/" + "1" * 5000,
    f"/api/v1/rooms/{ROOM}/messages/%00/versions", f"/api/v1/rooms/{ROOM}/messages/%ED%A0%80/versions",
    f"/api/v1/rooms/{ROOM}/messages/a%E2%80%AEb/versions", "/api/v1/rooms/%00/messages",
    "/api/v1/topics/%00", f"/api/v1/rooms/{ROOM}/messages?after={2**63}",
    f"/api/v1/rooms/{ROOM}/messages?before=%00", "/api/v1/notifications?before=1%00",
    "/api/v1/notifications?unread=%00", "/api/v1/members?q=%00", "/api/v1/members?city=a%E2%80%AEb",
    "/api/v1/members?after=%ED%A0%80", "/api/v1/news?before=99999999999999999999999",
]


@contextlib.contextmanager
def node_log() -> Iterator[io.StringIO]:
    """The node's log lines (JSON, as in production), written to a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    real_stderr, sys.stderr = sys.stderr, stream
    try:
        logs.configure("info", json_lines=True)
    finally:
        sys.stderr = real_stderr
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        structlog.reset_defaults()


def raw_json(body: Any) -> dict[str, Any]:
    # ensure_ascii: an unpaired surrogate travels as its JSON escape (UTF-8 cannot carry it).
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


async def test_hostile_values_get_4xx_naming_the_field_on_every_route_and_stay_out_of_the_log(backend):
    with node_log() as log:
        async with running_nodes(backend(member_rate_per_s=10_000, member_rate_burst=10_000)) as [node]:
            mallory, bob = await register(node.url, "Mallory"), await register(node.url, "Bob")
            # An admin reaches every route's body (no 403 before it).
            await node.node.store.set_role(mallory["user"]["id"], "admin")
            auth = bearer(mallory["token"])
            async with httpx.AsyncClient(base_url=node.url, headers=auth, timeout=timeout(10)) as http:
                direct = await http.post("/api/v1/direct", json={"members": [bob["user"]["id"]]})
                assert direct.status_code == 201, direct.text
                ctx = {"bob_id": bob["user"]["id"], "direct": direct.json()["room"]["id"]}
                tried = 0
                for method, path, base, fields in routes(ctx):
                    for field, kind in fields.items():
                        for value in REFUSED[kind]:
                            response = await http.request(method, path, **raw_json({**base, field: value}))
                            tried += 1
                            case = (method, path, field, repr(value))
                            assert response.status_code == 422, (case, response.text)
                            error = response.json()["error"]
                            assert error["code"] == "invalid", case
                            assert field in {key.split(".")[0] for key in error["details"]}, (case, error)
                            assert CANARY not in response.text, case
                            assert response.headers["cache-control"] == "no-store", case
                for path in PATH_CASES:
                    response = await http.get(path)
                    assert 400 <= response.status_code < 500, (path, response.text)
                # The node still serves, and nothing was created by any of it.
                me = await http.get("/api/v1/me")
                assert me.json()["user"]["name"] == "Mallory"
                topics = await http.get(f"/api/v1/rooms/{ROOM}/topics")
                assert topics.json()["topics"] == []
    text = log.getvalue()
    assert tried > 150 and '" 422' in text, "the node's log was not captured"
    assert CANARY not in text
    assert '"status_code": 500' not in text and "http.unhandled" not in text


FRAME_FIELDS = {
    "send": ({"room": ROOM, "body": "b", "cid": "c"},
             {"body": "text", "cid": "line", "mentions": "ids", "room": "line"}),
    "edit": ({"room": ROOM, "id": "AAAAAAAAAAAAAAAA", "body": "b", "cid": "c"},
             {"body": "text", "cid": "line", "id": "line"}),
    "delete": ({"room": ROOM, "id": "AAAAAAAAAAAAAAAA", "cid": "c"}, {"id": "line", "cid": "line"}),
    "react": ({"room": ROOM, "id": "AAAAAAAAAAAAAAAA", "emoji": "👍", "cid": "c"},
              {"emoji": "line", "cid": "line", "id": "line"}),
    "join": ({"room": ROOM}, {"room": "line", "since": "id"}),
    "leave": ({"room": ROOM}, {"room": "line"}),
    "typing": ({"room": ROOM}, {"room": "line"}),
    "read": ({"room": ROOM, "seq": 0}, {"room": "line", "seq": "id"}),
}


async def test_hostile_values_in_every_frame_get_an_error_and_stay_out_of_the_log(backend):
    with node_log() as log:
        async with running_nodes(backend(ws_rate_burst=100_000, member_rate_per_s=10_000, member_rate_burst=10_000)) as [node]:
            mallory = await register(node.url, "Mallory")
            client = await WsClient.connect(node.ws_url, mallory["token"], binary=False)
            await client.join(ROOM)
            sent = 0
            for kind, (base, fields) in FRAME_FIELDS.items():
                for field, field_kind in fields.items():
                    for value in REFUSED[field_kind]:
                        await client.send_frame({"type": kind, **base, field: value})
                        error = await client.recv_until(lambda f: f["type"] in ("error", "ack", "joined"))
                        sent += 1
                        assert (error["type"], error["code"]) == ("error", "invalid"), (kind, field, value, error)
                        assert CANARY not in json.dumps(error)
            await client.send_frame({"type": "ping"})
            await client.recv_until(lambda f: f["type"] == "pong")
            await client.send(ROOM, "still heard", cid="ok")
            assert (await client.recv_until(lambda f: f["type"] == "message"))["body"] == "still heard"
            await client.close()
    assert sent > 100
    assert CANARY not in log.getvalue()


async def test_a_repeated_query_parameter_is_refused_on_every_route_naming_it(make_settings):
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url)
        auth = bearer(ann["token"])
        async with httpx.AsyncClient(base_url=node.url, headers=auth, timeout=timeout(10)) as http:
            for path, name in ((f"/api/v1/rooms/{ROOM}/messages?limit=5&after=0&limit=6", "limit"),
                               ("/api/v1/notifications?unread=true&unread=false", "unread"),
                               ("/api/v1/news?before=5&before=", "before"),
                               ("/api/v1/members?sector=green-buildings&sector=urban-renewal", "sector"),
                               ("/api/v1/rooms?x=1&x=2", "x")):
                response = await http.get(path)
                assert response.status_code == 400, (path, response.text)
                assert f"'{name}'" in response.json()["error"]["message"], path
            assert (await http.get(f"/api/v1/rooms/{ROOM}/messages?limit=5&after=0")).status_code == 200


async def test_api_responses_are_no_store_and_metrics_need_an_allowed_address_or_the_token(make_settings):
    token = "metrics-token-0123456789"
    async with running_nodes(make_settings(metrics_allow="", metrics_token=token),
                             make_settings(data_dir=make_settings().data_dir / "b")) as [closed, open_]:
        ann = await register(closed.url)
        async with httpx.AsyncClient(base_url=closed.url, timeout=timeout(10)) as http:
            for path, headers in (("/api/v1/me", bearer(ann["token"])),
                                  ("/api/v1/rooms", bearer(ann["token"])),
                                  ("/api/v1/me", {}), ("/api/v1/sessions", {})):
                response = await http.get(path, headers=headers)
                assert response.headers["cache-control"] == "no-store", path
            # Loopback is not allowed on this node: the token only.
            for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                            {"Authorization": f"Basic {token}"}):
                refused = await http.get("/metrics", headers=headers)
                assert refused.status_code == 403, headers
                assert "ecolink_" not in refused.text
            scraped = await http.get("/metrics", headers=bearer(token))
            assert scraped.status_code == 200 and "ecolink_connections" in scraped.text
            assert scraped.headers["cache-control"] == "no-store"
            # The web client's files keep their own caching.
            assert (await http.get("/")).headers["cache-control"] != "no-store"
        async with httpx.AsyncClient(base_url=open_.url, timeout=timeout(10)) as http:
            assert (await http.get("/metrics")).status_code == 200  # loopback, by default
