"""A real SMTP server on loopback for the tests: aiosmtpd's Controller (its own thread and event
loop) on 127.0.0.1 and a port of its own, keeping every message it accepts.

Nodes send to it through their settings (`make_settings(**mailbox.settings)`) or, for
`ecolink serve` in a subprocess, its environment (`ecolink_serve(dir, **mailbox.env)`). A test
reads what arrived with `await mailbox.wait_for(to=…, subject=…)`; `stop()` then `start()`
brings it down and back on the same port (outages); `answer` makes it refuse mail with a given
SMTP reply (e.g. "451 4.3.0 try later", "550 5.1.1 no such user") until set back to None.
The `mailbox` fixture (tests/conftest.py) gives each test one, started."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support import services
from tests.support.timing import timeout as scaled

FROM = "EcoLink <noreply@ecolink.test>"


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope's recipients and the parsed message."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.box.answer is not None:
            return self.box.answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.answer is not None:
            return self.box.answer
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.box._accept(Received(tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class Mailbox:
    """`login`: (user, password) the server then requires (AUTH over plain SMTP, as a relay on
    a private network may); the settings carry them."""

    def __init__(self, port: int | None = None, login: tuple[str, str] | None = None) -> None:
        self.port = port or services.free_port()
        self.login = login
        self.received: list[Received] = []
        self.answer: str | None = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # -- what nodes are given -------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, object]:
        """Settings overrides that send a node's mail here, retrying quickly (tests)."""
        settings: dict[str, object] = {
            "smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none", "smtp_from": FROM,
            "smtp_timeout_s": 10.0, "mail_retry_base_s": 0.2, "mail_retry_max_s": 1.0, "mail_poll_s": 0.2,
            "mail_lease_s": 12.0}
        if self.login is not None:
            settings.update(smtp_username=self.login[0], smtp_password=self.login[1])
        return settings

    @property
    def env(self) -> dict[str, str]:
        """The same as ECOLINK_* variables (for `ecolink serve`)."""
        return {f"ECOLINK_{name.upper()}": str(value) for name, value in self.settings.items()}

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert self.login is not None
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.login[0].encode()
              and auth_data.password == self.login[1].encode())
        return AuthResult(success=ok, handled=False)

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> Mailbox:
        """Listens (again) on this mailbox's port; what was received is kept."""
        auth: dict[str, Any] = {}
        if self.login is not None:
            auth = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=scaled(10),
                                enable_SMTPUTF8=True, **auth)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stops listening: connections are refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _accept(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    # -- reading ---------------------------------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    def matching(self, to: str | None = None, subject: str | None = None,
                 where: Callable[[EmailMessage], bool] | None = None) -> list[EmailMessage]:
        """Messages so far sent to `to` (an envelope recipient) whose Subject contains `subject`
        and for which `where` holds."""
        with self._lock:
            found = list(self.received)
        return [r.message for r in found
                if (to is None or to.lower() in (a.lower() for a in r.rcpt_tos))
                and (subject is None or subject in str(r.message.get("Subject", "")))
                and (where is None or where(r.message))]

    def forget(self, to: str) -> None:
        """Drops what was received for `to` so far (e.g. a registration's verification mail)."""
        with self._lock:
            self.received = [r for r in self.received if to.lower() not in (a.lower() for a in r.rcpt_tos)]

    async def wait_for(self, to: str | None = None, subject: str | None = None, timeout: float = 10,
                       where: Callable[[EmailMessage], bool] | None = None) -> EmailMessage:
        """The first message matching (see matching()), waiting up to `timeout` seconds (scaled
        like every test timeout) for it to arrive; AssertionError if none does."""
        deadline = asyncio.get_running_loop().time() + scaled(timeout)
        while True:
            found = self.matching(to, subject, where)
            if found:
                return found[0]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no mail to={to!r} subject={subject!r} arrived;"
                                     f" {len(self.received)} other(s) did")
            await asyncio.sleep(0.02)


def text_of(message: EmailMessage) -> str:
    """The plain-text body."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    """The HTML body."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())  # type: ignore[attr-defined]
