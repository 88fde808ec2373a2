"""SqliteStore: the embedded default, one SQLite file in WAL mode through aiosqlite, one
module per area. Single node only (see sqlite/base.py)."""

from chat.store.sqlite.accounts import AccountsMixin
from chat.store.sqlite.history import HistoryMixin


class SqliteStore(HistoryMixin, AccountsMixin):
    """The Store port on SQLite (chat/store/port.py states the contract)."""


__all__ = ["SqliteStore"]
