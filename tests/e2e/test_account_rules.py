"""Account rules over real sockets: login and registration refuse cross-site form posts (the
Origin rule, and application/json exactly); common and degenerate passwords are refused; one
account per email whatever its lookalike spelling; staff names are reserved for staff."""

from __future__ import annotations

import json
import sqlite3

import httpx

from chat.accounts.names import RESERVED_WORDS
from tests.support.client import bearer, http_client, register, create_account
from tests.support.nodes import running_nodes
from tests.support.store_data import table_rows

PASSWORD = "Corr3ct-horse-电池-staple"


def form_body(doc: dict[str, str]) -> str:
    """What an HTML form with enctype="text/plain" sends for one field named `{"a":"b","x":"`
    with the value `"}`: the trick that makes a form post a JSON document (name=value)."""
    text = json.dumps({**doc, "x": ""})
    return text[:-2] + '="}'


async def test_a_cross_site_form_cannot_log_a_visitor_in(backend):
    """The attack: a page on another port of the same host posted a text/plain form to the
    login route, and the victim's browser was logged in as the attacker."""
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        attacker = await register(node.url)
        creds = {"email": attacker["user"]["email"], "password": "correct horse"}
        foreign = f"http://127.0.0.1:{node.port + 1}"
        # Exactly what Chromium sends for such a form (tests/browser/test_login_csrf.py).
        for path, doc in (("/api/v1/sessions", creds),
                          ("/api/v1/accounts", {**creds, "email": "x@example.test", "display_name": "X"})):
            for content_type in ("text/plain", "text/plain;application/json"):
                refused = await http.post(path, content=form_body(doc), headers={
                    "Origin": foreign, "Content-Type": content_type})
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"]["code"] == "forbidden"
                assert "set-cookie" not in refused.headers
        # From the node's own page, a form's text/plain is still not JSON.
        for content_type in ("text/plain;application/json", "text/plain; x=application/json",
                             "application/jsonx", "application/json-patch+json", ""):
            refused = await http.post("/api/v1/sessions", content=json.dumps(creds), headers={
                "Origin": node.url, "Content-Type": content_type})
            assert refused.status_code == 400, (content_type, refused.text)
            assert "set-cookie" not in refused.headers
        # application/json with parameters, from the own origin or from a client with no
        # Origin (not a browser), works.
        for headers in ({"Origin": node.url, "Content-Type": "application/json; charset=utf-8"},
                        {"Content-Type": "Application/JSON"}):
            ok = await http.post("/api/v1/sessions", content=json.dumps(creds), headers=headers)
            assert ok.status_code == 200, ok.text
        # Every JSON body route parses the media type the same way.
        patch = await http.patch("/api/v1/me/profile", content=json.dumps({"city": "Hefei"}), headers={
            **bearer(attacker["token"]), "Content-Type": "text/plain;application/json"})
        assert patch.status_code == 400


async def test_common_and_degenerate_passwords_are_refused(backend):
    """The attack: 12345678, password, eight spaces and eight NULs were accepted."""
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        refused = ["12345678", "password", "Password", "PASSWORD1", "qwertyuiop", "iloveyou",
                   "ｐａｓｓｗｏｒｄ", " " * 8, "\t" * 10, "\x00" * 8, "\u200b" * 8, "aaaaaaaa",
                   "AaAaAaAa", "11111111111", "ab\x00cdefgh", "short"]
        for n, password in enumerate(refused):
            answer = await create_account(http, {
                "email": f"p{n}@example.test", "password": password, "display_name": "P"})
            assert answer.status_code == 422, repr(password)
            error = answer.json()["error"]
            assert set(error["details"]) == {"password"}, repr(password)
            assert "12345678" not in answer.text and "qwerty" not in answer.text  # not echoed
        for password in ("correct horse", PASSWORD, "长城很长很长很长", "plan-Zhuhai-2030"):
            created = await create_account(http, {
                "email": f"ok{len(password)}{password[:2]}@example.test".encode("ascii", "ignore").decode(),
                "password": password, "display_name": "Fine"})
            assert created.status_code == 201, (password, created.text)
        rows = await table_rows(node.settings, "users")
        assert len(rows) == 4


async def test_one_account_per_email_however_it_is_spelt(backend):
    """The attack: a trailing dot, full-width or Cyrillic lookalikes, a zero-width space and
    Unicode vs punycode domains each made a separate account; <script>@x.test was accepted."""
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        async def register_as(email: str) -> httpx.Response:
            return await create_account(http, {
                "email": email, "password": PASSWORD, "display_name": "Ann"})

        assert (await register_as("ann@example.test")).status_code == 201
        for same in ("ann@example.test.", "ＡＮＮ@ｅｘａｍｐｌｅ.ｔｅｓｔ", "Ann@Example.Test"):
            taken = await register_as(same)
            assert taken.status_code == 409, same
        for refused in ("an\u200bn@example.test", "ann@exa\u200dmple.test", "\u0430nn@example.test",
                        "ann@ex\u0430mple.test", "<script>@x.test", "a\"b@x.test", "ann@x_y.test",
                        "ann@localhost", "a..b@example.test", "ann@@example.test", "ann\u202e@x.test"):
            answer = await register_as(refused)
            assert answer.status_code == 422, refused
            assert set(answer.json()["error"]["details"]) == {"email"}, refused
        # Unicode and punycode domains are one domain, stored in its Unicode form.
        assert (await register_as("wang@例子.中国")).status_code == 201
        assert (await register_as("wang@xn--fsqu00a.xn--fiqs8s")).status_code == 409
        login = await http.post("/api/v1/sessions", json={"email": "WANG@xn--fsqu00a.xn--fiqs8s.",
                                                          "password": PASSWORD})
        assert login.status_code == 200 and login.json()["user"]["email"] == "wang@例子.中国"
        for spelling in ("ann@example.test.", "ａｎｎ@example.test", " ANN@EXAMPLE.TEST "):
            ok = await http.post("/api/v1/sessions", json={"email": spelling, "password": PASSWORD})
            assert ok.status_code == 200, spelling
        emails = sorted(row["email"] for row in await table_rows(node.settings, "users"))
        assert emails == ["ann@example.test", "wang@例子.中国"]


async def test_an_account_stored_before_the_email_rules_still_logs_in(make_settings):
    settings = make_settings()
    async with running_nodes(settings) as [node], http_client(node.url) as http:
        await register(node.url)  # creates the database
        # An address stored as it was typed (stripped, lowercased) by an older version.
        created = await create_account(http, {
            "email": "old@example.test", "password": PASSWORD, "display_name": "Old"})
        assert created.status_code == 201
        with sqlite3.connect(settings.sqlite_path) as db:
            db.execute("UPDATE users SET email = 'old@ｅｘａｍｐｌｅ.test.' WHERE email = 'old@example.test'")
        login = await http.post("/api/v1/sessions", json={"email": "old@ｅｘａｍｐｌｅ.test.",
                                                          "password": PASSWORD})
        assert login.status_code == 200, login.text
        # ... and nobody can register its canonical spelling beside it.
        again = await create_account(http, {
            "email": "old@ｅｘａｍｐｌｅ.test.", "password": PASSWORD, "display_name": "Other"})
        assert again.status_code == 409


async def test_staff_names_and_their_lookalikes_are_reserved(backend):
    """The attack: anyone could be called "Admin", or "Аdmin" with a Cyrillic А."""
    async with running_nodes(backend()) as [node], http_client(node.url) as http:
        names = [*RESERVED_WORDS, "Аdmin", "ＡＤＭＩＮ", "Ad-min", "adm1n", "The Admin", "Support Team",
                 "EC Link", "管理员小王", "客 服", "Moderator"]
        for n, name in enumerate(names):
            answer = await create_account(http, {
                "email": f"n{n}@example.test", "password": PASSWORD, "display_name": name})
            assert answer.status_code == 422, name
            assert answer.json()["error"]["details"] == {
                "display_name": "is reserved for the platform's staff; choose another name"}
        member = await register(node.url, "Badminton")
        for name in ("Аdmin", "System"):
            change = await http.patch("/api/v1/me/profile", json={"display_name": name},
                                      headers=bearer(member["token"]))
            assert change.status_code == 422, name
        # Staff may carry them.
        await node.node.profiles.set_role_by_email(member["user"]["email"], "moderator")
        change = await http.patch("/api/v1/me/profile", json={"display_name": "Moderator"},
                                  headers=bearer(member["token"]))
        assert change.status_code == 200, change.text
