"""Email end to end (chat/mail/): nodes send through a real SMTP server on loopback (aiosmtpd,
tests/support/mailbox.py); the outbox survives SMTP outages and node restarts and sends once;
preferences and the one-click unsubscribe over HTTP, with bad input."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from chat.mail.letters import Action, Letter, render
from chat.mail.service import Mail
from tests.support.client import call, http_client, register
from tests.support.history import eventually
from tests.support.mailbox import Mailbox, html_of, text_of
from tests.support.nodes import running_nodes

LETTER = Letter("A reply to you", "有人回复了您", ("Ann replied.",), ("Ann 回复了。",),
                Action("http://chat.test/#/rooms/zhuhai", "Open", "打开"))
DEFAULTS = {"direct": True, "mention": True, "reply": True, "webinar_reminder": True,
            "digest": "off", "digest_rooms": [], "language": None}


def mail(to: str, subject: str = "A reply to you", **options) -> Mail:
    letter = Letter(subject, "有人回复了您", LETTER.paragraphs_en, LETTER.paragraphs_zh, LETTER.action)
    return Mail(to, options.pop("kind", "verify"), render(letter, options.pop("lang", "en")), **options)


async def sentinel_passes(node, mailbox, to: str) -> None:
    """A later mail arrives: whatever the sender had before it was tried (to count what came)."""
    await node.node.mail.enqueue(mail(to, "sentinel"))
    await mailbox.wait_for(to=to, subject="sentinel")


async def test_a_node_sends_an_enqueued_mail_with_its_headers_once(backend, mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        assert await node.node.mail.enqueue(mail("ann@example.org", dedupe_key="k1")) is True
        assert await node.node.mail.enqueue(mail("ann@example.org", dedupe_key="k1")) is False
        message = await mailbox.wait_for(to="ann@example.org", subject="A reply to you")
        assert message["From"] == "EcoLink <noreply@ecolink.test>"
        assert message["Message-ID"].endswith("@ecolink.test>") and message["Date"]
        assert "Ann replied." in text_of(message) and "Ann replied." in html_of(message)
        assert message.get("List-Unsubscribe") is None
        await sentinel_passes(node, mailbox, "ann@example.org")
        assert len(mailbox.matching(to="ann@example.org", subject="A reply")) == 1
        assert (await node.node.store.outbox_mail_by_key("k1")).status == "sent"


async def test_an_smtp_outage_delays_the_mail_which_then_arrives_once(backend, mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        store = node.node.store
        mailbox.stop()
        await node.node.mail.enqueue(mail("bob@example.org", dedupe_key="outage"))

        async def tried_twice() -> bool:
            row = await store.outbox_mail_by_key("outage")
            return row.attempts >= 2 and row.status == "queued"

        await eventually(tried_twice, "two attempts while the SMTP server is down")
        assert (await store.outbox_mail_by_key("outage")).last_error == "unreachable"
        mailbox.start()
        first = await mailbox.wait_for(to="bob@example.org", subject="A reply to you")
        await sentinel_passes(node, mailbox, "bob@example.org")
        assert mailbox.matching(to="bob@example.org", subject="A reply") == [first]
        row = await store.outbox_mail_by_key("outage")
        assert row.status == "sent" and first["Message-ID"] == f"<{row.mail_id}@ecolink.test>"


async def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails_at_once(backend, mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        store = node.node.store
        mailbox.answer = "451 4.3.0 try again later"
        await node.node.mail.enqueue(mail("cy@example.org", dedupe_key="later"))
        await eventually(lambda: _attempts(store, "later", 2), "a second try after a 451")
        mailbox.answer = None
        await mailbox.wait_for(to="cy@example.org")
        mailbox.answer = "550 5.1.1 no such mailbox"
        await node.node.mail.enqueue(mail("gone@example.org", dedupe_key="never"))

        async def failed() -> bool:
            return (await store.outbox_mail_by_key("never")).status == "failed"

        await eventually(failed, "the 550 fails the mail")
        row = await store.outbox_mail_by_key("never")
        assert (row.attempts, row.last_error) == (1, "smtp 550 recipient")
        mailbox.answer = None
        await sentinel_passes(node, mailbox, "cy@example.org")
        assert mailbox.matching(to="gone@example.org") == []


async def _attempts(store, key: str, at_least: int) -> bool:
    return (await store.outbox_mail_by_key(key)).attempts >= at_least


async def test_mail_survives_its_node_and_another_node_sends_it_once(production, mailbox):
    # Node A queues without SMTP (as if it stopped before sending); a mail another node had
    # claimed when it died waits for its lease to lapse. Node B sends both, each once.
    async with running_nodes(production()) as (a,):
        await a.node.mail.enqueue(mail("dee@example.org", "queued on A", dedupe_key="a1"))
        await a.node.mail.enqueue(mail("dee@example.org", "claimed by a dead node", dedupe_key="a2"))
        store = a.node.store
        now = a.node.clock.now_ms()
        claimed = await store.claim_mail(now, 1_500, 1)  # A "dies" holding this one's lease
        assert len(claimed) == 1
    async with running_nodes(production(**mailbox.settings)) as (b,):
        await mailbox.wait_for(to="dee@example.org", subject="queued on A")
        await mailbox.wait_for(to="dee@example.org", subject="claimed by a dead node")
        await sentinel_passes(b, mailbox, "dee@example.org")
        assert len(mailbox.matching(to="dee@example.org", subject="queued on A")) == 1
        assert len(mailbox.matching(to="dee@example.org", subject="claimed by a dead node")) == 1
        assert (await b.node.store.mail_counts())["queued"] == 0


async def test_two_nodes_send_a_burst_of_mail_once_each(production, mailbox):
    async with running_nodes(production(**mailbox.settings), production(**mailbox.settings)) as (a, b):
        for i in range(20):
            await (a if i % 2 else b).node.mail.enqueue(mail("eve@example.org", f"burst {i:02d}"))
        for i in range(20):
            await mailbox.wait_for(to="eve@example.org", subject=f"burst {i:02d}")
        await sentinel_passes(a, mailbox, "eve@example.org")
        await sentinel_passes(b, mailbox, "eve@example.org")
        subjects = [m["Subject"] for m in mailbox.matching(to="eve@example.org", subject="burst")]
        assert sorted(subjects) == [f"burst {i:02d}" for i in range(20)]


# -- unsubscribe ---------------------------------------------------------------------------------


async def unsubscribe_mail(node, mailbox, account, kind: str = "mention"):
    email = account["user"]["email"]
    await node.node.mail.enqueue(mail(email, f"about {kind}", kind=kind, user_id=account["user"]["id"],
                                      unsubscribe=True, lang=None))
    return await mailbox.wait_for(to=email, subject=f"about {kind}")


async def test_one_click_unsubscribe_turns_one_kind_off_on_any_node(production, mailbox):
    async with running_nodes(production(**mailbox.settings), production(**mailbox.settings)) as (a, b):
        ann = await register(a.url, "Ann")
        message = await unsubscribe_mail(a, mailbox, ann)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip("<>")
        assert link.startswith(a.node.settings.public_base + "/api/v1/mail/unsubscribe?")
        assert link in text_of(message) and "不再接收此类邮件" in text_of(message)
        assert link.replace("&", "&amp;") in html_of(message)
        path = link.removeprefix(a.node.settings.public_base)
        # Opening the link (a scanner, or the member) changes nothing.
        async with http_client(b.url) as http:
            shown = await http.get(path)
            assert shown.status_code == 200 and "Unsubscribe / 退订" in shown.text
            assert shown.headers["content-type"].startswith("text/html")
            assert (await call(a, "GET", "/api/v1/me/mail-preferences", ann)).json() == DEFAULTS
            # The one-click POST mail clients send (RFC 8058), on the other node.
            done = await http.post(path, data={"List-Unsubscribe": "One-Click"})
            assert done.status_code == 200 and "退订" in done.text
            assert (await http.post(path)).status_code == 200  # again: still fine
        assert (await call(b, "GET", "/api/v1/me/mail-preferences", ann)).json() == {**DEFAULTS, "mention": False}
        assert not await a.node.mail.wants(ann["user"]["id"], "mention")
        assert await a.node.mail.wants(ann["user"]["id"], "direct")


async def test_forged_or_malformed_unsubscribe_links_are_refused_and_change_nothing(backend, mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        ann, bob = await register(node.url, "Ann"), await register(node.url, "Bob")
        link = (await unsubscribe_mail(node, mailbox, ann, "digest"))["List-Unsubscribe"].strip("<>")
        query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        assert query["k"] == "digest" and query["u"] == str(ann["user"]["id"])
        bad = [
            {**query, "u": str(bob["user"]["id"])},  # another member
            {**query, "k": "direct"},  # another kind
            {**query, "t": query["t"][:-2] + ("AA" if not query["t"].endswith("AA") else "BB")},
            {**query, "k": "verify"},  # not a kind one can unsubscribe from
            {**query, "u": "-1"}, {**query, "u": "x"}, {**query, "u": "9" * 40},
            {"u": query["u"], "k": query["k"]},  # no token
            {**query, "t": "x" * 500},
            {},
        ]
        async with http_client(node.url) as http:
            for params in bad:
                for method in ("GET", "POST"):
                    response = await http.request(method, "/api/v1/mail/unsubscribe", params=params)
                    assert response.status_code == 400, (method, params)
                    assert "链接无效" in response.text
        for account in (ann, bob):
            assert (await call(node, "GET", "/api/v1/me/mail-preferences", account)).json() == DEFAULTS


# -- preferences --------------------------------------------------------------------------------


async def test_preferences_are_read_and_changed_field_by_field(backend):
    async with running_nodes(backend()) as (node,):
        ann = await register(node.url, "Ann")
        path = "/api/v1/me/mail-preferences"
        assert (await call(node, "GET", path, ann)).json() == DEFAULTS
        changed = await call(node, "PUT", path, ann, json={"reply": False, "digest": "weekly",
                                                           "digest_rooms": ["zhuhai", "clean-energy"]})
        assert changed.status_code == 200, changed.text
        want = {**DEFAULTS, "reply": False, "digest": "weekly", "digest_rooms": ["clean-energy", "zhuhai"]}
        assert changed.json() == want
        changed = await call(node, "PUT", path, ann, json={"language": "zh", "direct": False})
        want = {**want, "language": "zh", "direct": False}
        assert changed.json() == want and (await call(node, "GET", path, ann)).json() == want
        assert await node.node.mail.mail_language(ann["user"]["id"]) == "zh"
        changed = await call(node, "PUT", path, ann, json={"language": None, "digest_rooms": []})
        want = {**want, "language": None, "digest_rooms": []}
        assert changed.json() == want
        assert await node.node.mail.mail_language(ann["user"]["id"]) is None


async def test_bad_preferences_are_refused_clearly_and_change_nothing(backend):
    async with running_nodes(backend()) as (node,):
        ann = await register(node.url, "Ann")
        bob, cy = await register(node.url, "Bob"), await register(node.url, "Cy")
        direct = await call(node, "POST", "/api/v1/direct", bob, json={"members": [cy["user"]["id"]]})
        assert direct.status_code == 201, direct.text
        theirs = direct.json()["room"]["id"]
        path = "/api/v1/me/mail-preferences"
        cases = [
            ({"direct": "yes"}, 422, "direct"),
            ({"digest": "hourly"}, 422, "digest"),
            ({"language": "fr"}, 422, "language"),
            ({"colour": "green"}, 422, "colour"),
            ({"digest_rooms": "zhuhai"}, 422, "digest_rooms"),
            ({"digest_rooms": ["zhuhai", "zhuhai"]}, 422, "digest_rooms"),
            ({"digest_rooms": ["Not A Room"]}, 422, "digest_rooms.0"),
            ({"digest_rooms": ["zhuhai", theirs]}, 422, "digest_rooms.1"),
            ({"digest_rooms": ["no-such-room"]}, 422, "digest_rooms.0"),
            ({"digest_rooms": [f"r{i}" for i in range(51)]}, 422, "digest_rooms"),
        ]
        for body, status, field in cases:
            response = await call(node, "PUT", path, ann, json={"reply": False, **body})
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"]["code"] == "invalid"
            assert field in response.json()["error"].get("details", {}), (body, response.json())
        not_json = await call(node, "PUT", path, ann, content=b"[1", headers={"content-type": "application/json"})
        assert not_json.status_code == 400
        assert (await call(node, "PUT", path, None, json={"reply": False})).status_code == 401
        assert (await call(node, "GET", path, None)).status_code == 401
        assert (await call(node, "GET", path, ann)).json() == DEFAULTS


async def test_addresses_with_unicode_domains_and_local_parts_arrive(make_settings, mailbox):
    async with running_nodes(make_settings(**mailbox.settings)) as (node,):
        await node.node.mail.enqueue(mail("li@例子.中国", "idna"))
        message = await mailbox.wait_for(to="li@xn--fsqu00a.xn--fiqs8s", subject="idna")
        assert message["To"] == "li@xn--fsqu00a.xn--fiqs8s"
        await node.node.mail.enqueue(mail("张三@例子.中国", "utf8"))
        await mailbox.wait_for(to="张三@xn--fsqu00a.xn--fiqs8s", subject="utf8")  # by SMTPUTF8


async def test_a_server_asking_for_a_login_gets_it_and_a_wrong_one_is_retried(make_settings):
    box = Mailbox(login=("ecolink", "relay secret")).start()
    try:
        wrong = {**box.settings, "smtp_password": "not it"}
        async with running_nodes(make_settings(**wrong)) as (node,):
            await node.node.mail.enqueue(mail("fay@example.org", dedupe_key="login"))
            await eventually(lambda: _attempts(node.node.store, "login", 2), "two refused logins")
            row = await node.node.store.outbox_mail_by_key("login")
            assert (row.status, row.last_error) == ("queued", "smtp 535 login")
        async with running_nodes(make_settings(**box.settings)) as (node,):
            await box.wait_for(to="fay@example.org")
    finally:
        box.stop()
