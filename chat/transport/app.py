"""The Starlette application: routes, error handlers and the lifespan that opens the node."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from chat.clock import Clock
from chat.config import Settings
from chat.gcfreeze import freezing
from chat.looplag import measuring
from chat.memory import trimming
from chat.node import open_node
from chat.transport import mail as mail_routes
from chat.transport import (account, archive, board, conversations, export, files, guests, http, library, members,
                             moderation, poll, projects, reads, search, security, webinars)
from chat.transport.errors import HANDLERS
from chat.transport.openapi import openapi_route
from chat.transport.pollsession import PollSessions
from chat.transport.presence import room_presence
from chat.transport.privacy import privacy_notice
from chat.transport.web import find_web_dir, web_routes
from chat.transport.compression import CompressedResponses
from chat.transport.edge import HttpEdge
from chat.transport.server import SHUTDOWN_HOOK
from chat.transport.wire import FORMATS
from chat.transport.ws import WebSocketEndpoint


class EcoLinkApp:
    """The ASGI entry: `/ws` goes straight to the WebSocket endpoint, everything else (HTTP,
    lifespan) to Starlette. Starlette's middleware wraps every `send` of a WebSocket in an
    exception-tracking closure; on the fan-out path that cost ~5 % of the server's CPU
    (docs/benchmarks.md), and the endpoint handles its own errors anyway."""

    def __init__(self, starlette: Starlette, ws_path: str, ws_endpoint: WebSocketEndpoint) -> None:
        self.starlette = starlette
        self._ws_path = ws_path
        self._ws_endpoint = ws_endpoint

    @property
    def state(self) -> Any:
        return self.starlette.state

    @property
    def routes(self) -> list[BaseRoute]:
        return self.starlette.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self._ws_path:
            scope["app"] = self.starlette
            await self._ws_endpoint(scope, receive, send)
        else:
            await self.starlette(scope, receive, send)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> EcoLinkApp:
    settings = settings or Settings()

    polls = PollSessions()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with open_node(settings, list(FORMATS), clock) as node:
            app.state.node = node
            # What start-up allocated (modules, the node's objects), and with
            # ECOLINK_GC_FREEZE_SURVIVORS what survives each full collection, is moved out of the
            # collector's sight (chat/gcfreeze.py).
            with freezing(settings.gc_freeze_survivors) if settings.gc_freeze else contextlib.nullcontext():
                async with (trimming(settings.malloc_trim_s), polls.running(node),
                            measuring(node.metrics.event_loop_lag_seconds, node.metrics.event_loop_lag_max_seconds,
                                      settings.loop_lag_interval_s)):
                    # The server calls the hook when its shutdown begins (chat/transport/server.py),
                    # before it waits for open requests: long polls answer at once with 1012.
                    yield {SHUTDOWN_HOOK: polls.drain}
            node.draining = True

    ws_endpoint = WebSocketEndpoint()
    routes: list[BaseRoute] = [
        Route("/api/v1/accounts", http.create_account, methods=["POST"]),
        Route("/api/v1/registration/challenge", http.registration_challenge, methods=["GET"]),
        Route("/api/v1/sessions", http.create_session, methods=["POST"]),
        Route("/api/v1/sessions", http.current_session, methods=["GET"]),
        Route("/api/v1/sessions", http.delete_session, methods=["DELETE"]),
        Route("/api/v1/me", http.me, methods=["GET"]),
        Route("/api/v1/account/two-factor", security.two_factor_state, methods=["GET"]),
        Route("/api/v1/account/two-factor/setup", security.two_factor_setup, methods=["POST"]),
        Route("/api/v1/account/two-factor/enable", security.two_factor_enable, methods=["POST"]),
        Route("/api/v1/account/two-factor/recovery-codes", security.two_factor_recovery_codes, methods=["POST"]),
        Route("/api/v1/account/two-factor/disable", security.two_factor_disable, methods=["POST"]),
        Route("/api/v1/account/delete", security.delete_account, methods=["POST"]),
        Route("/api/v1/account/verification", account.resend_verification, methods=["POST"]),
        Route("/api/v1/account/verification/confirm", account.confirm_verification, methods=["POST"]),
        Route("/api/v1/account/password-reset", account.request_reset, methods=["POST"]),
        Route("/api/v1/account/password-reset/confirm", account.confirm_reset, methods=["POST"]),
        Route("/api/v1/account/email", account.request_email_change, methods=["POST"]),
        Route("/api/v1/account/email/confirm", account.confirm_email_change, methods=["POST"]),
        Route("/api/v1/account/password", account.change_password, methods=["PUT"]),
        Route("/api/v1/account/sessions", account.list_sessions, methods=["GET"]),
        Route("/api/v1/account/sessions/end-others", account.end_other_sessions, methods=["POST"]),
        Route("/api/v1/account/sessions/{session}", account.end_session, methods=["DELETE"]),
        Route("/api/v1/me/profile", members.my_profile, methods=["GET"]),
        Route("/api/v1/me/profile", members.update_my_profile, methods=["PATCH"]),
        Route("/api/v1/members", members.list_members, methods=["GET"]),
        Route("/api/v1/members/{user_id}", members.member, methods=["GET"]),
        Route("/api/v1/members/{user_id}/role", members.set_member_role, methods=["PUT"]),
        Route("/api/v1/rooms", http.list_rooms, methods=["GET"]),
        Route("/api/v1/rooms/{room}/messages", http.room_messages, methods=["GET"]),
        Route("/api/v1/rooms/{room}/read", reads.mark_room_read, methods=["PUT"]),
        Route("/api/v1/rooms/{room}/reads", reads.room_reads, methods=["GET"]),
        Route("/api/v1/rooms/read-all", reads.mark_all_rooms_read, methods=["POST"]),
        Route("/api/v1/rooms/{room}/settings", reads.room_settings, methods=["PUT"]),
        Route("/api/v1/notifications", reads.list_notifications, methods=["GET"]),
        Route("/api/v1/search", search.search, methods=["GET"]),
        Route("/api/v1/notifications/count", reads.notification_count, methods=["GET"]),
        Route("/api/v1/notifications/read", reads.mark_notifications_read, methods=["POST"]),
        Route("/api/v1/rooms/{room}/presence", room_presence, methods=["GET"]),
        Route("/api/v1/rooms/{room}/messages/{message}/versions", http.message_versions, methods=["GET"]),
        Route("/api/v1/direct", conversations.open_direct, methods=["POST"]),
        Route("/api/v1/rooms/{room}/members", conversations.list_members, methods=["GET"]),
        Route("/api/v1/rooms/{room}/members", conversations.add_member, methods=["POST"]),
        Route("/api/v1/rooms/{room}/members/{user}", conversations.remove_member, methods=["DELETE"]),
        Route("/api/v1/rooms/{room}/decline", conversations.decline, methods=["POST"]),
        Route("/api/v1/me/blocks", conversations.blocked_members, methods=["GET"]),
        Route("/api/v1/me/blocks/{user_id}", conversations.block_member, methods=["PUT"]),
        Route("/api/v1/me/blocks/{user_id}", conversations.unblock_member, methods=["DELETE"]),
        Route("/api/v1/rooms/{room}/status", conversations.set_status, methods=["PUT"]),
        Route("/api/v1/rooms/{room}/topics", conversations.room_topics, methods=["GET"]),
        Route("/api/v1/rooms/{room}/topics", conversations.create_topic, methods=["POST"]),
        Route("/api/v1/rooms/{room}/news", conversations.room_news, methods=["GET"]),
        Route("/api/v1/topics/{topic}", conversations.get_topic, methods=["GET"]),
        Route("/api/v1/topics/{topic}", conversations.update_topic, methods=["PATCH"]),
        Route("/api/v1/news", conversations.news_feed, methods=["GET"]),
        Route("/api/v1/news", conversations.post_news, methods=["POST"]),
        Route("/api/v1/projects", projects.list_projects, methods=["GET"]),
        Route("/api/v1/projects", projects.create_project, methods=["POST"]),
        Route("/api/v1/projects/{project}", projects.get_project, methods=["GET"]),
        Route("/api/v1/projects/{project}", projects.edit_project, methods=["PATCH"]),
        Route("/api/v1/projects/{project}/updates", projects.list_updates, methods=["GET"]),
        Route("/api/v1/projects/{project}/updates", projects.post_update, methods=["POST"]),
        Route("/api/v1/projects/{project}/follow", projects.follow_project, methods=["PUT"]),
        Route("/api/v1/projects/{project}/follow", projects.unfollow_project, methods=["DELETE"]),
        Route("/api/v1/projects/{project}/documents", projects.add_document, methods=["POST"]),
        Route("/api/v1/projects/{project}/documents", projects.remove_document, methods=["DELETE"]),
        Route("/api/v1/webinars", webinars.list_webinars, methods=["GET"]),
        Route("/api/v1/webinars", webinars.schedule_webinar, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}", webinars.get_webinar, methods=["GET"]),
        Route("/api/v1/webinars/{webinar}", webinars.edit_webinar, methods=["PATCH"]),
        Route("/api/v1/webinars/{webinar}/start", webinars.start_webinar, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/end", webinars.end_webinar, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/cancel", webinars.cancel_webinar, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/calendar.ics", webinars.webinar_calendar, methods=["GET"]),
        Route("/api/v1/webinars/{webinar}/chat", webinars.set_chat_mode, methods=["PUT"]),
        Route("/api/v1/webinars/{webinar}/registration", webinars.register, methods=["PUT"]),
        Route("/api/v1/webinars/{webinar}/registration", webinars.unregister, methods=["DELETE"]),
        Route("/api/v1/webinars/{webinar}/guests", guests.join_as_guest, methods=["POST"]),
        Route("/api/v1/rooms/{room}/webinars", webinars.room_webinars, methods=["GET"]),
        Route("/api/v1/webinars/{webinar}/board", board.board, methods=["GET"]),
        Route("/api/v1/webinars/{webinar}/questions", board.ask, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/questions/{question}", board.edit_question, methods=["PATCH"]),
        Route("/api/v1/webinars/{webinar}/questions/{question}/moderation", board.moderate, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/questions/{question}/vote", board.vote, methods=["PUT"]),
        Route("/api/v1/webinars/{webinar}/questions/{question}/vote", board.unvote, methods=["DELETE"]),
        Route("/api/v1/webinars/{webinar}/polls", board.create_poll, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/polls/{poll}/open", board.open_poll, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/polls/{poll}/close", board.close_poll, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/polls/{poll}/publish", board.publish_poll, methods=["POST"]),
        Route("/api/v1/webinars/{webinar}/polls/{poll}/answer", board.answer_poll, methods=["PUT"]),
        Route("/api/v1/me/export", archive.my_export, methods=["GET"]),
        Route("/api/v1/admin/export", archive.compliance_export, methods=["GET"]),
        Route("/api/v1/admin/audit", archive.audit_log, methods=["GET"]),
        Route("/api/v1/reports", moderation.file_report, methods=["POST"]),
        Route("/api/v1/me/moderation", moderation.my_standing, methods=["GET"]),
        Route("/api/v1/moderation/reports", moderation.report_queue, methods=["GET"]),
        Route("/api/v1/moderation/reports/{report}/actions", moderation.act_on_report, methods=["POST"]),
        Route("/api/v1/moderation/members/{user_id}", moderation.member_record, methods=["GET"]),
        Route("/api/v1/moderation/members/{user_id}/actions", moderation.act_on_member, methods=["POST"]),
        Route("/api/v1/rooms/{room}/export", export.room_export, methods=["GET"]),
        Route("/api/v1/topics/{topic}/export", export.topic_export, methods=["GET"]),
        Route("/api/v1/webinars/{webinar}/export", export.webinar_export, methods=["GET"]),
        Route("/api/v1/uploads", files.create_upload, methods=["POST"]),
        Route("/api/v1/uploads/{upload}", files.upload_state, methods=["GET"]),
        Route("/api/v1/uploads/{upload}", files.upload_chunk, methods=["PATCH"]),
        Route("/api/v1/uploads/{upload}", files.cancel_upload, methods=["DELETE"]),
        Route("/api/v1/files", files.upload_file, methods=["POST"]),
        Route("/api/v1/files/{file}", files.download_file, methods=["GET"]),
        Route("/api/v1/files/{file}/preview", files.file_preview, methods=["GET"]),
        Route("/api/v1/files/{file}/meta", files.file_meta, methods=["GET"]),
        Route("/api/v1/library", library.list_documents, methods=["GET"]),
        Route("/api/v1/library", library.create_document, methods=["POST"]),
        Route("/api/v1/library/{doc}", library.get_document, methods=["GET"]),
        Route("/api/v1/library/{doc}", library.edit_document, methods=["PATCH"]),
        Route("/api/v1/library/{doc}/versions", library.add_version, methods=["POST"]),
        Route("/api/v1/library/{doc}/download", library.download, methods=["GET"]),
        Route("/api/v1/library/{doc}/review", library.review, methods=["POST"]),
        Route("/api/v1/library/{doc}/share", library.share, methods=["POST"]),
        Route("/api/v1/privacy", privacy_notice, methods=["GET"]),
        Route("/api/v1/me/mail-preferences", mail_routes.my_mail_preferences, methods=["GET"]),
        Route("/api/v1/me/mail-preferences", mail_routes.update_my_mail_preferences, methods=["PUT"]),
        Route("/api/v1/mail/unsubscribe", mail_routes.unsubscribe_page, methods=["GET"]),
        Route("/api/v1/mail/unsubscribe", mail_routes.unsubscribe, methods=["POST"]),
        Route("/api/v1/poll", poll.open_session, methods=["POST"]),
        Route("/api/v1/poll/{session}", poll.poll_frames, methods=["GET"]),
        Route("/api/v1/poll/{session}", poll.post_frames, methods=["POST"]),
        Route("/api/v1/poll/{session}", poll.close_session, methods=["DELETE"]),
        Route("/healthz", http.healthz, methods=["GET"]),
        Route("/readyz", http.readyz, methods=["GET"]),
        Route("/metrics", http.metrics, methods=["GET"]),
        # Served by EcoLinkApp before Starlette sees it; listed so the route table is whole.
        WebSocketRoute("/ws", ws_endpoint),
    ]
    routes.append(openapi_route(routes))
    routes.extend(web_routes(find_web_dir(settings.web_dir)))
    # Inside Starlette, so it sees every HTTP response but the 500s of ServerErrorMiddleware
    # (small, and sent when a response may have half gone already); never the WebSocket.
    # HttpEdge first (outermost): it sees every response's headers, gzipped or not, and every
    # exception a route did not handle.
    middleware: list[Middleware] = [Middleware(HttpEdge)]
    if settings.http_gzip:
        middleware.append(Middleware(CompressedResponses, minimum_size=settings.http_gzip_min_bytes))
    starlette = Starlette(routes=routes, middleware=middleware, exception_handlers=HANDLERS, lifespan=lifespan)
    starlette.state.polls = polls
    return EcoLinkApp(starlette, "/ws", ws_endpoint)


def app_from_env() -> EcoLinkApp:
    """Factory for `uvicorn --factory` and worker processes: settings from the environment."""
    from chat import logs

    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    return create_app(settings)
