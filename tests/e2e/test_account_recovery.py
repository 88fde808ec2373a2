"""Account recovery end to end (chat/accounts/recovery.py, docs/protocol.md "Account
recovery"): the links arrive through a real SMTP server on loopback (tests/support/mailbox.py)
and are confirmed over HTTP; on both backends, and across two production nodes, where ending
sessions closes their WebSockets on every node."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from chat.protocol import closecodes
from tests.support.client import WsClient, call, close_code, create_account, http_client, is_type, login, register
from tests.support.mailbox import Mailbox, html_of, text_of
from tests.support.nodes import NodeServer, running_nodes

ROOM = "green-transport"
PASSWORD = "correct horse"
NEW_PASSWORD = "a new battery staple"


def link_token(message: Any, kind: str) -> str:
    found = re.search(rf"#/{kind}/([A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)


async def joined(node: NodeServer, token: str) -> WsClient:
    ws = await WsClient.connect(node.ws_url, token)
    await ws.send_frame({"type": "join", "room": ROOM})
    await ws.recv_until(lambda f: f["type"] == "joined")
    return ws


async def me(node: NodeServer, account: dict[str, Any]) -> dict[str, Any]:
    response = await call(node, "GET", "/api/v1/me", account)
    assert response.status_code == 200, response.text
    return response.json()["user"]


async def test_registration_mails_a_verification_link_that_works_once(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        assert ann["user"]["email_verified"] is False
        assert (await me(node, ann))["email_verified"] is False
        mail = await mailbox.wait_for(to=email, subject="Confirm your email address")
        token = link_token(mail, "verify")
        assert f"#/verify/{token}" in html_of(mail)
        assert token not in str(mail["Subject"])
        # Signed out: the link works without a session.
        confirmed = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": token})
        assert confirmed.status_code == 200, confirmed.text
        assert (await me(node, ann))["email_verified"] is True
        again = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": token})
        assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
        resend = await call(node, "POST", "/api/v1/account/verification", ann)
        assert resend.status_code == 409 and resend.json()["error"]["code"] == "already_verified"


async def test_a_resent_link_replaces_the_first_and_resends_are_limited(backend, mailbox: Mailbox):
    async with running_nodes(backend(verify_resend_max=1, **mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        first = link_token(await mailbox.wait_for(to=email), "verify")
        assert (await call(node, "POST", "/api/v1/account/verification", ann)).status_code == 202
        limited = await call(node, "POST", "/api/v1/account/verification", ann)
        assert limited.status_code == 429 and "retry-after" in limited.headers
        second = link_token(await mailbox.wait_for(to=email, where=lambda m: first not in text_of(m)), "verify")
        old = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": first})
        assert old.json()["error"]["code"] == "invalid_token"
        assert (await me(node, ann))["email_verified"] is False
        ok = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": second})
        assert ok.status_code == 200


async def test_reset_answers_alike_for_unknown_addresses_and_ends_every_session(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        unknown = await call(node, "POST", "/api/v1/account/password-reset", None,
                             json={"email": "nobody-here@example.test"})
        known = await call(node, "POST", "/api/v1/account/password-reset", None, json={"email": email.upper()})
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json() == {"accepted": True}
        mail = await mailbox.wait_for(to=email, subject="Reset your EcoLink password")
        await node.node.recovery.drain()
        assert mailbox.matching(to="nobody-here@example.test") == []
        token = link_token(mail, "reset")
        weak = await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                          json={"token": token, "password": "password"})
        assert weak.status_code == 422 and "password" in weak.json()["error"]["details"]
        assert (await login(node, email)).status_code == 200  # nothing changed
        done = await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                          json={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 204, done.text
        assert (await call(node, "GET", "/api/v1/me", ann)).status_code == 401
        again = await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                           json={"token": token, "password": "yet another passphrase"})
        assert again.json()["error"]["code"] == "invalid_token"
        assert (await login(node, email)).status_code == 401
        fresh = await login(node, email, NEW_PASSWORD)
        assert fresh.status_code == 200
        assert fresh.json()["user"]["email_verified"] is True  # the link proved the address


async def test_reset_requests_are_limited_per_address_and_per_account(backend, mailbox: Mailbox):
    settings = backend(reset_per_address_max=3, reset_per_account_max=1, **mailbox.settings)
    async with running_nodes(settings) as (node,):
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        await mailbox.wait_for(to=email)  # the verification mail
        before = sum((await node.node.store.mail_counts()).values())
        for _ in range(2):
            answer = await call(node, "POST", "/api/v1/account/password-reset", None, json={"email": email})
            assert answer.status_code == 202
        await node.node.recovery.drain()
        assert sum((await node.node.store.mail_counts()).values()) == before + 1
        await call(node, "POST", "/api/v1/account/password-reset", None, json={"email": "x@example.test"})
        limited = await call(node, "POST", "/api/v1/account/password-reset", None, json={"email": email})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"


async def test_bad_recovery_input_is_refused_and_changes_nothing(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        for path, body in [("/api/v1/account/password-reset", {}),
                           ("/api/v1/account/password-reset", {"email": 5}),
                           ("/api/v1/account/password-reset/confirm", {"token": "t"}),
                           ("/api/v1/account/verification/confirm", {"token": ["t"]}),
                           ("/api/v1/account/email/confirm", {})]:
            answer = await call(node, "POST", path, None, json=body)
            assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid", (path, body)
        for path in ("/api/v1/account/verification/confirm", "/api/v1/account/email/confirm"):
            for token in ("x" * 129, "", "forged-token"):
                answer = await call(node, "POST", path, None, json={"token": token})
                assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_token"
        not_json = await call(node, "POST", "/api/v1/account/password-reset", None, content=b"email=a",
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert not_json.status_code == 400
        gone = await call(node, "DELETE", "/api/v1/account/sessions/" + "ab" * 32, ann)
        assert gone.status_code == 404
        assert (await call(node, "POST", "/api/v1/account/password", ann)).status_code == 405
        unsigned = await call(node, "GET", "/api/v1/account/sessions", None)
        assert unsigned.status_code == 401
        assert (await me(node, ann))["email_verified"] is False
        assert len((await call(node, "GET", "/api/v1/account/sessions", ann)).json()["sessions"]) == 1


async def test_changing_the_email_asks_the_password_and_confirms_at_the_new_address(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        taken = (await register(node.url, "tom"))["user"]["email"]
        old = ann["user"]["email"]
        new = "ann-new@example.test"
        wrong = await call(node, "POST", "/api/v1/account/email", ann, json={"email": new, "password": "nope nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        # A registered address: the same answer; that address is told, and no link is made.
        clash = await call(node, "POST", "/api/v1/account/email", ann, json={"email": taken, "password": PASSWORD})
        assert clash.status_code == 202, clash.text
        told = await mailbox.wait_for(to=taken, subject="This address already has an EcoLink account")
        assert "#/email/" not in text_of(told)
        bad = await call(node, "POST", "/api/v1/account/email", ann, json={"email": "no-at-sign", "password": PASSWORD})
        assert bad.status_code == 422 and "email" in bad.json()["error"]["details"]
        asked = await call(node, "POST", "/api/v1/account/email", ann, json={"email": new, "password": PASSWORD})
        assert asked.status_code == 202, asked.text
        token = link_token(await mailbox.wait_for(to=new, subject="Confirm your new email address"), "email")
        assert (await me(node, ann))["email"] == old  # not before the link is opened
        done = await call(node, "POST", "/api/v1/account/email/confirm", None, json={"token": token})
        assert done.status_code == 200, done.text
        notice = await mailbox.wait_for(to=old, subject="Your EcoLink email address was changed")
        assert token not in text_of(notice)
        user = await me(node, ann)
        assert (user["email"], user["email_verified"]) == (new, True)
        assert (await login(node, new)).status_code == 200
        assert (await login(node, old)).status_code == 401


async def test_a_taken_address_at_confirmation_changes_nothing(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        new = "late-clash@example.test"
        await call(node, "POST", "/api/v1/account/email", ann, json={"email": new, "password": PASSWORD})
        token = link_token(await mailbox.wait_for(to=new), "email")
        async with http_client(node.url) as http:
            registered = await create_account(http, {"email": new, "password": PASSWORD, "display_name": "Late"})
        assert registered.status_code == 201
        clash = await call(node, "POST", "/api/v1/account/email/confirm", None, json={"token": token})
        assert clash.status_code == 409 and clash.json()["error"]["code"] == "email_taken"
        assert (await me(node, ann))["email"] == ann["user"]["email"]


async def test_required_verification_refuses_posts_until_the_address_is_verified(backend, mailbox: Mailbox):
    async with running_nodes(backend(email_verification="required", **mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        limits = (await call(node, "GET", "/api/v1/sessions", ann)).json()["limits"]
        assert limits["email_verification"] == "required"
        ws = await joined(node, ann["token"])
        await ws.send_frame({"type": "send", "room": ROOM, "body": "hello", "cid": "c1"})
        refused = await ws.wait_for(lambda f: f["type"] == "error")
        assert refused["code"] == "email_unverified"
        topic = await call(node, "POST", f"/api/v1/rooms/{ROOM}/topics", ann,
                           json={"title": "Bikes", "body": "Let us talk"})
        assert topic.status_code == 403 and topic.json()["error"]["code"] == "email_unverified"
        tom = await register(node.url, "tom")
        direct = await call(node, "POST", "/api/v1/direct", ann, json={"members": [tom["user"]["id"]]})
        assert direct.status_code == 403 and direct.json()["error"]["code"] == "email_unverified"
        # A question on a webinar's board: refused before the webinar is even looked up.
        asked = await call(node, "POST", "/api/v1/webinars/webinar-none/questions", ann, json={"body": "Why?"})
        assert asked.status_code == 403 and asked.json()["error"]["code"] == "email_unverified"
        history = await call(node, "GET", f"/api/v1/rooms/{ROOM}/messages", ann)
        assert history.json()["messages"] == []
        token = link_token(await mailbox.wait_for(to=ann["user"]["email"]), "verify")
        await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": token})
        await ws.send_frame({"type": "send", "room": ROOM, "body": "hello", "cid": "c2"})
        await ws.wait_for(is_type("ack", cid="c2"))  # the same socket, verified since
        await ws.close()


async def test_changing_the_password_ends_the_other_sessions_on_every_node(production, mailbox: Mailbox):
    async with running_nodes(production(**mailbox.settings), production(**mailbox.settings)) as (a, b):
        ann = await register(a.url, "ann")
        email = ann["user"]["email"]
        other = (await login(b, email)).json()
        doomed = await joined(b, other["token"])
        kept = await joined(a, ann["token"])
        wrong = await call(a, "PUT", "/api/v1/account/password", ann,
                           json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        weak = await call(a, "PUT", "/api/v1/account/password", ann,
                          json={"current_password": PASSWORD, "new_password": "12345678"})
        assert weak.status_code == 422 and "new_password" in weak.json()["error"]["details"]
        changed = await call(a, "PUT", "/api/v1/account/password", ann,
                             json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert changed.status_code == 204, changed.text
        assert await close_code(doomed) == closecodes.SESSION_ENDED
        assert (await call(b, "GET", "/api/v1/me", other)).status_code == 401
        await kept.send_frame({"type": "ping"})
        await kept.recv_until(is_type("pong"))
        assert (await me(b, ann))["id"] == ann["user"]["id"]
        assert (await login(a, email, NEW_PASSWORD)).status_code == 200
        await kept.close()


async def test_sessions_are_listed_and_ended_one_or_all_others_across_nodes(production, mailbox: Mailbox):
    async with running_nodes(production(**mailbox.settings), production(**mailbox.settings)) as (a, b):
        ann = await register(a.url, "ann")
        email = ann["user"]["email"]
        phone = (await call(b, "POST", "/api/v1/sessions", None, json={"email": email, "password": PASSWORD},
                            headers={"user-agent": "Mozilla/5.0 (iPhone) Safari/604.1\x07"})).json()
        laptop = (await login(b, email)).json()
        listed = (await call(a, "GET", "/api/v1/account/sessions", ann)).json()["sessions"]
        assert len(listed) == 3
        assert [s["current"] for s in listed].count(True) == 1
        ours = next(s for s in listed if s["current"])
        assert ours["created_at"] and ours["last_seen_at"] and ours["address"] == "127.0.0.1"
        agents = {s["user_agent"] for s in listed}
        assert "Mozilla/5.0 (iPhone) Safari/604.1" in agents  # trimmed of the control character
        assert all(ann["token"] not in str(s) and phone["token"] not in str(s) for s in listed)
        phone_id = next(s["id"] for s in listed if s["user_agent"] and "iPhone" in s["user_agent"])
        phone_ws, laptop_ws = await joined(b, phone["token"]), await joined(b, laptop["token"])
        # Another member cannot end it.
        tom = await register(a.url, "tom")
        assert (await call(a, "DELETE", f"/api/v1/account/sessions/{phone_id}", tom)).status_code == 404
        assert (await call(a, "DELETE", f"/api/v1/account/sessions/{phone_id}", ann)).status_code == 204
        assert await close_code(phone_ws) == closecodes.SESSION_ENDED
        assert (await call(b, "GET", "/api/v1/me", phone)).status_code == 401
        ended = await call(a, "POST", "/api/v1/account/sessions/end-others", ann)
        assert ended.json() == {"ended": 1}
        assert await close_code(laptop_ws) == closecodes.SESSION_ENDED
        left = (await call(b, "GET", "/api/v1/account/sessions", ann)).json()["sessions"]
        assert [s["current"] for s in left] == [True]


async def test_a_reset_closes_the_sockets_of_every_session_on_every_node(production, mailbox: Mailbox):
    async with running_nodes(production(**mailbox.settings), production(**mailbox.settings)) as (a, b):
        ann = await register(a.url, "ann")
        email = ann["user"]["email"]
        sockets = [await joined(a, ann["token"]), await joined(b, ann["token"])]
        assert (await call(b, "POST", "/api/v1/account/password-reset", None, json={"email": email})).status_code == 202
        token = link_token(await mailbox.wait_for(to=email, subject="Reset"), "reset")
        done = await call(a, "POST", "/api/v1/account/password-reset/confirm", None,
                          json={"token": token, "password": NEW_PASSWORD})
        assert done.status_code == 204
        for ws in sockets:
            assert await close_code(ws) == closecodes.SESSION_ENDED


async def test_link_confirmations_refuse_a_foreign_origin_and_change_nothing(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        token = link_token(await mailbox.wait_for(to=ann["user"]["email"]), "verify")
        foreign = {"Origin": f"http://127.0.0.1:{node.port + 1}"}
        for path in ("/api/v1/account/verification/confirm", "/api/v1/account/email/confirm",
                     "/api/v1/account/password-reset/confirm"):
            body = {"token": token, "password": NEW_PASSWORD} if "reset" in path else {"token": token}
            refused = await call(node, "POST", path, None, json=body, headers=foreign)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden", path
        assert (await me(node, ann))["email_verified"] is False
        own = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": token},
                         headers={"Origin": node.url})
        assert own.status_code == 200, own.text


async def test_a_dead_reset_token_is_refused_before_hashing_and_tries_are_counted(backend, mailbox: Mailbox):
    async with running_nodes(backend(reset_per_address_max=3, **mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        await call(node, "POST", "/api/v1/account/password-reset", None, json={"email": ann["user"]["email"]})
        token = link_token(await mailbox.wait_for(to=ann["user"]["email"], subject="Reset your EcoLink password"),
                           "reset")
        hashed = node.node.accounts.passwords.hash

        async def refuse_hashing(password: str) -> str:
            raise AssertionError("a dead token must not cost a hash")
        node.node.accounts.passwords.hash = refuse_hashing  # type: ignore[method-assign]
        forged = await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                            json={"token": "forged-token", "password": NEW_PASSWORD})
        assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_token"
        node.node.accounts.passwords.hash = hashed  # type: ignore[method-assign]
        for _ in range(2):
            await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                       json={"token": "forged-token", "password": NEW_PASSWORD})
        limited = await call(node, "POST", "/api/v1/account/password-reset/confirm", None,
                             json={"token": token, "password": NEW_PASSWORD})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert (await login(node, ann["user"]["email"])).status_code == 200  # unchanged


async def test_a_banned_member_cannot_confirm_a_pending_email_change(backend, mailbox: Mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        new = "ann-elsewhere@example.test"
        asked = await call(node, "POST", "/api/v1/account/email", ann, json={"email": new, "password": PASSWORD})
        assert asked.status_code == 202, asked.text
        token = link_token(await mailbox.wait_for(to=new), "email")
        now = node.node.clock.now_ms()
        await node.node.store.add_sanction(ann["user"]["id"], "ban", None, None, "spam", None, None, now)
        refused = await call(node, "POST", "/api/v1/account/email/confirm", None, json={"token": token})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_suspended"
        assert (await node.node.store.user_credentials(new)) is None
        await node.node.store.lift_sanctions(ann["user"]["id"], "ban", None, ann["user"]["id"], now + 1)
        done = await call(node, "POST", "/api/v1/account/email/confirm", None, json={"token": token})
        assert done.status_code == 200, done.text  # the link was left unused


async def test_email_and_password_changes_ask_the_code_with_two_factor_on_and_are_limited(backend, mailbox: Mailbox):
    async with running_nodes(backend(verify_resend_max=2, **mailbox.settings)) as (node,):
        ann = await register(node.url, "ann")
        setup = await call(node, "POST", "/api/v1/account/two-factor/setup", ann, json={"password": PASSWORD})
        secret = setup.json()["secret"]
        on = await call(node, "POST", "/api/v1/account/two-factor/enable", ann,
                        json={"code": pyotp.TOTP(secret).now()})
        codes = on.json()["recovery_codes"]
        for path, method, body in (("/api/v1/account/email", "POST", {"email": "x1@example.test", "password": PASSWORD}),
                                   ("/api/v1/account/password", "PUT",
                                    {"current_password": PASSWORD, "new_password": NEW_PASSWORD})):
            asked = await call(node, method, path, ann, json=body)
            assert asked.status_code == 401 and asked.json()["error"]["code"] == "second_factor_required", path
            wrong = await call(node, method, path, ann, json={**body, "code": "abcde-abcde"})
            assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized", wrong.text
        # The password is unchanged: it still gets as far as the second step.
        assert (await login(node, ann["user"]["email"])).json()["error"]["code"] == "second_factor_required"
        for n, code in enumerate(codes[:2]):
            ok = await call(node, "POST", "/api/v1/account/email", ann,
                            json={"email": f"x{n}@example.test", "password": PASSWORD, "code": code})
            assert ok.status_code == 202, ok.text
        limited = await call(node, "POST", "/api/v1/account/email", ann,
                             json={"email": "x9@example.test", "password": PASSWORD, "code": codes[2]})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        changed = await call(node, "PUT", "/api/v1/account/password", ann,
                             json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "code": codes[3]})
        assert changed.status_code == 204, changed.text
