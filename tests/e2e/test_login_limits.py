"""Login and registration limits over real sockets (chat/accounts/throttle.py): guesses sent
concurrently are all counted, on one node or across two; a guesser is refused for the account
it guesses from its own address only, never the owner elsewhere nor the other people behind
the same address; registrations per address are limited; the hashing pool refuses at once
when full instead of queueing everyone. Other addresses are real: clients bind 127.0.0.x."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.client import create_account, proof, register
from tests.support.nodes import NodeServer, running_nodes
from tests.support.store_data import table_rows
from tests.support.timing import timeout

RIGHT = "correct horse"  # tests/support/client.py registers with it
QUICK = {"login_delay_step_s": 0.01, "login_delay_max_s": 0.05}  # slowed, but not for long


def client(node: NodeServer, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client whose connections come from `address` (any of 127.0.0.0/8 reaches the node)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=node.url, timeout=timeout(30), transport=transport)


async def login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/sessions", json={"email": email, "password": password})


def assert_retry_after(response: httpx.Response, code: str = "rate_limited") -> None:
    error = response.json()["error"]
    assert error["code"] == code, response.text
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1 and error["retry_after"] == retry_after
    assert "set-cookie" not in response.headers and "token" not in response.json()


async def test_concurrent_guesses_are_all_counted_across_nodes(backend):
    """The attack: 30 wrong passwords at once were all checked (30 x 401, no 429), because
    the failure count was read before hashing and written after. Now each is counted first:
    exactly login_failures_max are checked, on one node or spread over two."""
    make = backend
    nodes = [make(**QUICK), make(**QUICK)] if make().database_url else [make(**QUICK)]
    async with running_nodes(*nodes) as started:
        email = (await register(started[0].url))["user"]["email"]
        clients = [client(node) for node in started]
        try:
            answers = await asyncio.gather(*(
                login(clients[i % len(clients)], email, f"wrong-guess-{i}") for i in range(30)))
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [401] * 5 + [429] * 25, statuses
            for answer in answers:
                if answer.status_code == 429:
                    assert_retry_after(answer)
            # This address has had its guesses on this account: the right password is refused
            # too (else the next guess would be free), on either node.
            for http in clients:
                assert_retry_after(await login(http, email, RIGHT))
        finally:
            for http in clients:
                await http.aclose()


async def test_the_owner_elsewhere_is_never_locked_out_by_a_guesser(backend):
    """The attack: five wrong passwords from anywhere locked the owner out for 15 minutes."""
    async with running_nodes(backend(**QUICK)) as [node]:
        ann = await register(node.url)
        email = ann["user"]["email"]
        async with client(node, "127.0.0.2") as guesser:
            for attempt in range(8):
                answer = await login(guesser, email, f"wrong-{attempt}-x")
                assert answer.status_code == (401 if attempt < 5 else 429), attempt
        # More guessers, each from its own address (a distributed guess): each is slowed by the
        # account's failures, none is refused a first try.
        for n in range(3, 6):
            async with client(node, f"127.0.0.{n}") as guesser:
                assert (await login(guesser, email, "wrong-again-x")).status_code == 401
        async with client(node, "127.0.0.1") as owner:
            assert (await login(owner, email, "a typo in it")).status_code == 401  # not 429
            ok = await login(owner, email, RIGHT)
            assert ok.status_code == 200, ok.text
            assert ok.json()["user"]["id"] == ann["user"]["id"]
        # The owner's success forgives nothing of the guesser's.
        async with client(node, "127.0.0.2") as guesser:
            assert_retry_after(await login(guesser, email, RIGHT))


async def test_failures_at_one_address_do_not_lock_out_the_others_there(backend):
    """The attack: twenty failures from one address (a workshop on one Wi-Fi) locked out
    everyone behind it. Failures there now slow attempts from it; right passwords still work."""
    settings = backend(login_address_failures_max=5, **QUICK)
    async with running_nodes(settings) as [node]:
        members = [await register(node.url) for _ in range(4)]
        async with client(node, "127.0.0.7") as wifi:
            for member in members:  # 4 members x 4 typos = 16 failures, 3x the address limit
                for typo in range(4):
                    answer = await login(wifi, member["user"]["email"], f"typo-{typo}-x")
                    assert answer.status_code == 401
            for n in range(10):  # and someone trying emails that have no account
                assert (await login(wifi, f"nobody{n}@example.test", "whatever-x")).status_code == 401
            for member in members:
                ok = await login(wifi, member["user"]["email"], RIGHT)
                assert ok.status_code == 200, ok.text
            newcomer = await register(node.url)
            assert (await login(wifi, newcomer["user"]["email"], RIGHT)).status_code == 200


async def test_registrations_per_address_are_limited(backend):
    """The attack: ~500 accounts a minute from one address."""
    make = backend
    two = bool(make().database_url)
    settings = [make(register_per_address_max=3) for _ in range(2 if two else 1)]
    async with running_nodes(*settings) as nodes:
        created = []
        for n in range(5):
            node = nodes[n % len(nodes)]  # shared across nodes in production
            async with client(node, "127.0.0.9") as http:
                created.append(await create_account(http, {
                    "email": f"flood{n}@example.test", "password": RIGHT, "display_name": f"Flood {n}"}))
        assert [r.status_code for r in created] == [201, 201, 201, 429, 429]
        for refused in created[3:]:
            assert_retry_after(refused)
            assert refused.json()["error"]["message"] == "too many new accounts from your address; try again later"
        async with client(nodes[-1], "127.0.0.10") as other:
            again = await create_account(other, {
                "email": "someone@example.test", "password": RIGHT, "display_name": "Someone"})
            assert again.status_code == 201, again.text
        emails = {row["email"] for row in await table_rows(settings[0], "users")}
        assert emails == {"flood0@example.test", "flood1@example.test", "flood2@example.test",
                          "someone@example.test"}


async def test_a_full_hashing_pool_answers_busy_at_once(make_settings):
    """The attack: during a registration flood a bystander's login waited behind every queued
    hash. Now at most workers + queue hashes are in the pool; one more is refused with 503,
    before its proof is spent (scripts/bench floods found the refusals waiting on the proof
    check and the count first): the same proof registers once the pool has room."""
    settings = make_settings(argon2_profile="rfc9106_low_memory", password_hash_workers=1,
                             password_hash_queue=0, register_per_address_max=13)
    async with running_nodes(settings) as [node], client(node) as http:
        bystander = await create_account(http, {
            "email": "bystander@example.test", "password": RIGHT, "display_name": "Bystander"})
        assert bystander.status_code == 201

        bodies = [{"email": f"flood{n}@example.test", "password": RIGHT, "display_name": f"F {n}",
                   "proof": await proof(http)} for n in range(12)]
        answers = await asyncio.gather(*(create_account(http, body) for body in bodies))
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {201, 503}, statuses
        for answer in answers:
            if answer.status_code == 503:
                assert_retry_after(answer, "busy")
                assert "busy" in answer.json()["error"]["message"]
        # A refused registration left nothing behind, and a login afterwards works.
        rows: list[dict[str, Any]] = await table_rows(settings, "users")
        assert len(rows) == 1 + statuses.count(201)
        # ... nor spent its proof: the same body, sent again, registers.
        retried = bodies[statuses.index(503)]
        again = await create_account(http, retried)
        assert again.status_code == 201, again.text
        # ... nor counted towards the registration limit (13: the bystander and 12 tries).
        late = await create_account(http, {
            "email": "late@example.test", "password": RIGHT, "display_name": "Late"})
        assert late.status_code == 201, late.text
        assert (await login(http, "bystander@example.test", RIGHT)).status_code == 200
