"""The composition root: one node's store, broker, hub, committer and services, opened and
closed together as one async context manager (the Starlette lifespan opens it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import structlog

from chat.logs import failure
from chat.accounts.deletion import AccountDeletion
from chat.accounts.profiles import ProfileService
from chat.accounts.challenge import Challenges
from chat.rooms.post_checks import AUTHOR, MUTE, of_author
from chat.rooms.abuse import AbuseGuard, Limits as AbuseLimits, own_hosts
from chat.accounts.recovery import RecoveryService
from chat.accounts.service import AccountService
from chat.audit.service import AuditLog
from chat.blobs.open import open_blobs
from chat.blobs.port import BlobStore
from chat.broker.memory import MemoryBroker
from chat.broker.port import Broker
from chat.clock import Clock, SystemClock
from chat.config import Settings
from chat.export.compliance import ComplianceExports
from chat.export.personal import PersonalArchives
from chat.export.service import ExportService
from chat.files.service import FileService
from chat.library.service import LibraryService
from chat.mail.producers import MailProducers
from chat.mail.sender import MailSender
from chat.mail.service import MailService
from chat.hub.hub import Hub
from chat.hub.subscriber import WireFormat
from chat.metrics import Metrics
from chat.moderation.service import ModerationService
from chat.models import Message, User
from chat.presence.memory import MemoryPresence
from chat.presence.port import Presence
from chat.presence.tracker import PresenceTracker
from chat.projects.service import ProjectService
from chat.protocol.ratelimit import HandshakeGuard, MemberBudgets
from chat.redis.listener import RedisListener
from chat.rooms.committer import GroupCommitter
from chat.rooms.conversations import ConversationService
from chat.rooms.notifications import NotificationService
from chat.rooms.reads import ReadService
from chat.rooms.rendering import Renderer
from chat.rooms.service import RoomService
from chat.search.service import SearchService
from chat.store.open import open_store
from chat.store.port import Store
from chat.webinars.board import BoardService
from chat.webinars.service import WebinarService
from chat.webinars.ticker import BoardTicker

log = structlog.get_logger("chat.node")


@dataclass
class Node:
    node_id: str
    settings: Settings
    store: Store
    broker: Broker
    hub: Hub
    metrics: Metrics
    clock: Clock
    accounts: AccountService
    deletion: AccountDeletion
    challenges: Challenges
    rooms: RoomService
    presence: PresenceTracker
    profiles: ProfileService
    conversations: ConversationService
    reads: ReadService
    notifications: NotificationService
    webinars: WebinarService
    projects: ProjectService
    board: BoardService
    audit: AuditLog
    moderation: ModerationService
    archives: PersonalArchives
    compliance: ComplianceExports
    exports: ExportService
    files: FileService
    library: LibraryService
    search: SearchService
    mail: MailService
    mail_producers: MailProducers
    recovery: RecoveryService
    blobs: BlobStore
    budgets: MemberBudgets
    handshakes: HandshakeGuard
    renderer: Renderer
    draining: bool = False


@contextlib.asynccontextmanager
async def open_redis_listener(settings: Settings) -> AsyncIterator[RedisListener | None]:
    """The node's one Redis pub/sub connection, which the broker and presence share (None
    without Redis)."""
    if settings.redis_url:
        async with RedisListener.open(settings.redis_url, settings.redis_prefix,
                                      settings.redis_silence_s) as listener:
            yield listener
    else:
        yield None


@contextlib.asynccontextmanager
async def open_broker(settings: Settings, listener: RedisListener | None) -> AsyncIterator[Broker]:
    if settings.redis_url:
        from chat.broker.redis import RedisBroker

        async with RedisBroker.open(settings.redis_url, settings.redis_prefix, listener) as broker:
            yield broker
    else:
        yield MemoryBroker()


def each(*listeners: Callable[[list[Message]], None]) -> Callable[[list[Message]], None]:
    """One committer callback for several listeners, in order. A failing listener is logged
    and skipped: the committer resolves its sends after the callback, so none may raise."""

    def call(messages: list[Message]) -> None:
        for listener in listeners:
            try:
                listener(messages)
            except Exception as exc:
                log.error("node.commit_listener_failed", **failure(exc))

    return call


@contextlib.asynccontextmanager
async def open_presence(
    settings: Settings, hub: Hub, formats: list[WireFormat], clock: Clock, metrics: Metrics,
    listener: RedisListener | None,
) -> AsyncIterator[PresenceTracker]:
    """The presence backend (Redis next to the broker, else in-process) and this node's tracker,
    running; on exit this node's entries are removed."""
    backend: contextlib.AbstractAsyncContextManager[Presence]
    if settings.redis_url:
        from chat.presence.redis import RedisPresence

        backend = RedisPresence.open(settings.redis_url, settings.redis_prefix, hub.node_id, clock,
                                     settings.presence_ttl_s, listener)
    else:
        backend = contextlib.nullcontext(MemoryPresence(hub.node_id, clock, settings.presence_ttl_s))
    async with backend as presence:
        tracker = PresenceTracker(presence, hub, formats, clock, metrics,
                                  interval_s=settings.presence_interval_s,
                                  typing_interval_s=settings.typing_interval_s)
        async with tracker.running():
            yield tracker


def files_from_settings(store: Store, blobs: BlobStore, clock: Clock,
                        visible_room: Callable[[User, str], Awaitable[object]], settings: Settings) -> FileService:
    """The file service as the settings configure it (a node's; `ecolink import-library`'s,
    whose visible_room finds no room)."""
    mib = 1024 * 1024
    return FileService(store, blobs, clock, visible_room=visible_room,
                       max_bytes=settings.upload_max_mb * mib, part_bytes=settings.upload_part_mb * mib,
                       quota_bytes=settings.upload_quota_mb * mib,
                       expire_ms=int(settings.upload_expire_hours * 3_600_000),
                       retention_ms=int(settings.file_retention_days * 86_400_000),
                       sweep_s=settings.file_sweep_s, part_writes=settings.upload_part_writes)


@contextlib.asynccontextmanager
async def open_node(
    settings: Settings, formats: list[WireFormat], clock: Clock | None = None
) -> AsyncIterator[Node]:
    clock = clock or SystemClock()
    metrics = Metrics()
    async with open_store(settings) as store:
        if settings.auto_migrate:
            applied = await store.migrate()
            if applied:
                log.info("store.migrated", versions=applied)
        async with open_redis_listener(settings) as listener, \
                open_broker(settings, listener) as broker, open_blobs(settings) as blobs:
            metrics.broker_up.set(1 if broker.healthy else 0)
            hub = Hub(
                store=store,
                broker=broker,
                formats=formats,
                clock=clock,
                metrics=metrics,
                replay_limit=settings.replay_limit,
                fan_out_slice=settings.fan_out_slice,
                linger_s=settings.unsubscribe_linger_s,
                sweep_interval_s=settings.sweep_interval_s,
                degraded_poll_s=settings.degraded_poll_s,
            )
            notifications = NotificationService(store, hub, clock)
            on_committed = each(hub.committed, notifications.committed)
            committer = GroupCommitter(store, clock, metrics, on_committed,
                                       max_batch=settings.group_commit_max)
            accounts = AccountService.from_settings(store, clock, settings,
                                                    on_session_ended=hub.end_session)
            renderer = Renderer(metrics, workers=settings.render_workers,
                                inline_ms=settings.render_inline_ms,
                                budget_ms=settings.render_budget_ms, queue=settings.render_queue)
            rooms = RoomService(store, hub, committer, renderer)
            rooms.staff.use(accounts.two_factor.check_staff)  # ECOLINK_ADMIN_TWO_FACTOR, for every staff act
            rooms.use_abuse(AbuseGuard(store, clock, AbuseLimits.from_settings(settings), own_hosts(settings)))
            webinars = WebinarService(store, rooms, notifications, clock, renderer, on_committed,
                                      auto_end_min=settings.webinar_auto_end_min,
                                      sweep_s=settings.webinar_sweep_s)
            rooms.gate("webinar", webinars.check_chat)
            ticker = BoardTicker(hub.broadcast, settings.board_tick_ms)
            board = BoardService(store, hub, clock, renderer, ticker, on_committed,
                                 open_questions=settings.webinar_open_questions)
            conversations = ConversationService(store, hub, rooms, committer, clock, renderer)
            audit = AuditLog(store, clock)
            moderation = ModerationService(store, clock, audit, rooms, hub, accounts.end_sessions_of,
                                           reports_per_window=settings.reports_per_window,
                                           report_window_s=settings.report_window_s)
            board.checks = rooms.checks  # one list of post checks: messages, topics, news, questions
            rooms.checks.add(MUTE, moderation.check_mute)  # a mute refuses posts in its room
            accounts.check_logins(moderation.check_login)  # a suspension or ban refuses logins
            exports = ExportService(store, clock, concurrency=settings.export_concurrency,
                                    page=settings.export_page, pdf_max_pages=settings.export_pdf_max_pages,
                                    pdf_font=settings.pdf_font)
            files = files_from_settings(store, blobs, clock, rooms.visible_room, settings)
            rooms.use_files(files)  # messages, topics and webinars attach through it
            library = LibraryService(store, files, clock, rooms)
            projects = ProjectService(store, rooms, conversations, notifications, clock, renderer, files)
            projects.use_library(library.project_document)
            mail = MailService(store, clock, settings.public_base)
            sender = MailSender(store, clock, settings, metrics)
            mail.on_enqueued(sender.wake)
            producers = MailProducers(store, mail, clock, settings)
            recovery = RecoveryService(store, clock, accounts, mail, settings)
            rooms.checks.add(AUTHOR, of_author(recovery.check_can_post))  # a verified address, when required
            # Exits run in reverse: the webinar sweep stops before the committer drains into
            # the notifier, which drains into the hub's outbox.
            async with renderer.running(), hub.running(), notifications.running(), \
                    committer.running(), webinars.running(), ticker.running(), files.running(), \
                    sender.running(), producers.running(), \
                    open_presence(settings, hub, formats, clock, metrics, listener) as presence:
                node = Node(
                    node_id=hub.node_id,
                    settings=settings,
                    store=store,
                    broker=broker,
                    hub=hub,
                    metrics=metrics,
                    clock=clock,
                    accounts=accounts,
                    deletion=AccountDeletion(store, accounts, rooms.delete),
                    challenges=Challenges(store, clock, bits=settings.registration_pow_bits,
                                          ttl_s=settings.registration_challenge_ttl_s),
                    rooms=rooms,
                    presence=presence,
                    profiles=ProfileService(store),
                    conversations=conversations,
                    reads=ReadService(store, hub, rooms),
                    notifications=notifications,
                    webinars=webinars,
                    projects=projects,
                    board=board,
                    audit=audit,
                    moderation=moderation,
                    archives=PersonalArchives(store, audit, clock, exports),
                    compliance=ComplianceExports(store, exports, audit),
                    exports=exports,
                    files=files,
                    library=library,
                    search=SearchService(store, rooms.list_rooms),
                    mail=mail,
                    mail_producers=producers,
                    recovery=recovery,
                    blobs=blobs,
                    budgets=MemberBudgets(settings.member_rate_per_s, settings.member_rate_burst),
                    handshakes=HandshakeGuard(settings.max_sockets_per_member,
                                              settings.handshake_failures_max,
                                              settings.handshake_window_s),
                    renderer=renderer,
                )
                if filled := await node.profiles.fill_search_keys():
                    log.info("profiles.search_keys_filled", members=filled)
                log.info("node.started", node=node.node_id, store=store.dialect,
                         broker=type(broker).__name__)
                try:
                    yield node
                finally:
                    node.draining = True
                    await recovery.drain()
                    accounts.close()
