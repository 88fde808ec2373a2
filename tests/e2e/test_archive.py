"""The personal data archive and the audit log over real sockets on production nodes: a member
downloads everything the server holds about them (and nothing of anyone else's), every file
parses and matches the manifest; admins read the audit log, nobody else does; bad input is
refused and recorded nowhere."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from tests.e2e.test_members import make_admin
from tests.e2e.test_reads import open_direct
from tests.support.client import WsClient, call, is_type, register, send_acked

ROOM = "water-management"


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None  # every member's CRC checks out
        return {name: archive.read(name) for name in archive.namelist()}


def check_manifest(files: dict[str, bytes]) -> dict:
    manifest = json.loads(files["manifest.json"])
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, data in files.items():
        if name != "manifest.json":
            assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
            assert listed[name]["bytes"] == len(data)
    assert manifest["format_version"] == 1 and manifest["made_at"].endswith("Z")
    return manifest


def jsonl(data: bytes) -> list[dict]:
    """Every line parsed; the last is the digest of the bytes before it."""
    lines = data.decode().splitlines(keepends=True)
    digest = json.loads(lines[-1])
    assert digest == {"type": "digest", "sha256": hashlib.sha256("".join(lines[:-1]).encode()).hexdigest()}
    return [json.loads(line) for line in lines[:-1]]


async def audit(node, account, query=""):
    return await call(node, "GET", f"/api/v1/admin/audit{query}", account)


async def test_a_member_downloads_everything_about_them_and_nothing_of_others(production):
    from tests.support.nodes import running_nodes

    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob, cat = (await register(n1.url, "Ann"), await register(n1.url, "Bob"),
                         await register(n2.url, "Cat"))
        root = await register(n1.url, "Root")
        await make_admin(n1, root)
        assert (await call(n1, "PATCH", "/api/v1/me/profile", ann,
                           json={"languages": ["zh"], "city": "Zhuhai"})).status_code == 200
        direct = await open_direct(n1, ann, bob)
        private = await open_direct(n2, cat, bob)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        b = await WsClient.connect(n2.ws_url, bob["token"])
        c = await WsClient.connect(n2.ws_url, cat["token"])
        public = await send_acked(a, ROOM, "绿色屋顶 report draft", "a1")
        await a.send_frame({"type": "edit", "room": ROOM, "id": public["id"], "body": "绿色屋顶 report final", "cid": "a2"})
        await a.wait_for(is_type("ack", cid="a2"))
        in_direct = await send_acked(a, direct, "Ann to Bob, privately", "a3")
        gone = await send_acked(a, ROOM, "a slip", "a4")
        await a.send_frame({"type": "delete", "room": ROOM, "id": gone["id"], "cid": "a5"})
        await a.wait_for(is_type("ack", cid="a5"))
        await b.send_frame({"type": "react", "room": ROOM, "id": public["id"], "emoji": "👍", "cid": "b1"})
        await b.wait_for(is_type("ack", cid="b1"))
        from_bob = await send_acked(b, direct, "Bob answers Ann", "b2")
        await a.send_frame({"type": "react", "room": direct, "id": from_bob["id"], "emoji": "🌱", "cid": "a6"})
        await a.wait_for(is_type("ack", cid="a6"))
        await send_acked(c, private, "Cat's secret for Bob", "c1")
        await send_acked(b, ROOM, "Bob in public", "b3")
        topic = await call(n1, "POST", f"/api/v1/rooms/{ROOM}/topics", ann,
                           json={"title": "屋顶花园 costs", "body": "What did the **roof** cost?"})
        assert topic.status_code == 201, topic.text
        await call(n1, "POST", f"/api/v1/rooms/{ROOM}/topics", bob, json={"title": "Bob's own topic", "body": "x"})
        assert (await call(n1, "PUT", f"/api/v1/rooms/{ROOM}/read", ann, json={"seq": public["seq"]})).status_code == 200
        await a.wait_for(lambda f: f["type"] == "notification")  # Bob's direct message reached her

        mail_prefs = {"reply": False, "digest": "weekly", "digest_rooms": [ROOM], "language": "zh"}
        assert (await call(n1, "PUT", "/api/v1/me/mail-preferences", ann, json=mail_prefs)).status_code == 200
        response = await call(n2, "GET", "/api/v1/me/export", ann)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="ecolink-personal-{ann["user"]["id"]}-')
        files = unzip(response.content)
        assert set(files) == {"README.txt", "profile.json", "messages.jsonl", "topics.jsonl", "reactions.jsonl",
                              "notifications.jsonl", "read_state.json", "webinars.jsonl", "manifest.json"}
        manifest = check_manifest(files)
        assert (manifest["scope"], manifest["user_id"], manifest["lang"]) == ("personal", ann["user"]["id"], "zh")
        assert "个人数据存档" in files["README.txt"].decode()  # her profile speaks Chinese

        profile = json.loads(files["profile.json"])
        assert profile["account"]["email"] == ann["user"]["email"]
        assert profile["account"]["display_name"] == "Ann" and profile["profile"]["city"] == "Zhuhai"
        assert profile["email_preferences"] == {"direct": True, "mention": True, "reply": False,
                                                "webinar_reminder": True, "digest": "weekly",
                                                "digest_rooms": [ROOM], "language": "zh"}
        assert {"relation": "member", "room": direct} == {k: v for k, v in profile["rooms"][0].items()
                                                           if k in ("relation", "room")}
        messages = jsonl(files["messages.jsonl"])
        by_id = {m["id"]: m for m in messages}
        assert set(by_id) == {public["id"], in_direct["id"], gone["id"]}
        assert by_id[public["id"]]["text"] == "绿色屋顶 report final" and by_id[public["id"]]["edited"]
        assert by_id[public["id"]]["room"]["id"] == ROOM and by_id[public["id"]]["room"]["kind"] == "sector"
        assert by_id[public["id"]]["reactions"] == [{"emoji": "👍", "names": ["Bob"]}]
        assert by_id[in_direct["id"]]["room"] == {"id": direct, "kind": "direct",
                                                  "title": by_id[in_direct["id"]]["room"]["title"]}
        assert by_id[gone["id"]]["deleted"] and by_id[gone["id"]]["text"] == ""
        topics = jsonl(files["topics.jsonl"])
        assert [(t["type"], t["id"], t["title"], t["body"], t["rooms"]) for t in topics] == [
            ("topic", topic.json()["topic"]["id"], "屋顶花园 costs", "What did the **roof** cost?", [ROOM])]
        reactions = jsonl(files["reactions.jsonl"])
        assert [(r["emoji"], r["message"], r["room"]) for r in reactions] == [("🌱", from_bob["id"], direct)]
        notifications = jsonl(files["notifications.jsonl"])
        assert [(n["kind"], n["room"], n["message"], n["excerpt"]) for n in notifications] == [
            ("direct", direct, from_bob["id"], "Bob answers Ann")]
        reads = json.loads(files["read_state.json"])
        assert [(r["room"]["id"], r["last_read_seq"]) for r in reads["rooms"]] == [(ROOM, public["seq"])]
        assert jsonl(files["webinars.jsonl"]) == []
        # Nothing of another member's private data: not Cat's conversation, not Bob's email,
        # not Bob's public message (his, not hers).
        everything = b"".join(files.values()).decode()
        for foreign in ("Cat's secret", "Bob's own topic", private, bob["user"]["email"], cat["user"]["email"], "Bob in public"):
            assert foreign not in everything

        # The audit log holds the export, by Ann; an admin reads it, nobody else.
        listed = await audit(n1, root)
        assert listed.status_code == 200, listed.text
        entry = listed.json()["entries"][0]
        assert (entry["action"], entry["actor"], entry["detail"]) == (
            "export.personal", {"id": ann["user"]["id"], "label": "Ann"}, {"user_id": ann["user"]["id"], "lang": "zh"})
        assert (await audit(n2, ann)).status_code == 403
        assert (await audit(n2, ann, "?limit=abc")).status_code == 403  # a member learns nothing more
        assert (await audit(n2, None)).status_code == 401
        assert (await call(n1, "GET", "/api/v1/me/export", None)).status_code == 401

        # English on request; bad input refused and recorded nowhere.
        english = unzip((await call(n1, "GET", "/api/v1/me/export?lang=en", bob)).content)
        assert "personal data archive" in english["README.txt"].decode()
        assert "Ann to Bob" not in english["messages.jsonl"].decode()
        assert "Bob answers Ann" in english["messages.jsonl"].decode()
        count = len((await audit(n1, root)).json()["entries"])
        assert count == 2
        bad = await call(n1, "GET", "/api/v1/me/export?lang=fr", ann)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
        for query in ("?limit=0", "?limit=201", "?limit=x", "?before=0", "?before=-1", "?before=abc",
                      "?before=99999999999999999999"):
            refused = await audit(n1, root, query)
            assert refused.status_code == 400, query
            assert refused.json()["error"]["code"] == "bad_request"
        assert len((await audit(n1, root)).json()["entries"]) == count


async def test_the_audit_log_pages_newest_first(backend):
    from tests.support.nodes import running_nodes

    async with running_nodes(backend()) as [node]:
        root, ann = await register(node.url, "Root"), await register(node.url, "Ann")
        await make_admin(node, root)
        for _ in range(5):
            assert (await call(node, "GET", "/api/v1/me/export", ann)).status_code == 200
        first = (await audit(node, root, "?limit=2")).json()
        second = (await audit(node, root, f"?limit=2&before={first['next']}")).json()
        third = (await audit(node, root, f"?limit=2&before={second['next']}")).json()
        ids = [e["id"] for page in (first, second, third) for e in page["entries"]]
        assert len(ids) == 5 and ids == sorted(ids, reverse=True)
        assert third["next"] is None and first["next"] == ids[1]


async def test_an_admins_compliance_export_holds_a_direct_conversation_and_is_audited(production):
    from tests.support.nodes import running_nodes

    async with running_nodes(production(), production()) as [n1, n2]:
        root, ann, bob = (await register(n1.url, "Root"), await register(n1.url, "Ann"),
                          await register(n2.url, "Bob"))
        await make_admin(n1, root)
        direct = await open_direct(n1, ann, bob)  # Root is not in it
        a = await WsClient.connect(n1.ws_url, ann["token"])
        await send_acked(a, direct, "Ann to Bob: 合同草案", "a1")
        await send_acked(a, ROOM, "Ann in public", "a2")
        query = f"rooms={direct},{ROOM},{direct}&format=jsonl&from=2000-01-01&to=2099-12-31&tz=Asia/Shanghai&lang=en"

        response = await call(n2, "GET", f"/api/v1/admin/export?{query}", root)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith('attachment; filename="ecolink-compliance-')
        files = unzip(response.content)
        manifest = check_manifest(files)
        assert manifest["scope"] == "compliance" and manifest["rooms"] == [direct, ROOM]
        assert (manifest["format"], manifest["time_zone"], manifest["lang"]) == ("jsonl", "Asia/Shanghai", "en")
        assert manifest["made_by"] == {"id": root["user"]["id"], "label": "Root"}
        transcripts = [name for name in files if name != "manifest.json"]
        assert len(transcripts) == 2 and all(name.endswith(".jsonl") for name in transcripts)
        in_direct = [name for name in transcripts if direct in name]
        assert len(in_direct) == 1
        text = files[in_direct[0]].decode()
        assert "Ann to Bob: 合同草案" in text and "Ann in public" not in text
        lines = text.splitlines(keepends=True)
        for line in lines:
            json.loads(line)  # every line parses
        assert json.loads(lines[-1])["sha256"] == hashlib.sha256("".join(lines[:-1]).encode()).hexdigest()

        # The audit log lists it: who, which rooms, the range.
        entry = (await audit(n1, root)).json()["entries"][0]
        assert entry["action"] == "export.compliance"
        assert entry["actor"] == {"id": root["user"]["id"], "label": "Root"}
        assert entry["detail"]["rooms"] == [direct, ROOM]
        assert entry["detail"]["from"] == "1999-12-31T16:00:00.000Z"  # local midnight in Shanghai
        assert entry["detail"]["to"] == "2099-12-31T16:00:00.000Z"  # the end of the 31st there
        assert (entry["detail"]["time_zone"], entry["detail"]["format"]) == ("Asia/Shanghai", "jsonl")
        assert (await audit(n2, ann)).status_code == 403 and (await audit(n2, None)).status_code == 401

        # Everything: the direct conversation too.
        everything = unzip((await call(n1, "GET", "/api/v1/admin/export?all=true&format=markdown", root)).content)
        assert any(direct in name for name in everything)
        assert json.loads(everything["manifest.json"])["rooms"] == "all"
        check_manifest(everything)

        # Refused before anything is recorded or sent.
        entries = len((await audit(n1, root, "?limit=200")).json()["entries"])
        refusals = [
            (ann, f"rooms={direct}", 403), (None, f"rooms={direct}", 401),
            (root, "rooms=no-such-room", 404), (root, f"rooms={ROOM},no-such-room", 404),
            (root, f"rooms={ROOM}&from=2026-02-01&to=2026-01-01", 422),
            (root, f"rooms={ROOM}&format=docx", 422), (root, f"rooms={ROOM}&tz=Mars/Olympus", 422),
            (root, f"rooms={ROOM}&lang=fr", 422), (root, f"rooms={ROOM}&from=yesterday", 422),
            (root, f"rooms={ROOM}&all=true", 400), (root, "", 400), (root, "all=maybe", 400),
            (root, "rooms=Not_A_Room!", 400), (root, "rooms=" + ",".join(f"r{i}" for i in range(201)), 400),
        ]
        for who, bad, status in refusals:
            refused = await call(n1, "GET", f"/api/v1/admin/export?{bad}", who)
            assert refused.status_code == status, (bad, refused.text)
            assert refused.headers["content-type"] == "application/json"
        assert len((await audit(n1, root, "?limit=200")).json()["entries"]) == entries


async def test_head_makes_no_archive_and_records_nothing(production):
    from tests.support.nodes import running_nodes

    async with running_nodes(production(export_concurrency=2)) as [node]:
        root, ann = await register(node.url, "Root"), await register(node.url, "Ann")
        await make_admin(node, root)
        for path, who in (("/api/v1/me/export", ann), (f"/api/v1/admin/export?rooms={ROOM}", root)):
            head = await call(node, "HEAD", path, who)
            assert head.status_code == 200 and head.headers["content-type"] == "application/zip"
        assert (await audit(node, root)).json()["entries"] == []
