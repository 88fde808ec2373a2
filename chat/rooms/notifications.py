"""NotificationService: notifications made after commit, delivered live, listed and marked read.

New messages concern someone when they mention them, reply in a topic or news thread they
started, or arrive in one of their direct conversations (chat/store/notifications.py decides
who, in one query per batch). The committer hands every committed batch to `committed()`,
which only queues it: the notifications are written by a background task, never on the
commit path, so they cannot delay an ack. Then each one goes to its user's personal channel
(chat/hub/personal.py) as a `notification` frame, reaching their connections on every node.

Notifications are derived data, written after the message is durable: if the node dies in
between, or the queue overflows while the database is down, those are lost (the messages are
not). A batch is retried while the store is unavailable; a failed commit whose answer was
lost can therefore store one twice (docs/decisions.md, "Read state and notifications").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog

from chat.logs import failure
from chat.clock import Clock, iso_ms
from chat.errors import InvalidInput, Unavailable
from chat.hub.hub import Hub
from chat.hub.personal import personal_channel
from chat.models import Message, Notification, NotificationKind, User
from chat.rooms.service import CATALOG_ORDER
from chat.store.port import Store

log = structlog.get_logger("chat.notifications")

MAX_QUEUED = 10_000  # messages waiting for their notifications; more are dropped (and logged)
BATCH = 500
MAX_PAGE = 100
MAX_IDS = 100
RETRY_START_S = 0.1
RETRY_CAP_S = 5.0
SHUTDOWN_WAIT_S = 2.0
NEWEST = 2**62


def notification_json(notification: Notification) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "id": notification.notification_id,
        "kind": notification.kind,
        "room": notification.room_id,
        "seq": notification.seq,
        "message_id": notification.message_id,
        "actor": {"id": notification.actor_id, "name": notification.actor_name},
        "excerpt": notification.excerpt,
        "created_at": iso_ms(notification.created_at_ms),
        "read_at": None if notification.read_at_ms is None else iso_ms(notification.read_at_ms),
    }
    if notification.project_id is not None:  # a project update: the project whose thread `room` is
        wire["project"] = notification.project_id
    return wire


def notification_frame(notification: Notification) -> dict[str, Any]:
    return {"type": "notification", "notification": notification_json(notification)}


def may_notify(message: Message) -> bool:
    """Whether a committed entry can concern anyone: a message that mentions someone, or any
    message in a direct room or a topic or news thread (not the platform's open rooms, nor a
    webinar's audience chat, where only mentions notify). Not a project update told in its
    thread: ProjectService notifies that project's followers itself."""
    if "project_update" in message.data:
        return False  # the project's followers are told by ProjectService (chat/projects/)
    return message.kind == "message" and (
        bool(message.data.get("mentions"))
        or (message.room_id not in CATALOG_ORDER and not message.room_id.startswith("webinar-")))


class NotificationService:
    def __init__(self, store: Store, hub: Hub, clock: Clock) -> None:
        self._store = store
        self._hub = hub
        self._clock = clock
        self._pending: list[Message] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0

    # -- after commit ----------------------------------------------------------------------

    def committed(self, messages: list[Message]) -> None:
        """The committer's listener: queue what may notify someone. Never awaits or raises."""
        new = [message for message in messages if may_notify(message)]
        if not new:
            return
        room = MAX_QUEUED - len(self._pending)
        if room < len(new):
            self.dropped += len(new) - max(room, 0)
            log.warning("notifications.queue_full", dropped=len(new) - max(room, 0))
            new = new[:max(room, 0)]
        self._pending += new
        self._idle.clear()
        self._wake.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[NotificationService]:
        task = asyncio.create_task(self._run(), name="notifications")
        try:
            yield self
        finally:
            # Open after the committer, closed after it: its last batches are queued by now.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHUTDOWN_WAIT_S):
                    await self._idle.wait()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                await self._notify(batch)
            self._idle.set()

    async def _notify(self, batch: list[Message]) -> None:
        delay = RETRY_START_S
        while True:
            try:
                created = await self._store.create_notifications(
                    [message.message_id for message in batch], self._clock.now_ms())
                break
            except Unavailable:
                log.warning("notifications.store_unavailable", retry_in_s=delay)
            except Exception as exc:
                # A bug would fail again: log it loudly and go on with the next batch.
                log.error("notifications.failed", batch=len(batch), **failure(exc))
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP_S)
        for notification in created:
            self._hub.broadcast(personal_channel(notification.user_id), notification_frame(notification))

    async def notify_registered(self, webinar_id: str, message_id: str, kind: NotificationKind) -> None:
        """A webinar change (its "webinar" log entry `message_id`) for every member registered
        for it: stored, then sent to their personal channels."""
        created = await self._store.notify_registered(webinar_id, message_id, kind, self._clock.now_ms())
        self.send(created)

    def send(self, created: list[Notification]) -> None:
        """Stored notifications, each to its user's personal channel (every node)."""
        for notification in created:
            self._hub.broadcast(personal_channel(notification.user_id), notification_frame(notification))

    # -- the member's list -----------------------------------------------------------------

    async def listing(
        self, user: User, *, unread_only: bool, before: int | None, limit: int
    ) -> tuple[list[Notification], int | None]:
        """The user's notifications newest first, at most `limit`, with ids below `before`;
        and the `before` of the next page (None on the last)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        rows = await self._store.list_notifications(
            user.user_id, unread_only=unread_only, before_id=before or NEWEST, limit=limit + 1)
        page = rows[:limit]
        return page, (page[-1].notification_id if len(rows) > limit else None)

    async def unread(self, user: User) -> int:
        return await self._store.unread_notifications(user.user_id)

    async def mark_read(self, user: User, notification_ids: list[int] | None) -> tuple[list[int], int]:
        """Mark some of the user's notifications (None: all) read; ids that are not theirs
        are ignored. Returns the ids that changed and the unread count after. The user's
        connections get a `notifications_read` frame when something changed."""
        if notification_ids is not None and len(notification_ids) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} ids at a time", details={"ids": "too many"})
        changed = await self._store.mark_notifications_read(
            user.user_id, notification_ids, self._clock.now_ms())
        unread = await self._store.unread_notifications(user.user_id)
        if changed:
            frame: dict[str, Any] = {"type": "notifications_read", "unread": unread}
            frame.update({"all": True} if notification_ids is None else {"ids": changed})
            self._hub.broadcast(personal_channel(user.user_id), frame)
        return changed, unread
