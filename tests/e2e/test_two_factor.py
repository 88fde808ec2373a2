"""Two-factor sign-in over real sockets (chat/accounts/two_factor.py), on both backends: setup,
enabling with a code the test computes with pyotp, the login's second step, each code and each
recovery code accepted once, wrong codes counted by the login limits, regenerating and turning
it off, bad input, and the operator's requirement for staff (ECOLINK_ADMIN_TWO_FACTOR)."""

from __future__ import annotations

import time
from typing import Any

import pyotp

from tests.support.client import call, register
from tests.support.nodes import NodeServer, running_nodes

RIGHT = "correct horse"  # tests/support/client.py registers with it
QUICK = {"login_delay_step_s": 0.01, "login_delay_max_s": 0.05}


def code_at(secret: str, steps_ahead: int, since: float | None = None) -> str:
    """The TOTP code `steps_ahead` 30-second steps from `since` (default now; the server
    accepts -1..+1 of its now)."""
    return pyotp.TOTP(secret).at((time.time() if since is None else since) + 30 * steps_ahead)


def wrong_codes(secret: str, count: int) -> list[str]:
    """Six-digit codes none of which the server accepts in the next minute or two."""
    window = {code_at(secret, steps) for steps in range(-2, 5)}
    return [code for code in (f"{n:06d}" for n in range(count + len(window))) if code not in window][:count]


async def login(node: NodeServer, email: str, password: str = RIGHT, **extra: Any):
    return await call(node, "POST", "/api/v1/sessions", None,
                      json={"email": email, "password": password, **extra})


async def enabled(node: NodeServer, account: dict[str, Any]) -> tuple[str, list[str]]:
    """Turn two-factor on for the account: its secret and recovery codes."""
    setup = await call(node, "POST", "/api/v1/account/two-factor/setup", account, json={"password": RIGHT})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    answer = await call(node, "POST", "/api/v1/account/two-factor/enable", account,
                        json={"code": code_at(secret, 0)})
    assert answer.status_code == 200, answer.text
    return secret, answer.json()["recovery_codes"]


def error_code(response) -> str:
    return response.json()["error"]["code"]


async def test_setup_enable_and_the_login_second_step(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        me = (await call(node, "GET", "/api/v1/me", ann)).json()["user"]
        assert me["two_factor"] == {"enabled": False, "required": False}

        setup = (await call(node, "POST", "/api/v1/account/two-factor/setup", ann, json={"password": RIGHT})).json()
        assert setup["uri"].startswith("otpauth://totp/EcoLink:") and setup["secret"] in setup["uri"]
        assert setup["qr_svg"].startswith("<svg")
        # Not on yet: signing in asks for nothing.
        assert (await login(node, email)).status_code == 200
        wrong = await call(node, "POST", "/api/v1/account/two-factor/enable", ann,
                           json={"code": wrong_codes(setup["secret"], 1)[0]})
        assert wrong.status_code == 422 and error_code(wrong) == "invalid"
        enabled_at = time.time()  # the steps below count from the enabling code's, whichever
        # 30-second boundary the test crosses meanwhile
        answer = await call(node, "POST", "/api/v1/account/two-factor/enable", ann,
                            json={"code": code_at(setup["secret"], 0, enabled_at)})
        codes = answer.json()["recovery_codes"]
        assert answer.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
        assert answer.headers["cache-control"] == "no-store"
        state = (await call(node, "GET", "/api/v1/account/two-factor", ann)).json()
        assert state == {"enabled": True, "required": False, "recovery_codes_left": 10}
        again = await call(node, "POST", "/api/v1/account/two-factor/setup", ann, json={"password": RIGHT})
        assert again.status_code == 409  # on: the secret stays

        asked = await login(node, email)
        assert asked.status_code == 401 and error_code(asked) == "second_factor_required"
        assert "set-cookie" not in asked.headers and "token" not in asked.json()
        assert error_code(await login(node, email, "wrong password",
                                      code=code_at(setup["secret"], 1, enabled_at))) == "unauthorized"
        # The enabling code's step is spent; the next step's code signs in, once.
        assert (await login(node, email, code=code_at(setup["secret"], 0, enabled_at))).status_code == 401
        signed_in = await login(node, email, code=code_at(setup["secret"], 1, enabled_at))
        assert signed_in.status_code == 200 and signed_in.json()["token"]
        assert (await login(node, email, code=code_at(setup["secret"], 1, enabled_at))).status_code == 401
        # A recovery code, as printed or typed loosely, once.
        assert (await login(node, email, code=codes[0].upper().replace("-", " "))).status_code == 200
        assert (await login(node, email, code=codes[0])).status_code == 401
        state = (await call(node, "GET", "/api/v1/account/two-factor", ann)).json()
        assert state["recovery_codes_left"] == 9


async def test_wrong_codes_count_as_failed_logins(backend):
    async with running_nodes(backend(**QUICK)) as [node]:
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        secret, _ = await enabled(node, ann)
        # Asking for the second step costs nothing: many times, never refused.
        for _ in range(8):
            assert error_code(await login(node, email)) == "second_factor_required"
        guesses = [*wrong_codes(secret, 6), "abcde-fghjk"]
        for attempt, guess in enumerate(guesses):
            answer = await login(node, email, code=guess)
            assert answer.status_code == (401 if attempt < 5 else 429), (attempt, answer.text)
        # Refused now even with the right code: the guesser learns nothing more.
        assert (await login(node, email, code=code_at(secret, 1))).status_code == 429


async def test_regenerating_codes_and_turning_it_off(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        secret, codes = await enabled(node, ann)
        fresh = await call(node, "POST", "/api/v1/account/two-factor/recovery-codes", ann,
                           json={"code": codes[0]})
        assert fresh.status_code == 200, fresh.text
        new_codes = fresh.json()["recovery_codes"]
        assert (await login(node, email, code=codes[1])).status_code == 401  # the old ones are gone
        assert (await login(node, email, code=new_codes[1])).status_code == 200

        off = "/api/v1/account/two-factor/disable"
        no_code = await call(node, "POST", off, ann, json={"password": RIGHT})
        assert no_code.status_code == 401 and error_code(no_code) == "second_factor_required"
        bad_password = await call(node, "POST", off, ann, json={"password": "nope", "code": new_codes[2]})
        assert bad_password.status_code == 401 and error_code(bad_password) == "unauthorized"
        assert (await call(node, "POST", off, ann, json={"password": RIGHT, "code": code_at(secret, 1)})).status_code == 204
        assert (await login(node, email)).status_code == 200  # no second step any more
        again = await call(node, "POST", "/api/v1/account/two-factor/recovery-codes", ann,
                           json={"code": new_codes[3]})
        assert again.status_code == 409


async def test_bad_input_changes_nothing(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "ann")
        email = ann["user"]["email"]
        enable = "/api/v1/account/two-factor/enable"
        assert (await call(node, "POST", enable, ann, json={"code": "123456"})).status_code == 409  # no setup
        for body in ({"code": 123456}, {"code": "1" * 33}, {"code": ""}, {}, {"code": None}):
            answer = await call(node, "POST", enable, ann, json=body)
            assert answer.status_code == 422 and error_code(answer) == "invalid", body
        assert (await call(node, "POST", enable, ann, content=b"{", headers={"content-type": "application/json"})).status_code == 400
        for body in ({"email": email, "password": RIGHT, "code": 5}, {"email": email, "password": RIGHT, "code": "9" * 40}):
            assert (await login(node, email, **{k: v for k, v in body.items() if k == "code"})).status_code == 422
        assert (await call(node, "POST", enable, None, json={"code": "123456"})).status_code == 401
        state = (await call(node, "GET", "/api/v1/account/two-factor", ann)).json()
        assert state == {"enabled": False, "required": False, "recovery_codes_left": 0}
        assert (await login(node, email)).status_code == 200


async def test_staff_need_two_factor_when_the_operator_requires_it(backend):
    async with running_nodes(backend(admin_two_factor="required")) as [node]:
        admin = await register(node.url, "boss")
        await node.node.profiles.set_role_by_email(admin["user"]["email"], "admin")
        member = await register(node.url, "ann")
        me = (await call(node, "GET", "/api/v1/me", admin)).json()["user"]
        assert me["two_factor"] == {"enabled": False, "required": True}
        assert (await call(node, "GET", "/api/v1/sessions", admin)).json()["user"]["two_factor"]["required"]
        staff_routes = [("GET", "/api/v1/admin/audit", {}),
                        ("GET", "/api/v1/admin/export?all=true", {}),
                        ("PUT", f"/api/v1/members/{member['user']['id']}/role", {"json": {"role": "moderator"}})]
        for method, path, extra in staff_routes:
            refused = await call(node, method, path, admin, **extra)
            assert refused.status_code == 403 and error_code(refused) == "two_factor_setup_required", path
            # A member is refused as before: not staff.
            assert error_code(await call(node, method, path, member, **extra)) == "forbidden"
        assert (await call(node, "GET", "/api/v1/members/" + str(member["user"]["id"]), member)).json()["member"]["role"] == "member"
        await enabled(node, admin)
        assert (await call(node, "GET", "/api/v1/me", admin)).json()["user"]["two_factor"] == {"enabled": True, "required": True}
        assert (await call(node, "GET", "/api/v1/admin/audit", admin)).status_code == 200
        granted = await call(node, "PUT", f"/api/v1/members/{member['user']['id']}/role", admin,
                             json={"role": "moderator"})
        assert granted.status_code == 200, granted.text


async def test_optional_by_default_staff_act_without_it(backend):
    async with running_nodes(backend()) as [node]:
        admin = await register(node.url, "boss")
        await node.node.profiles.set_role_by_email(admin["user"]["email"], "admin")
        assert (await call(node, "GET", "/api/v1/admin/audit", admin)).status_code == 200
        assert (await call(node, "GET", "/api/v1/me", admin)).json()["user"]["two_factor"] == {"enabled": False, "required": False}


async def test_setting_up_asks_the_password_so_a_stolen_session_cannot_lock_the_owner_out(backend):
    async with running_nodes(backend(**QUICK)) as [node]:
        ann = await register(node.url, "ann")
        setup = "/api/v1/account/two-factor/setup"
        for body in ({}, {"password": 5}, {"password": "x" * 1025}):
            answer = await call(node, "POST", setup, ann, json=body)
            assert answer.status_code == 422 and error_code(answer) == "invalid", body
        wrong = await call(node, "POST", setup, ann, json={"password": "not it"})
        assert wrong.status_code == 401 and error_code(wrong) == "unauthorized"
        assert (await call(node, "POST", setup, None, json={"password": RIGHT})).status_code == 401
        # Nothing pending: enable has nothing to turn on.
        assert (await call(node, "POST", "/api/v1/account/two-factor/enable", ann,
                           json={"code": "123456"})).status_code == 409
        for _ in range(5):
            await call(node, "POST", setup, ann, json={"password": "not it"})
        # Wrong passwords count in the login limits.
        assert (await call(node, "POST", setup, ann, json={"password": RIGHT})).status_code == 429
        assert (await call(node, "GET", "/api/v1/account/two-factor", ann)).json()["enabled"] is False


async def test_wrong_codes_for_new_recovery_codes_are_capped_per_account(backend):
    async with running_nodes(backend()) as [node]:
        ann = await register(node.url, "ann")
        secret, codes = await enabled(node, ann)
        fresh = "/api/v1/account/two-factor/recovery-codes"
        for guess in wrong_codes(secret, 5):
            answer = await call(node, "POST", fresh, ann, json={"code": guess})
            assert answer.status_code == 422, answer.text
        capped = await call(node, "POST", fresh, ann, json={"code": codes[0]})
        assert capped.status_code == 429 and error_code(capped) == "rate_limited"
        assert "retry-after" in capped.headers
        # The right code was not spent: it still signs in.
        assert (await login(node, ann["user"]["email"], code=codes[0])).status_code == 200
