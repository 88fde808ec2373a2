"""Revocation is live (issue 16, case 12; docs/reliability.md section 12): every way a member
loses something — logout, a password change, a ban, removal from a room, a role change (a
moderator demoted, an admin made member) and deleting the account — closes or narrows the
affected WebSockets on every node at once, one table of kinds run three ways:

- two production nodes with the sweep slowed to once a minute, so only the broker (or the
  acting node itself) can do it in time;
- the same with Redis killed first, so only the sweep can: it runs every
  ECOLINK_DEGRADED_POLL_S (0.25 s) while the broker is down;
- one embedded node (SQLite, in-process broker).

Each kind acts on node A against sockets on both nodes and measures the time from the start of
the act to the last affected socket's close, `left` or refusal; the bound asserted is the
issue's 1 s with a generous margin (the figures are in docs/reliability.md). A bystander's socket
and, where the kind has one, the member's own kept session stay served throughout.

This replaces test_logout_sockets.py (its three settings are the three tests here); the ban and
deletion tests in test_moderation.py and test_account_deletion.py keep what else those acts do
(logins refused, data gone)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


from chat.accounts.service import token_hash
from chat.config import Settings
from chat.protocol import closecodes
from tests.support.client import WsClient, call, close_code, is_type, login, register, send_acked, sync
from tests.support.history import eventually
from tests.support.nodes import NodeServer, running_nodes
from tests.support.services import ThrowawayRedis

ROOM = "green-transport"
RIGHT = "correct horse"
BOUND_S = 1.0  # the bound; asserted with a margin, measured figures in the docs
DEGRADED_POLL_S = 0.25


Run = Callable[[], Awaitable[None]]


@dataclass
class World:
    a: NodeServer
    b: NodeServer
    boss: dict[str, Any]
    mod: dict[str, Any]
    bystander: WsClient
    figures: dict[str, float] = field(default_factory=dict)


async def connected(node: NodeServer, token: str, *rooms: str) -> WsClient:
    ws = await WsClient.connect(node.ws_url, token)
    for room in rooms:
        assert (await ws.join(room))["type"] == "joined"
    return ws


async def signed_in(node: NodeServer, account: dict[str, Any]) -> dict[str, Any]:
    """The account with a second session's token."""
    response = await login(node, account["user"]["email"], RIGHT)
    assert response.status_code == 200, response.text
    return {**account, "token": response.json()["token"]}


async def timed(world: World, kind: str, act: Callable[[], Awaitable[Any]],
                effects: list[Awaitable[Any]]) -> None:
    """Start watching every effect, act, and record how long until the last one was seen."""
    watching = [asyncio.ensure_future(effect) for effect in effects]
    await asyncio.sleep(0)
    started = time.perf_counter()
    await act()
    await asyncio.gather(*watching)
    world.figures[kind] = elapsed = time.perf_counter() - started
    assert elapsed < BOUND_S * 3, f"{kind}: {elapsed:.3f} s"


async def ended(world: World, kind: str, act: Callable[[dict[str, Any]], Awaitable[Any]],
                doomed: dict[str, Any], kept: dict[str, Any] | None = None) -> Run:
    """The kinds that end sessions: every socket of `doomed` (two on node B, one on A) closes
    with SESSION_ENDED, both nodes forget the session, a `kept` session stays served."""
    sockets = [await connected(world.b, doomed["token"], ROOM), await connected(world.b, doomed["token"]),
               await connected(world.a, doomed["token"], ROOM)]
    kept_ws = await connected(world.b, kept["token"], ROOM) if kept else None

    async def closes(ws: WsClient) -> None:
        assert await close_code(ws) == closecodes.SESSION_ENDED

    async def run() -> None:
        await timed(world, kind, lambda: act(doomed), [closes(ws) for ws in sockets])
        for node in (world.a, world.b):
            await eventually(lambda node=node: token_hash(doomed["token"]) not in node.node.hub.sessions,
                             f"{kind}: node {node.port} forgot the session")
        if kept_ws is not None:
            body = f"{kind}: still here"
            await send_acked(kept_ws, ROOM, body, f"{kind}-kept")
            await world.bystander.wait_for(lambda f: f.get("body") == body)
            await kept_ws.close()

    return run


# -- the kinds ------------------------------------------------------------------------------


async def logout(world: World) -> Run:
    member = await register(world.a.url, "Leaver")
    other = await signed_in(world.a, member)

    async def act(doomed: dict[str, Any]) -> None:
        assert (await call(world.a, "DELETE", "/api/v1/sessions", doomed)).status_code == 204

    return await ended(world, "logout", act, member, kept=other)


async def password_change(world: World) -> Run:
    member = await register(world.a.url, "Changer")
    stale = await signed_in(world.a, member)

    async def act(_: dict[str, Any]) -> None:
        response = await call(world.a, "PUT", "/api/v1/account/password", member,
                              json={"current_password": RIGHT, "new_password": "a whole new horse"})
        assert response.status_code == 204, response.text

    return await ended(world, "password change", act, stale, kept=member)  # this session stays


async def ban(world: World) -> Run:
    member = await register(world.a.url, "Spammer")

    async def act(doomed: dict[str, Any]) -> None:
        response = await call(world.a, "POST", f"/api/v1/moderation/members/{doomed['user']['id']}/actions",
                              world.mod, json={"action": "ban", "reason": "spam wave"})
        assert response.status_code == 200, response.text

    return await ended(world, "ban", act, member)


async def account_deletion(world: World) -> Run:
    member = await register(world.a.url, "Quitter")

    async def act(doomed: dict[str, Any]) -> None:
        response = await call(world.a, "POST", "/api/v1/account/delete", doomed,
                              json={"password": RIGHT, "messages": "keep"})
        assert response.status_code == 200, response.text

    return await ended(world, "account deletion", act, member)


async def removal(world: World) -> Run:
    """An admin removes a member from a private conversation: their sockets on both nodes get
    `left` (reason "removed") and nothing sent after it; the member who stays keeps it."""
    gone, stays = await register(world.a.url, "Removed"), await register(world.a.url, "Stays")
    created = await call(world.a, "POST", "/api/v1/direct", world.boss,
                         json={"members": [gone["user"]["id"], stays["user"]["id"]]})
    assert created.status_code in (200, 201), created.text
    room = created.json()["room"]["id"]
    sockets = [await connected(world.b, gone["token"], room), await connected(world.a, gone["token"], room)]
    staying = await connected(world.b, stays["token"], room)

    async def act() -> None:
        response = await call(world.a, "DELETE", f"/api/v1/rooms/{room}/members/{gone['user']['id']}",
                              world.boss)
        assert response.status_code == 204, response.text

    async def left(ws: WsClient) -> None:
        frame = await ws.wait_for(lambda f: f["type"] == "left" and f["room"] == room)
        assert frame["reason"] == "removed"

    boss_ws = await connected(world.a, world.boss["token"], room)

    async def run() -> None:
        await timed(world, "removal from a room", act, [left(ws) for ws in sockets])
        await send_acked(boss_ws, room, "after the removal", "after-removal")
        await staying.wait_for(lambda f: f.get("body") == "after the removal")
        for ws in sockets:
            await sync(ws)
            assert not [f for f in ws.frames if f.get("body") == "after the removal"]
            refused = await ws.join(room)
            assert refused["type"] == "error" and refused["code"] == "not_found"
        for ws in (*sockets, staying, boss_ws):
            await ws.close()

    return run


async def chat_off_webinar(world: World) -> str:
    """A webinar (scheduled by the admin) with its audience chat off: only hosts, moderators
    and admins may post, edit or react there."""
    start = datetime.now(UTC) + timedelta(hours=1)
    scheduled = await call(world.a, "POST", "/api/v1/webinars", world.boss, json={
        "title": {"en": "Revocation"}, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert scheduled.status_code == 201, scheduled.text
    wid: str = scheduled.json()["webinar"]["id"]
    off = await call(world.a, "PUT", f"/api/v1/webinars/{wid}/chat", world.boss, json={"mode": "off"})
    assert off.status_code == 200, off.text
    return wid


async def demoted(world: World, kind: str, staff: dict[str, Any]) -> Run:
    """Staff lose their role while their socket on node B is open: at once a staff act over it
    (deleting another member's message) is refused, what they send is no longer marked with
    the staff role, and in a webinar whose chat is off they no longer react or edit (the
    webinar's gate sees the role as it is now, not as the socket logged in)."""
    author = await register(world.a.url, "Author")
    author_ws = await connected(world.a, author["token"], ROOM)
    targets = [(await send_acked(author_ws, ROOM, f"{kind}: target {n}", f"{kind}-t{n}"))["id"]
               for n in range(2)]
    wid = await chat_off_webinar(world)
    ws = await connected(world.b, staff["token"], ROOM, wid)
    await ws.send_frame({"type": "delete", "room": ROOM, "id": targets[0], "cid": f"{kind}-d0"})
    await ws.wait_for(is_type("ack", cid=f"{kind}-d0"))  # staff may, before
    own = await send_acked(ws, wid, f"{kind}: staff may, chat off", f"{kind}-w0")
    await ws.send_frame({"type": "react", "room": wid, "id": own["id"], "emoji": "🌱", "cid": f"{kind}-r0"})
    await ws.wait_for(is_type("ack", cid=f"{kind}-r0"))

    async def act() -> None:
        response = await call(world.a, "PUT", f"/api/v1/members/{staff['user']['id']}/role", world.boss,
                              json={"role": "member"})
        assert response.status_code == 200, response.text

    async def answer(frame: dict[str, Any]) -> dict[str, Any]:
        await ws.send_frame(frame)
        return await ws.wait_for(lambda f: f.get("cid") == frame["cid"] and f["type"] in ("ack", "error"))

    async def refused() -> None:
        error = await answer({"type": "delete", "room": ROOM, "id": targets[1], "cid": f"{kind}-d1"})
        assert error["type"] == "error" and error["code"] == "forbidden", error

    async def run() -> None:
        started = time.perf_counter()
        await act()
        await refused()
        world.figures[kind] = elapsed = time.perf_counter() - started
        assert elapsed < BOUND_S * 3, f"{kind}: {elapsed:.3f} s"
        for frame in ({"type": "react", "room": wid, "id": own["id"], "emoji": "🔥", "cid": f"{kind}-r1"},
                      {"type": "edit", "room": wid, "id": own["id"], "body": "edited", "cid": f"{kind}-e1"}):
            error = await answer(frame)
            assert error["type"] == "error" and error["code"] == "chat_closed", (frame["type"], error)
        body = f"{kind}: no badge now"
        await send_acked(ws, ROOM, body, f"{kind}-after")
        seen = await world.bystander.wait_for(lambda f: f.get("body") == body)
        assert "role" not in seen["author"], seen["author"]
        for client in (ws, author_ws):
            await client.close()

    return run


async def moderator_demoted(world: World) -> Run:
    return await demoted(world, "moderator demoted", world.mod)


async def admin_made_member(world: World) -> Run:
    second = await register(world.a.url, "Deputy")
    await world.a.node.profiles.set_role_by_email(second["user"]["email"], "admin")
    return await demoted(world, "admin made member", second)


KINDS = [logout, password_change, ban, removal, moderator_demoted, admin_made_member, account_deletion]


async def run_kinds(nodes: list[NodeServer], before: Callable[[], Awaitable[None]] | None = None) -> dict[str, float]:
    a, b = nodes[0], nodes[-1]
    boss, mod = await register(a.url, "Boss"), await register(a.url, "Mod")
    await a.node.profiles.set_role_by_email(boss["user"]["email"], "admin")
    # The moderator whose bans act in the table; demoted last, by the role-change row.
    await a.node.profiles.set_role_by_email(mod["user"]["email"], "moderator")
    bystander = await connected(b, (await register(a.url, "Bystander"))["token"], ROOM)
    world = World(a, b, boss, mod, bystander)
    # Every member registered and connected first (sign-up is no part of the table, and
    # needs Redis); the moderator whose bans act in the table is demoted last.
    runs = [await kind(world) for kind in sorted(KINDS, key=lambda kind: kind is moderator_demoted)]
    if before is not None:
        await before()
    for run in runs:
        await run()
    await sync(bystander)
    await bystander.close()
    return world.figures


async def test_revocation_is_live_on_both_production_nodes(production: Callable[..., Settings]) -> None:
    settings = production(sweep_interval_s=60)  # only the broker can do it in time
    async with running_nodes(settings, settings) as nodes:
        figures = await run_kinds(nodes)
    print("revocation, Redis up:", {k: round(v, 3) for k, v in figures.items()})  # with -s -n0


async def test_revocation_is_live_with_redis_down_through_the_sweep(
    production_private_redis: Callable[..., Settings], private_redis: ThrowawayRedis,
) -> None:
    settings = production_private_redis(sweep_interval_s=60, degraded_poll_s=DEGRADED_POLL_S)
    async with running_nodes(settings, settings) as nodes:

        async def kill_redis() -> None:
            private_redis.kill()
            for node in nodes:
                await eventually(lambda node=node: not node.node.broker.healthy,
                                 "the node noticed Redis is gone")

        figures = await run_kinds(nodes, kill_redis)
    print("revocation, Redis down:", {k: round(v, 3) for k, v in figures.items()})


async def test_revocation_is_live_in_embedded_mode(make_settings: Callable[..., Settings]) -> None:
    async with running_nodes(make_settings(sweep_interval_s=60)) as nodes:
        figures = await run_kinds(nodes)
    print("revocation, embedded:", {k: round(v, 3) for k, v in figures.items()})
