"""Who is calling: a Bearer token or the session cookie, and the Origin rule for cookies.

A browser attaches the cookie to any site's request, so a cookie-authenticated WebSocket (or
unsafe HTTP method) must come from an allowed Origin: the node's own (the Origin matching the
Host the request came to) or one configured in ECOLINK_ALLOWED_ORIGINS. Bearer tokens cannot be
attached by a foreign page, so they need no Origin check. Login and registration set the
cookie, so a browser's request to them must come from an allowed Origin too ("login CSRF").
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from chat.errors import Forbidden

COOKIE_NAME = "ecolink_session"


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None
    via_cookie: bool


def credentials(conn: HTTPConnection) -> Credentials:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Credentials(value.strip(), via_cookie=False)
    cookie = conn.cookies.get(COOKIE_NAME)
    if cookie:
        return Credentials(cookie, via_cookie=True)
    return Credentials(None, via_cookie=False)


def own_origin(conn: HTTPConnection) -> str | None:
    host = conn.headers.get("host")
    if not host:
        return None
    secure = conn.url.scheme in ("https", "wss")
    return f"{'https' if secure else 'http'}://{host}".lower()


def check_origin(conn: HTTPConnection, allowed: list[str], *, required: bool = True) -> None:
    """Raise Forbidden unless the request's Origin is the node's own or configured. With
    required=False a request without Origin passes (a non-browser client: browsers send Origin
    on every cross-origin POST, Fetch standard §3.1 "origin header"); login and registration
    use that, so that a foreign page cannot log a visitor in to the page author's account."""
    origin = (conn.headers.get("origin") or "").rstrip("/").lower()
    if not origin:
        if not required:
            return
        raise Forbidden("a cookie-authenticated request needs an Origin header")
    if origin == own_origin(conn) or origin in (o.lower() for o in allowed):
        return
    raise Forbidden("this Origin is not allowed")
