"""The sender's pure parts (chat/mail/sender.py): what a failure means, the backoff, the MIME
message of an outbox row, addresses as SMTP carries them."""

from __future__ import annotations

import aiosmtplib
import pytest
from pydantic import ValidationError

from chat.clock import FakeClock
from chat.config import Settings
from chat.mail.sender import MailSender, build_message, classify, smtp_address
from chat.models import OutboxMail


def test_failures_are_temporary_or_permanent_and_name_no_address():
    refused = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user x@y", "x@y")])
    assert classify(refused) == (True, "smtp 550 recipient")
    assert classify(aiosmtplib.SMTPResponseException(451, "later x@y")) == (False, "smtp 451")
    assert classify(aiosmtplib.SMTPDataError(554, "spam")) == (True, "smtp 554")
    assert classify(aiosmtplib.SMTPAuthenticationError(535, "bad")) == (False, "smtp 535 login")
    assert classify(aiosmtplib.SMTPConnectError("refused")) == (False, "unreachable")
    assert classify(ConnectionRefusedError()) == (False, "unreachable")
    assert classify(aiosmtplib.SMTPTimeoutError("slow")) == (False, "timeout")


def test_the_wait_doubles_up_to_the_maximum():
    settings = Settings(_env_file=None, mail_retry_base_s=30, mail_retry_max_s=600)
    sender = MailSender(store=None, clock=FakeClock(), settings=settings)  # type: ignore[arg-type]
    assert [sender.backoff_ms(n) for n in (1, 2, 3, 5, 6, 40)] == [30_000, 60_000, 120_000, 480_000, 600_000, 600_000]


def test_the_message_has_a_stable_id_both_bodies_and_the_extra_headers():
    row = OutboxMail("ab" * 16, "li@例子.中国", "direct", 7, None, "Hello / 你好", "text\n", "<p>html</p>",
                     {"List-Unsubscribe": "<https://x.test/u>"}, "queued", 1, 0, 0, 1_700_000_000_000)
    message = build_message(row, "EcoLink <noreply@chat.example.org>")
    assert message["Message-ID"] == f"<{'ab' * 16}@chat.example.org>"
    assert message["To"] == "li@xn--fsqu00a.xn--fiqs8s" and message["Subject"] == "Hello / 你好"
    assert message["List-Unsubscribe"] == "<https://x.test/u>"
    assert message["Date"] == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert build_message(row, "EcoLink <noreply@chat.example.org>")["Message-ID"] == message["Message-ID"]


def test_ascii_addresses_pass_unchanged_and_unicode_domains_become_idna():
    assert smtp_address("ann@example.org") == "ann@example.org"
    assert smtp_address("张三@例子.中国") == "张三@xn--fsqu00a.xn--fiqs8s"


def test_a_mail_lease_must_outlast_one_send():
    with pytest.raises(ValidationError, match="ECOLINK_MAIL_LEASE_S must be more than ECOLINK_SMTP_TIMEOUT_S"):
        Settings(_env_file=None, smtp_timeout_s=30, mail_lease_s=30)
    assert Settings(_env_file=None, smtp_timeout_s=30, mail_lease_s=31).mail_lease_s == 31
