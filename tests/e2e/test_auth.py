"""Accounts and sessions over real sockets: register, log in, log out, the session cookie and the
Origin rule for cookie-authenticated WebSockets, login throttling, what the database stores
(argon2id hashes, hashed tokens only), and logs that never hold a password, token or body."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pyotp
import pytest
import websockets
from argon2 import PasswordHasher
from websockets.exceptions import InvalidStatus

from tests.support.cli import ecolink_serve
from tests.support.client import WsClient, bearer, http_client, register, create_account
from tests.support.mailbox import text_of
from tests.support.nodes import NodeServer, running_nodes
from tests.support.store_data import table_rows
from tests.support.timing import timeout

PASSWORD = "Corr3ct-horse-电池-staple"


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"ecolink_session={token}"}


async def ws_status(node: NodeServer, headers: dict[str, str], origin: str | None = None) -> int:
    """101 if the handshake is accepted (then a ping/pong proves the connection serves), else
    the HTTP status of the refusal."""
    extra: dict[str, Any] = {"origin": origin} if origin else {}
    try:
        ws = await websockets.connect(node.ws_url, subprotocols=["ecolink.v1.json"],
                                      additional_headers=headers, open_timeout=timeout(10), **extra)
    except InvalidStatus as exc:
        body = json.loads(bytes(exc.response.body))
        assert body["error"]["code"] in ("unauthorized", "forbidden"), body
        return exc.response.status_code
    async with ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), timeout(10))) == {"type": "pong"}
    return 101


async def test_register_login_me_logout_and_the_token_stops_working(backend):
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        created = await create_account(http, {
            "email": "Ann.Li@Example.TEST", "password": PASSWORD, "display_name": " Ann Li "})
        assert created.status_code == 201, created.text
        user = created.json()["user"]
        assert user == {"id": user["id"], "name": "Ann Li", "role": "member",
                        "email": "ann.li@example.test", "email_verified": False}
        first_token = created.json()["token"]

        # Login, `me` and the session's user also say the member's two-factor state.
        own = {**user, "two_factor": {"enabled": False, "required": False}}
        login = await http.post("/api/v1/sessions", json={"email": "ann.li@example.test",
                                                          "password": PASSWORD})
        assert login.status_code == 200 and login.json()["user"] == own
        token = login.json()["token"]
        assert token != first_token and len(token) >= 32

        assert (await http.get("/api/v1/me", headers=bearer(token))).json() == {"user": own}
        current = await http.get("/api/v1/sessions", headers=bearer(token))
        assert current.status_code == 200
        assert current.json() == {"user": own, "limits": {"max_body_chars": node.settings.max_body_chars,
                                                          "email_verification": "encouraged"}}
        assert await ws_status(node, bearer(token)) == 101

        out = await http.delete("/api/v1/sessions", headers=bearer(token))
        assert out.status_code == 204
        cleared = SimpleCookie(out.headers["set-cookie"])["ecolink_session"]
        assert cleared.value in ("", '""') and cleared["max-age"] == "0"

        after = await http.get("/api/v1/me", headers=bearer(token))
        assert after.status_code == 401 and after.json()["error"]["code"] == "unauthorized"
        assert after.headers["www-authenticate"] == "Bearer"
        # the start-up question answers 200 for a dead or missing session: no error in a console
        for headers in (bearer(token), {}, bearer("x" * 300)):
            anonymous = await http.get("/api/v1/sessions", headers=headers)
            assert anonymous.status_code == 200
            assert anonymous.json() == {"user": None, "limits": {
                "max_body_chars": node.settings.max_body_chars, "email_verification": "encouraged"}}
        assert await ws_status(node, bearer(token)) == 401
        assert (await http.delete("/api/v1/sessions", headers=bearer(token))).status_code == 401
        # Logging out ends that session only.
        assert (await http.get("/api/v1/me", headers=bearer(first_token))).status_code == 200


async def test_the_session_cookie_is_httponly_lax_and_works_for_http_and_ws(make_settings):
    async with running_nodes(make_settings()) as [node], http_client(node.url) as http:
        ann = await register(node.url)
        login = await http.post("/api/v1/sessions", json={"email": ann["user"]["email"],
                                                          "password": "correct horse"})
        header = login.headers["set-cookie"]
        morsel = SimpleCookie(header)["ecolink_session"]
        assert morsel.value == login.json()["token"]
        assert morsel["httponly"] is True and morsel["samesite"].lower() == "lax"
        assert morsel["path"] == "/" and int(morsel["max-age"]) == 30 * 86400
        assert not morsel["secure"]  # ECOLINK_COOKIE_SECURE defaults to false (plain http)
        token = morsel.value
        me = await http.get("/api/v1/me", headers=cookie(token))
        assert me.status_code == 200 and me.json()["user"]["id"] == ann["user"]["id"]
        assert await ws_status(node, cookie(token), origin=node.url) == 101


async def test_secure_cookies_when_configured(make_settings):
    async with running_nodes(make_settings(cookie_secure=True)) as [node]:
        ann = await register(node.url)
        async with http_client(node.url) as http:
            login = await http.post("/api/v1/sessions", json={"email": ann["user"]["email"],
                                                              "password": "correct horse"})
        assert SimpleCookie(login.headers["set-cookie"])["ecolink_session"]["secure"] is True


async def test_cookie_websockets_need_an_allowed_origin_bearer_ones_do_not(make_settings, monkeypatch):
    # Configured the way operators do it: a comma-separated environment variable.
    monkeypatch.setenv("ECOLINK_ALLOWED_ORIGINS", "https://chat.example.org, https://app.example.cn/")
    settings = make_settings()
    assert settings.allowed_origins == ["https://chat.example.org", "https://app.example.cn"]
    async with running_nodes(settings) as [node]:
        token = (await register(node.url))["token"]
        refused = {
            "foreign": "https://evil.example",
            "lookalike": "https://chat.example.org.evil.example",
            "own host, other port": f"http://127.0.0.1:{node.port + 1}",
            "own host, other scheme": f"https://127.0.0.1:{node.port}",
            "other name for the host": f"http://localhost:{node.port}",
            "opaque": "null",
        }
        for why, origin in refused.items():
            # Refused with an HTTP 403 instead of the upgrade: before accept.
            assert await ws_status(node, cookie(token), origin=origin) == 403, why
        assert await ws_status(node, cookie(token)) == 403, "no Origin at all"
        for origin in (node.url, "https://chat.example.org", "https://app.example.cn", "HTTPS://CHAT.EXAMPLE.ORG"):
            assert await ws_status(node, cookie(token), origin=origin) == 101, origin
        # A Bearer token cannot be attached by a foreign page: no Origin rule for it.
        assert await ws_status(node, bearer(token)) == 101
        assert await ws_status(node, bearer(token), origin="https://evil.example") == 101
        # A refused cookie handshake cost nothing: the session still works.
        async with http_client(node.url) as http:
            assert (await http.get("/api/v1/me", headers=cookie(token))).status_code == 200


async def test_cookie_logout_from_a_foreign_origin_is_refused(make_settings):
    async with running_nodes(make_settings()) as [node], http_client(node.url) as http:
        token = (await register(node.url))["token"]
        foreign = await http.delete("/api/v1/sessions",
                                    headers={**cookie(token), "Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"
        missing = await http.delete("/api/v1/sessions", headers=cookie(token))
        assert missing.status_code == 403
        assert (await http.get("/api/v1/me", headers=cookie(token))).status_code == 200
        own = await http.delete("/api/v1/sessions", headers={**cookie(token), "Origin": node.url})
        assert own.status_code == 204
        assert (await http.get("/api/v1/me", headers=cookie(token))).status_code == 401


async def test_one_account_per_email_whatever_its_case(backend):
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        body = {"email": "Wang.Fang@Example.CN", "password": PASSWORD, "display_name": "王芳"}
        assert (await create_account(http, body)).status_code == 201
        for email in ("Wang.Fang@Example.CN", "wang.fang@example.cn", "  WANG.FANG@EXAMPLE.CN "):
            again = await create_account(http, {**body, "email": email,
                                                              "password": "other-pass-123"})
            assert again.status_code == 409, email
            assert again.json()["error"]["code"] == "email_taken"
        for email in ("wang.fang@example.cn", "WANG.FANG@EXAMPLE.cn"):
            login = await http.post("/api/v1/sessions", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, email
            assert login.json()["user"]["name"] == "王芳"
        # The refused registrations did not overwrite the password.
        other = await http.post("/api/v1/sessions", json={"email": body["email"],
                                                          "password": "other-pass-123"})
        assert other.status_code == 401


async def test_failed_logins_are_throttled_even_for_the_right_password(make_settings):
    async with running_nodes(make_settings(login_failures_max=3)) as [node], http_client(node.url) as http:
        ann, bob = await register(node.url), await register(node.url)
        email = ann["user"]["email"]
        for attempt in range(3):
            wrong = await http.post("/api/v1/sessions", json={"email": email, "password": f"wrong-{attempt}x"})
            assert wrong.status_code == 401, attempt
            assert wrong.json()["error"] == {"code": "unauthorized", "message": "wrong email or password",
                                             "retry": False}
        for password in ("correct horse", "wrong-again"):
            throttled = await http.post("/api/v1/sessions", json={"email": email, "password": password})
            assert throttled.status_code == 429, throttled.text
            assert throttled.json()["error"]["code"] == "rate_limited"
            assert int(throttled.headers["retry-after"]) >= 1
            assert "set-cookie" not in throttled.headers and "token" not in throttled.json()
        # The email's case does not get around it.
        upper = await http.post("/api/v1/sessions", json={"email": email.upper(), "password": "correct horse"})
        assert upper.status_code == 429
        # Other accounts (even from the same address) and existing sessions are unaffected.
        other = await http.post("/api/v1/sessions", json={"email": bob["user"]["email"],
                                                          "password": "correct horse"})
        assert other.status_code == 200
        assert (await http.get("/api/v1/me", headers=bearer(ann["token"]))).status_code == 200


async def test_an_unknown_email_and_a_wrong_password_look_the_same(make_settings):
    async with running_nodes(make_settings()) as [node], http_client(node.url) as http:
        ann = await register(node.url)
        wrong = await http.post("/api/v1/sessions", json={"email": ann["user"]["email"], "password": "nope-nope"})
        unknown = await http.post("/api/v1/sessions", json={"email": "nobody@example.test", "password": "nope-nope"})
        assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())


# -- what the database holds ---------------------------------------------------------------


def as_text(rows: list[dict[str, Any]]) -> str:
    return " ".join(v.hex() + " " + v.decode("latin-1") if isinstance(v, bytes) else str(v)
                    for row in rows for v in row.values())


async def test_passwords_are_argon2id_and_session_tokens_are_stored_only_hashed(backend):
    settings = backend()
    async with running_nodes(settings) as [node], http_client(node.url) as http:
        created = await create_account(http, {
            "email": "hash@example.test", "password": PASSWORD, "display_name": "Hash"})
        login = await http.post("/api/v1/sessions", json={"email": "hash@example.test", "password": PASSWORD})
        tokens = [created.json()["token"], login.json()["token"]]
        users = await table_rows(settings, "users")
        sessions = await table_rows(settings, "sessions")
    [user] = [u for u in users if u["email"] == "hash@example.test"]
    assert user["password_hash"].startswith("$argon2id$")
    assert PasswordHasher().verify(user["password_hash"], PASSWORD)  # a hash of that password
    assert PASSWORD not in as_text(users)
    stored = sorted(bytes(s["token_hash"]) for s in sessions if s["user_id"] == user["user_id"])
    assert stored == sorted(hashlib.sha256(t.encode()).digest() for t in tokens)
    everything = as_text(users) + as_text(sessions)
    for token in tokens:
        assert token not in everything
    if not settings.database_url:
        # Not even in the raw database files (WAL included).
        for path in settings.data_dir.glob("ecolink.db*"):
            raw = path.read_bytes()
            assert PASSWORD.encode() not in raw and not any(t.encode() in raw for t in tokens), path


# -- logs ----------------------------------------------------------------------------------

LOG_PASSWORD = "Log-Secret-pw-密码-4711"
LOG_BODY = "confidential body 机密 0xC0FFEE"


@pytest.fixture(params=["embedded", "production"])
def serve_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "embedded":
        return {}
    return {"ECOLINK_DATABASE_URL": request.getfixturevalue("pg_dsn"),
            "ECOLINK_REDIS_URL": request.getfixturevalue("redis_url"),
            "ECOLINK_REDIS_PREFIX": request.getfixturevalue("redis_prefix")}


async def test_logs_never_contain_passwords_tokens_or_message_bodies(tmp_path, serve_env):
    """A real `ecolink serve` at debug level (the most verbose an operator can ask for), its
    logs captured as the operator sees them."""
    secrets: list[str] = [LOG_PASSWORD, LOG_BODY]
    async with ecolink_serve(tmp_path / "data", ECOLINK_LOG_LEVEL="debug", **serve_env) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=timeout(10)) as http:
            account = {"email": "log@example.test", "password": LOG_PASSWORD, "display_name": "Log"}
            created = await create_account(http, account)
            assert created.status_code == 201
            await create_account(http, account)  # 409
            await create_account(http, {**account, "password": [LOG_PASSWORD]})  # 422
            await create_account(http, {**account, "email": "x", "password": LOG_PASSWORD + "!"})
            await http.post("/api/v1/sessions", json={**account, "password": LOG_PASSWORD + "-wrong"})
            await http.post("/api/v1/sessions", content=f'{{"password": "{LOG_PASSWORD}"',
                            headers={"Content-Type": "application/json"})  # bad JSON
            login = await http.post("/api/v1/sessions", json=account)
            token = login.json()["token"]
            secrets += [created.json()["token"], token, LOG_PASSWORD + "-wrong"]
            await http.get("/api/v1/me", headers=cookie(token))
            await http.get("/api/v1/me", headers=bearer(token + "x"))
        for binary in (False, True):  # JSON text frames and msgpack binary frames
            ws = await WsClient.connect(served.ws_url, token, binary=binary)
            await ws.join("solid-waste")
            await ws.send("solid-waste", LOG_BODY, cid=f"c-{binary}")
            await ws.recv_until(lambda f: f["type"] == "ack")
            await ws.send("atlantis", LOG_BODY)  # not_found
            await ws.send_frame({"type": "send", "room": "solid-waste", "body": LOG_BODY})  # no cid
            await ws.send_frame({"type": "dance", "body": LOG_BODY})
            await ws.ws.send('{"type": "send", "body": "' + LOG_BODY)  # bad JSON / text on msgpack
            await ws.send_frame({"type": "ping"})
            await ws.recv_until(lambda f: f["type"] == "pong")
        with contextlib.suppress(Exception):
            await websockets.connect(served.ws_url, additional_headers=cookie(token),
                                     origin="https://evil.example", open_timeout=timeout(10))
        code = await served.stop()
        output = served.output()
    assert code == 0, output
    # The capture works: it holds the node's own events, uvicorn's access lines, and errors.
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    names = {event["event"] for event in events}
    assert "node.started" in names, output
    assert any("POST /api/v1/sessions" in name and "401" in name for name in names), output
    assert any("/ws" in name for name in names), output
    for secret in secrets:
        assert secret not in output, f"a secret leaked into the logs: {secret[:6]}…"
        assert json.dumps(secret)[1:-1] not in output  # nor in its JSON-escaped form



RECOVERY_PASSWORD = "Reset-pw-新密码-0815"
REPORT_NOTE = "report note 举报 0xBADF00D"


def mailed_token(message: Any, kind: str) -> str:
    found = re.search(rf"#/{kind}/([A-Za-z0-9_-]+)", text_of(message))
    assert found, kind
    return found.group(1)


async def test_logs_never_contain_links_two_factor_secrets_codes_or_report_notes(tmp_path, serve_env, mailbox):
    """The same capture over what issue 15 added: mailed verification, reset and email-change
    links, a reset's new password, the two-factor secret, its codes and recovery codes, and a
    report's note, at debug level with the mail going through a real SMTP server."""
    secrets: list[str] = [LOG_PASSWORD, RECOVERY_PASSWORD, REPORT_NOTE]
    email, moved = "keep@example.test", "moved@example.test"
    async with ecolink_serve(tmp_path / "data", ECOLINK_LOG_LEVEL="debug", **serve_env, **mailbox.env) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=timeout(10)) as http:
            created = await create_account(http, {"email": email, "password": LOG_PASSWORD, "display_name": "Keep"})
            other = await create_account(http, {"email": "other@example.test", "password": LOG_PASSWORD,
                                                "display_name": "Other"})
            assert created.status_code == other.status_code == 201, created.text
            verify = mailed_token(await mailbox.wait_for(to=email, subject="Confirm"), "verify")
            ok = await http.post("/api/v1/account/verification/confirm", json={"token": verify})
            assert ok.status_code == 200, ok.text
            assert (await http.post("/api/v1/account/password-reset", json={"email": email})).status_code == 202
            reset = mailed_token(await mailbox.wait_for(to=email, subject="Reset"), "reset")
            wrong = await http.post("/api/v1/account/password-reset/confirm",
                                    json={"token": reset + "x", "password": RECOVERY_PASSWORD})
            assert wrong.status_code == 400
            done = await http.post("/api/v1/account/password-reset/confirm",
                                   json={"token": reset, "password": RECOVERY_PASSWORD})
            assert done.status_code == 204, done.text
            login = await http.post("/api/v1/sessions", json={"email": email, "password": RECOVERY_PASSWORD})
            session = login.json()["token"]
            change = await http.post("/api/v1/account/email", headers=bearer(session),
                                     json={"email": moved, "password": RECOVERY_PASSWORD})
            assert change.status_code == 202, change.text
            confirm = mailed_token(await mailbox.wait_for(to=moved), "email")
            assert (await http.post("/api/v1/account/email/confirm", json={"token": confirm})).status_code == 200
            setup = await http.post("/api/v1/account/two-factor/setup", headers=bearer(session),
                                    json={"password": RECOVERY_PASSWORD})
            secret = setup.json()["secret"]
            code = pyotp.TOTP(secret).now()
            enabled = await http.post("/api/v1/account/two-factor/enable", headers=bearer(session), json={"code": code})
            codes = enabled.json()["recovery_codes"]
            second = await http.post("/api/v1/sessions", json={"email": moved, "password": RECOVERY_PASSWORD,
                                                               "code": codes[0]})
            assert second.status_code == 200, second.text
            report = await http.post("/api/v1/reports", headers=bearer(session), json={
                "member": other.json()["user"]["id"], "reason": "spam", "note": REPORT_NOTE})
            assert report.status_code in (200, 201), report.text
            secrets += [verify, reset, confirm, secret, *codes, session, second.json()["token"]]
        assert await served.stop() == 0
        output = served.output()
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("/api/v1/account/password-reset/confirm" in event["event"] for event in events), output
    for secret in secrets:
        assert secret not in output, f"a secret leaked into the logs: {secret[:4]}…"
        assert json.dumps(secret)[1:-1] not in output
    # A six-digit code can occur by chance inside other numbers: no logged value is the code.
    assert all(code not in map(str, event.values()) for event in events)


async def test_a_refused_handshake_logs_no_error(make_settings, caplog):
    # uvicorn's websockets-sansio logs ERROR after a denial response unless told the handshake
    # ended (chat/transport/ws.py): anyone could fill an error log with refused connections.
    async with running_nodes(make_settings()) as [node]:
        with caplog.at_level(logging.INFO, logger="uvicorn.error"):
            assert await ws_status(node, bearer("not-a-token")) == 401
            assert await ws_status(node, {}) == 401
            await asyncio.sleep(0.2)  # the ASGI task returns after the response is written
    refused = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert any("401" in r.getMessage() for r in refused), refused  # the access line is still there
    assert [r.getMessage() for r in refused if r.levelno >= logging.ERROR] == []
