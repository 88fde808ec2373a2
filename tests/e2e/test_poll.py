"""The long-polling fallback (docs/protocol.md, "Long-polling fallback") over real nodes: a
polling client joins, sends and receives like a WebSocket one, across nodes both ways (Redis +
PostgreSQL) and in embedded mode; it resumes exactly after its session is gone; a lost answer
is fetched again; logout, idle expiry, slow consumers, draining and shutdown close sessions as
they close sockets; bad input gets a clear 4xx and changes nothing, and bad frames inside a
POST get the WebSocket's own error frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any


from chat.protocol import closecodes
from tests.support.client import WsClient, bearer, http_client, is_type, register, sync
from tests.support.history import Peer, check, eventually, stored_messages
from tests.support.nodes import running_nodes
from tests.support.poll import GONE, PollPeer, PollTransport, open_session

ROOM = "green-transport"
FAST = {"ws_rate_per_s": 10000, "ws_rate_burst": 10000,
        "member_rate_per_s": 10000, "member_rate_burst": 10000}


async def raw(node: Any, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
    async with http_client(node.url, headers=bearer(token) if token else {}) as http:
        return await http.request(method, path, **kwargs)


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


async def test_a_polling_client_joins_sends_and_gets_its_ack_and_message(backend):
    async with running_nodes(backend()) as [node]:
        poller_account = await register(node.url, "poller")
        poller = await PollPeer.open(node.url, poller_account)
        watcher = await Peer.connect(node.ws_url, await register(node.url, "watcher"))
        await poller.join(ROOM)
        await watcher.join(ROOM)
        cid = await poller.send(ROOM, "over plain HTTP")
        await poller.until(lambda: poller.answered(ROOM, cid), "the ack")
        await poller.until(lambda: poller.has_seq(ROOM, 1), "its own message")
        await watcher.until(lambda: watcher.has_seq(ROOM, 1), "the message on the WebSocket")
        assert poller.log.errors == []
        delivered = poller.log.reader(ROOM).deliveries
        assert [d.body for d in delivered] == ["over plain HTTP"]
        # The personal channel works too: a ping is answered, and the session counts as one of
        # the member's connections.
        await poller.client.send_frame({"type": "ping"})
        await poller.until(lambda: any(f["type"] == "pong" for f in poller.client.frames), "pong")
        assert node.node.handshakes.sockets(poller_account["user"]["id"]) == 1
        await poller.close()
        await watcher.close()
        await eventually(lambda: node.node.handshakes.sockets(poller_account["user"]["id"]) == 0,
                         "the closed session no longer counts")
        store = await stored_messages(node.node.store, [ROOM])
        check(store, [poller.log, watcher.log])


async def test_polling_and_websocket_clients_on_two_nodes_talk_both_ways(production):
    async with running_nodes(production(**FAST), production(**FAST)) as [a, b]:
        poller = await PollPeer.open(a.url, await register(a.url, "poller"))
        socket = await Peer.connect(b.ws_url, await register(b.url, "socket"))
        await poller.join(ROOM)
        await socket.join(ROOM)
        await asyncio.gather(poller.send_many(ROOM, 15), socket.send_many(ROOM, 15))
        for peer in (poller, socket):
            await peer.until(lambda peer=peer: peer.has_seq(ROOM, 30), "all 30 messages")
        store = await stored_messages(a.node.store, [ROOM])
        summary = check(store, [poller.log, socket.log])
        assert summary.stored == {ROOM: 30}
        assert poller.seqs(ROOM) == socket.seqs(ROOM) == list(range(1, 31))
        await poller.close()
        await socket.close()


async def test_a_client_whose_session_is_gone_resumes_on_the_other_node_exactly(production):
    """The load balancer sends the polling client's requests to the other node: 404
    poll_session_gone there, a new session there, every room resumed with `since` and every
    unacked send resent: no hole, no duplicate."""
    async with running_nodes(production(**FAST), production(**FAST)) as [a, b]:
        account = await register(a.url, "mover")
        first = await PollPeer.open(a.url, account)
        sender = await Peer.connect(b.ws_url, await register(b.url, "sender"))
        await first.join(ROOM)
        await sender.join(ROOM)
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.send_until(ROOM, stop, window=4, pause_s=0.005))
        await first.send_many(ROOM, 5)
        await first.until(lambda: first.has_seq(ROOM, 10), "traffic before the move")

        first._pump.cancel()  # its next request goes to node b instead
        session = first.client.session
        gone = await raw(b, "GET", f"/api/v1/poll/{session}", account["token"], params={"after": first.client.last})
        assert gone.status_code == 404 and error_code(gone) == GONE
        gone = await raw(b, "POST", f"/api/v1/poll/{session}", account["token"], json=[{"type": "ping"}])
        assert gone.status_code == 404 and error_code(gone) == GONE

        second = await PollPeer.open(b.url, account, first.log)
        await second.resume(ROOM)
        for sent in first.log.unacked(ROOM):
            await second.send(ROOM, sent.body, sent.cid)
        await second.send_many(ROOM, 5)
        stop.set()
        await sending
        head = max(a.seq for a in [*sender.log.acks, *first.log.acks])
        for peer in (second, sender):
            await peer.until(lambda peer=peer: peer.has_seq(ROOM, head), f"seq {head}")
        store = await stored_messages(b.node.store, [ROOM])
        summary = check(store, [first.log, sender.log])
        assert summary.stored == {ROOM: head}
        assert second.seqs(ROOM) == list(range(1, head + 1))
        await second.close()
        await sender.close()


async def test_an_answer_lost_on_the_way_is_fetched_again_with_the_same_after(make_settings):
    async with running_nodes(make_settings(poll_wait_s=0.3)) as [node]:
        account = await register(node.url)
        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        await client.post([{"type": "ping"}, {"type": "ping"}])
        answer = (await client.get(0)).json()
        assert answer == {"frames": [{"type": "pong"}] * 2, "last": 2}
        assert (await client.get(0)).json() == answer  # nothing acknowledged yet: the same again
        last = answer["last"]
        empty = (await client.get(last)).json()  # acknowledges them all; nothing new in wait_s
        assert empty == {"frames": [], "last": last}
        behind = await client.get(last - 1)
        assert behind.status_code == 400 and error_code(behind) == "bad_request"
        ahead = await client.get(last + 1)
        assert ahead.status_code == 400 and error_code(ahead) == "bad_request"
        await client.post([{"type": "ping"}])
        assert (await client.get(last)).json() == {"frames": [{"type": "pong"}], "last": last + 1}


async def test_a_newer_get_answers_the_waiting_one_at_once(make_settings):
    async with running_nodes(make_settings()) as [node]:
        account = await register(node.url)
        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        waiting = asyncio.create_task(client.get(0))
        await eventually(lambda: node.app.state.polls.get(opened["session"], _key(account)).polling == 1,
                         "the first GET waits")
        newer = asyncio.create_task(client.get(0))
        assert (await waiting).json() == {"frames": [], "last": 0}
        await client.post([{"type": "ping"}])
        assert (await newer).json() == {"frames": [{"type": "pong"}], "last": 1}


def _key(account: dict[str, Any]) -> bytes:
    from chat.accounts.service import token_hash

    return token_hash(account["token"])


async def test_logout_closes_the_poll_session_with_4001(backend):
    async with running_nodes(backend()) as [node]:
        account = await register(node.url)
        poller = await PollPeer.open(node.url, account)
        await poller.join(ROOM)
        assert (await raw(node, "DELETE", "/api/v1/sessions", account["token"])).status_code == 204
        await asyncio.wait_for(poller.closed.wait(), 15)
        assert poller.close_code == closecodes.SESSION_ENDED
        # Closed: frames are refused, the token too.
        response = await raw(node, "POST", poller.client.path, account["token"], json=[{"type": "ping"}])
        assert response.status_code == 404 and error_code(response) == GONE
        assert (await raw(node, "POST", "/api/v1/poll", account["token"])).status_code == 401


async def test_an_idle_session_is_closed_like_a_dropped_socket(make_settings):
    settings = make_settings(poll_idle_s=0.5, poll_wait_s=0.5, presence_interval_s=0.05)
    async with running_nodes(settings) as [node]:
        account = await register(node.url, "idler")
        user_id = account["user"]["id"]
        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        polling = True

        async def keep_polling() -> None:
            last = 0
            while polling:
                last = (await client.get(last)).json()["last"]

        poller = asyncio.create_task(keep_polling())
        watcher = await WsClient.connect(node.ws_url, (await register(node.url, "watcher"))["token"])
        await client.post([{"type": "join", "room": ROOM}])
        await watcher.join(ROOM)
        await watcher.wait_for(lambda f: f["type"] == "presence" and user_id in [u["id"] for u in f["online"]])
        # No GET from now on: the session expires, presence sees the member leave.
        polling = False
        await poller
        await watcher.recv_until(lambda f: f["type"] == "presence" and user_id in f.get("offline", []))
        await eventually(lambda: len(node.app.state.polls) == 0, "the session is forgotten")
        assert node.node.handshakes.sockets(user_id) == 0
        gone = await client.get(0)
        assert gone.status_code == 404 and error_code(gone) == GONE


async def test_unacknowledged_frames_past_the_queue_bound_close_with_4008(make_settings):
    async with running_nodes(make_settings(send_queue_frames=8, **FAST)) as [node]:
        account = await register(node.url)
        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        await client.post([{"type": "join", "room": ROOM}])
        sender = await WsClient.connect(node.ws_url, (await register(node.url))["token"])
        for i in range(12):
            await sender.send(ROOM, f"m{i}")
        await sender.recv_until(is_type("ack", cid="c12"))
        answer = (await client.get(0)).json()
        assert answer["closed"]["code"] == closecodes.SLOW_CONSUMER
        assert len(answer["frames"]) == 8 and answer["last"] == 8
        assert node.node.metrics.slow_consumer_closes._value.get() == 1


async def test_a_draining_node_refuses_new_sessions_and_shutdown_closes_them_with_1012(make_settings):
    async with running_nodes(make_settings()) as [node]:
        account = await register(node.url)
        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        waiting = asyncio.create_task(client.get(0))  # held: nothing to send for 25 s
        await eventually(lambda: node.app.state.polls.get(opened["session"], _key(account)).polling == 1,
                         "the GET waits")
        await node.stop()
        answer = (await waiting).json()
        assert answer["closed"]["code"] == closecodes.SERVICE_RESTART
    async with running_nodes(make_settings()) as [node]:
        account = await register(node.url)
        node.node.draining = True
        refused = await raw(node, "POST", "/api/v1/poll", account["token"])
        assert refused.status_code == 503 and error_code(refused) == "draining"


async def test_poll_sessions_count_as_connections_of_the_member(make_settings):
    async with running_nodes(make_settings(max_sockets_per_member=2)) as [node]:
        account = await register(node.url)
        await open_session(node.url, account["token"])
        await WsClient.connect(node.ws_url, account["token"])
        refused = await raw(node, "POST", "/api/v1/poll", account["token"])
        assert refused.status_code == 429 and error_code(refused) == "too_many_connections"


async def test_bad_requests_get_a_clear_4xx_and_change_nothing(make_settings):
    async with running_nodes(make_settings(**FAST)) as [node]:
        account, other = await register(node.url), await register(node.url)
        token = account["token"]
        opened = await open_session(node.url, token)
        client = PollTransport(node.url, token, opened["session"], opened["wait_s"])
        path = client.path
        send = {"type": "send", "room": ROOM, "body": "never stored", "cid": "x"}
        json_type = {"Content-Type": "application/json"}
        cases: list[tuple[str, dict[str, Any], int, str]] = [
            ("POST", {"content": b"[{", "headers": json_type}, 400, "bad_request"),
            ("POST", {"content": b'{"type": "ping"}', "headers": json_type}, 400, "bad_request"),
            ("POST", {"content": json.dumps([send]).encode(), "headers": {"Content-Type": "text/plain"}},
             400, "bad_request"),
            ("POST", {"json": [send] * 65}, 400, "bad_request"),
            ("POST", {"json": [send] + [{"type": "ping", "pad": "x" * 300_000}]}, 413, "too_large"),
            ("GET", {}, 400, "bad_request"),
            ("GET", {"params": {"after": "abc"}}, 400, "bad_request"),
            ("GET", {"params": {"after": "-1"}}, 400, "bad_request"),
            ("GET", {"params": {"after": "5"}}, 400, "bad_request"),
            ("GET", {"params": {"after": str(2**64)}}, 400, "bad_request"),
        ]
        for method, kwargs, status, code in cases:
            response = await raw(node, method, path, token, **kwargs)
            assert (response.status_code, error_code(response)) == (status, code), (method, kwargs.keys(), response.text)
        for method in ("GET", "POST", "DELETE"):
            for session_path, who in ((path, other["token"]), ("/api/v1/poll/nope", token),
                                      ("/api/v1/poll/" + "x" * 500, token)):
                response = await raw(node, method, session_path, who, params={"after": 0},
                                     json=[{"type": "ping"}] if method == "POST" else None)
                assert (response.status_code, error_code(response)) == (404, GONE), (method, response.text)
            response = await raw(node, method, path, None, params={"after": 0})
            assert response.status_code == 401
        assert (await raw(node, "POST", "/api/v1/poll", None)).status_code == 401
        assert (await raw(node, "POST", "/api/v1/poll", "not-a-token")).status_code == 401
        # Nothing happened: no message stored, the session still answers from frame 1.
        assert await stored_messages(node.node.store, [ROOM]) == []
        await client.post([{"type": "ping"}])
        assert (await client.get(0)).json() == {"frames": [{"type": "pong"}], "last": 1}


BAD_FRAMES: list[Any] = [
    "not a map",
    {"type": 7},
    {"type": "shout"},
    {"type": "send", "room": "Not A Room", "body": "x", "cid": "b1"},
    {"type": "send", "room": ROOM, "body": "x"},
    {"type": "send", "room": ROOM, "body": "x" * 10_001, "cid": "b2"},
    {"type": "join", "room": ROOM, "since": -1},
    {"type": "typing", "room": ROOM},
    {"type": "read", "room": ROOM, "seq": 5},
    {"type": "send", "room": ROOM, "body": "nul \x00", "cid": "b3"},
    {"type": "ping"},
]


async def test_bad_frames_in_a_post_get_the_websockets_error_frames(backend):
    async with running_nodes(backend(**FAST)) as [node]:
        account = await register(node.url)
        ws = await WsClient.connect(node.ws_url, account["token"], binary=False)
        for frame in BAD_FRAMES:
            await ws.send_frame(frame)
        await ws.recv_until(is_type("pong"))
        await ws.send_frame({"type": "bad json"})  # keep the socket's frames apart
        await sync(ws)
        expected = ws.frames[:len(BAD_FRAMES)]

        opened = await open_session(node.url, account["token"])
        client = PollTransport(node.url, account["token"], opened["session"], opened["wait_s"])
        await client.post(BAD_FRAMES)
        frames: list[dict[str, Any]] = []
        while len(frames) < len(BAD_FRAMES):
            frames += (await client.get(len(frames))).json()["frames"]
        assert frames == expected
        assert [f["type"] for f in frames].count("error") == len(BAD_FRAMES) - 1
        # Invalid JSON inside a frame cannot exist in an array; a lone surrogate can.
        response = await raw(node, "POST", client.path, account["token"],
                             content=b'[{"type":"send","room":"green-transport","body":"\\ud800","cid":"s1"}]',
                             headers={"Content-Type": "application/json"})
        assert response.status_code == 202
        answer = (await client.get(len(frames))).json()
        assert answer["frames"][0]["type"] == "error" and answer["frames"][0]["cid"] == "s1"
        assert await stored_messages(node.node.store, [ROOM]) == []


async def test_a_cookie_session_needs_an_allowed_origin_for_what_changes_things(make_settings):
    async with running_nodes(make_settings()) as [node]:
        token = (await register(node.url))["token"]
        cookie = {"Cookie": f"ecolink_session={token}"}
        foreign = {**cookie, "Origin": "https://evil.example"}
        own = {**cookie, "Origin": node.url}
        for headers in (cookie, foreign):
            refused = await raw(node, "POST", "/api/v1/poll", None, headers=headers)
            assert refused.status_code == 403 and error_code(refused) == "forbidden"
        opened = await raw(node, "POST", "/api/v1/poll", None, headers=own)
        assert opened.status_code == 201
        path = f"/api/v1/poll/{opened.json()['session']}"
        for method in ("POST", "DELETE"):
            refused = await raw(node, method, path, None, headers=foreign,
                                json=[{"type": "ping"}] if method == "POST" else None)
            assert refused.status_code == 403 and error_code(refused) == "forbidden"
        assert (await raw(node, "POST", path, None, headers=own, json=[{"type": "ping"}])).status_code == 202
        # A same-origin GET carries no Origin (browsers send none on GET): the cookie is enough.
        answer = await raw(node, "GET", path, None, headers=cookie, params={"after": 0})
        assert answer.json() == {"frames": [{"type": "pong"}], "last": 1}
        assert (await raw(node, "DELETE", path, None, headers=own)).status_code == 204
        gone = await raw(node, "GET", path, None, headers=cookie, params={"after": 1})
        assert gone.status_code == 404 and error_code(gone) == GONE
