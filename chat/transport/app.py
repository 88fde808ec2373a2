"""The Starlette application: routes, error handlers and the lifespan that opens the node."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from chat.clock import Clock
from chat.config import Settings
from chat.node import open_node
from chat.transport import http
from chat.transport.errors import HANDLERS
from chat.transport.openapi import openapi_route
from chat.transport.wire import FORMATS
from chat.transport.ws import WebSocketEndpoint


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_node(settings, list(FORMATS), clock) as node:
            app.state.node = node
            yield
            node.draining = True

    routes = [
        Route("/api/v1/accounts", http.create_account, methods=["POST"]),
        Route("/api/v1/sessions", http.create_session, methods=["POST"]),
        Route("/api/v1/sessions", http.delete_session, methods=["DELETE"]),
        Route("/api/v1/me", http.me, methods=["GET"]),
        Route("/api/v1/rooms", http.list_rooms, methods=["GET"]),
        Route("/api/v1/rooms/{room}/messages", http.room_messages, methods=["GET"]),
        Route("/healthz", http.healthz, methods=["GET"]),
        Route("/readyz", http.readyz, methods=["GET"]),
        Route("/metrics", http.metrics, methods=["GET"]),
        WebSocketRoute("/ws", WebSocketEndpoint()),
    ]
    routes.append(openapi_route(routes))
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory` and worker processes: settings from the environment."""
    from chat import logs

    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    return create_app(settings)
