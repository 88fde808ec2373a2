"""How uvicorn serves a node: the options `ecolink serve` and the test nodes share, and an HTTP
protocol with the request-head deadline uvicorn lacks.

uvicorn has no header-read timeout ("--timeout-request-start" in Kludex/uvicorn#157, never
implemented): its keep-alive timer runs only between requests, and the first byte received
cancels it (`_unset_keepalive_if_required` opens `data_received`). So a client that connects
and sends nothing, or half a request line, or a WebSocket upgrade without its last header,
holds a socket and a file descriptor for as long as it likes. HeadTimeoutH11Protocol gives it
`http_header_timeout_s` (ECOLINK_HTTP_HEADER_TIMEOUT_S) to finish the request head.

Nor has it a body timeout: a client that sends a head with `Content-Length: 60000`, then a byte
now and then or nothing at all, holds the socket and a request task waiting in `read_body` for
ever (slowloris on the body). So the same protocol closes a request whose body stops arriving
for `http_body_timeout_s` (ECOLINK_HTTP_BODY_TIMEOUT_S): a deadline between two reads, not for
the whole body, as nginx's client_body_timeout, so a large upload on a slow line still passes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from chat.config import Settings
from chat.transport.wsprotocol import NodeWebSocketProtocol, release_transport

# The app's lifespan state may hold a callable under this key: called once the server's
# graceful shutdown begins, before it waits for the requests under way (chat/transport/app.py
# closes the long-polling sessions then, so their waiting GETs answer at once).
SHUTDOWN_HOOK = "ecolink.shutdown"

# Sent when part of a head arrived (RFC 9110 §15.5.9); a silent connection is just closed.
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 25\r\nconnection: close\r\n\r\nrequest head not received"
)

BODY_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 25\r\nconnection: close\r\n\r\nrequest body not received"
)


class HeadTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for the request head (request line and headers).

    The deadline starts when the connection opens, and on a kept-alive connection with the
    first byte of the next request (hyper's header_read_timeout works the same way); it ends
    once h11 has parsed a head, whether the request then goes to the app or becomes a
    WebSocket. Bodies and responses are not timed here. Without a `request_head_timeout_s` on
    the config (a plain uvicorn.Config) it behaves exactly like H11Protocol."""

    _head_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None

    # uvicorn's H11Protocol narrows asyncio.BaseProtocol's BaseTransport to Transport (and
    # ignores the same error there); the override must keep uvicorn's signature.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # the first byte of a kept-alive connection's next request
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # a head was parsed (or refused with a 400)
        self._cancel_body_timer()
        if self.conn.their_state is h11.SEND_BODY and not self._upgraded():
            self._arm_body_timer()  # part of a body came: the next part has its own deadline

    def shutdown(self) -> None:
        hook = self.app_state.get(SHUTDOWN_HOOK)
        if hook is not None:
            hook()
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)
        release_transport(self.transport)

    def _arm_head_timer(self) -> None:
        timeout_s = getattr(self.config, "request_head_timeout_s", None)
        if timeout_s:
            self._head_timer = self.loop.call_later(timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()


    def _upgraded(self) -> bool:
        """Whether the connection became a WebSocket: uvicorn hands it over right after the
        upgrade's head, leaving h11 in SEND_BODY, and it has no body to time."""
        return self.transport.get_protocol() is not self

    def _arm_body_timer(self) -> None:
        timeout_s = getattr(self.config, "request_body_timeout_s", None)
        if timeout_s:
            self._body_timer = self.loop.call_later(timeout_s, self._body_timed_out)

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY or self._upgraded():
            return
        if self.flow.read_paused:
            self._arm_body_timer()  # the app is not reading: the client cannot send; not theirs
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(BODY_TIMEOUT_RESPONSE)
        self.transport.close()  # the app's read ends with a disconnect (ClientDisconnect)


class NodeConfig(uvicorn.Config):
    """uvicorn.Config carrying the head and body deadlines to HeadTimeoutH11Protocol. A
    module-level class, so `--workers` can pickle it into its worker processes."""

    def __init__(self, app: Any, *, request_head_timeout_s: float, request_body_timeout_s: float | None = None,
                 **options: Any) -> None:
        super().__init__(app, http=HeadTimeoutH11Protocol, **options)
        self.request_head_timeout_s = request_head_timeout_s
        self.request_body_timeout_s = request_body_timeout_s


def node_config(app: Any, settings: Settings, **options: Any) -> NodeConfig:
    """The uvicorn configuration of a node; `options` add to or override the shared ones."""
    shared: dict[str, Any] = dict(
        ws=NodeWebSocketProtocol,  # uvicorn's "websockets-sansio", leaner (chat/transport/wsprotocol.py)
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,  # compression is off until it is tested
        lifespan="on",
        log_config=None,
    )
    shared.update(options)
    return NodeConfig(app, request_head_timeout_s=settings.http_header_timeout_s,
                      request_body_timeout_s=settings.http_body_timeout_s, **shared)
