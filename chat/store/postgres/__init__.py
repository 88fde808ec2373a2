"""PostgresStore: history and accounts in PostgreSQL through an asyncpg pool, one module per
area. Dialect differences from SQLite are listed in docs/decisions.md ("Where the stores
differ"). Functions ending in _txn run inside a transaction their caller opened."""

from chat.store.conversations import ConversationsMixin
from chat.store.history import HistoryReadsMixin
from chat.store.notifications import NotificationsMixin
from chat.store.profiles import ProfilesMixin
from chat.store.postgres.accounts import AccountsMixin
from chat.store.postgres.history import HistoryMixin
from chat.store.reads import ReadsMixin


class PostgresStore(HistoryMixin, HistoryReadsMixin, AccountsMixin, ProfilesMixin, ConversationsMixin,
                    ReadsMixin, NotificationsMixin):
    """The Store port on PostgreSQL (chat/store/port.py states the contract)."""


__all__ = ["PostgresStore"]
