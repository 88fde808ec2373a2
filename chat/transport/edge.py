"""What every HTTP request meets before and after its route (docs/decisions.md, "The HTTP edge"):

* a query string that names a parameter twice is refused with 400 naming it, on every API
  route alike (Starlette would silently take the last value; the member directory refused),
  except the list parameters a route reads as lists (REPEATABLE: search's room, kind, author);
* API responses get `Cache-Control: no-store` unless the route set its own: they answer for
  one user, and a shared cache or the browser's back-forward cache must not keep them
  (RFC 9111 section 5.2.2.5);
* an exception no route handled becomes a plain 500, logged with its type and where it was
  raised only: its message may quote what the client sent (an email, a title), and Starlette's
  ServerErrorMiddleware would re-raise it for uvicorn to log with the whole traceback.

HTTP only: the WebSocket and the lifespan pass through.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat.errors import BadRequest, Internal
from chat.logs import failure
from chat.transport.errors import error_json

log = structlog.get_logger("chat.http")

API_PREFIX = "/api/"
NO_STORE = "no-store"


# Per API path, the query parameters it reads as lists (each value once per repetition).
REPEATABLE: dict[str, frozenset[str]] = {"/api/v1/search": frozenset({"room", "kind", "author"})}


def repeated_parameter(query_string: bytes, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first query parameter given more than once, if any (empty values count), besides
    the `allowed` lists."""
    seen: set[str] = set()
    for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in seen and name not in allowed:
            return name
        seen.add(name)
    return None


class HttpEdge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith(API_PREFIX)
        if api:
            name = repeated_parameter(scope.get("query_string", b""),
                                      REPEATABLE.get(scope["path"], frozenset()))
            if name is not None:
                # The name is the client's own text: quoted in the answer, never logged.
                response = JSONResponse(error_json(BadRequest(
                    f"give the query parameter '{name[:64]}' at most once")), 400,
                    {"Cache-Control": NO_STORE})
                await response(scope, receive, send)
                return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if api:
                    headers = MutableHeaders(scope=message)
                    if "cache-control" not in headers:
                        headers["Cache-Control"] = NO_STORE
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except ClientDisconnect:
            # The client left mid-body, or sent it too slowly (chat/transport/server.py closed
            # the connection): nobody is there to answer, and nothing failed here.
            log.info("http.client_gone", method=scope.get("method"))
            return
        except Exception as exc:
            endpoint = scope.get("endpoint")
            log.error("http.unhandled", method=scope.get("method"),
                      route=getattr(endpoint, "__name__", None), **failure(exc))
            if not started:
                response = JSONResponse(error_json(Internal("internal error")), 500,
                                        {"Cache-Control": NO_STORE})
                await response(scope, receive, send)
            # Else the response is half sent: returning lets uvicorn end the connection.
