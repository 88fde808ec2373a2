"""The authorization matrix (issue 16, case 11): every HTTP route and every client frame that
takes an id, tried by every role against seeded private objects on two production nodes
(PostgreSQL + Redis). The rows are in tests/support/authz.py; the route and frame lists come
from the app's route table and chat/protocol/frames.ClientFrame, so a new one without a row
fails here. Denial of a private object must look exactly like not-found (status, code, body),
and no event of a private room, thread or pending question reaches anyone else on either node.
(This absorbs the direct-room checks tests/e2e/test_privacy.py made per route.)"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.routing import Route

import chat.webinars.board

from tests.support import authz
from tests.support.authz import FRAME_ROWS, HTTP_ROWS, PUBLIC, ROLES, Row, missing_like
from tests.support.client import WsClient, bearer, http_client, register, send_acked, sync
from tests.support.nodes import running_nodes

PRIVATE_TEXT = "private plan"
NAMES = {"outsider": "Olga", "member": "Ann", "removed": "Rita", "muted": "Mia", "banned": "Ben",
         "moderator": "Mo", "admin": "Ada", "host": "Hal", "panelist": "Pam", "attendee": "Ted",
         "project_member": "Pia"}


def routes_with_ids(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and re.search(r"\{\w+\}", route.path):
            found.update((m, route.path) for m in route.methods or () if m != "HEAD")
    return found


class World:
    """The seeded node set: accounts per role, and the objects rows name."""

    def __init__(self, nodes: list[Any]) -> None:
        self.nodes = nodes
        self.who: dict[str, dict[str, Any] | None] = {"anonymous": None}
        self.objects: dict[str, str] = {"public_room": "zhuhai"}

    def node_of(self, role: str) -> Any:
        return self.nodes[ROLES.index(role) % len(self.nodes) if role in ROLES else 0]

    def headers(self, role: str) -> dict[str, str]:
        account = self.who[role]
        return bearer(account["token"]) if account else {}

    async def call(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with http_client(self.node_of(role).url) as http:
            headers = {**self.headers(role), **kwargs.pop("headers", {})}
            return await http.request(method, path, headers=headers, **kwargs)

    async def ok(self, role: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.call(role, method, path, **kwargs)
        assert response.status_code in (200, 201, 204), (method, path, response.status_code, response.text)
        return response.json() if response.content else {}


async def seed(world: World) -> None:
    n1 = world.nodes[0]
    for role in ROLES:
        if role not in ("anonymous", "guest"):
            world.who[role] = await register(world.node_of(role).url, NAMES[role])
    uid = {role: a["user"]["id"] for role, a in world.who.items() if a}
    for role in ("moderator", "admin"):
        await n1.node.store.set_role(uid[role], role)
    o = world.objects
    o["user"] = str(uid["member"])
    # The private room: a direct conversation of the member, the muted, the banned and the
    # removed member; a message with a file, and a thread.
    # An admin of the room (no role of the matrix) removes one: only an admin removes others.
    keeper = await register(n1.url, "Kim")
    await n1.node.store.set_role(keeper["user"]["id"], "admin")
    world.who["keeper"] = keeper
    o["room"] = (await world.ok("member", "POST", "/api/v1/direct", json={
        "members": [uid["removed"], uid["muted"], uid["banned"], keeper["user"]["id"]]}))["room"]["id"]
    file_id = (await world.ok("member", "POST", "/api/v1/files", params={"name": "plan.txt"},
                              headers={"Content-Type": "text/plain"},
                              content=b"the private plan"))["id"]
    o["topic"] = (await world.ok("member", "POST", f"/api/v1/rooms/{o['room']}/topics",
                                 json={"title": "private topic"}))["topic"]["id"]
    ws = await WsClient.connect(n1.ws_url, world.who["member"]["token"])
    o["message"] = (await send_acked(ws, o["room"], PRIVATE_TEXT, "seed-1", attachments=[file_id]))["id"]
    await ws.close()
    o["file"] = file_id
    await world.ok("keeper", "DELETE", f"/api/v1/rooms/{o['room']}/members/{uid['removed']}")
    await world.ok("admin", "POST", f"/api/v1/moderation/members/{uid['muted']}/actions",
                   json={"action": "mute", "room": o["room"], "duration_s": 3600})
    await world.ok("admin", "POST", f"/api/v1/moderation/members/{uid['banned']}/actions", json={"action": "ban"})
    # The member's own: an upload under way, a proposed library document, a report, the
    # session and a long-poll session.
    o["upload"] = (await world.ok("member", "POST", "/api/v1/uploads", json={"name": "big.txt", "size": 10}))["id"]
    doc_file = (await world.ok("member", "POST", "/api/v1/files", params={"name": "guide.txt"},
                               headers={"Content-Type": "text/plain"},
                               content=b"a guide"))["id"]
    o["doc"] = (await world.ok("member", "POST", "/api/v1/library", json={
        "title_en": "Draft guide", "type": "guide", "language": "en", "year": 2021,
        "sectors": ["water-management"], "cities": ["zhuhai"], "file": doc_file}))["document"]["id"]
    o["own_file"] = (await world.ok("member", "POST", "/api/v1/files", params={"name": "v2.txt"},
                                    headers={"Content-Type": "text/plain"},
                                    content=b"v2"))["id"]
    o["report"] = str((await world.ok("member", "POST", "/api/v1/reports", json={
        "reason": "spam", "member": uid["outsider"]}))["report"]["id"])
    o["session"] = next(s["id"] for s in (await world.ok("member", "GET", "/api/v1/account/sessions"))["sessions"]
                        if s["current"])
    o["poll_session"] = (await world.ok("member", "POST", "/api/v1/poll"))["session"]
    # A live, pre-moderated webinar that takes guests, with a host, a panelist, an attendee's
    # pending question and a draft poll; a project with a member.
    start = datetime.now(UTC) + timedelta(hours=1)
    o["webinar"] = (await world.ok("admin", "POST", "/api/v1/webinars", json={
        "title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(), "premoderated": True, "guests_allowed": True,
        "hosts": [uid["host"]], "panelists": [uid["panelist"]]}))["webinar"]["id"]
    await world.ok("host", "POST", f"/api/v1/webinars/{o['webinar']}/start")
    await world.ok("attendee", "PUT", f"/api/v1/webinars/{o['webinar']}/registration")
    o["question"] = (await world.ok("attendee", "POST", f"/api/v1/webinars/{o['webinar']}/questions",
                                    json={"body": "a pending question"}))["question"]["id"]
    o["draft_poll"] = (await world.ok("host", "POST", f"/api/v1/webinars/{o['webinar']}/polls", json={
        "question": {"en": "Draft?"}, "options": [{"en": "a"}, {"en": "b"}]}))["poll"]["id"]
    async with http_client(world.node_of("guest").url) as http:
        joined = await http.post(f"/api/v1/webinars/{o['webinar']}/guests", json={"display_name": "Gus"})
    assert joined.status_code == 201, joined.text
    world.who["guest"] = joined.json()
    o["project"] = (await world.ok("admin", "POST", "/api/v1/projects", json={
        "name": {"en": "Sponge city"}, "city": "zhuhai", "members": [uid["project_member"]]}))["project"]["id"]


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def body_of(row: Row, objects: dict[str, str]) -> dict[str, Any] | None:
    if row.body is None:
        return None
    text = json.dumps(row.body).replace('"{user}"', objects["user"])
    return json.loads(text.replace("{doc}", objects["doc"]).replace("{own_file}", objects["own_file"]))


async def answer(world: World, role: str, method: str, path: str, row: Row, body: Any) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {}
    if row.content is not None:
        kwargs = {"content": row.content, "headers": {"Upload-Offset": "0",
                                                      "Content-Type": "application/offset+octet-stream"}}
    elif body is not None:
        kwargs = {"json": body}
    response = await world.call(role, method, path, **kwargs)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


async def check_route(world: World, method: str, path: str, row: Row) -> tuple[int, list[str]]:
    """Every role on one route: the answers, and what is wrong with them."""
    objects = world.objects
    params = {param: objects[name] for param, name in row.fill.items()}
    private = {param for param, name in row.fill.items() if name not in PUBLIC}
    missing = {p: (missing_like(v) if p in private else v) for p, v in params.items()}
    real_url, fake_url = fill(path, params), fill(path, missing)
    body = body_of(row, objects)
    problems, sent = [], 0
    for role in ROLES:
        sees = role in row.sees and role not in ("anonymous", "banned")
        if sees and (method != "GET" or row.long or not row.probe):
            continue  # a write by one who may: not sent (the matrix changes nothing it reads)
        real = await answer(world, role, method, real_url, row, body)
        sent += 1
        if real[0] >= 500:
            problems.append(f"{role} {method} {real_url}: {real}")
        if sees:
            if not 200 <= real[0] < 300:
                problems.append(f"{role} may see it, but {method} {path}: {real}")
            continue
        if role == "anonymous" and not row.anonymous_ok and real[0] != 401:
            problems.append(f"anonymous {method} {path}: {real}")
        if private:
            fake = await answer(world, role, method, fake_url, row, body)
            sent += 1
            if real != fake:
                problems.append(f"{role} {method} {path}: private {real} != missing {fake}")
    return sent, problems


def normalised(frame: dict[str, Any], ids: dict[str, str]) -> Any:
    text = json.dumps(frame, sort_keys=True, ensure_ascii=False)
    for real, fake in ids.items():
        text = text.replace(real, fake)
    return json.loads(text)


async def frame_reply(client: WsClient, frame: dict[str, Any]) -> dict[str, Any]:
    client.frames.clear()
    await client.send_frame(frame)
    key = "cid" if "cid" in frame else "rid" if "rid" in frame else None
    if key:  # answered after the attempt: the answer naming it
        return await client.recv_until(lambda f: f.get(key) == frame[key])
    if frame["type"] == "join":  # always answered, after its lookup (a ping may pass it)
        return await client.recv_until(lambda f: f["type"] in ("joined", "error") and f.get("room") != "zhuhai")
    await client.send_frame({"type": "ping"})
    replies = []
    while (reply := await client.recv())["type"] != "pong":
        if reply.get("room") != "zhuhai":  # traffic of a room they may see is no answer
            replies.append(reply)
    return replies[0] if replies else {"type": "nothing"}


async def test_every_role_on_every_route_and_frame_with_an_id(production, monkeypatch):
    limits = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000}
    # The attendee asks twice (the seed's pending question, then the live one below): on a quick
    # machine that is within the one-question-per-10-s rule, which has its own tests.
    monkeypatch.setattr(chat.webinars.board, "QUESTION_INTERVAL_S", 0)
    async with running_nodes(production(**limits), production(**limits)) as nodes:
        world = World(nodes)
        await seed(world)
        o = world.objects

        # Every route with an id has a row, every row a route; every client frame a row.
        routes = routes_with_ids(nodes[0].app)
        assert routes == set(HTTP_ROWS), (sorted(routes - set(HTTP_ROWS)), sorted(set(HTTP_ROWS) - routes))
        assert authz.client_frame_types() == set(FRAME_ROWS), authz.client_frame_types() ^ set(FRAME_ROWS)

        # Reads first, then writes (by those who must be refused): nothing a write does is read.
        # Exports one at a time (a member runs one export at a time: 429 export_busy).
        ordered = sorted(HTTP_ROWS.items(), key=lambda item: item[0][0] != "GET")
        exports = [item for item in ordered if item[0][1].endswith("/export")]
        results = []
        for (method, path), row in exports:
            results.append(await check_route(world, method, path, row))
        rest = [item for item in ordered if item not in exports]
        results += await asyncio.gather(*(check_route(world, m, p, row) for (m, p), row in rest[:30]))
        results += await asyncio.gather(*(check_route(world, m, p, row) for (m, p), row in rest[30:]))
        problems = [problem for _, found in results for problem in found]
        assert not problems, "\n".join(problems)
        requests = sum(sent for sent, _ in results)
        assert requests > 1000, requests

        # Frames: each role on the node ROLES puts it on; the denied answer as for a missing id.
        connected = {}
        for role in ROLES:
            if role not in ("anonymous", "banned"):
                connected[role] = await WsClient.connect(world.node_of(role).ws_url, world.who[role]["token"])
        ids = {o[k]: missing_like(o[k]) for k in ("room", "topic", "message")}
        for cls, row in FRAME_ROWS.items():
            for template in row.templates:
                real_frame = json.loads(fill(json.dumps(template), {"room": o["room"], "topic": o["topic"],
                                                                    "message": o["message"]}))
                fake_frame = normalised(real_frame, ids)
                for role, client in connected.items():
                    if role in row.sees:
                        continue
                    real = await frame_reply(client, real_frame)
                    fake = await frame_reply(client, fake_frame)
                    assert normalised(real, ids) == fake, (cls.__name__, role, real, fake)
        # The room's members do get in (on both nodes).
        for role in ("member", "muted"):
            assert (await frame_reply(connected[role], {"type": "join", "room": o["room"]}))["type"] == "joined"

        # Live traffic: the private room, its thread and a pending question reach those who may
        # see them, on both nodes, and no one else on either.
        others = [role for role in connected if role not in ("member", "muted")]
        for role in others:
            await connected[role].join("zhuhai")
            await connected[role].send_frame({"type": "join", "room": o["webinar"]})
        for client in connected.values():
            await sync(client)
            client.frames.clear()
        member, muted = connected["member"], connected["muted"]
        await muted.join(o["topic"])
        await send_acked(member, o["room"], "after the checks", "live-1")
        await send_acked(member, o["topic"], "in the thread", "live-2")
        await world.ok("attendee", "POST", f"/api/v1/webinars/{o['webinar']}/questions",
                       json={"body": "another pending question"})
        await muted.wait_for(lambda f: f["type"] == "message" and f.get("body") == "in the thread")
        await connected["host"].wait_for(lambda f: "another pending question" in json.dumps(f))
        for role in others:
            await sync(connected[role])
        secrets = (o["room"], o["topic"], o["message"], "after the checks", "in the thread", PRIVATE_TEXT)
        for role in others:
            seen = connected[role].frames
            if role not in authz.Q_SEES:
                assert not [f for f in seen if "pending question" in json.dumps(f)], (role, seen)
            assert not [f for f in seen if any(s in json.dumps(f) for s in secrets)], (role, seen)
        for client in connected.values():
            await client.close()
