"""Email end to end (chat/mail/): nodes send through a real SMTP server on loopback (aiosmtpd,
tests/support/mailbox.py); the outbox survives SMTP outages and node restarts and sends once."""

from __future__ import annotations

from chat.mail.letters import Action, Letter, render
from chat.mail.service import Mail
from tests.support.mailbox import text_of
from tests.support.nodes import running_nodes

LETTER = Letter("A reply to you", "有人回复了您", ("Ann replied.",), ("Ann 回复了。",),
                Action("http://chat.test/#/rooms/zhuhai", "Open", "打开"))


async def test_a_node_sends_an_enqueued_mail_with_its_headers(backend, mailbox):
    async with running_nodes(backend(**mailbox.settings)) as (node,):
        assert await node.node.mail.enqueue(Mail("ann@example.org", "verify", render(LETTER, "en"))) is True
        message = await mailbox.wait_for(to="ann@example.org", subject="A reply to you")
        assert message["From"] == "EcoLink <noreply@ecolink.test>"
        assert message["Message-ID"].endswith("@ecolink.test>")
        assert "Ann replied." in text_of(message)
        assert message.get("List-Unsubscribe") is None
