"""The composition root: one node's store, broker, hub, committer and services, opened and
closed together as one async context manager (the Starlette lifespan opens it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from chat.accounts.passwords import Passwords
from chat.accounts.service import AccountService
from chat.broker.memory import MemoryBroker
from chat.broker.port import Broker
from chat.clock import Clock, SystemClock
from chat.config import Settings
from chat.hub.hub import Hub
from chat.hub.subscriber import WireFormat
from chat.metrics import Metrics
from chat.rooms.committer import GroupCommitter
from chat.rooms.service import RoomService
from chat.store.open import open_store
from chat.store.port import Store

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
    rooms: RoomService
    draining: bool = False


@contextlib.asynccontextmanager
async def open_broker(settings: Settings) -> AsyncIterator[Broker]:
    if settings.redis_url:
        from chat.broker.redis import RedisBroker

        async with RedisBroker.open(settings.redis_url, settings.redis_prefix) as broker:
            yield broker
    else:
        yield MemoryBroker()


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
        async with open_broker(settings) as broker:
            metrics.broker_up.set(1 if broker.healthy else 0)
            hub = Hub(
                store=store,
                broker=broker,
                formats=formats,
                clock=clock,
                metrics=metrics,
                replay_limit=settings.replay_limit,
                linger_s=settings.unsubscribe_linger_s,
                sweep_interval_s=settings.sweep_interval_s,
                degraded_poll_s=settings.degraded_poll_s,
            )
            committer = GroupCommitter(
                store, clock, metrics, hub.committed, max_batch=settings.group_commit_max
            )
            accounts = AccountService(
                store,
                Passwords(settings.argon2_profile),
                clock,
                session_ttl_s=settings.session_ttl_days * 86400,
                login_failures_max=settings.login_failures_max,
                login_window_s=settings.login_window_s,
            )
            async with hub.running(), committer.running():
                node = Node(
                    node_id=hub.node_id,
                    settings=settings,
                    store=store,
                    broker=broker,
                    hub=hub,
                    metrics=metrics,
                    clock=clock,
                    accounts=accounts,
                    rooms=RoomService(store, hub, committer),
                )
                log.info("node.started", node=node.node_id, store=store.dialect,
                         broker=type(broker).__name__)
                yield node
                node.draining = True
