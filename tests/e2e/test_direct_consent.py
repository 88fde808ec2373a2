"""Consent in direct conversations over real nodes: the attack of item 11 (throwaway accounts
putting a member into conversations and re-adding them right after they left), declining,
leaving for good, coming back by one's own hand, and blocks — on both backends and across
two production nodes."""

from __future__ import annotations

import asyncio
import itertools

from tests.support.client import WsClient, call, is_type, register, send_acked, sync
from tests.support.nodes import running_nodes

NOT_ADDABLE = {"error": {"code": "not_addable", "retry": False,
                         "message": "this member cannot be added to this conversation"}}


def uid(account):
    return account["user"]["id"]


async def open_direct(node, owner, *others, expect=(200, 201)):
    response = await call(node, "POST", "/api/v1/direct", owner, json={"members": [uid(o) for o in others]})
    assert response.status_code in expect, response.text
    return response


async def member_ids(node, account, room):
    response = await call(node, "GET", f"/api/v1/rooms/{room}/members", account)
    assert response.status_code == 200, response.text
    return [m["id"] for m in response.json()["members"]]


async def room_ids(node, account):
    return [r["id"] for r in (await call(node, "GET", "/api/v1/rooms", account)).json()["rooms"]]


async def test_throwaway_accounts_cannot_re_add_a_member_who_left(backend):
    """The attack: six accounts put the victim into every conversation they can form (63),
    the victim declines or leaves each, and all six try to add them back at once. The member
    budget is lifted: this is about consent, not about rate (test_member_limits.py)."""
    async with running_nodes(backend(member_rate_per_s=10_000, member_rate_burst=10_000)) as [node]:
        victim = await register(node.url, "Victim")
        attackers = [await register(node.url, f"Spam{i}") for i in range(6)]
        groups = [combo for size in range(1, 7) for combo in itertools.combinations(attackers, size)]
        assert len(groups) == 63
        opened = await asyncio.gather(*(open_direct(node, group[0], *group[1:], victim) for group in groups))
        rooms = [response.json()["room"]["id"] for response in opened]
        assert len(set(rooms)) == 63
        listed = await room_ids(node, victim)
        assert set(rooms) <= set(listed)
        # The victim declines the first and leaves the rest, one click each.
        first = await call(node, "POST", f"/api/v1/rooms/{rooms[0]}/decline", victim, json={})
        assert first.status_code == 204, first.text
        for room in rooms[1:]:
            gone = await call(node, "DELETE", f"/api/v1/rooms/{room}/members/{uid(victim)}", victim)
            assert gone.status_code == 204
        # Every attacker who is a member of each room tries to bring them back, all at once.
        attempts = [call(node, "POST", f"/api/v1/rooms/{room}/members", attacker, json={"user_id": uid(victim)})
                    for room, group in zip(rooms, groups, strict=True) for attacker in group]
        answers = await asyncio.gather(*attempts)
        assert len(answers) == 6 * 32  # each attacker is in 32 of the 63 groups
        assert all((a.status_code, a.json()) == (403, NOT_ADDABLE) for a in answers)
        # Opening "the conversation with the victim" again finds the old one, without them.
        for attacker in attackers:
            again = await open_direct(node, attacker, victim)
            assert again.status_code == 200
            assert uid(victim) not in [m["id"] for m in again.json()["room"]["members"]]
        assert not set(rooms) & set(await room_ids(node, victim))
        for room in rooms:
            hidden = await call(node, "GET", f"/api/v1/rooms/{room}/messages", victim)
            assert hidden.status_code == 404


async def test_decline_block_and_coming_back_by_ones_own_hand_across_nodes(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        expert, city, other = (await register(n1.url, "Expert"), await register(n2.url, "珠海市"),
                               await register(n1.url, "Other"))
        room = (await open_direct(n1, expert, city, expect=(201,))).json()["room"]["id"]
        e = await WsClient.connect(n1.ws_url, expert["token"])
        await e.join(room)
        # The city sees who brought them in, and declines (blocking the expert too).
        members = (await call(n2, "GET", f"/api/v1/rooms/{room}/members", city)).json()
        assert members["added_by"] == {"id": uid(expert), "name": "Expert"}
        mine = (await call(n1, "GET", f"/api/v1/rooms/{room}/members", expert)).json()
        assert mine["added_by"] is None  # the expert opened it
        bad = await call(n2, "POST", f"/api/v1/rooms/{room}/decline", city, json={"block": "yes"})
        assert bad.status_code == 422
        assert uid(city) in await member_ids(n1, expert, room)  # a refused request changed nothing
        declined = await call(n2, "POST", f"/api/v1/rooms/{room}/decline", city, json={"block": True})
        assert declined.status_code == 204
        frame = await e.wait_for(is_type("membership"))
        assert {key: frame[key] for key in ("type", "room", "change", "user", "by")} == {"type": "membership", "room": room, "change": "declined",
                         "user": {"id": uid(city), "name": "珠海市"}, "by": {"id": uid(city), "name": "珠海市"}}
        blocked = await call(n2, "GET", "/api/v1/me/blocks", city)
        assert blocked.json() == {"blocked": [{"id": uid(expert), "name": "Expert"}]}
        # The expert is told nothing of the block: the same refusal as for anyone not addable.
        again = await call(n1, "POST", f"/api/v1/rooms/{room}/members", expert, json={"user_id": uid(city)})
        assert (again.status_code, again.json()) == (403, NOT_ADDABLE)
        group = await call(n1, "POST", "/api/v1/direct", expert, json={"members": [uid(city), uid(other)]})
        assert (group.status_code, group.json()) == (403, NOT_ADDABLE)
        # Someone else cannot put the city together with the expert either.
        third = (await open_direct(n1, other, expert, expect=(201,))).json()["room"]["id"]
        put = await call(n1, "POST", f"/api/v1/rooms/{third}/members", other, json={"user_id": uid(city)})
        assert (put.status_code, put.json()) == (403, NOT_ADDABLE)
        # The city unblocks and comes back by its own hand: the same room, and the expert is
        # told, as is the city's other connection (on the other node).
        c = await WsClient.connect(n1.ws_url, city["token"])
        await sync(c)
        assert (await call(n2, "DELETE", f"/api/v1/me/blocks/{uid(expert)}", city)).status_code == 204
        back = await call(n2, "POST", "/api/v1/direct", city, json={"members": [uid(expert)]})
        assert back.status_code == 200 and back.json()["room"]["id"] == room
        frame = await e.wait_for(is_type("membership", change="rejoined"))
        assert frame["user"] == {"id": uid(city), "name": "珠海市"}
        told = await c.wait_for(is_type("membership", change="rejoined"))
        assert told == {key: frame[key] for key in ("type", "room", "change", "user", "by")}
        await c.close()
        assert sorted(await member_ids(n1, expert, room)) == sorted([uid(expert), uid(city)])
        assert (await call(n2, "GET", f"/api/v1/rooms/{room}/members", city)).json()["added_by"] is None
        await e.close()


async def test_a_blocked_member_cannot_open_a_conversation_nor_notify(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        ann, bob, cat = (await register(n1.url, "Ann"), await register(n2.url, "Bob"),
                         await register(n1.url, "Cat"))
        shared = (await open_direct(n1, ann, bob, cat, expect=(201,))).json()["room"]["id"]
        # Blocking: bad ids, oneself and unknown members are refused; twice is no error.
        assert (await call(n2, "PUT", "/api/v1/me/blocks/abc", bob)).status_code == 400
        assert (await call(n2, "PUT", f"/api/v1/me/blocks/{uid(bob)}", bob)).status_code == 404
        assert (await call(n2, "PUT", "/api/v1/me/blocks/999999", bob)).status_code == 404
        assert (await call(n2, "PUT", "/api/v1/me/blocks/1", None)).status_code == 401
        for _ in range(2):
            assert (await call(n2, "PUT", f"/api/v1/me/blocks/{uid(ann)}", bob)).status_code == 204
        # Ann, blocked, tries to open a conversation with Bob: refused as if Bob were not
        # addable, and nothing is created.
        before = await room_ids(n1, ann)
        tried = await call(n1, "POST", "/api/v1/direct", ann, json={"members": [uid(bob)]})
        assert (tried.status_code, tried.json()) == (403, NOT_ADDABLE)
        assert await room_ids(n1, ann) == before
        # The conversation they already share stays (decided: leaving it is Bob's choice).
        assert sorted(await member_ids(n2, bob, shared)) == sorted([uid(ann), uid(bob), uid(cat)])
        # Ann's mentions and direct messages no longer notify Bob; Cat still hears of them.
        b = await WsClient.connect(n2.ws_url, bob["token"])
        c = await WsClient.connect(n1.ws_url, cat["token"])
        for client in (b, c):
            await sync(client)
        a = await WsClient.connect(n1.ws_url, ann["token"])
        ack = await send_acked(a, "water-management", "@Bob @Cat figures?", "m1",
                               mentions=[uid(bob), uid(cat)])
        direct = await send_acked(a, shared, "in our conversation", "m2")
        for message_id in (ack["id"], direct["id"]):
            await c.wait_for(lambda f, m=message_id: f["type"] == "notification"
                             and f["notification"]["message_id"] == m)
        listed = (await call(n2, "GET", "/api/v1/notifications", bob)).json()["notifications"]
        assert listed == []
        await sync(b)
        assert not [f for f in b.frames if f["type"] == "notification"]
        # Unblocked, Ann's mentions reach Bob again.
        assert (await call(n2, "DELETE", f"/api/v1/me/blocks/{uid(ann)}", bob)).status_code == 204
        assert (await call(n2, "GET", "/api/v1/me/blocks", bob)).json() == {"blocked": []}
        later = await send_acked(a, "water-management", "@Bob now?", "m3", mentions=[uid(bob)])
        await b.wait_for(lambda f: f["type"] == "notification" and f["notification"]["message_id"] == later["id"])
        for client in (a, b, c):
            await client.close()


async def test_nobody_pulls_a_member_who_left_into_a_new_conversation_of_the_same_people(backend):
    """The attack the first fix left open: A opens a conversation with V, V leaves for good,
    A adds anyone (the old room stops being "the conversation of A and V") and opens one with
    V again — a new room, V back in, as often as A likes. Also the same through an add: A
    rebuilds a group V left (a new room of the others, then an add of V)."""
    async with running_nodes(backend()) as [node]:
        ann, victim, yan, zoe = [await register(node.url, name) for name in ("Ann", "Victim", "Yan", "Zoe")]
        first = (await open_direct(node, ann, victim, expect=(201,))).json()["room"]["id"]
        assert (await call(node, "DELETE", f"/api/v1/rooms/{first}/members/{uid(victim)}", victim)).status_code == 204
        added = await call(node, "POST", f"/api/v1/rooms/{first}/members", ann, json={"user_id": uid(yan)})
        assert added.status_code == 204, added.text
        before = await room_ids(node, victim)
        for _ in range(2):
            again = await call(node, "POST", "/api/v1/direct", ann, json={"members": [uid(victim)]})
            assert (again.status_code, again.json()) == (403, NOT_ADDABLE)
        assert await room_ids(node, victim) == before
        # Through an add: V leaves a group of Ann and Zoe; Ann starts a new one with Zoe and adds V.
        group = (await open_direct(node, ann, zoe, expect=(201,))).json()["room"]["id"]
        put = await call(node, "POST", f"/api/v1/rooms/{group}/members", ann, json={"user_id": uid(victim)})
        assert put.status_code == 204
        assert (await call(node, "DELETE", f"/api/v1/rooms/{group}/members/{uid(victim)}", victim)).status_code == 204
        fresh = (await open_direct(node, ann, zoe, expect=(201,))).json()["room"]["id"]
        for adder in (ann, zoe):
            back = await call(node, "POST", f"/api/v1/rooms/{fresh}/members", adder, json={"user_id": uid(victim)})
            assert (back.status_code, back.json()) == (403, NOT_ADDABLE)
        assert await room_ids(node, victim) == before
        # The victim may start a conversation with Ann themselves.
        own = await open_direct(node, victim, ann, expect=(201,))
        assert sorted(m["id"] for m in own.json()["room"]["members"]) == sorted([uid(ann), uid(victim)])


async def test_coming_back_never_shows_what_was_said_after_one_left(backend):
    """V leaves a conversation for good; Ann writes there; V opens "the conversation with Ann"
    again: a new, empty room, never the old one with what Ann wrote after V left."""
    async with running_nodes(backend()) as [node]:
        ann, victim = await register(node.url, "Ann"), await register(node.url, "Victim")
        old = (await open_direct(node, ann, victim, expect=(201,))).json()["room"]["id"]
        a = await WsClient.connect(node.ws_url, ann["token"])
        await send_acked(a, old, "before you left", "c1")
        assert (await call(node, "DELETE", f"/api/v1/rooms/{old}/members/{uid(victim)}", victim)).status_code == 204
        await send_acked(a, old, "said after you left", "c2")
        back = await open_direct(node, victim, ann, expect=(201,))
        new = back.json()["room"]["id"]
        assert new != old
        assert sorted(m["id"] for m in back.json()["room"]["members"]) == sorted([uid(ann), uid(victim)])
        assert (await call(node, "GET", f"/api/v1/rooms/{old}/messages", victim)).status_code == 404
        assert (await call(node, "GET", f"/api/v1/rooms/{new}/messages", victim)).json()["messages"] == []
        assert old not in await room_ids(node, victim)
        # Ann keeps the old room and its history; "the conversation with V" is the new one now.
        assert await member_ids(node, ann, old) == [uid(ann)]
        assert len((await call(node, "GET", f"/api/v1/rooms/{old}/messages", ann)).json()["messages"]) == 2
        assert (await open_direct(node, ann, victim, expect=(200,))).json()["room"]["id"] == new
        await a.close()
