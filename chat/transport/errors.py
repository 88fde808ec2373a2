"""Errors to HTTP responses, in one place. Bodies: {"error": {"code", "message", "retry",
"details"?}}; `retry` comes from the error's class (chat/errors.py)."""

from __future__ import annotations

import math
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from chat.errors import ChatError, Internal
from chat.logs import failure

log = structlog.get_logger("chat.http")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def error_json(error: ChatError) -> dict[str, Any]:
    return _body(error.code, error.message, error.retry, error.details)


def _body(code: str, message: str, retry: bool, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "retry": retry}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(error: ChatError) -> JSONResponse:
    """The HTTP answer to a ChatError: for a route, and for a refused WebSocket handshake."""
    headers: dict[str, str] = {}
    body = error_json(error)
    if error.retry_after_s is not None:
        # Whole seconds, rounded up (RFC 9110 §10.2.3): never "0", never too early.
        retry_after = max(1, math.ceil(error.retry_after_s))
        headers["Retry-After"] = str(retry_after)
        body["error"]["retry_after"] = retry_after
    if error.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, error.status, headers)


async def chat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ChatError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    # Starlette's own answers, outside the tree (unknown route, wrong method, unreadable form):
    # refusals, unless the status itself says the condition passes.
    code = HTTP_CODES.get(exc.status_code, "http_error")
    retry = exc.status_code == 429 or exc.status_code >= 500
    return JSONResponse(_body(code, str(exc.detail), retry), exc.status_code, exc.headers)


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    # Only for exceptions raised outside chat.transport.edge.HttpEdge (which answers the
    # routes' own): the type and where, never the message, which may quote the request's values.
    log.error("http.unhandled", method=request.method, **failure(exc))
    return JSONResponse(error_json(Internal("internal error")), 500)


HANDLERS = {ChatError: chat_error, HTTPException: http_error, Exception: server_error}
