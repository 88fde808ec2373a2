"""SqliteStore: the embedded default, one SQLite file in WAL mode through aiosqlite. The shared
modules (chat/store/*.py) run over its database handle (sqlite/database.py); only what behaves
differently is here. Single node only (see sqlite/base.py)."""

from chat.store.abuse import AbuseMixin
from chat.store.accounts import UsersMixin
from chat.store.attempts import AttemptsMixin
from chat.store.audit import AuditMixin
from chat.store.library import LibraryMixin
from chat.store.mail import MailMixin
from chat.store.mail_notices import MailNoticesMixin
from chat.store.moderation import ModerationMixin
from chat.store.board import BoardMixin
from chat.store.conversations import ConversationsMixin
from chat.store.exports import ExportsMixin
from chat.store.files import FilesMixin
from chat.store.history import HistoryReadsMixin
from chat.store.notifications import NotificationsMixin
from chat.store.personal import PersonalMixin
from chat.store.profiles import ProfilesMixin
from chat.store.sqlite.history import HistoryMixin
from chat.store.reads import ReadsMixin
from chat.store.room_settings import RoomSettingsMixin
from chat.store.projects import ProjectsMixin
from chat.store.search import SearchMixin
from chat.store.recovery import RecoveryMixin
from chat.store.secrets import SecretsMixin
from chat.store.two_factor import TwoFactorMixin
from chat.store.deletion import DeletionMixin
from chat.store.webinars import WebinarsMixin


class SqliteStore(HistoryMixin, HistoryReadsMixin, UsersMixin, AttemptsMixin, ProfilesMixin,
                  ConversationsMixin, ReadsMixin, NotificationsMixin,
                  RoomSettingsMixin, WebinarsMixin, BoardMixin, ExportsMixin, AuditMixin, PersonalMixin,
                  FilesMixin, LibraryMixin, ProjectsMixin, SearchMixin,
                  SecretsMixin, MailMixin, MailNoticesMixin, TwoFactorMixin, DeletionMixin, ModerationMixin,
                  AbuseMixin, RecoveryMixin):
    """The Store port on SQLite (chat/store/port.py states the contract)."""


__all__ = ["SqliteStore"]
