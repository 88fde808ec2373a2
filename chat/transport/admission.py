"""Who may open a live connection (a WebSocket, or a long-polling session, which counts as one):
the same checks in the same order for both (docs/protocol.md, "WebSocket" and "Long-polling
fallback").

- An address over the failed-attempt limit is refused before its credentials are looked up.
- A draining node refuses everyone (503): connect to another.
- Bearer token or session cookie; a cookie needs an allowed Origin (chat/transport/auth.py).
- The session is checked within the request head's own deadline (ECOLINK_HTTP_HEADER_TIMEOUT_S):
  a store that hangs must not keep connections waiting.
- A member over the connections cap is refused before anything is opened.

The refusals a client can cause (credentials, Origin) count against its address.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import HTTPConnection

from chat.accounts.service import token_hash
from chat.errors import ChatError, Draining, RateLimited, TooManyConnections, Unavailable
from chat.models import User
from chat.node import Node
from chat.transport.auth import check_origin, credentials


def address_of(connection: HTTPConnection) -> str:
    client = connection.client
    return client.host if client else "unknown"


def check_address(node: Node, address: str) -> None:
    """Raise RateLimited if the address failed too often lately."""
    retry_s = node.handshakes.refused_for(address, time.monotonic())
    if retry_s is not None:
        node.metrics.rate_limited.labels("handshake_failures").inc()
        raise RateLimited("too many failed connection attempts from this address; retry later",
                          retry_after_s=retry_s)


async def admit(connection: HTTPConnection, node: Node, address: str) -> tuple[User, bytes]:
    """The member and the hash of their token; one connection is counted for them, which the
    caller gives back with `node.handshakes.closed(user_id)` when it ends. Raises ChatError."""
    guard = node.handshakes
    if node.draining:
        raise Draining("this node is shutting down; try another")
    creds = credentials(connection)
    try:
        if creds.via_cookie:
            check_origin(connection, node.settings.allowed_origins)
        try:
            async with asyncio.timeout(node.settings.http_header_timeout_s):
                user = await node.accounts.authenticate(creds.token)
        except TimeoutError:
            raise Unavailable("the session could not be checked in time; retry") from None
    except ChatError as exc:
        if exc.status < 500:
            guard.failed(address, time.monotonic())
        raise
    if not guard.open(user.user_id):
        node.metrics.rate_limited.labels("sockets").inc()
        raise TooManyConnections(
            f"a member may have at most {guard.max_sockets_per_member} connections "
            "to a node; close some", retry_after_s=1.0)
    return user, token_hash(creds.token or "")
