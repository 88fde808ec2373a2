"""Attachments on messages, topics, news and webinar descriptions, across two production nodes:
a file uploaded on node A and sent in a message reaches a member on node B, who downloads the
same bytes; history, resume, edits and deletes keep them exact; only readers of the room get
them; refusals change nothing (docs/protocol.md, "Attachments")."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from PIL import Image

from tests.e2e.test_webinars import draft
from tests.support.client import WsClient, bearer, is_type, moderator, register
from tests.support.nodes import running_nodes

ROOM = "green-buildings"


def png_bytes(w: int = 64, h: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


async def upload(http: httpx.AsyncClient, name: str, data: bytes, mime: str) -> dict[str, Any]:
    """The one-shot upload (POST /api/v1/files) → the file's wire dict."""
    response = await http.post("/api/v1/files", params={"name": name}, content=data,
                               headers={"content-type": mime})
    assert response.status_code == 201, response.text
    return response.json()


async def chunked_upload(http: httpx.AsyncClient, name: str, data: bytes, mime: str) -> dict[str, Any]:
    """The resumable form, as the web client does it: create, then PATCH from the offset."""
    created = await http.post("/api/v1/uploads", json={"name": name, "size": len(data), "type": mime,
                                                       "key": "attach-e2e-key-1"})
    assert created.status_code == 201, created.text
    upload_id, part = created.json()["id"], created.json()["part_size"]
    offset = 0
    while True:
        answer = await http.patch(f"/api/v1/uploads/{upload_id}", content=data[offset:offset + part],
                                  headers={"Upload-Offset": str(offset)})
        assert answer.status_code in (200, 201), answer.text
        if answer.status_code == 201:
            return answer.json()["file"]
        offset = answer.json()["offset"]


async def test_a_file_sent_on_one_node_is_downloaded_on_the_other(production, tmp_path):
    shared = tmp_path / "files"  # the local backend's folder, shared by both nodes
    async with running_nodes(production(files_dir=shared), production(files_dir=shared)) as [n1, n2]:
        ann, bob = await register(n1.url, "Ann"), await register(n2.url, "李华")
        image = png_bytes()
        text = "城市更新 notes\n".encode() * 100
        async with httpx.AsyncClient(base_url=n1.url, headers=bearer(ann["token"])) as a_http, \
                httpx.AsyncClient(base_url=n2.url, headers=bearer(bob["token"])) as b_http:
            pic = await chunked_upload(a_http, "site plan.png", image, "image/png")
            notes = await upload(a_http, "城市更新 notes.txt", text, "text/plain")
            assert pic["kind"] == "image" and pic["preview"]["w"] > 0
            # Not attached yet: only Ann may read them.
            assert (await b_http.get(f"/api/v1/files/{pic['id']}")).status_code == 404

            a = await WsClient.connect(n1.ws_url, ann["token"])
            b = await WsClient.connect(n2.ws_url, bob["token"])
            await a.join(ROOM)
            await b.join(ROOM)
            await a.send_frame({"type": "send", "room": ROOM, "body": "", "cid": "m1",
                                "attachments": [pic["id"], notes["id"]]})
            sent = await a.wait_for(is_type("ack", cid="m1"))
            live = await b.wait_for(is_type("message", id=sent["id"]))
            assert live["body"] == "" and live["attachments"] == [pic, notes]
            # A repeated cid returns the original: no second message.
            await a.send_frame({"type": "send", "room": ROOM, "body": "", "cid": "m1",
                                "attachments": [pic["id"], notes["id"]]})
            again = await a.recv_until(is_type("ack", cid="m1"))  # a frame after the first ack
            assert again["id"] == sent["id"] and again["seq"] == sent["seq"]

            # Bob, on the other node, downloads the exact bytes and the preview.
            got = await b_http.get(f"/api/v1/files/{pic['id']}")
            assert got.status_code == 200 and got.content == image
            assert (await b_http.get(f"/api/v1/files/{notes['id']}")).content == text
            preview = await b_http.get(f"/api/v1/files/{pic['id']}/preview")
            assert preview.status_code == 200 and preview.headers["content-type"].startswith("image/")

            # An edit changes the body only; history and a resume carry the files exactly.
            await a.send_frame({"type": "edit", "room": ROOM, "id": sent["id"], "body": "the plan", "cid": "e1"})
            await a.wait_for(is_type("ack", cid="e1"))
            [message] = [m for m in (await b_http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
                         if m["id"] == sent["id"]]
            assert message["body"] == "the plan" and message["attachments"] == [pic, notes]
            c = await WsClient.connect(n2.ws_url, bob["token"])
            await c.join(ROOM, since=sent["seq"] - 1)
            replayed = await c.wait_for(is_type("message", id=sent["id"]))
            assert replayed["attachments"] == [pic, notes] and replayed["body"] == "the plan"

            # A transcript lists the files by name, type and size (no bytes).
            md = await b_http.get(f"/api/v1/rooms/{ROOM}/export", params={"format": "markdown"})
            assert md.status_code == 200, md.text
            assert "site plan.png (image/png," in md.text and "城市更新 notes.txt (text/plain, 1.9 KB)" in md.text
            assert "城市更新 notes\n城市更新" not in md.text

            # Deleted: the tombstone has no files and the download is gone at once, for all.
            await a.send_frame({"type": "delete", "room": ROOM, "id": sent["id"], "cid": "d1"})
            await a.wait_for(is_type("ack", cid="d1"))
            assert (await b_http.get(f"/api/v1/files/{pic['id']}")).status_code == 404
            assert (await a_http.get(f"/api/v1/files/{notes['id']}")).status_code == 404
            [gone] = [m for m in (await b_http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
                      if m["id"] == sent["id"]]
            assert gone["deleted"] is True and "attachments" not in gone
            for client in (a, b, c):
                await client.close()


async def test_refused_attachments_send_nothing(production, tmp_path):
    async with running_nodes(production(files_dir=tmp_path / "files")) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(ann["token"])) as a_http, \
                httpx.AsyncClient(base_url=node.url, headers=bearer(bob["token"])) as b_http:
            bobs = await upload(b_http, "bob.txt", b"bob's words\n", "text/plain")
            mine = [await upload(a_http, f"n{i}.txt", f"note {i}\n".encode(), "text/plain") for i in range(11)]
            a = await WsClient.connect(node.ws_url, ann["token"])
            await a.join(ROOM)
            cases = {
                "x1": [bobs["id"]],  # someone else's file
                "x2": ["f-" + "A" * 22],  # no such file
                "x3": [f["id"] for f in mine],  # 11
                "x4": "f-abc",  # not a list
                "x5": [42],  # not ids
            }
            for cid, attachments in cases.items():
                await a.send_frame({"type": "send", "room": ROOM, "body": "see", "cid": cid, "attachments": attachments})
                error = await a.wait_for(is_type("error", cid=cid))
                assert error["code"] == "invalid", (cid, error)
            # Neither body nor files: refused.
            await a.send_frame({"type": "send", "room": ROOM, "body": " ", "cid": "x6", "attachments": []})
            assert (await a.wait_for(is_type("error", cid="x6")))["code"] == "invalid"
            history = (await a_http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
            assert history == []
            # Bob's file stays his alone, and Ann's are still hers to attach.
            assert (await a_http.get(f"/api/v1/files/{bobs['id']}")).status_code == 404
            await a.send_frame({"type": "send", "room": ROOM, "body": "ten", "cid": "ok",
                                "attachments": [f["id"] for f in mine[:10]]})
            ack = await a.wait_for(is_type("ack", cid="ok"))
            assert ack["seq"] == 1
            await a.close()


async def test_a_direct_rooms_file_does_not_exist_for_outsiders(production, tmp_path):
    async with running_nodes(production(files_dir=tmp_path / "files")) as [node]:
        ann, bob, eve = [await register(node.url, n) for n in ("Ann", "Bob", "Eve")]
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(ann["token"])) as a_http, \
                httpx.AsyncClient(base_url=node.url, headers=bearer(bob["token"])) as b_http, \
                httpx.AsyncClient(base_url=node.url, headers=bearer(eve["token"])) as e_http:
            room = (await a_http.post("/api/v1/direct", json={"members": [bob["user"]["id"]]})).json()["room"]["id"]
            secret = await upload(a_http, "contract.txt", b"terms\n", "text/plain")
            a = await WsClient.connect(node.ws_url, ann["token"])
            await a.join(room)
            await a.send_frame({"type": "send", "room": room, "body": "the terms", "cid": "m1",
                                "attachments": [secret["id"]]})
            await a.wait_for(is_type("ack", cid="m1"))
            assert (await b_http.get(f"/api/v1/files/{secret['id']}")).content == b"terms\n"
            outsider = await e_http.get(f"/api/v1/files/{secret['id']}")
            assert outsider.status_code == 404
            assert (await e_http.get(f"/api/v1/files/{secret['id']}/preview")).status_code == 404
            # A message of files alone: Bob's notification names them.
            plan = await upload(a_http, "城市 plan.txt", b"plan\n", "text/plain")
            await a.send_frame({"type": "send", "room": room, "cid": "m2", "attachments": [plan["id"]]})
            await a.wait_for(is_type("ack", cid="m2"))
            for _ in range(200):  # notifications are made just after the commit
                notes = (await b_http.get("/api/v1/notifications")).json()["notifications"]
                if len(notes) == 2:
                    break
                await asyncio.sleep(0.05)
            assert [n["excerpt"] for n in notes] == ["📎 城市 plan.txt", "the terms"]
            await a.close()


async def test_topics_news_and_webinar_descriptions_carry_files(production, tmp_path):
    async with running_nodes(production(files_dir=tmp_path / "files")) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(ann["token"])) as a_http, \
                httpx.AsyncClient(base_url=node.url, headers=bearer(bob["token"])) as b_http:
            doc = await upload(a_http, "brief.txt", b"the brief\n", "text/plain")
            made = await a_http.post(f"/api/v1/rooms/{ROOM}/topics",
                                     json={"title": "Retrofits", "body": "", "attachments": [doc["id"]]})
            assert made.status_code == 201, made.text
            topic = made.json()["topic"]
            assert topic["attachments"] == [doc]
            seen = (await b_http.get(f"/api/v1/topics/{topic['id']}")).json()["topic"]
            assert seen["attachments"] == [doc]
            assert (await b_http.get(f"/api/v1/files/{doc['id']}")).content == b"the brief\n"
            # A file attached once cannot be attached again elsewhere; bad lists are 422.
            again = await a_http.post(f"/api/v1/rooms/{ROOM}/topics",
                                      json={"title": "Again", "attachments": [doc["id"]]})
            assert again.status_code == 422
            bad = await a_http.post(f"/api/v1/rooms/{ROOM}/topics", json={"title": "Bad", "attachments": ["nope"]})
            assert bad.status_code == 422 and "attachments" in str(bad.json())
            listed = (await b_http.get(f"/api/v1/rooms/{ROOM}/topics")).json()["topics"]
            assert [t["title"] for t in listed] == ["Retrofits"]


async def test_news_and_webinar_descriptions_carry_files_and_edits_replace_them(production, tmp_path):
    async with running_nodes(production(files_dir=tmp_path / "files"), production(files_dir=tmp_path / "files")) \
            as [n1, n2]:
        mod, bob = await moderator(n1, "Mod"), await register(n2.url, "Bob")
        async with httpx.AsyncClient(base_url=n1.url, headers=bearer(mod["token"])) as m_http, \
                httpx.AsyncClient(base_url=n2.url, headers=bearer(bob["token"])) as b_http:
            agenda = await upload(m_http, "agenda.txt", b"09:00 welcome\n", "text/plain")
            slides = await upload(m_http, "slides.txt", b"slide 1\n", "text/plain")
            poster = await upload(m_http, "poster.png", png_bytes(), "image/png")
            made = await m_http.post("/api/v1/webinars", json=draft(attachments=[agenda["id"]]))
            assert made.status_code == 201, made.text
            webinar = made.json()["webinar"]
            assert webinar["attachments"] == [agenda]
            seen = (await b_http.get(f"/api/v1/webinars/{webinar['id']}")).json()["webinar"]
            assert seen["attachments"] == [agenda]
            listed = (await b_http.get("/api/v1/webinars")).json()["webinars"]
            assert all("attachments" not in w for w in listed)  # lists carry no description
            assert (await b_http.get(f"/api/v1/files/{agenda['id']}")).content == b"09:00 welcome\n"
            # An edit replaces the list: the agenda kept, the slides added.
            edited = await m_http.patch(f"/api/v1/webinars/{webinar['id']}",
                                        json={"attachments": [agenda["id"], slides["id"]]})
            assert edited.status_code == 200, edited.text
            assert edited.json()["webinar"]["attachments"] == [agenda, slides]
            # An edit without the field leaves them.
            retitled = await m_http.patch(f"/api/v1/webinars/{webinar['id']}", json={"title": {"en": "Roofs"}})
            assert retitled.json()["webinar"]["attachments"] == [agenda, slides]
            refused = await m_http.patch(f"/api/v1/webinars/{webinar['id']}", json={"attachments": ["f-x", 3]})
            assert refused.status_code == 422
            # Another moderator's edit keeps the first one's file and drops the agenda, which is
            # released: gone from downloads (its bytes after the retention).
            other = await moderator(n2, "Moe")
            dropped = await b_http.patch(f"/api/v1/webinars/{webinar['id']}", json={"attachments": [slides["id"]]},
                                         headers=bearer(other["token"]))
            assert dropped.status_code == 200, dropped.text
            assert dropped.json()["webinar"]["attachments"] == [slides]
            assert (await b_http.get(f"/api/v1/files/{agenda['id']}")).status_code == 404
            assert (await b_http.get(f"/api/v1/files/{slides['id']}")).content == b"slide 1\n"

            news = await m_http.post("/api/v1/news", json={"title": "Poster", "body": "Our poster",
                                                           "rooms": [ROOM], "attachments": [poster["id"]]})
            assert news.status_code == 201, news.text
            post = news.json()["topic"]
            assert post["attachments"] == [poster]
            feed = (await b_http.get("/api/v1/news")).json()["news"]
            assert [p["attachments"] for p in feed] == [[poster]]
            assert (await b_http.get(f"/api/v1/files/{poster['id']}/preview")).status_code == 200


async def test_a_file_held_by_one_message_is_not_sent_again_in_another(production, tmp_path):
    """A file shows in one holder only: sent again in a second message of the same room (or
    a project's second update) it is refused, so deleting either holder never takes a file
    another still shows. A retried send (the same cid) still returns the original."""
    async with running_nodes(production(files_dir=tmp_path / "files")) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        async with httpx.AsyncClient(base_url=node.url, headers=bearer(ann["token"])) as a_http, \
                httpx.AsyncClient(base_url=node.url, headers=bearer(bob["token"])) as b_http:
            plan = await upload(a_http, "plan.txt", b"the plan\n", "text/plain")
            a = await WsClient.connect(node.ws_url, ann["token"])
            await a.join(ROOM)
            await a.send_frame({"type": "send", "room": ROOM, "body": "one", "cid": "m1", "attachments": [plan["id"]]})
            first = await a.wait_for(is_type("ack", cid="m1"))
            await a.send_frame({"type": "send", "room": ROOM, "body": "two", "cid": "m2", "attachments": [plan["id"]]})
            error = await a.wait_for(is_type("error", cid="m2"))
            assert error["code"] == "invalid", error
            # The retried first send is the original, as before.
            await a.send_frame({"type": "send", "room": ROOM, "body": "one", "cid": "m1", "attachments": [plan["id"]]})
            again = await a.recv_until(is_type("ack", cid="m1"))
            assert again["id"] == first["id"]
            history = (await b_http.get(f"/api/v1/rooms/{ROOM}/messages")).json()["messages"]
            assert [m["body"] for m in history] == ["one"]
            assert (await b_http.get(f"/api/v1/files/{plan['id']}")).content == b"the plan\n"
            await a.close()
