"""Email notifications end to end (chat/mail/notices.py, reminders.py): real nodes, a real SMTP
server on loopback (tests/support/mailbox.py). Unread direct messages and mentions reach a member
in one email, sent once by two production nodes running the job together; what was read in the
app meanwhile is left out; the member's language and preferences rule; webinar reminders and
digests, once each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chat.models import SendRequest
from tests.e2e.test_reads import open_direct
from tests.e2e.test_webinars import HOUR, at, schedule
from tests.support.client import WsClient, call, http_client, moderator, register, send_acked
from tests.support.mailbox import html_of
from tests.support.mailbox import text_of as crlf_text
from tests.support.nodes import running_nodes

ROOM = "water-management"
# The delay leaves a member a few seconds to read in the app (they do so at once here).
FAST = {"mail_notify_delay_min": 0.1, "mail_jobs_s": 0.2}


def text_of(message):
    """The plain-text body with plain line ends (SMTP carries CRLF)."""
    return crlf_text(message).replace("\r\n", "\n")


async def member(node, mailbox, name):
    """A new member who confirmed their address with the link mailed (notification mail goes to
    verified addresses only); the verification mail is then forgotten."""
    account = await register(node.url, name)
    email = for_user(account)
    link = re.search(r"#/verify/([A-Za-z0-9_-]+)", text_of(await mailbox.wait_for(to=email, subject="Confirm")))
    assert link is not None
    confirmed = await call(node, "POST", "/api/v1/account/verification/confirm", None, json={"token": link.group(1)})
    assert confirmed.status_code == 200, confirmed.text
    mailbox.forget(email)
    return account


def for_user(account):
    return account["user"]["email"]


async def test_unread_messages_reach_a_member_in_one_email_sent_once_by_two_nodes(production, mailbox):
    settings = production(**mailbox.settings, **FAST)
    async with running_nodes(settings, settings) as [n1, n2]:
        ann, bob, cat = (await member(n1, mailbox, "Ann"), await member(n1, mailbox, "Bob"),
                         await member(n2, mailbox, "Cat"))
        a = await WsClient.connect(n1.ws_url, ann["token"])
        direct = await open_direct(n1, ann, bob)
        for n in range(3):
            await send_acked(a, direct, f"Question {n} about the <bus> depot", f"d{n}")
        mention = await send_acked(a, ROOM, "@Bob @Cat the 水资源 report", "m1",
                                   mentions=[bob["user"]["id"], cat["user"]["id"]])
        # Cat reads the room in the app at once: nothing about it is mailed to her.
        read = await call(n2, "PUT", f"/api/v1/rooms/{ROOM}/read", cat, json={"seq": mention["seq"]})
        assert read.status_code == 200, read.text

        message = await mailbox.wait_for(to=for_user(bob), subject="4 unread messages for you on EcoLink")
        assert message["Subject"] == "4 unread messages for you on EcoLink / 您在 EcoLink 上有 4 条未读消息"
        text = text_of(message)
        for n in range(3):
            assert f"“Question {n} about the <bus> depot”" in text
        assert "Ann mentioned you in Water Management:\n“@Bob @Cat the 水资源 report”" in text
        assert "Ann 在水资源管理中提到了您" in text
        assert f"/#/room/{direct}" in text
        assert "&lt;bus&gt;" in html_of(message) and "<bus>" not in html_of(message)
        assert message["List-Unsubscribe"].startswith("<http")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # Later messages make a later email for each, listing only them: the first batch went
        # once (both nodes ran the job all along), Cat's read mention never.
        later = await send_acked(a, ROOM, "@Bob @Cat one more thing", "m2",
                                 mentions=[bob["user"]["id"], cat["user"]["id"]])
        cats = await mailbox.wait_for(to=for_user(cat))
        assert cats["Subject"].startswith("Ann wrote to you on EcoLink")
        assert "one more thing" in text_of(cats) and "水资源 report" not in text_of(cats)
        await mailbox.wait_for(to=for_user(bob), where=lambda m: "one more thing" in text_of(m))
        bobs = mailbox.matching(to=for_user(bob))
        assert len(bobs) == 2 and "Question 0" not in text_of(bobs[1])
        assert len(mailbox.matching(to=for_user(cat))) == 1
        assert later["seq"] == mention["seq"] + 1


async def test_the_members_language_preferences_and_one_click_unsubscribe_decide(backend, mailbox):
    # Nothing here is read before its mail: a shorter delay (2 s) serves.
    async with running_nodes(backend(**mailbox.settings, **{**FAST, "mail_notify_delay_min": 0.03})) as [node]:
        ann, bob, dan = (await member(node, mailbox, "Ann"), await member(node, mailbox, "Bob"),
                         await member(node, mailbox, "Dan"))
        prefs = "/api/v1/me/mail-preferences"
        for account, choice in ((bob, {"mention": False, "language": "zh"}), (dan, {"mention": False})):
            put = await call(node, "PUT", prefs, account, json=choice)
            assert put.status_code == 200, put.text
        a = await WsClient.connect(node.ws_url, ann["token"])
        direct = await open_direct(node, ann, bob)
        await send_acked(a, ROOM, "@Bob @Dan have a look", "m1", mentions=[bob["user"]["id"], dan["user"]["id"]])
        await send_acked(a, direct, "你好 Bob", "d1")
        message = await mailbox.wait_for(to=for_user(bob))
        assert message["Subject"] == "Ann 在 EcoLink 上给您留言"
        text = text_of(message)
        assert "Ann 给您发了私信：\n“你好 Bob”" in text
        assert "have a look" not in text and "While you were away" not in text
        # Dan turned mentions off: his batch of one mention mails nothing; a direct message to
        # him later is the only thing he is mailed.
        direct_dan = await open_direct(node, ann, dan)
        await send_acked(a, direct_dan, "Dan, a direct question", "d2")
        dans = await mailbox.wait_for(to=for_user(dan))
        assert "a direct question" in text_of(dans) and "have a look" not in text_of(dans)
        assert len(mailbox.matching(to=for_user(dan))) == 1

        # Bob's email was about a direct message: its one-click unsubscribe turns those off.
        link = message["List-Unsubscribe"].strip("<>")
        assert "k=direct" in link
        async with http_client(node.url) as http:
            done = await http.post(link.removeprefix(node.node.settings.public_base),
                                   data={"List-Unsubscribe": "One-Click"})
            assert done.status_code == 200, done.text
        put = await call(node, "PUT", prefs, bob, json={"mention": True})
        assert put.json()["direct"] is False and put.json()["mention"] is True
        await send_acked(a, direct, "a direct message no email tells", "d3")
        await send_acked(a, ROOM, "@Bob a mention that one does", "m2", mentions=[bob["user"]["id"]])
        second = await mailbox.wait_for(to=for_user(bob), where=lambda m: "a mention that one does" in text_of(m))
        assert "no email tells" not in text_of(second)
        assert len(mailbox.matching(to=for_user(bob))) == 2


async def test_webinar_reminders_go_once_to_its_audience_from_two_nodes(production, mailbox):
    settings = production(**mailbox.settings, mail_webinar_reminder_min=180, **FAST)
    async with running_nodes(settings, settings) as [n1, n2]:
        mod = await moderator(n1, "Mod")
        await mailbox.wait_for(to=for_user(mod), subject="Confirm")
        mailbox.forget(for_user(mod))  # unverified: no reminder either
        host, ann, bob = (await member(n1, mailbox, "Host"), await member(n2, mailbox, "Ann"),
                          await member(n2, mailbox, "Bob"))
        # Four hours ahead: outside the three hours' lead while its audience gathers.
        webinar = await schedule(n1, mod, starts_at=at(4 * HOUR), ends_at=at(5 * HOUR), hosts=[host["user"]["id"]])
        wid = webinar["id"]
        for who in (ann, bob):
            put = await call(n2, "PUT", f"/api/v1/webinars/{wid}/registration", who)
            assert put.status_code == 200, put.text
        for node, account, choice in ((n2, bob, {"webinar_reminder": False}), (n1, ann, {"language": "zh"})):
            put = await call(node, "PUT", "/api/v1/me/mail-preferences", account, json=choice)
            assert put.status_code == 200, put.text
        # Brought forward to two hours from now: within the lead, reminded.
        moved = await call(n1, "PATCH", f"/api/v1/webinars/{wid}", mod,
                           json={"starts_at": at(2 * HOUR), "ends_at": at(3 * HOUR)})
        assert moved.status_code == 200, moved.text
        anns = await mailbox.wait_for(to=for_user(ann))
        assert anns["Subject"] == "即将开始：合肥的绿色屋顶"
        assert f"/#/webinar/{wid}" in text_of(anns)
        hosts = await mailbox.wait_for(to=for_user(host))
        assert hosts["Subject"] == "Starting soon: Green roofs in Hefei / 即将开始：合肥的绿色屋顶"
        # Once each, whichever node ran the job: a later sentinel mail arrives after both.
        sentinel = await member(n1, mailbox, "Sentinel")
        a = await WsClient.connect(n1.ws_url, ann["token"])
        await send_acked(a, ROOM, "@Sentinel hello", "s1", mentions=[sentinel["user"]["id"]])
        await mailbox.wait_for(to=for_user(sentinel))
        assert len(mailbox.matching(to=for_user(ann))) == 1 and len(mailbox.matching(to=for_user(host))) == 1
        assert mailbox.matching(to=for_user(bob)) == [] and mailbox.matching(to=for_user(mod)) == []


async def test_a_daily_digest_goes_once_from_two_nodes(production, mailbox):
    now = datetime.now(UTC)
    # This hour is the members' morning (UTC: no zone set): the period is the day before it.
    settings = production(**mailbox.settings, **FAST, mail_digest_hour=now.hour)
    async with running_nodes(settings, settings) as [n1, n2]:
        ann, bob, sentinel = (await member(n1, mailbox, "Ann"), await member(n2, mailbox, "Bob"),
                              await member(n1, mailbox, "Sentinel"))
        earlier = int((now - timedelta(hours=2)).timestamp() * 1000)  # within the period
        for n in range(2):
            await n1.node.store.append_batch([SendRequest(
                "hefei", bob["user"]["id"], "Bob", f"old{n}", f"from two hours ago {n}")], earlier)
        put = await call(n2, "PUT", "/api/v1/me/mail-preferences", ann,
                         json={"digest": "daily", "digest_rooms": ["hefei", "zhuhai"]})
        assert put.status_code == 200, put.text
        digest = await mailbox.wait_for(to=for_user(ann), subject="Your daily EcoLink digest")
        text = text_of(digest)
        assert "Hefei: 2 new messages, 0 new topics, 0 news posts." in text
        assert "Zhuhai" not in text and "from two hours ago" not in text
        assert digest["List-Unsubscribe"] and "k=digest" in digest["List-Unsubscribe"]
        a = await WsClient.connect(n1.ws_url, ann["token"])
        await send_acked(a, ROOM, "@Sentinel hello", "s1", mentions=[sentinel["user"]["id"]])
        await mailbox.wait_for(to=for_user(sentinel))
        assert len(mailbox.matching(to=for_user(ann))) == 1 and mailbox.matching(to=for_user(bob)) == []
