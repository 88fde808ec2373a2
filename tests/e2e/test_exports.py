"""Transcript exports over real nodes on the production backends (PostgreSQL + Redis): what an
export holds, who may take it, its range and zone, refusals before the first byte, the running
exports' cap, and streaming (docs/protocol.md, "Exports")."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from chat.export.digest import verify
from chat.models import SendRequest
from tests.support.client import WsClient, bearer, call, http_client, is_type, register, send_acked
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

ROOM = "green-buildings"
W = "/api/v1/webinars"


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
        # A browser's download link: the session cookie, no Origin needed for a GET.
        async with http_client(node.url) as http:
            by_cookie = await http.get(f"/api/v1/rooms/{room['id']}/export",
                                       headers={"Cookie": f"ecolink_session={bob['token']}"})
        assert by_cookie.status_code == 200 and "private plan" in by_cookie.text and verify(by_cookie.content)
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
        async with http_client(node.url) as http:
            head = await http.head(path, params={"format": "csv"}, headers=auth(ann))
            bad_head = await http.head(path, params={"format": "docx"}, headers=auth(ann))
        assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/csv")
        assert "attachment" in head.headers["content-disposition"] and bad_head.status_code == 422
        bad_room = await export(node, ann, "/api/v1/rooms/NO_SUCH/export")
        assert bad_room.status_code == 400
        assert node.node.exports.running == 0


def sends(author, room, bodies, prefix):
    return [SendRequest(room, author["user"]["id"], author["user"]["name"], f"{prefix}{i}", body)
            for i, body in enumerate(bodies)]


async def test_every_text_format_of_a_sector_room_verifies_and_follows_the_language(production):
    async with running_nodes(production()) as [node]:
        ann = await register(node.url, "Ann")
        li = await register(node.url, "李华")
        async with http_client(node.url) as http:
            assert (await http.patch("/api/v1/me/profile", json={"languages": ["zh"], "time_zone": "Asia/Shanghai"},
                                     headers=auth(li))).status_code == 200
        client = await WsClient.connect(node.ws_url, ann["token"])
        await client.join(ROOM)
        await send_acked(client, ROOM, "=1+1 and <b>bold</b> 绿色屋顶", "c1")
        await client.close()
        for fmt, media in (("markdown", "text/markdown"), ("html", "text/html"), ("csv", "text/csv"),
                           ("jsonl", "application/x-ndjson")):
            response = await export(node, li, f"/api/v1/rooms/{ROOM}/export", format=fmt)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith(media)
            assert verify(response.content), fmt
            text = response.content.decode("utf-8-sig")
            assert "绿色屋顶" in text and "绿色建筑" in text  # the message; the title
            assert "时区" in text or '"time_zone":"Asia/Shanghai"' in text  # zh labels (jsonl has keys)
        html_text = (await export(node, li, f"/api/v1/rooms/{ROOM}/export", format="html")).text
        assert "<b>bold</b>" not in html_text and "&lt;b&gt;bold&lt;/b&gt;" in html_text
        csv_text = (await export(node, li, f"/api/v1/rooms/{ROOM}/export", format="csv")).content.decode("utf-8-sig")
        assert "'=1+1" in csv_text
        english = await export(node, li, f"/api/v1/rooms/{ROOM}/export", format="markdown", lang="en", tz="UTC")
        assert "Time zone" in english.text and "UTC" in english.text and english.text.startswith(
            "# Transcript: Green Buildings / 绿色建筑")


async def test_a_range_is_local_days_in_the_chosen_zone(production):
    async with running_nodes(production()) as [node]:
        ann = await register(node.url, "Ann")
        store = node.node.store
        moments = ["2026-11-01T23:30:00+08:00", "2026-11-02T00:30:00+08:00",
                   "2026-11-02T23:59:00+08:00", "2026-11-03T00:00:00+08:00"]
        for i, moment in enumerate(moments):
            at = int(datetime.fromisoformat(moment).timestamp() * 1000)
            await store.append_batch(sends(ann, "hefei", [f"at {moment}"], f"t{i}-"), at)

        async def texts(**params):
            response = await export(node, ann, "/api/v1/rooms/hefei/export", format="jsonl", **params)
            assert response.status_code == 200, response.text
            return [r["text"] for r in jsonl(response) if r["type"] == "message"]

        assert await texts(**{"from": "2026-11-02", "to": "2026-11-02", "tz": "Asia/Shanghai"}) == [
            f"at {moments[1]}", f"at {moments[2]}"]
        assert await texts(**{"from": "2026-11-02", "to": "2026-11-02", "tz": "UTC"}) == [
            f"at {moments[2]}", f"at {moments[3]}"]
        assert await texts(**{"from": "2026-11-02T00:30", "to": "2026-11-03T00:00", "tz": "Asia/Shanghai"}) == [
            f"at {moments[1]}", f"at {moments[2]}"]  # `to` is exclusive
        assert await texts(**{"from": "2026-11-04"}) == []
        header = jsonl(await export(node, ann, "/api/v1/rooms/hefei/export", format="jsonl",
                                    **{"from": "2026-11-02", "tz": "Asia/Shanghai"}))[0]
        assert header["from"] == "2026-11-02T00:00:00.000+08:00" and header["to"] is None
        disposition = (await export(node, ann, "/api/v1/rooms/hefei/export", format="markdown",
                                    **{"from": "2026-11-01", "to": "2026-11-30", "tz": "Asia/Shanghai"})
                       ).headers["content-disposition"]
        assert 'filename="ecolink-city-hefei-2026-11-01_2026-11-30.md"' in disposition


async def test_a_topic_and_its_replies_in_the_room_and_on_their_own(production):
    async with running_nodes(production(), production()) as [a, b]:
        ann, bob = await register(a.url, "Ann"), await register(b.url, "Bob")
        async with http_client(a.url) as http:
            created = await http.post("/api/v1/rooms/green-transport/topics", json={
                "title": "Electric buses", "body": "What did the **fleet** cost?"}, headers=auth(ann))
            assert created.status_code == 201, created.text
            topic = created.json()["topic"]["id"]
        watcher = await WsClient.connect(a.ws_url, ann["token"])
        await watcher.join("green-transport")
        await send_acked(watcher, "green-transport", "before the replies", "g1")
        replier = await WsClient.connect(b.ws_url, bob["token"])
        await replier.join(topic)
        await send_acked(replier, topic, "reply one", "r1")
        await send_acked(replier, topic, "reply two", "r2")
        await send_acked(watcher, "green-transport", "after", "g2")
        for client in (watcher, replier):
            await client.close()
        lines = jsonl(await export(b, ann, "/api/v1/rooms/green-transport/export", format="jsonl"))
        shown = [(r["type"], r.get("kind"), r["text"], r["thread"]) for r in lines if r["type"] in ("message", "event")]
        assert shown == [
            ("event", "topic", "topic: Electric buses", None),
            ("message", None, "reply one", topic), ("message", None, "reply two", topic),
            ("message", None, "before the replies", None), ("message", None, "after", None)]
        assert lines[0]["participants"] == ["Ann", "Bob"]
        assert lines[2]["body"] == "What did the **fleet** cost?"
        markdown = (await export(a, bob, "/api/v1/rooms/green-transport/export")).text
        assert markdown.index("Electric buses") < markdown.index("> reply one") < markdown.index("before the replies")
        own = await export(a, bob, f"/api/v1/topics/{topic}/export", format="jsonl")
        assert own.status_code == 200 and verify(own.content)
        assert own.headers["content-disposition"].startswith(f'attachment; filename="ecolink-topic-{topic}-')
        records = [r for r in jsonl(own) if r["type"] in ("message", "event")]
        assert [r["text"] for r in records] == ["topic: Electric buses", "reply one", "reply two"]
        assert records[0]["body"] == "What did the **fleet** cost?"
        not_a_topic = await export(a, bob, "/api/v1/topics/green-transport/export")
        missing = await export(a, bob, "/api/v1/topics/t-0000000000000000/export")
        assert not_a_topic.status_code == missing.status_code == 404 and not_a_topic.json() == missing.json()


async def test_a_webinar_with_its_questions_votes_answers_and_polls(production):
    async with running_nodes(production(), production()) as [a, b]:
        host = await register(a.url, "Host")
        await a.node.store.set_role(host["user"]["id"], "admin")
        ann, bob, cai = await register(a.url, "Ann"), await register(b.url, "Bob"), await register(b.url, "Cai")
        start = datetime.now(UTC) + timedelta(hours=1)
        scheduled = await call(a, "POST", W, host, json={
            "title": {"en": "Green roofs", "zh": "绿色屋顶"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(), "premoderated": False,
            "guests_allowed": True})
        assert scheduled.status_code == 201, scheduled.text
        webinar = scheduled.json()["webinar"]["id"]
        assert (await call(a, "POST", f"{W}/{webinar}/start", host)).status_code == 200
        chat = await WsClient.connect(b.ws_url, bob["token"])
        await chat.join(webinar)
        await send_acked(chat, webinar, "hello from the audience", "w1")
        await chat.close()
        ask = f"{W}/{webinar}/questions"
        asked = []
        for node, who, body in ((a, ann, {"body": "How much water?", "cid": "q1"}),
                                (b, bob, {"body": "Who pays?", "cid": "q2", "anonymous": True}),
                                (b, cai, {"body": "Off topic", "cid": "q3"})):
            response = await call(node, "POST", ask, who, json=body)
            assert response.status_code == 201, response.text
            asked.append(response.json()["question"])
        q1, q2, q3 = asked
        assert (await call(b, "PUT", f"{ask}/{q1['id']}/vote", bob)).status_code == 200
        assert (await call(a, "PUT", f"{ask}/{q2['id']}/vote", ann)).status_code == 200
        assert (await call(a, "PUT", f"{ask}/{q2['id']}/vote", host)).status_code == 200
        answered = await call(a, "POST", f"{ask}/{q1['id']}/moderation", host,
                              json={"action": "answered", "answer": "About **80 litres** a square metre."})
        assert answered.status_code == 200, answered.text
        assert (await call(a, "POST", f"{ask}/{q2['id']}/moderation", host, json={"action": "pin"})).status_code == 200
        assert (await call(a, "POST", f"{ask}/{q3['id']}/moderation", host, json={"action": "dismiss"})).status_code == 200
        polls = f"{W}/{webinar}/polls"
        public = (await call(a, "POST", polls, host, json={
            "question": {"en": "Which roof?", "zh": "哪种屋顶？"},
            "options": [{"en": "Extensive", "zh": "粗放型"}, {"en": "Intensive", "zh": "密集型"}],
            "results_public": True})).json()["poll"]["id"]
        private = (await call(a, "POST", polls, host, json={
            "question": {"en": "Budget?"}, "options": [{"en": "Yes"}, {"en": "No"}],
            "results_public": False})).json()["poll"]["id"]
        draft = (await call(a, "POST", polls, host, json={
            "question": {"en": "Draft?"}, "options": [{"en": "A"}, {"en": "B"}]})).json()["poll"]["id"]
        for poll in (public, private):
            assert (await call(a, "POST", f"{polls}/{poll}/open", host)).status_code == 200
            assert (await call(b, "PUT", f"{polls}/{poll}/answer", bob, json={"choices": [1]})).status_code == 200
            assert (await call(a, "PUT", f"{polls}/{poll}/answer", ann, json={"choices": [1]})).status_code == 200
            assert (await call(a, "POST", f"{polls}/{poll}/close", host)).status_code == 200

        async def sections(node, account):
            response = await export(node, account, f"{W}/{webinar}/export", format="jsonl")
            assert response.status_code == 200, response.text
            assert verify(response.content)
            found = {}
            current = None
            for record in jsonl(response):
                if record["type"] == "section":
                    current = found.setdefault(record["name"], [])
                elif record["type"] not in ("header", "digest"):
                    current.append(record)
            return found

        seen = await sections(b, bob)
        assert list(seen) == ["chat", "questions", "polls"]
        assert [m["text"] for m in seen["chat"] if m["type"] == "message"] == ["hello from the audience"]
        questions = {x["text"]: x for x in seen["questions"]}
        assert set(questions) == {"How much water?", "Who pays?"}  # a dismissed one is not on the board
        water, pays = questions["How much water?"], questions["Who pays?"]
        assert (water["author"], water["state"], water["votes"], water["answered_by"]) == ("Ann", "answered", 1, "Host")
        assert water["answer"] == "About **80 litres** a square metre." and "<strong>80 litres</strong>" in water["answer_html"]
        assert (pays["author"], pays["pinned"], pays["votes"]) == (None, True, 2)  # anonymous: no name
        by_id = {p["id"]: p for p in seen["polls"]}
        assert set(by_id) == {public, private}  # a draft is for hosts only
        assert by_id[public]["counts"] == [0, 2] and by_id[public]["answers"] == 2
        assert by_id[private]["counts"] is None and by_id[private]["answers"] is None
        hosted = await sections(a, host)
        assert {x["text"] for x in hosted["questions"]} == {"How much water?", "Who pays?", "Off topic"}
        assert {p["id"] for p in hosted["polls"]} == {public, private, draft}
        assert {p["id"]: p["counts"] for p in hosted["polls"]}[private] == [0, 2]
        assert next(x for x in hosted["questions"] if x["text"] == "Who pays?")["author"] is None
        markdown = (await export(a, bob, f"{W}/{webinar}/export", lang="zh")).text
        assert "## 提问" in markdown and "## 投票" in markdown and "匿名" in markdown and "粗放型: 0" in markdown
        # A guest of the webinar may export it (as an attendee sees it), and nothing else.
        guest = await call(b, "POST", f"{W}/{webinar}/guests", None, json={"display_name": "Guest Gu"})
        assert guest.status_code == 201, guest.text
        guest_seen = await sections(b, guest.json())
        assert {x["text"] for x in guest_seen["questions"]} == {"How much water?", "Who pays?"}
        assert {p["id"] for p in guest_seen["polls"]} == {public, private}
        assert (await export(b, guest.json(), f"/api/v1/rooms/{ROOM}/export")).status_code == 403
        assert (await export(b, guest.json(), f"/api/v1/rooms/{webinar}/export")).status_code == 403
        not_a_webinar = await export(a, bob, f"/api/v1/webinars/{ROOM}/export")
        missing = await export(a, bob, "/api/v1/webinars/webinar-0000000000000000/export")
        assert not_a_webinar.status_code == missing.status_code == 404 and not_a_webinar.json() == missing.json()


async def open_stream(node, account, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """GET path on a socket whose receive buffer is small, reading the response head and the
    body's first chunk only: the rest waits in the server (its send buffer, then the export
    itself, held back by the socket)."""
    url = urlsplit(node.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                  f"Authorization: Bearer {account['token']}\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout(10))
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"transfer-encoding: chunked" in head.lower()
    size = int((await asyncio.wait_for(reader.readline(), timeout(10))).strip(), 16)
    first = await asyncio.wait_for(reader.readexactly(size), timeout(10))
    return reader, writer, first


async def wait_until(predicate) -> None:
    async with asyncio.timeout(timeout(20)):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_exports_stream_and_each_node_runs_at_most_so_many_one_per_member(production):
    async with running_nodes(production(export_concurrency=2, export_page=50)) as [node]:
        ann, bob, cai = (await register(node.url, "Ann"), await register(node.url, "Bob"),
                         await register(node.url, "Cai"))
        # A room of 2,000 messages of 9,000 characters: 18 MB of JSON Lines, far more than
        # the sockets' buffers hold.
        for start in range(0, 2000, 200):
            await node.node.store.append_batch(
                sends(ann, "solid-waste", ["x" * 9000] * 200, f"big{start}-"), 1_790_000_000_000 + start)
        path = "/api/v1/rooms/solid-waste/export?format=jsonl"
        reader, writer, first = await open_stream(node, ann, path)
        # The header's line came first and at once, while the export still runs: streamed.
        assert len(first) < 1_000_000
        header = json.loads(first.split(b"\n")[0])
        assert header["type"] == "header" and header["participants"] == ["Ann"]
        exports = node.node.exports
        assert exports.running == 1
        # One running export per member, then the node's cap: 429 export_busy, nothing sent.
        again = await export(node, ann, "/api/v1/rooms/hefei/export")
        assert again.status_code == 429 and again.json()["error"]["code"] == "export_busy"
        assert again.headers["retry-after"]
        reader2, writer2, _ = await open_stream(node, bob, path)
        assert exports.running == 2
        full = await export(node, cai, "/api/v1/rooms/hefei/export")
        assert full.status_code == 429 and full.json()["error"]["code"] == "export_busy"
        assert "content-disposition" not in full.headers
        # Clients that go away end their exports; the slots come back.
        for w in (writer, writer2):
            w.close()
        await wait_until(lambda: exports.running == 0)
        done = await export(node, cai, "/api/v1/rooms/hefei/export", format="jsonl")
        assert done.status_code == 200 and verify(done.content)
        assert exports.running == 0
        # A PDF past the page limit is refused before anything is read, suggesting a range.
        exports.pdf_max_pages = 50  # 2,000 entries: about 101 pages
        too_long = await export(node, cai, "/api/v1/rooms/solid-waste/export", format="pdf")
        assert too_long.status_code == 413, too_long.text
        error = too_long.json()["error"]
        assert error["code"] == "export_too_large" and "narrower range" in error["message"]
        assert exports.running == 0
        _ = (reader, reader2)
