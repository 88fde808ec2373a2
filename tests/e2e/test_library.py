"""The knowledge library over real sockets (docs/protocol.md, "Library"): a member proposes a
document with an upload, a moderator on another node publishes it, a new version keeps the old
one downloadable (bytes checked), downloads are counted, "where discussed" follows links and
shares but only in rooms the viewer may read, withdrawal hides the files; the list's filters,
orders and cursor; bad input refused with nothing changed."""

from __future__ import annotations

from typing import Any

from tests.support.client import WsClient, call, moderator, register, send_acked
from tests.support.nodes import running_nodes


async def upload(node: Any, account: dict[str, Any], name: str, data: bytes) -> str:
    response = await call(node, "POST", "/api/v1/files", account, params={"name": name},
                          headers={"Content-Type": "text/plain"}, content=data)
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id


def metadata(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title_en": "Sponge city guide", "title_zh": "海绵城市指南",
                            "description": "How Zhuhai keeps rain where it falls.", "type": "guide",
                            "language": "both", "year": 2021, "source": "EC-Link",
                            "sectors": ["water-management"], "cities": ["zhuhai"]}
    body.update(fields)
    return body


async def propose(node: Any, account: dict[str, Any], data: bytes, **fields: Any) -> dict[str, Any]:
    file_id = await upload(node, account, "guide.txt", data)
    response = await call(node, "POST", "/api/v1/library", account,
                          json={**metadata(**fields), "file": file_id, "note": "first"})
    assert response.status_code == 201, response.text
    doc: dict[str, Any] = response.json()["document"]
    return doc


async def test_propose_publish_version_download_and_discuss_across_nodes(backend):
    settings = [backend(), backend()] if backend().database_url else [backend()]
    async with running_nodes(*settings) as nodes:
        one, two = nodes[0], nodes[-1]
        ann, bob = await register(one.url, "Ann"), await register(two.url, "Bob")
        mod = await moderator(two, "Mod")
        v1, v2 = b"version one: rain gardens\n", "版本二：透水铺装\n".encode()

        doc = await propose(one, ann, v1)
        doc_id = doc["id"]
        assert (doc["state"], doc["version"], doc["proposed_by"]["name"]) == ("proposed", 1, "Ann")
        assert doc["title"] == {"en": "Sponge city guide", "zh": "海绵城市指南"}
        assert [v["note"] for v in doc["versions"]] == ["first"] and doc["versions"][0]["file"]["name"] == "guide.txt"
        # A proposal: its proposer and moderators see it, other members do not.
        assert (await call(two, "GET", f"/api/v1/library/{doc_id}", bob)).status_code == 404
        assert (await call(two, "GET", f"/api/v1/library/{doc_id}/download", bob)).status_code == 404
        assert (await call(two, "GET", "/api/v1/library", bob)).json()["documents"] == []
        assert [d["id"] for d in (await call(one, "GET", "/api/v1/library?state=proposed", ann)).json()["documents"]] == [doc_id]
        assert (await call(two, "GET", "/api/v1/library?state=proposed", bob)).json()["documents"] == []
        queue = (await call(two, "GET", "/api/v1/library?state=proposed", mod)).json()["documents"]
        assert [d["id"] for d in queue] == [doc_id]
        # Only moderators review.
        refused = await call(one, "POST", f"/api/v1/library/{doc_id}/review", ann, json={"action": "publish"})
        assert refused.status_code == 403

        published = await call(two, "POST", f"/api/v1/library/{doc_id}/review", mod, json={"action": "publish"})
        assert published.status_code == 200, published.text
        assert published.json()["document"]["state"] == "published"
        again = await call(two, "POST", f"/api/v1/library/{doc_id}/review", mod, json={"action": "publish"})
        assert again.status_code == 409

        # Members read and download it on either node; each download counts.
        assert (await call(two, "GET", f"/api/v1/library/{doc_id}", bob)).status_code == 200
        got = await call(two, "GET", f"/api/v1/library/{doc_id}/download", bob)
        assert got.status_code == 200 and got.content == v1
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith("attachment;")
        # It says it serves byte ranges, and does (a resumed download counts no second time).
        assert got.headers["accept-ranges"] == "bytes"
        rest = await call(two, "GET", f"/api/v1/library/{doc_id}/download", bob, headers={"Range": "bytes=4-"})
        assert rest.status_code == 206 and rest.content == v1[4:], rest.status_code
        assert rest.headers["content-range"] == f"bytes 4-{len(v1) - 1}/{len(v1)}"

        # A new version (the moderator's upload, on the other node); the old one still downloads.
        v2_id = await upload(two, mod, "guide-2.txt", v2)
        added = await call(two, "POST", f"/api/v1/library/{doc_id}/versions", mod, json={"file": v2_id, "note": "paving"})
        assert added.status_code == 201, added.text
        page = added.json()["document"]
        assert page["version"] == 2 and [v["version"] for v in page["versions"]] == [2, 1]
        assert page["versions"][0]["uploaded_by"]["name"] == "Mod"
        assert (await call(one, "GET", f"/api/v1/library/{doc_id}/download", ann)).content == v2
        same = await call(two, "POST", f"/api/v1/library/{doc_id}/versions", mod, json={"file": v2_id})
        assert same.status_code == 422 and "file" in same.json()["error"]["details"]  # not twice
        assert (await call(one, "GET", f"/api/v1/library/{doc_id}/download?version=1", ann)).content == v1
        assert (await call(one, "GET", f"/api/v1/library/{doc_id}/download?version=3", ann)).status_code == 404
        assert (await call(one, "GET", f"/api/v1/library/{doc_id}", ann)).json()["document"]["downloads"] == 3
        # The file's own download follows the document's visibility too.
        assert (await call(one, "GET", f"/api/v1/files/{v2_id}", bob)).content == v2
        # Members may not add versions to or edit a published document.
        bob_file = await upload(two, bob, "mine.txt", b"bob's")
        assert (await call(two, "POST", f"/api/v1/library/{doc_id}/versions", bob, json={"file": bob_file})).status_code == 403
        assert (await call(two, "PATCH", f"/api/v1/library/{doc_id}", bob, json={"year": 2020})).status_code == 403
        edited = await call(two, "PATCH", f"/api/v1/library/{doc_id}", mod, json={"title_en": "Sponge city handbook"})
        assert edited.status_code == 200 and edited.json()["document"]["title"]["en"] == "Sponge city handbook"

        # Where discussed: a link in a room message, a share; a private conversation only for its members.
        ws = await WsClient.connect(one.ws_url, ann["token"])
        await ws.join("zhuhai")
        await send_acked(ws, "zhuhai", f"See http://x/#/library/{doc_id} for the plan", "c-link")
        shared = await call(two, "POST", f"/api/v1/library/{doc_id}/share", bob,
                            json={"room": "hefei", "cid": "c-share", "comment": "for Hefei"})
        assert shared.status_code == 201, shared.text
        direct = await call(one, "POST", "/api/v1/direct", ann, json={"members": [mod["user"]["id"]]})
        assert direct.status_code in (200, 201), direct.text
        direct_room = direct.json()["room"]["id"]
        await ws.join(direct_room)
        await send_acked(ws, direct_room, f"/library/{doc_id}", "c-dm")
        await ws.close()
        rooms_for = {}
        for account, node in ((bob, two), (mod, two)):
            discussed = (await call(node, "GET", f"/api/v1/library/{doc_id}", account)).json()["document"]["discussed"]
            rooms_for[account["user"]["name"]] = [d["room"]["id"] for d in discussed]
        assert rooms_for["Bob"] == ["hefei", "zhuhai"]
        assert rooms_for["Mod"] == [direct_room, "hefei", "zhuhai"]
        history = (await call(two, "GET", "/api/v1/rooms/hefei/messages", bob)).json()
        assert any(f"#/library/{doc_id}" in m["body"] for m in history["messages"])

        # Withdrawn: gone for members, its files no longer download.
        gone = await call(two, "POST", f"/api/v1/library/{doc_id}/review", mod, json={"action": "withdraw", "reason": "outdated"})
        assert gone.status_code == 200 and gone.json()["document"]["state"] == "withdrawn"
        assert (await call(two, "GET", f"/api/v1/library/{doc_id}", bob)).status_code == 404
        assert (await call(one, "GET", f"/api/v1/library/{doc_id}/download?version=1", ann)).status_code == 404
        assert (await call(one, "GET", f"/api/v1/files/{v2_id}", ann)).status_code == 404
        assert (await call(two, "GET", "/api/v1/library", bob)).json()["documents"] == []


async def test_rejection_filters_sorts_and_pages(backend):
    async with running_nodes(backend()) as [node]:
        ann, mod = await register(node.url, "Ann"), await moderator(node, "Mod")
        rejected = await propose(node, ann, b"weak draft")
        no_reason = await call(node, "POST", f"/api/v1/library/{rejected['id']}/review", mod, json={"action": "reject"})
        assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]["details"]
        done = await call(node, "POST", f"/api/v1/library/{rejected['id']}/review", mod,
                          json={"action": "reject", "reason": "out of scope"})
        assert done.json()["document"]["state"] == "rejected" and done.json()["document"]["reason"] == "out of scope"
        mine = (await call(node, "GET", "/api/v1/library?state=rejected", ann)).json()["documents"]
        assert [d["id"] for d in mine] == [rejected["id"]]

        # Moderators publish at once.
        a = await propose(node, mod, b"a", title_en="Alpha buses", title_zh="", type="report", language="en",
                          year=2019, sectors=["green-transport"], cities=["hefei"])
        b = await propose(node, mod, b"b", title_en="", title_zh="垃圾分类", type="policy", language="zh",
                          year=2022, sectors=["solid-waste"], cities=["zhuhai"])
        c = await propose(node, mod, b"c", title_en="beta Heat pumps", title_zh="热泵", type="report", language="both",
                          year=2022, sectors=["clean-energy"], cities=["zhuhai"])
        assert {a["state"], b["state"], c["state"]} == {"published"}
        await call(node, "GET", f"/api/v1/library/{b['id']}/download", ann)

        async def ids(query: str) -> list[str]:
            response = await call(node, "GET", f"/api/v1/library?{query}", ann)
            assert response.status_code == 200, response.text
            return [d["id"] for d in response.json()["documents"]]

        assert await ids("") == [c["id"], b["id"], a["id"]]
        assert await ids("city=zhuhai") == [c["id"], b["id"]]
        assert await ids("sector=green-transport") == [a["id"]]
        assert await ids("language=zh") == [c["id"], b["id"]]
        assert await ids("type=report&year=2022") == [c["id"]]
        assert await ids("q=HEAT") == [c["id"]] and await ids("q=分类") == [b["id"]]
        assert (await ids("sort=downloads"))[:1] == [b["id"]]
        assert await ids("sort=title&lang=en") == [a["id"], c["id"], b["id"]]
        assert await ids("sort=title&lang=zh") == [a["id"], b["id"], c["id"]]  # 垃 (U+5783) < 热 (U+70ED)
        seen, after = [], ""
        while True:
            page = (await call(node, "GET", f"/api/v1/library?sort=title&lang=zh&limit=1{after}", ann)).json()
            seen += [d["id"] for d in page["documents"]]
            if page["next"] is None:
                break
            after = f"&after={page['next']}"
        assert seen == [a["id"], b["id"], c["id"]]


async def test_bad_input_is_refused_and_changes_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        file_id = await upload(node, ann, "x.txt", b"x")
        for query in ("sort=best", "language=fr", "type=novel", "sector=zhuhai", "city=mars", "year=1800",
                      "limit=0", "limit=101", "after=%%%", "after=WzEsImQtMSJd", "state=lost", f"q={'x' * 101}"):
            response = await call(node, "GET", f"/api/v1/library?{query}", ann)
            assert response.status_code == 400, (query, response.text)
        for path in ("/api/v1/library/nope", "/api/v1/library/d-XYZ/download", "/api/v1/library/d-1/versions"):
            response = await call(node, "GET" if "versions" not in path else "POST", path, ann, json={"file": file_id})
            assert response.status_code == 400, path
        assert (await call(node, "GET", "/api/v1/library/d-0123456789abcdef", ann)).status_code == 404
        assert (await call(node, "GET", "/api/v1/library", None)).status_code == 401

        bad = await call(node, "POST", "/api/v1/library", ann, json={
            **metadata(title_en="", title_zh="", type="novel", language="fr", year=1989,
                       sectors=["zhuhai"], cities=["green-buildings"]), "file": file_id})
        assert bad.status_code == 422
        details = bad.json()["error"]["details"]
        assert set(details) >= {"title", "type", "language", "year", "sectors", "cities"}
        wrong_types = await call(node, "POST", "/api/v1/library", ann, json={**metadata(year="2020"), "file": file_id})
        assert wrong_types.status_code == 422 and "year" in wrong_types.json()["error"]["details"]
        control = await call(node, "POST", "/api/v1/library", ann, json={**metadata(title_en="a\u0007b"), "file": file_id})
        assert control.status_code == 422
        # Someone else's file, an unknown one.
        for other in (file_id, "f-" + "a" * 22):
            response = await call(node, "POST", "/api/v1/library", bob, json={**metadata(), "file": other})
            assert response.status_code == 422, response.text
        assert (await call(node, "POST", "/api/v1/library", ann, content=b"not json",
                           headers={"Content-Type": "application/json"})).status_code == 400
        # None of that stored anything; the file is still free to use.
        assert (await call(node, "GET", "/api/v1/library?state=proposed", ann)).json()["documents"] == []
        doc = await propose(node, ann, b"fine")
        review = await call(node, "POST", f"/api/v1/library/{doc['id']}/review", ann, json={"action": "explode"})
        assert review.status_code in (403, 422)
        share = await call(node, "POST", f"/api/v1/library/{doc['id']}/share", ann, json={"room": "hefei", "cid": "c1"})
        assert share.status_code == 409  # not published yet
        used = await call(node, "POST", "/api/v1/library", ann, json={**metadata(), "file": file_id})
        assert used.status_code == 201
