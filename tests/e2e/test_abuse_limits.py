"""Abuse limits over real sockets (chat/rooms/abuse.py, chat/accounts/challenge.py): the
registration challenge (required, signed, solved, used once on any node), new accounts'
limits (links, their send budget, direct conversations per day: 403/429 over the WebSocket
and HTTP), and the spam check across two production nodes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from chat.accounts.challenge import solve, work, zero_bits
from tests.support.client import (
    WsClient, call, http_client, is_type, proof, register, send_acked,
)
from tests.support.nodes import running_nodes
from tests.support.poll import PollTransport, open_session

_ids = itertools.count(1)
ROOMS = ["urban-renewal", "green-buildings", "green-transport", "clean-energy"]
SPAM = "Cheap solar panels for your city, ask me for a price list today"


def account(**extra: object) -> dict[str, object]:
    return {"email": f"abuse{next(_ids)}@example.test", "password": "correct horse",
            "display_name": "Newcomer", **extra}


async def users(node) -> int:
    return len(await node.node.store.users_by_id(list(range(1, 200))))


async def test_registration_needs_a_solved_challenge_used_once_on_any_node(production):
    async with running_nodes(production(registration_pow_bits=8), production(registration_pow_bits=8)) as [a, b], \
            http_client(a.url) as http_a, http_client(b.url) as http_b:
        issued = (await http_a.get("/api/v1/registration/challenge"))
        assert issued.headers["cache-control"] == "no-store"
        challenge = issued.json()
        assert challenge["bits"] == 8 and challenge["expires_at"]
        before = await users(a)
        refusals = [
            (None, "proof_required"),
            ({"challenge": challenge["challenge"], "nonce": "x1"}, "proof_invalid"),
            ({"challenge": challenge["challenge"][:-1] + "0", "nonce": "1"}, "proof_invalid"),
            ({"challenge": "8.99999999999999.abc.def", "nonce": "1"}, "proof_invalid"),
        ]
        # A nonce that does not solve it (the first that fails).
        wrong = next(str(n) for n in itertools.count()
                     if zero_bits(work(challenge["challenge"], str(n))) < 8)
        refusals.append(({"challenge": challenge["challenge"], "nonce": wrong}, "proof_invalid"))
        for given, code in refusals:
            response = await http_a.post("/api/v1/accounts", json={**account(), "proof": given})
            assert response.status_code == 400, (given, response.text)
            assert response.json()["error"]["code"] == code, given
        solved = {"challenge": challenge["challenge"], "nonce": solve(challenge["challenge"], 8)}
        # A field refused first does not spend the proof.
        bad = await http_a.post("/api/v1/accounts", json={**account(display_name=""), "proof": solved})
        assert bad.status_code == 422
        assert (await http_a.post("/api/v1/accounts", json={**account(), "proof": solved})).status_code == 201
        # Used: refused on the other node too.
        again = await http_b.post("/api/v1/accounts", json={**account(), "proof": solved})
        assert again.status_code == 400 and again.json()["error"]["code"] == "proof_required"
        assert await users(a) == before + 1
        # A challenge from node b is good on node a (one shared key).
        assert (await http_a.post("/api/v1/accounts", json={
            **account(), "proof": await proof(http_b)})).status_code == 201


async def test_malformed_proofs_get_a_typed_error_and_create_nothing(backend):
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        good = await proof(http)
        assert good is not None
        before = await users(node)
        for given in ("a string", 7, [good], {"challenge": good["challenge"]}, {"nonce": "1"},
                      {"challenge": good["challenge"], "nonce": 1},
                      {"challenge": "x" * 201, "nonce": "1"}, {"challenge": good["challenge"], "nonce": "1" * 21}):
            response = await http.post("/api/v1/accounts", json={**account(), "proof": given})
            assert response.status_code == 422, (given, response.text)
            assert response.json()["error"]["code"] == "invalid"
            assert "proof" in {key.split(".")[0] for key in response.json()["error"]["details"]}, given
        assert await users(node) == before
        # The good proof was not spent by any of them.
        assert (await http.post("/api/v1/accounts", json={**account(), "proof": good})).status_code == 201


async def test_zero_bits_asks_for_no_challenge(backend):
    async with running_nodes(backend(registration_pow_bits=0)) as [node], http_client(node.url) as http:
        assert (await http.get("/api/v1/registration/challenge")).json() == {
            "challenge": None, "bits": 0, "expires_at": None}
        assert (await http.post("/api/v1/accounts", json=account())).status_code == 201


NEW = {"new_account_hours": 24, "new_account_burst": 3, "new_account_rate_per_s": 0.001,
       "new_account_directs_per_day": 1}


async def test_new_accounts_post_no_foreign_links_send_slower_and_open_few_directs(production):
    settings = [production(public_url="https://chat.example.org", **NEW) for _ in range(2)]
    async with running_nodes(*settings) as [a, b]:
        newcomer, other, third = [await register(a.url, n) for n in ("Newcomer", "Other", "Third")]
        staff = await register(a.url, "Mei")
        await a.node.store.set_role(staff["user"]["id"], "moderator")
        ws = await WsClient.connect(a.ws_url, newcomer["token"])
        try:
            for body in ("see https://spam.example.com/offer", "[deal](http://evil.test)",
                         "www.cheap-things.test now", "mixed https://chat.example.org ok and http://x.test"):
                await ws.send_frame({"type": "send", "room": ROOMS[0], "body": body, "cid": f"l{next(_ids)}"})
                error = await ws.wait_for(is_type("error"))
                assert error["code"] == "links_not_allowed_yet", body
                ws.frames.clear()
            # The node's own links are fine; then the budget (burst 3) runs out: 429.
            await send_acked(ws, ROOMS[0], "read https://chat.example.org/#/room/clean-energy", "own")
            await send_acked(ws, ROOMS[0], "second", "s2")
            await send_acked(ws, ROOMS[0], "third", "s3")
            await ws.send_frame({"type": "send", "room": ROOMS[0], "body": "fourth", "cid": "s4"})
            error = await ws.wait_for(is_type("error", cid="s4"))
            assert error["code"] == "rate_limited" and error["retry_after"] >= 1
        finally:
            await ws.close()
        # Topics over HTTP: links refused the same way, nothing made.
        topic = await call(a, "POST", f"/api/v1/rooms/{ROOMS[1]}/topics", newcomer, json={
            "title": "Offer", "body": "go to https://spam.example.com"})
        assert topic.status_code == 403 and topic.json()["error"]["code"] == "links_not_allowed_yet"
        listed = await call(a, "GET", f"/api/v1/rooms/{ROOMS[1]}/topics", newcomer)
        assert listed.json()["topics"] == []
        # Direct conversations: one a day, counted for every node.
        first = await call(a, "POST", "/api/v1/direct", newcomer, json={"members": [other["user"]["id"]]})
        assert first.status_code == 201, first.text
        again = await call(b, "POST", "/api/v1/direct", newcomer, json={"members": [other["user"]["id"]]})
        assert again.status_code == 200, again.text  # the same conversation: nothing new opened
        capped = await call(b, "POST", "/api/v1/direct", newcomer, json={"members": [third["user"]["id"]]})
        assert capped.status_code == 429 and capped.json()["error"]["code"] == "rate_limited"
        assert int(capped.headers["retry-after"]) > 0
        # Staff are exempt.
        staff_ws = await WsClient.connect(b.ws_url, staff["token"])
        try:
            await send_acked(staff_ws, ROOMS[0], "official https://partner.example.com", "staff1")
        finally:
            await staff_ws.close()
        for member in (other, third):
            opened = await call(b, "POST", "/api/v1/direct", staff, json={"members": [member["user"]["id"]]})
            assert opened.status_code == 201
        # A day later the newcomer is a member like any other: links, and more conversations.
        await a.node.store._db.execute(  # type: ignore[attr-defined]
            "UPDATE users SET created_at_ms = created_at_ms - ? WHERE user_id = ?",
            25 * 3_600_000, newcomer["user"]["id"])
        older = await WsClient.connect(b.ws_url, newcomer["token"])
        try:
            await send_acked(older, ROOMS[1], "see https://partner.example.com/report", "later1")
        finally:
            await older.close()
        opened = await call(a, "POST", "/api/v1/direct", newcomer, json={"members": [third["user"]["id"]]})
        assert opened.status_code == 201, opened.text


async def test_the_same_text_in_too_many_rooms_is_refused_as_spam_across_nodes(production):
    settings = [production(spam_max_rooms=2, spam_window_s=600) for _ in range(2)]
    async with running_nodes(*settings) as [a, b]:
        author = await register(a.url, "Spammer")
        on_a = await WsClient.connect(a.ws_url, author["token"])
        on_b = await WsClient.connect(b.ws_url, author["token"], binary=False)
        try:
            await send_acked(on_a, ROOMS[0], SPAM, "p1")
            await a.node.rooms.abuse.settled()  # noted after the ack, off the send's path
            await send_acked(on_b, ROOMS[1], "  " + SPAM.upper() + " ", "p2")  # the same, normalised
            await b.node.rooms.abuse.settled()
            await on_b.send_frame({"type": "send", "room": ROOMS[2], "body": SPAM, "cid": "p3"})
            error = await on_b.wait_for(is_type("error", cid="p3"))
            assert error["code"] == "spam" and error["retry"] is False
            await on_a.send_frame({"type": "send", "room": ROOMS[3], "body": SPAM, "cid": "p4"})
            assert (await on_a.wait_for(is_type("error", cid="p4")))["code"] == "spam"
            # Nothing stored in the refused rooms; the same room again, other texts and short
            # ones pass.
            history = await call(a, "GET", f"/api/v1/rooms/{ROOMS[2]}/messages", author)
            assert [m["body"] for m in history.json()["messages"]] == []
            await send_acked(on_a, ROOMS[0], SPAM, "p5")
            await send_acked(on_a, ROOMS[2], SPAM + " (edited)", "p6")
            for n, room in enumerate(ROOMS):
                await send_acked(on_b, room, "thanks!", f"short{n}")
        finally:
            await on_a.close()
            await on_b.close()
        # Another author's same text is theirs to count.
        other = await register(b.url, "Other")
        ws = await WsClient.connect(b.ws_url, other["token"])
        try:
            await send_acked(ws, ROOMS[2], SPAM, "o1")
        finally:
            await ws.close()


async def frame_with_cid(poll: PollTransport, cid: str) -> dict:
    """The next frame naming `cid` that the long-polling session delivers."""
    while True:
        answer = (await poll.get(poll.last)).json()
        poll.last = answer["last"]
        for frame in answer["frames"]:
            if frame.get("cid") == cid:
                return frame


async def test_the_long_polling_fallback_gets_the_same_refusals(production):
    settings = production(spam_max_rooms=1, **NEW)
    async with running_nodes(settings) as [node]:
        member = await register(node.url, "Polly")
        opened = await open_session(node.url, member["token"])
        poll = PollTransport(node.url, member["token"], opened["session"], opened["wait_s"])
        await poll.send_frame({"type": "send", "room": ROOMS[0], "body": "go to http://evil.test", "cid": "x1"})
        assert (await frame_with_cid(poll, "x1"))["code"] == "links_not_allowed_yet"
        await poll.send_frame({"type": "send", "room": ROOMS[0], "body": SPAM, "cid": "x2"})
        assert (await frame_with_cid(poll, "x2"))["type"] == "ack"
        await node.node.rooms.abuse.settled()
        await poll.send_frame({"type": "send", "room": ROOMS[1], "body": SPAM, "cid": "x3"})
        assert (await frame_with_cid(poll, "x3"))["code"] == "spam"


async def test_one_list_of_post_checks_covers_topics_and_questions_and_spends_the_budget_last(production):
    """Spam and new accounts' links are refused on topics and webinar questions as on messages;
    a post any check refuses spends none of a new account's budget (it is spent last)."""
    settings = [production(public_url="https://chat.example.org", spam_max_rooms=1, **NEW) for _ in range(2)]
    async with running_nodes(*settings) as [a, b]:
        newcomer, host = await register(a.url, "Newcomer"), await register(b.url, "Host")
        await a.node.store.set_role(host["user"]["id"], "admin")
        start = datetime.now(UTC) + timedelta(hours=1)
        scheduled = await call(b, "POST", "/api/v1/webinars", host, json={
            "title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        webinar = scheduled.json()["webinar"]["id"]
        on_a = await WsClient.connect(a.ws_url, newcomer["token"])
        on_b = await WsClient.connect(b.ws_url, newcomer["token"])
        try:
            await send_acked(on_a, ROOMS[0], SPAM, "q1")  # the budget's first of 3
            await a.node.rooms.abuse.settled()
            await on_b.send_frame({"type": "send", "room": ROOMS[1], "body": SPAM, "cid": "q2"})
            assert (await on_b.wait_for(is_type("error", cid="q2")))["code"] == "spam"
            topic = await call(b, "POST", f"/api/v1/rooms/{ROOMS[2]}/topics", newcomer, json={
                "title": "Offer", "body": SPAM})
            assert topic.status_code == 403 and topic.json()["error"]["code"] == "spam", topic.text
            for body, code in [(SPAM, "spam"), ("see https://spam.example.com", "links_not_allowed_yet")]:
                asked = await call(a, "POST", f"/api/v1/webinars/{webinar}/questions", newcomer, json={"body": body})
                assert asked.status_code == 403 and asked.json()["error"]["code"] == code, asked.text
            # Four refusals spent nothing: two more posts pass, the next is over the budget.
            await send_acked(on_a, ROOMS[3], "second", "q3")
            asked = await call(a, "POST", f"/api/v1/webinars/{webinar}/questions", newcomer,
                               json={"body": "When does it start?"})
            assert asked.status_code == 201, asked.text
            await on_a.send_frame({"type": "send", "room": ROOMS[3], "body": "fourth", "cid": "q4"})
            assert (await on_a.wait_for(is_type("error", cid="q4")))["code"] == "rate_limited"
        finally:
            await on_a.close()
            await on_b.close()
        assert (await call(a, "GET", f"/api/v1/rooms/{ROOMS[2]}/topics", newcomer)).json()["topics"] == []
