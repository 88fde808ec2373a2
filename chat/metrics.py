"""Prometheus metrics of one node, in a registry of its own (several nodes may share a process
in tests). Hot paths increment once per fan-out or batch, never once per delivery."""

from __future__ import annotations

import asyncio
import gc

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge("ecolink_connections", "Open WebSocket connections", registry=r)
        self.poll_sessions = Gauge("ecolink_poll_sessions", "Open long-polling sessions", registry=r)
        self.joined_rooms = Gauge(
            "ecolink_joined_rooms", "Room memberships of open connections", registry=r
        )
        self.room_feeds = Gauge("ecolink_room_feeds", "Rooms with local members", registry=r)
        self.deliveries = Counter(
            "ecolink_deliveries", "Message frames queued to connections", registry=r
        )
        self.messages = Counter("ecolink_messages", "Messages committed by this node", registry=r)
        self.slow_consumer_closes = Counter(
            "ecolink_slow_consumer_closes", "Connections closed with 4008 slow consumer", registry=r
        )
        self.frame_errors = Counter(
            "ecolink_frame_errors", "Error frames sent, by code", ["code"], registry=r
        )
        self.commit_seconds = Histogram(
            "ecolink_store_commit_seconds",
            "Group commit latency (one transaction)",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.commit_batch = Histogram(
            "ecolink_store_commit_batch_size",
            "Sends per group commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.commit_splits = Counter(
            "ecolink_store_commit_splits",
            "Batches the store refused, split in two to isolate the failing send", registry=r
        )
        self.broker_lag_seconds = Histogram(
            "ecolink_broker_lag_seconds",
            "Time from commit to arrival through the broker",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0),
            registry=r,
        )
        self.renders = Counter(
            "ecolink_renders", "Bodies too costly to render inline: rendered by a worker, or "
            "stored as plain text (pool busy, over the time budget, pool broken)", ["outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "ecolink_rate_limited", "Actions refused by an abuse limit, by limit", ["limit"],
            registry=r,
        )
        self.broker_up = Gauge("ecolink_broker_up", "1 while the broker is subscribed", registry=r)
        self.mail = Counter(
            "ecolink_mail", "Mail send attempts by this node, by outcome (sent, retry, failed)",
            ["outcome"], registry=r,
        )
        # Read at scrape time, on the node's event loop: a leak of tasks (one per connection
        # that never ends) shows as a count that grows with reconnects (docs/reliability.md, "Soak").
        self.event_loop_tasks = Gauge(
            "ecolink_event_loop_tasks", "Tasks alive on the node's event loop", registry=r
        )
        self.event_loop_tasks.set_function(_event_loop_tasks)
        # How late the loop ran a timer that asked to run every ECOLINK_LOOP_LAG_INTERVAL_S
        # (chat/looplag.py): a stall delays every connection on the node by as long.
        self.event_loop_lag_seconds = Histogram(
            "ecolink_event_loop_lag_seconds", "How late the event loop ran a due timer",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0), registry=r,
        )
        self.event_loop_lag_max_seconds = Gauge(
            "ecolink_event_loop_lag_max_seconds", "The longest event-loop lag of the last 30-60 s",
            registry=r,
        )
        # Objects in the collector's permanent generation (chat/gcfreeze.py): it follows the live
        # connections; a steady rise with steady connections is a reference cycle that escaped.
        self.gc_frozen_objects = Gauge(
            "ecolink_gc_frozen_objects", "Objects frozen out of full garbage collections", registry=r
        )
        self.gc_frozen_objects.set_function(lambda: float(gc.get_freeze_count()))


def _event_loop_tasks() -> float:
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:  # scraped outside the event loop
        return float("nan")
