"""The webinar Q&A board and polls across two production nodes (PostgreSQL + Redis): a host
and two attendees on different nodes; pre-moderation keeps a pending question from the other
attendee over WebSocket and HTTP; votes are idempotent and their counts arrive coalesced in
`board` frames, exact in the end; answering now is one at a time; polls record their final
counts in the log; a reconnecting client ends exact; bad input and forbidden actions change
nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from tests.support.client import WsClient, call, is_type, register, sync
from tests.support.nodes import running_nodes

W = "/api/v1/webinars"


async def schedule(node, host, *, premoderated: bool) -> str:
    start = datetime.now(UTC) + timedelta(hours=1)
    response = await call(node, "POST", W, host, json={
        "title": {"en": "Green roofs"}, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(), "premoderated": premoderated})
    assert response.status_code == 201, response.text
    return response.json()["webinar"]["id"]


async def people(n1, n2):
    host = await register(n1.url, "Host")
    await n1.node.store.set_role(host["user"]["id"], "admin")
    ann = await register(n1.url, "Ann")
    bob = await register(n2.url, "Bob")
    return host, ann, bob


def counts_seen(client: WsClient, room: str) -> dict[str, list[int]]:
    """Per question, the [votes, version] with the highest version among every frame seen."""
    best: dict[str, list[int]] = {}
    for frame in client.frames:
        found = {}
        if frame["type"] == "board" and frame["room"] == room:
            found = frame["questions"]
        elif frame["type"] in ("question", "question_state") and frame.get("room") == room:
            found = {frame["question"]["id"]: frame["question"]["votes"]}
        for qid, pair in found.items():
            if pair[1] > best.get(qid, [0, -1])[1]:
                best[qid] = pair
    return best


async def board(node, account, webinar, **params):
    response = await call(node, "GET", f"{W}/{webinar}/board", account, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_board_across_two_nodes(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        host, ann, bob = await people(n1, n2)
        webinar = await schedule(n1, host, premoderated=True)
        ws_host = await WsClient.connect(n2.ws_url, host["token"])
        ws_ann = await WsClient.connect(n1.ws_url, ann["token"])
        ws_bob = await WsClient.connect(n2.ws_url, bob["token"])
        for ws in (ws_host, ws_ann, ws_bob):
            assert (await ws.join(webinar))["type"] == "joined"

        # Pre-moderation: Ann's question is hers and the hosts' until approved.
        asked = await call(n1, "POST", f"{W}/{webinar}/questions", ann,
                           json={"body": "How much water do green roofs hold?", "cid": "a1"})
        assert asked.status_code == 201, asked.text
        q1 = asked.json()["question"]
        assert q1["state"] == "pending"
        again = await call(n2, "POST", f"{W}/{webinar}/questions", ann,
                           json={"body": "How much water do green roofs hold?", "cid": "a1"})
        assert again.status_code == 200 and again.json()["question"]["id"] == q1["id"]
        private = await ws_host.wait_for(is_type("question_private", room=webinar))
        assert private["question"]["id"] == q1["id"] and private["question"]["asked_by"]["name"] == "Ann"
        await ws_ann.wait_for(is_type("question_private", room=webinar))
        assert [q["id"] for q in (await board(n2, bob, webinar))["questions"]] == []
        assert [q["id"] for q in (await board(n1, ann, webinar))["questions"]] == [q1["id"]]
        assert [q["id"] for q in (await board(n2, host, webinar))["questions"]] == [q1["id"]]
        await sync(ws_bob)
        assert not [f for f in ws_bob.frames if f["type"] in ("question", "question_private")]
        assert (await n1.node.store.get_room(webinar)).head_seq == 1  # the "scheduled" entry only
        # To Bob a pending question is no question at all.
        hidden = await call(n2, "PUT", f"{W}/{webinar}/questions/{q1['id']}/vote", bob)
        assert hidden.status_code == 404, hidden.text
        assert (await call(n2, "PATCH", f"{W}/{webinar}/questions/{q1['id']}", bob,
                           json={"body": "mine"})).status_code == 404

        approved = await call(n2, "POST", f"{W}/{webinar}/questions/{q1['id']}/moderation", host,
                              json={"action": "approve"})
        assert approved.status_code == 200 and approved.json()["question"]["state"] == "open"
        event = await ws_bob.wait_for(is_type("question", room=webinar))
        assert event["question"]["id"] == q1["id"] and event["question"]["author"]["name"] == "Ann"
        assert event["change"] == "approved" and event["seq"] > 0

        # Bob asks anonymously: the event names nobody; the hosts' snapshot names him.
        anon = await call(n2, "POST", f"{W}/{webinar}/questions", bob,
                          json={"body": "Who maintains them?", "anonymous": True})
        q2 = anon.json()["question"]
        await call(n1, "POST", f"{W}/{webinar}/questions/{q2['id']}/moderation", host, json={"action": "approve"})
        event = await ws_ann.wait_for(lambda f: f["type"] == "question" and f["question"]["id"] == q2["id"])
        assert event["question"]["author"] is None and "asked_by" not in event["question"]
        by_host = {q["id"]: q for q in (await board(n1, host, webinar))["questions"]}
        assert by_host[q2["id"]]["asked_by"]["name"] == "Bob"
        by_ann = {q["id"]: q for q in (await board(n1, ann, webinar))["questions"]}
        assert by_ann[q2["id"]]["author"] is None and "asked_by" not in by_ann[q2["id"]]

        # Votes: once each, idempotent, not on one's own, taken back.
        path = f"{W}/{webinar}/questions/{q1['id']}/vote"
        assert (await call(n2, "PUT", path, bob)).json()["votes"] == [1, 1]
        assert (await call(n1, "PUT", path, bob)).json()["votes"] == [1, 1]
        assert (await call(n1, "PUT", path, ann)).status_code == 403
        assert (await call(n2, "DELETE", path, bob)).json()["votes"] == [0, 2]
        assert (await call(n2, "DELETE", path, bob)).json()["votes"] == [0, 2]
        assert (await call(n1, "PUT", path, bob)).json()["votes"] == [1, 3]
        assert (await call(n1, "PUT", f"{W}/{webinar}/questions/{q2['id']}/vote", host)).json()["votes"] == [1, 1]
        for ws in (ws_ann, ws_bob, ws_host):
            await ws.wait_for(lambda f, ws=ws: counts_seen(ws, webinar).get(q1["id"]) == [1, 3])
        snapshot = await board(n2, bob, webinar, sort="votes")
        assert snapshot["my_votes"] == [q1["id"]]
        assert {q["id"]: q["votes"] for q in snapshot["questions"]} == {q1["id"]: [1, 3], q2["id"]: [1, 1]}

        # Answering now: one at a time.
        moderation = f"{W}/{webinar}/questions/{{}}/moderation"
        assert (await call(n1, "POST", moderation.format(q1["id"]), host, json={"action": "answering"})).status_code == 200
        assert (await call(n2, "POST", moderation.format(q2["id"]), host, json={"action": "answering"})).status_code == 200
        await ws_ann.wait_for(lambda f: f["type"] == "question_state" and f["change"] == "answering_ended")
        states = {q["id"]: q["state"] for q in (await board(n1, ann, webinar))["questions"]}
        assert states == {q1["id"]: "open", q2["id"]: "answering"}
        answered = await call(n2, "POST", moderation.format(q2["id"]), host,
                              json={"action": "answered", "answer": "The **city** does."})
        assert answered.status_code == 200, answered.text
        event = await ws_bob.wait_for(lambda f: f["type"] == "question_state" and f["change"] == "answered")
        assert "<strong>city</strong>" in event["question"]["answer"]["html"]
        assert event["question"]["answer"]["by"]["name"] == "Host"
        # The asker may no longer edit it; Ann may edit hers.
        assert (await call(n2, "PATCH", f"{W}/{webinar}/questions/{q2['id']}", bob,
                           json={"body": "changed"})).status_code == 409
        edited = await call(n1, "PATCH", f"{W}/{webinar}/questions/{q1['id']}", ann,
                            json={"body": "How much rain do green roofs hold?"})
        assert edited.status_code == 200 and edited.json()["question"]["body"].startswith("How much rain")

        # A poll: drafted, opened, answered, changed, closed with its final counts in the log.
        created = await call(n1, "POST", f"{W}/{webinar}/polls", host, json={
            "question": {"en": "Which roof?", "zh": "哪种屋顶？"},
            "options": [{"en": "Extensive", "zh": "粗放型"}, {"en": "Intensive", "zh": "密集型"}],
            "results_public": True})
        assert created.status_code == 201, created.text
        poll = created.json()["poll"]["id"]
        assert (await board(n2, bob, webinar))["polls"] == []  # a draft: hosts only
        assert (await call(n1, "PUT", f"{W}/{webinar}/polls/{poll}/answer", ann,
                           json={"choices": [0]})).status_code == 404  # a draft: as no poll to her
        assert (await call(n2, "POST", f"{W}/{webinar}/polls/{poll}/open", host)).status_code == 200
        await ws_ann.wait_for(lambda f: f["type"] == "poll" and f["change"] == "opened")
        for who, node, choices in ((ann, n1, [0]), (bob, n2, [1]), (bob, n1, [0]), (bob, n2, [0])):
            answer = await call(node, "PUT", f"{W}/{webinar}/polls/{poll}/answer", who, json={"choices": choices})
            assert answer.status_code == 200, answer.text
        assert (await call(n1, "PUT", f"{W}/{webinar}/polls/{poll}/answer", ann,
                           json={"choices": [0, 1]})).status_code == 422  # single choice
        closed = await call(n1, "POST", f"{W}/{webinar}/polls/{poll}/close", host)
        assert closed.json()["poll"]["counts"] == [2, 0]
        event = await ws_bob.wait_for(lambda f: f["type"] == "poll" and f["change"] == "closed")
        assert event["poll"]["counts"] == [2, 0] and event["poll"]["answers"] == 2
        assert (await call(n2, "PUT", f"{W}/{webinar}/polls/{poll}/answer", bob,
                           json={"choices": [1]})).status_code == 409
        snapshot = await board(n2, bob, webinar)
        assert snapshot["my_answers"] == {poll: [0]} and snapshot["polls"][0]["counts"] == [2, 0]

        # A client that reconnects: since + the snapshot, and it is exact.
        seq = snapshot["seq"]
        await ws_bob.close()
        assert (await call(n1, "PUT", path, host)).json()["votes"] == [2, 4]
        assert (await call(n1, "POST", moderation.format(q1["id"]), host, json={"action": "pin"})).status_code == 200
        back = await WsClient.connect(n2.ws_url, bob["token"])
        await back.join(webinar, since=seq)
        pinned = await back.wait_for(lambda f: f["type"] == "question_state" and f["change"] == "pin")
        assert pinned["seq"] > seq and pinned["question"]["pinned"] is True
        fresh = await board(n2, bob, webinar)
        assert {q["id"]: q["votes"] for q in fresh["questions"]}[q1["id"]] == [2, 4]
        assert fresh["questions"][0]["id"] == q1["id"]  # pinned first

        # Bad input and forbidden actions: 4xx, nothing changed.
        before = await board(n1, host, webinar)
        refusals = [
            (n1, "POST", f"{W}/{webinar}/questions", ann, {"body": "x" * 501}, 422),
            (n1, "POST", f"{W}/{webinar}/questions", ann, {"body": "   "}, 422),
            (n1, "POST", f"{W}/{webinar}/questions", ann, {"body": "bad\u0000"}, 422),
            (n1, "POST", f"{W}/{webinar}/questions", ann, {"body": 5}, 422),
            (n1, "PUT", f"{W}/{webinar}/questions/q-00000000000000ff/vote", bob, None, 404),
            (n1, "PUT", f"{W}/{webinar}/questions/nope/vote", bob, None, 400),
            (n1, "POST", moderation.format(q1["id"]), ann, {"action": "dismiss"}, 403),
            (n1, "POST", moderation.format(q1["id"]), bob, {"action": "answered"}, 403),
            (n1, "POST", moderation.format(q1["id"]), host, {"action": "explode"}, 422),
            (n1, "POST", moderation.format(q1["id"]), host, {"action": "pin", "answer": "x"}, 422),
            (n1, "PATCH", f"{W}/{webinar}/questions/{q1['id']}", bob, {"body": "mine now"}, 403),
            (n1, "PATCH", f"{W}/{webinar}/questions/{q1['id']}", ann, {"withdrawn": False}, 400),
            (n1, "POST", f"{W}/{webinar}/polls", ann, {"question": {"en": "?"}, "options": [{"en": "a"}, {"en": "b"}]}, 403),
            (n1, "POST", f"{W}/{webinar}/polls", host, {"question": {"en": "?"}, "options": [{"en": "a"}]}, 422),
            (n1, "POST", f"{W}/{webinar}/polls", host, {"question": {"en": ""}, "options": [{"en": "a"}, {"en": "b"}]}, 422),
            (n1, "POST", f"{W}/{webinar}/polls/{poll}/open", ann, None, 403),
            (n1, "PUT", f"{W}/{webinar}/polls/{poll}/answer", ann, {"choices": [7]}, 422),
            (n1, "GET", f"{W}/{webinar}/board?sort=size", ann, None, 400),
            (n1, "GET", f"{W}/webinar-00000000000000ff/board", ann, None, 404),
        ]
        for node, method, url, who, body, status in refusals:
            response = await call(node, method, url, who, **({"json": body} if body is not None else {}))
            assert response.status_code == status, (method, url, body, response.status_code, response.text)
            assert response.json()["error"]["code"]
        assert await board(n1, host, webinar) == before

        # Limits: one question per 10 s for attendees (retry_after), hosts never.
        cat = await register(n2.url, "Cat")
        first = await call(n2, "POST", f"{W}/{webinar}/questions", cat, json={"body": "One more"})
        assert first.status_code == 201
        soon = await call(n1, "POST", f"{W}/{webinar}/questions", cat, json={"body": "And another"})
        assert soon.status_code == 429 and soon.json()["error"]["code"] == "question_too_soon"
        assert soon.json()["error"]["retry_after"] >= 1 and "Retry-After" in soon.headers
        for n in range(3):
            assert (await call(n1, "POST", f"{W}/{webinar}/questions", host, json={"body": f"host {n}"})).status_code == 201

        # Once ended, the board takes nothing.
        assert (await call(n1, "POST", f"{W}/{webinar}/start", host)).status_code == 200
        assert (await call(n1, "POST", f"{W}/{webinar}/end", host)).status_code == 200
        assert (await call(n1, "POST", f"{W}/{webinar}/questions", ann, json={"body": "Late?"})).status_code == 409
        assert (await call(n1, "PUT", path, bob)).status_code == 409
        for ws in (ws_host, ws_ann, back):
            await ws.close()


async def test_many_votes_reach_clients_in_few_board_frames_and_end_exact(production):
    tick_ms = 200
    async with running_nodes(production(board_tick_ms=tick_ms), production(board_tick_ms=tick_ms)) as [n1, n2]:
        host, ann, _ = await people(n1, n2)
        webinar = await schedule(n1, host, premoderated=False)
        question = (await call(n1, "POST", f"{W}/{webinar}/questions", host, json={"body": "Vote me"})).json()["question"]
        watcher = await WsClient.connect(n1.ws_url, ann["token"])
        await watcher.join(webinar)
        voters = [await register(node.url, f"v{n}") for n, node in enumerate([n1, n2] * 20)]
        path = f"{W}/{webinar}/questions/{question['id']}/vote"
        started = time.monotonic()
        replies = await asyncio.gather(*(call([n1, n2][n % 2], "PUT", path, v) for n, v in enumerate(voters)))
        assert all(r.status_code == 200 for r in replies)
        await asyncio.gather(*(call([n1, n2][n % 2], "DELETE", path, v) for n, v in enumerate(voters[:10])))
        final = (await board(n1, ann, webinar))["questions"][0]["votes"]
        assert final == [30, 50]
        await watcher.wait_for(lambda f: counts_seen(watcher, webinar).get(question["id"]) == final)
        elapsed = time.monotonic() - started
        frames = [f for f in watcher.frames if f["type"] == "board"]
        # Each node sends at most one frame per tick for the webinar (the first at once).
        assert len(frames) <= 2 * (elapsed * 1000 / tick_ms + 1)
        assert len(frames) < 50  # fewer frames than votes
        await watcher.close()


async def test_open_questions_are_capped_per_attendee_even_when_asked_at_once_on_two_nodes(production):
    """ECOLINK_WEBINAR_OPEN_QUESTIONS: an attendee with that many pending, open or answering
    questions is refused (429 too_many_open_questions, retry false) until one is answered,
    dismissed or withdrawn; asks racing on two nodes cannot pass it together (the store checks
    under the webinar's row lock). Hosts are never capped."""
    async with running_nodes(production(webinar_open_questions=2), production(webinar_open_questions=2)) as [n1, n2]:
        host, ann, bob = await people(n1, n2)
        webinar = await schedule(n1, host, premoderated=False)
        store = n1.node.store
        # Ann asked one a minute ago (the 10 s interval is past); now two asks at once, one per node.
        from chat.models import Question  # the store's own shape, to date the first question back
        long_ago = int(time.time() * 1000) - 60_000
        await store.ask_question(Question(
            question_id="q-00000000000000a1", webinar_id=webinar, author_id=ann["user"]["id"], author_name="Ann",
            author_role="member", cid="old", anonymous=False, body="Earlier", state="open", pinned=False,
            answer="", answer_html="", answered_by=None, answered_by_name=None, votes=0, votes_version=0,
            version=0, created_at_ms=long_ago, updated_at_ms=long_ago))
        replies = await asyncio.gather(*(call(node, "POST", f"{W}/{webinar}/questions", ann, json={"body": f"Race {n}"})
                                         for n, node in enumerate((n1, n2))))
        assert sorted(r.status_code for r in replies) == [201, 429], [r.text for r in replies]
        assert (await store.asker_limits(webinar, ann["user"]["id"]))[0] == 2
        # The cap, not the interval: date Ann's questions back again, then ask.
        await store._db.execute("UPDATE webinar_questions SET created_at_ms = ? WHERE author_id = ?",
                                long_ago, ann["user"]["id"])
        capped = await call(n2, "POST", f"{W}/{webinar}/questions", ann, json={"body": "A third"})
        assert capped.status_code == 429, capped.text
        error = capped.json()["error"]
        assert error["code"] == "too_many_open_questions" and error["retry"] is False
        assert (await store.asker_limits(webinar, ann["user"]["id"]))[0] == 2
        # One answered: room for the next. Hosts are never capped.
        answered = await call(n1, "POST", f"{W}/{webinar}/questions/q-00000000000000a1/moderation", host,
                               json={"action": "answered"})
        assert answered.status_code == 200, answered.text
        assert (await call(n2, "POST", f"{W}/{webinar}/questions", ann, json={"body": "A third"})).status_code == 201
        for n in range(3):
            assert (await call(n1, "POST", f"{W}/{webinar}/questions", host, json={"body": f"h{n}"})).status_code == 201
        del bob


async def test_ending_a_webinar_closes_its_open_polls_with_their_counts_in_the_log(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        host, ann, bob = await people(n1, n2)
        webinar = await schedule(n1, host, premoderated=False)
        polls = []
        for public in (True, False):
            made = await call(n1, "POST", f"{W}/{webinar}/polls", host, json={
                "question": {"en": "Which?"}, "options": [{"en": "A"}, {"en": "B"}], "results_public": public})
            polls.append(made.json()["poll"]["id"])
            assert (await call(n1, "POST", f"{W}/{webinar}/polls/{polls[-1]}/open", host)).status_code == 200
        for poll in polls:
            assert (await call(n2, "PUT", f"{W}/{webinar}/polls/{poll}/answer", bob, json={"choices": [1]})).status_code == 200
        ws_ann = await WsClient.connect(n2.ws_url, ann["token"])
        await ws_ann.join(webinar)
        assert (await call(n1, "POST", f"{W}/{webinar}/start", host)).status_code == 200
        assert (await call(n1, "POST", f"{W}/{webinar}/end", host)).status_code == 200
        ended = await ws_ann.wait_for(lambda f: f["type"] == "webinar" and f["change"] == "ended")
        closed = [f for f in ws_ann.frames if f["type"] == "poll" and f["change"] == "closed"]
        assert [f["poll"]["id"] for f in closed] == polls and all(f["seq"] < ended["seq"] for f in closed)
        # The public poll's final counts are in the record; the private one's are not.
        assert closed[0]["poll"]["counts"] == [0, 1] and closed[1]["poll"]["counts"] is None
        log = await n2.node.store.messages_after(webinar, 0, 100)
        assert [m.kind for m in log].count("poll") == 4  # opened twice, closed twice
        snapshot = await board(n2, host, webinar)
        assert [p["state"] for p in snapshot["polls"]] == ["closed", "closed"]
        answer = await call(n2, "PUT", f"{W}/{webinar}/polls/{polls[0]}/answer", ann, json={"choices": [0]})
        assert answer.status_code == 409
        # Publishing the private one afterwards still makes the record.
        assert (await call(n1, "POST", f"{W}/{webinar}/polls/{polls[1]}/publish", host)).status_code == 200
        results = await ws_ann.wait_for(lambda f: f["type"] == "poll" and f["change"] == "results")
        assert results["poll"]["counts"] == [0, 1]
        await ws_ann.close()


async def test_platform_moderators_who_do_not_host_get_pending_questions_and_private_counts_live(production):
    async with running_nodes(production(), production()) as [n1, n2]:
        host, ann, bob = await people(n1, n2)
        moderator = await register(n2.url, "Mod")
        await n1.node.store.set_role(moderator["user"]["id"], "moderator")
        webinar = await schedule(n1, host, premoderated=True)
        ws_mod = await WsClient.connect(n2.ws_url, moderator["token"])
        ws_bob = await WsClient.connect(n2.ws_url, bob["token"])
        await ws_mod.join(webinar)
        await ws_bob.join(webinar)
        asked = await call(n1, "POST", f"{W}/{webinar}/questions", ann, json={"body": "Pending?", "anonymous": True})
        private = await ws_mod.wait_for(is_type("question_private", room=webinar))
        assert private["question"]["id"] == asked.json()["question"]["id"]
        assert private["question"]["asked_by"]["name"] == "Ann"  # moderators see who asked
        made = await call(n1, "POST", f"{W}/{webinar}/polls", host, json={
            "question": {"en": "Which?"}, "options": [{"en": "A"}, {"en": "B"}], "results_public": False})
        poll = made.json()["poll"]["id"]
        await call(n1, "POST", f"{W}/{webinar}/polls/{poll}/open", host)
        assert (await call(n1, "PUT", f"{W}/{webinar}/polls/{poll}/answer", ann, json={"choices": [0]})).status_code == 200
        counts = await ws_mod.wait_for(lambda f: f["type"] == "board" and poll in f["polls"])
        assert counts["polls"][poll]["counts"] == [1, 0]
        await sync(ws_bob)
        assert not [f for f in ws_bob.frames if f["type"] == "question_private"
                    or (f["type"] == "board" and poll in f["polls"])]
        for ws in (ws_mod, ws_bob):
            await ws.close()
