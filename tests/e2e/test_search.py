"""Search over real nodes (docs/protocol.md, "Search"): what a send, an edit or a delete does to
the index is there for the first search after its ack, on any node; access is decided at query
time; the WebSocket frame, the long-polling fallback and the HTTP route give the same answers;
every bad parameter gets a 400 (or an error frame with the request's rid) and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.cli import cli_env, ecolink
from tests.support.client import WsClient, bearer, call, is_type, register, send_acked, sync
from tests.e2e.test_guests import host_and_webinar, join_as_guest
from tests.support.nodes import NodeServer, running_nodes
from tests.support.poll import PollTransport, open_session

ROOM = "green-buildings"
_rids = iter(range(1, 10**9))


async def search(node: NodeServer, account: dict[str, Any], q: str | None,
                 *extra: tuple[str, str], status: int = 200) -> dict[str, Any]:
    """GET /api/v1/search as `account`, expecting `status`; its JSON."""
    params = ([("q", q)] if q is not None else []) + list(extra)
    response = await call(node, "GET", "/api/v1/search", account, params=params)
    assert response.status_code == status, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [result["id"] for result in page["results"]]


async def ws_search(client: WsClient, **fields: Any) -> dict[str, Any]:
    """A `search` frame; its answer (search_results or error, matched by rid)."""
    rid = f"s{next(_rids)}"
    await client.send_frame({"type": "search", "rid": rid, **fields})
    return await client.wait_for(lambda f: f.get("rid") == rid and f["type"] in ("search_results", "error"))


async def test_sends_edits_and_deletes_are_found_at_once_on_another_node(production):
    async with running_nodes(production(), production()) as [a, b]:
        ann, bob = await register(a.url, "Ann"), await register(b.url, "Bob")
        writer = await WsClient.connect(a.ws_url, ann["token"])
        reader = await WsClient.connect(b.ws_url, bob["token"], binary=False)
        await writer.join(ROOM)
        sent = await send_acked(writer, ROOM, "Rooftop solar retrofits along 武汉的快速公交系统 lines", "m1")
        # The first search after the ack, on the other node, finds it.
        page = await search(b, bob, "solar")
        assert page == {"next": None, "results": [{
            "kind": "message", "id": sent["id"], "room_id": ROOM,
            "room": {"kind": "sector", "title_en": "Green Buildings", "title_zh": "绿色建筑"},
            "seq": sent["seq"], "author": {"user_id": ann["user"]["id"], "name": "Ann"},
            "at_ms": page["results"][0]["at_ms"], "title": "",
            "snippet": {"text": "Rooftop solar retrofits along 武汉的快速公交系统 lines", "marks": [[8, 13]]},
            "has_files": False, "lang": "mixed"}]}
        for q in ("公交", "快速公交", "武", "retrofitting", "SOLAR", "“rooftop solar”", "ｓｏｌａｒ 公交"):
            assert ids(await search(b, bob, q)) == [sent["id"]], q
        for q in ("交公", "solar -公交", '"solar rooftop"', "wind"):
            assert ids(await search(b, bob, q)) == [], q
        # The WebSocket frame gives the same page as the route.
        answer = await ws_search(reader, q="solar")
        assert answer["type"] == "search_results" and answer["next"] is None
        assert answer["results"] == page["results"]

        await writer.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "Rooftop wind turbines",
                                 "cid": "e1"})
        await writer.wait_for(is_type("ack", cid="e1"))
        assert ids(await search(b, bob, "solar")) == []
        edited = await search(b, bob, "turbine")
        assert ids(edited) == [sent["id"]] and edited["results"][0]["seq"] == sent["seq"]
        assert edited["results"][0]["snippet"] == {"text": "Rooftop wind turbines", "marks": [[13, 21]]}

        await writer.send_frame({"type": "delete", "room": ROOM, "id": sent["id"], "cid": "d1"})
        await writer.wait_for(is_type("ack", cid="d1"))
        assert ids(await search(b, bob, "turbine")) == []
        assert (await ws_search(reader, q="turbine"))["results"] == []
        await writer.close()
        await reader.close()


async def test_a_removed_member_stops_finding_a_direct_conversation_at_once(production):
    async with running_nodes(production(), production()) as [a, b]:
        expert, city = await register(a.url, "Expert"), await register(a.url, "City")
        admin, outsider = await register(a.url, "Ada"), await register(b.url, "Outsider")
        await a.node.store.set_role(admin["user"]["id"], "admin")
        opened = await call(a, "POST", "/api/v1/direct", expert,
                            json={"members": [city["user"]["id"], admin["user"]["id"]]})
        room = opened.json()["room"]["id"]
        writer = await WsClient.connect(a.ws_url, expert["token"])
        await writer.join(room)
        sent = await send_acked(writer, room, "Confidential retrofit budget for the 老城区", "p1")
        assert ids(await search(b, city, "retrofit budget")) == [sent["id"]]
        assert ids(await search(b, city, "老城")) == [sent["id"]]
        # An outsider finds nothing, even naming the room.
        assert ids(await search(b, outsider, "retrofit")) == []
        assert ids(await search(b, outsider, "retrofit", ("room", room))) == []
        watcher = await WsClient.connect(b.ws_url, city["token"])
        assert [r["id"] for r in (await ws_search(watcher, q="retrofit"))["results"]] == [sent["id"]]
        removed = await call(a, "DELETE", f"/api/v1/rooms/{room}/members/{city['user']['id']}", admin)
        assert removed.status_code == 204
        assert ids(await search(b, city, "retrofit")) == []
        assert (await ws_search(watcher, q="retrofit"))["results"] == []
        assert ids(await search(b, expert, "retrofit")) == [sent["id"]]
        await writer.close()
        await watcher.close()


async def test_filters_pages_and_orders(backend):
    async with running_nodes(backend()) as [node]:
        ann, li = await register(node.url, "Ann"), await register(node.url, "李华")
        a = await WsClient.connect(node.ws_url, ann["token"])
        lw = await WsClient.connect(node.ws_url, li["token"])
        await a.join(ROOM)
        await a.join("green-transport")
        await lw.join(ROOM)
        sent = [await send_acked(a, ROOM, "Solar panels on schools", "a1"),
                await send_acked(a, "green-transport", "Solar buses charge at night", "a2"),
                await send_acked(lw, ROOM, "上海的城市規劃 and solar roofs", "l1")]
        newest = [s["id"] for s in reversed(sent)]
        assert ids(await search(node, ann, "solar")) == newest
        first = await search(node, ann, "solar", ("limit", "2"))
        assert ids(first) == newest[:2] and first["next"]
        second = await search(node, ann, "solar", ("limit", "2"), ("cursor", first["next"]))
        assert ids(second) == newest[2:] and second["next"] is None
        relevance = await search(node, ann, "solar", ("order", "relevance"), ("limit", "2"))
        assert relevance["next"].startswith("r.2.")  # offset 2, and the search's anchor
        rest = await search(node, ann, "solar", ("order", "relevance"), ("cursor", relevance["next"]))
        assert sorted(ids(relevance) + ids(rest)) == sorted(newest)
        # from: by name (and by pinyin), in: by title in either language or id, and filters.
        assert ids(await search(node, ann, "solar from:李华")) == [sent[2]["id"]]
        assert ids(await search(node, ann, "solar from:\"li hua\"")) == [sent[2]["id"]]
        assert ids(await search(node, ann, "solar", ("author", str(ann["user"]["id"])))) == newest[1:]
        assert ids(await search(node, ann, 'solar in:"green transport"')) == [sent[1]["id"]]
        assert ids(await search(node, ann, "solar in:绿色建筑")) == [sent[2]["id"], sent[0]["id"]]
        assert ids(await search(node, ann, "solar", ("room", ROOM), ("room", "green-transport"))) == newest
        assert ids(await search(node, ann, "solar", ("lang", "zh"))) == [sent[2]["id"]]
        assert ids(await search(node, ann, "solar", ("kind", "topic"), ("kind", "news"))) == []
        assert ids(await search(node, ann, "solar", ("kind", "message"), ("has_files", "false"))) == newest
        assert ids(await search(node, ann, "solar", ("has_files", "true"))) == []
        # Traditional and simplified forms find each other, and the mark is on the original.
        planning = await search(node, ann, "城市规划")
        assert ids(planning) == [sent[2]["id"]]
        snippet = planning["results"][0]["snippet"]
        assert [snippet["text"][s:e] for s, e in snippet["marks"]] == ["城市規劃"]
        at_ms = planning["results"][0]["at_ms"]
        assert ids(await search(node, ann, "solar", ("since_ms", str(at_ms + 1)))) == []
        assert sent[2]["id"] in ids(await search(node, ann, "solar", ("since_ms", str(at_ms))))
        assert sent[2]["id"] not in ids(await search(node, ann, "solar", ("until_ms", str(at_ms))))
        await a.close()
        await lw.close()


# Every parameter, wrong: (query string, the parameter the 400 names); the frame's field names
# are the plural ones.
BAD_QUERIES: list[tuple[list[tuple[str, str]], str]] = [
    ([], "q"), ([("q", "")], "q"), ([("q", "  ")], "q"), ([("q", "-solar")], "q"), ([("q", "x" * 501)], "q"),
    ([("q", " ".join(["w"] * 21))], "q"), ([("q", "solar from:nobody-at-all")], "q"),
    ([("q", "solar in:nowhere-at-all")], "q"), ([("q", "from: solar")], "q"),
    ([("q", "solar"), ("room", "Not A Room")], "room"), ([("q", "solar"), ("kind", "note")], "kind"),
    ([("q", "solar"), ("kind", "news"), ("kind", "news")], "kind"),
    ([("q", "solar"), ("author", "x")], "author"), ([("q", "solar"), ("author", "0")], "author"),
    ([("q", "solar"), ("since_ms", "-1")], "since_ms"), ([("q", "solar"), ("until_ms", "soon")], "until_ms"),
    ([("q", "solar"), ("since_ms", "5"), ("until_ms", "5")], "until_ms"),
    ([("q", "solar"), ("lang", "fr")], "lang"), ([("q", "solar"), ("has_files", "yes")], "has_files"),
    ([("q", "solar"), ("order", "oldest")], "order"), ([("q", "solar"), ("cursor", "zzz")], "cursor"),
    ([("q", "solar"), ("cursor", "r.20")], "cursor"), ([("q", "solar"), ("limit", "0")], "limit"),
    ([("q", "solar"), ("limit", "51")], "limit"), ([("q", "solar"), ("limit", "٥")], "limit"),
]
PLURAL = {"room": "rooms", "kind": "kinds", "author": "authors"}
BAD_FRAMES: list[tuple[dict[str, Any], str]] = [
    ({}, "q"), ({"q": 5}, "q"), ({"q": "-solar"}, "q"), ({"q": "solar", "rooms": ["Not A Room"]}, "rooms"),
    ({"q": "solar", "rooms": "x"}, "rooms"), ({"q": "solar", "kinds": ["note"]}, "kinds"),
    ({"q": "solar", "authors": [0]}, "authors"), ({"q": "solar", "since_ms": -1}, "since_ms"),
    ({"q": "solar", "since_ms": 5, "until_ms": 5}, "until_ms"), ({"q": "solar", "lang": "fr"}, "lang"),
    ({"q": "solar", "has_files": "yes"}, "has_files"), ({"q": "solar", "order": "oldest"}, "order"),
    ({"q": "solar", "cursor": "r.20"}, "cursor"), ({"q": "solar", "limit": 51}, "limit"),
    ({"q": "solar", "limit": "5"}, "limit"),
]


async def test_every_bad_parameter_is_refused_clearly_and_changes_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"])
        await ws.join(ROOM)
        sent = await send_acked(ws, ROOM, "Solar retrofits", "m1")
        before = await search(node, ann, "solar")
        for params, name in BAD_QUERIES:
            response = await call(node, "GET", "/api/v1/search", ann, params=params)
            assert response.status_code == 400, (params, response.text)
            error = response.json()["error"]
            assert error["code"] == "bad_request" and error["retry"] is False
            assert list(error["details"]) == [name], (params, error)
        # A parameter that may not repeat, repeated; no credentials.
        twice = await call(node, "GET", "/api/v1/search", ann, params=[("q", "solar"), ("q", "wind")])
        assert twice.status_code == 400 and "'q'" in twice.json()["error"]["message"]
        assert (await call(node, "GET", "/api/v1/search", None, params={"q": "solar"})).status_code == 401
        for fields, name in BAD_FRAMES:
            answer = await ws_search(ws, **fields)
            assert answer["type"] == "error" and answer["retry"] is False, (fields, answer)
            assert list(answer["details"]) == [name], (fields, answer)
        await ws.send_frame({"type": "search", "q": "solar"})  # no rid: an error without one
        no_rid = await ws.wait_for(lambda f: f["type"] == "error" and "rid" in f["message"])
        assert "rid" not in no_rid
        # Nothing changed: the connection still works, the room has one message, the search
        # answers as before.
        await sync(ws)
        assert ids(await search(node, ann, "solar")) == ids(before) == [sent["id"]]
        assert (await ws_search(ws, q="solar"))["results"] == before["results"]
        history = await call(node, "GET", f"/api/v1/rooms/{ROOM}/messages", ann)
        assert [m["id"] for m in history.json()["messages"]] == [sent["id"]]
        await ws.close()


async def test_the_long_polling_fallback_searches_through_the_same_frames(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"])
        await ws.join(ROOM)
        sent = await send_acked(ws, ROOM, "Solar retrofits", "m1")
        opened = await open_session(node.url, ann["token"])
        poll = PollTransport(node.url, ann["token"], opened["session"], opened["wait_s"])
        await poll.post([{"type": "search", "rid": "p1", "q": "solar"},
                         {"type": "search", "rid": "p2", "q": "solar", "limit": 0}])
        frames: list[dict[str, Any]] = []
        while len([f for f in frames if f.get("rid") in ("p1", "p2")]) < 2:
            answer = (await poll.get(poll.last)).json()
            frames += answer["frames"]
            poll.last = answer["last"]
        found = next(f for f in frames if f.get("rid") == "p1")
        refused = next(f for f in frames if f.get("rid") == "p2")
        assert found["type"] == "search_results" and [r["id"] for r in found["results"]] == [sent["id"]]
        assert found["results"] == (await search(node, ann, "solar"))["results"]
        assert refused["type"] == "error" and list(refused["details"]) == ["limit"]
        await ws.close()


@pytest.mark.parametrize("binary", [True, False])
async def test_searches_spend_the_members_budget(make_settings, binary):
    # A burst of 6 tokens: a search costs 2, so the fourth in a row is refused (and says when
    # to retry), over either transport.
    async with running_nodes(make_settings(member_rate_per_s=0.01, member_rate_burst=6)) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"], binary=binary)
        answers = [await ws_search(ws, q="solar") for _ in range(3)]
        assert [a["type"] for a in answers] == ["search_results"] * 3
        async with httpx.AsyncClient(base_url=node.url) as http:
            refused = await http.get("/api/v1/search", params={"q": "solar"}, headers=bearer(ann["token"]))
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        await ws.close()


async def test_reindex_rebuilds_what_was_lost_and_refuses_bad_kinds(backend, tmp_path):
    settings = backend()
    extra = {"ECOLINK_DATABASE_URL": settings.database_url} if settings.database_url else {}
    env = cli_env(ECOLINK_DATA_DIR=str(settings.data_dir), **extra)
    async with running_nodes(settings) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"])
        sent = await send_acked(ws, ROOM, "Solar retrofits", "m1")
        await ws.close()
        # The index lost its messages (a restore, a node with indexing off …): reindex brings
        # them back; other kinds are left alone.
        assert await node.node.store.clear_search_index(("message",)) == 1
        assert ids(await search(node, ann, "solar")) == []
        rebuilt = await ecolink("reindex", "--kind", "message", "--kind", "topic", env=env)
        assert rebuilt.code == 0, rebuilt.out
        assert "message: 1 indexed" in rebuilt.out and "topic: 0 indexed" in rebuilt.out
        assert "project" not in rebuilt.out
        assert ids(await search(node, ann, "solar")) == [sent["id"]]
        everything = await ecolink("reindex", env=env)
        assert everything.code == 0 and "message: 1 indexed" in everything.out and "document: 0 indexed" in everything.out
        for bad in (["--kind", "note"], ["--kind", ""], ["--kind"]):
            refused = await ecolink("reindex", *bad, env=env)
            assert refused.code == 2, (bad, refused.out)
        assert "--kind must be one of message, topic" in (await ecolink("reindex", "--kind", "note", env=env)).out
        assert ids(await search(node, ann, "solar")) == [sent["id"]]  # the refusals changed nothing


async def test_a_guest_finds_their_webinars_entries_only(backend):
    async with running_nodes(backend()) as [node]:
        _, webinar = await host_and_webinar(node, guests_allowed=True)
        ann = await register(node.url, "Ann")
        guest = await join_as_guest(node, webinar, "Guest One")
        member_ws = await WsClient.connect(node.ws_url, ann["token"])
        guest_ws = await WsClient.connect(node.ws_url, guest["token"])
        in_sector = await send_acked(member_ws, ROOM, "Solar retrofits in the sector room", "m1")
        in_webinar = await send_acked(guest_ws, webinar, "Solar question from a guest", "g1")
        assert ids(await search(node, ann, "solar")) == [in_webinar["id"], in_sector["id"]]
        assert ids(await search(node, guest, "solar")) == [in_webinar["id"]]
        assert ids(await search(node, guest, "solar", ("room", ROOM))) == []
        assert [r["id"] for r in (await ws_search(guest_ws, q="solar"))["results"]] == [in_webinar["id"]]
        # A guest's from: that names nobody is an empty page, never a hint about the directory.
        assert await search(node, guest, "solar from:nobody-at-all") == {"results": [], "next": None}
        assert (await search(node, ann, "solar from:nobody-at-all", status=400))["error"]["details"] == {
            "q": "no member has the name given after from:"}
        await member_ws.close()
        await guest_ws.close()


# Text that means something to FTS5, tsquery, LIKE or SQL, and odd scripts: each is a word to
# look for (or refused with a 400), never an operator and never a 500.
HOSTILE_QUERIES = [
    'solar" OR "x', "solar AND NOT x", "NEAR(solar x)", "solar*", "^solar", "solar:*", "'solar' | 'x'",
    "!solar", "solar & !x", "(solar", "solar)", "solar <-> x", "solar\\", "'", "\\'", '"', '""', "''",
    "%", "_", "solar%", "'; DROP TABLE search_entries; --", "col:solar", "terms:solar", "-", "--solar",
    "𠀀𠀁", "𱍋", "😀 solar", "ﷺ", "a" * 500, "城" * 500, "ｓｏｌａｒ：ｘ", "in:", "from:", '「」', "“", "\u3000solar",
    "solar\tx", "solar\nx", "Ⅻ", "①②", "ß", "İ", "ǅ",
]


async def test_hostile_queries_are_words_or_clear_refusals(backend):
    # About 200 searches at once: a budget that lets them all through whatever the pace
    # (the rate is test_searches_spend_the_members_budget's subject).
    async with running_nodes(backend(member_rate_burst=1000.0)) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"], binary=False)
        sent = await send_acked(ws, ROOM, "Solar retrofits", "m1")
        for q in HOSTILE_QUERIES:
            response = await call(node, "GET", "/api/v1/search", ann, params={"q": q})
            assert response.status_code in (200, 400), (q, response.text)
            if response.status_code == 200:
                assert all(r["id"] == sent["id"] for r in response.json()["results"]), q
            answer = await ws_search(ws, q=q)
            assert answer["type"] == ("search_results" if response.status_code == 200 else "error"), (q, answer)
        for q in ("solar*", "^solar", "(solar", "solar)", "solar\\", "solar:*", "!solar", "'solar'"):
            assert ids(await search(node, ann, q)) == [sent["id"]], q  # the word, nothing more
        # Operators are words too: each must be there.
        for q in ("solar AND NOT retrofits", 'solar" OR "retrofits', "solar | x"):
            assert ids(await search(node, ann, q)) == [], q
        assert (await search(node, ann, "\x00solar", status=400))["error"]["details"].keys() == {"q"}
        await ws.close()


async def test_queries_are_never_logged(make_settings, capsys, caplog):
    """Not even refused ones (from:/in: names, a bad limit): a query is message text."""
    caplog.set_level("DEBUG")
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url, "Ann")
        ws = await WsClient.connect(node.ws_url, ann["token"])
        for q in ("qzxmarker", "qzxmarker from:qzxnobody", "-qzxmarker", "qzxmarker in:qzxnowhere"):
            await call(node, "GET", "/api/v1/search", ann, params={"q": q, "limit": "2"})
            await ws_search(ws, q=q)
        await ws_search(ws, q="qzxmarker", limit="qzxlimit")
        await ws.close()
    # The node's own log lines (structlog's, printed; and any through logging). Libraries'
    # DEBUG records and uvicorn's access line are the node's logging setup's to trim
    # (chat/logs.py: PAYLOAD_LOGGERS, WithoutQuery), which the tests do not run.
    captured = capsys.readouterr()
    logged = captured.out + captured.err + "\n".join(
        f"{r.getMessage()} {r.args}" for r in caplog.records if r.name.startswith("chat"))
    assert "node.started" in logged  # the logs were captured
    assert "qzx" not in logged
