"""Eco-city projects: a page per pilot project (names, city, sectors, partners, status, key
figures, documents), a timeline of dated updates its members post, followers who are notified
of each update, and a discussion thread (a topic listed in its city and sector rooms).

Who may: moderators and admins create projects and set their members; a project's members and
moderators edit its page, add documents and post updates; every signed-in member (not a
webinar's guest) reads projects and follows them. Posting an update stores it in the timeline,
tells it in the thread (a message with `data.project_update`, so the thread's readers see it
live) and notifies the project's followers and members (kind "project_update", through their
personal channels on every node). docs/protocol.md, "Projects".
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chat.clock import Clock
from chat.errors import Forbidden, InvalidInput, NotFound
from chat.models import (
    PROJECT_STATUSES, Project, ProjectChanges, ProjectDocument, ProjectFigure, ProjectStatus,
    ProjectUpdate, SendRequest, User,
)
from chat.rooms.attachments import FileBinder as Files  # what projects use of node.files
from chat.rooms.conversations import MAX_TITLE_CHARS, ConversationService
from chat.rooms.notifications import NotificationService
from chat.rooms.rendering import Renderer
from chat.rooms.service import RoomService
from chat.store.catalog import SEED_ROOMS
from chat.store.port import Store

MODERATORS = ("moderator", "admin")
CITIES: tuple[str, ...] = tuple(room.room_id for room in SEED_ROOMS if room.kind == "city")
SECTORS: tuple[str, ...] = tuple(room.room_id for room in SEED_ROOMS if room.kind == "sector")
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000
MAX_SECTORS = 4  # the thread is listed in the city room and these: at most 5 rooms
MAX_FIGURES = 20
MAX_LABEL_CHARS = 100
MAX_UNIT_CHARS = 30
MAX_FIGURE_VALUE = 1e15
MAX_ORGANISATIONS = 20
MAX_ORGANISATION_CHARS = 200
MAX_MEMBERS = 50
MAX_UPDATE_CHARS = 20_000
MAX_ATTACHMENTS = 10
MAX_PAGE = 100
FIRST_DAY = datetime.date(1990, 1, 1)


def _file_ref(project_id: str, file_id: str) -> str:
    """What holds a file attached to a project's page (its documents)."""
    return f"project:{project_id}:doc:{file_id}"


# A library document as a project's page shows it ({"title_en", "title_zh"}), if the user may
# see it; NotFound otherwise (the library registers it: ProjectService.use_library).
DocumentLookup = Callable[[User, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ProjectDraft:
    """A project's fields as a request gives them: None leaves one as it is (an edit) or takes
    its default (a new project). `figures` are dicts {label_en, label_zh, value, unit}."""

    name_en: str | None = None
    name_zh: str | None = None
    city: str | None = None
    sectors: list[str] | None = None
    status: str | None = None
    description: str | None = None
    figures: list[dict[str, Any]] | None = None
    organisations: list[str] | None = None
    members: list[int] | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput("some fields are not valid", details={field: problem})


def _text(value: str, field: str, max_chars: int) -> str:
    value = value.strip()
    if len(value) > max_chars:
        raise _invalid(field, f"must be at most {max_chars} characters")
    return value


def _figures(raw: list[dict[str, Any]]) -> tuple[ProjectFigure, ...]:
    if len(raw) > MAX_FIGURES:
        raise _invalid("figures", f"at most {MAX_FIGURES}")
    figures = []
    for index, item in enumerate(raw):
        field = f"figures.{index}"
        label_en = _text(item.get("label_en") or "", f"{field}.label_en", MAX_LABEL_CHARS)
        label_zh = _text(item.get("label_zh") or "", f"{field}.label_zh", MAX_LABEL_CHARS)
        if not label_en and not label_zh:
            raise _invalid(field, "needs a label in English or Chinese")
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or abs(value) > MAX_FIGURE_VALUE:
            raise _invalid(f"{field}.value", f"must be a number of at most {MAX_FIGURE_VALUE:.0e}")
        unit = _text(item.get("unit") or "", f"{field}.unit", MAX_UNIT_CHARS)
        figures.append(ProjectFigure(label_en, label_zh, float(value) if isinstance(value, float) else value, unit))
    return tuple(figures)


def _organisations(raw: list[str]) -> tuple[str, ...]:
    if len(raw) > MAX_ORGANISATIONS:
        raise _invalid("organisations", f"at most {MAX_ORGANISATIONS}")
    names = [_text(name, "organisations", MAX_ORGANISATION_CHARS) for name in raw]
    if any(not name for name in names):
        raise _invalid("organisations", "names may not be empty")
    return tuple(dict.fromkeys(names))


def _sectors(raw: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(raw))
    if any(sector not in SECTORS for sector in unique):
        raise _invalid("sectors", f"must be sector rooms: {', '.join(SECTORS)}")
    if len(unique) > MAX_SECTORS:
        raise _invalid("sectors", f"at most {MAX_SECTORS} (the thread is listed in at most 5 rooms)")
    return tuple(sorted(unique, key=SECTORS.index))


def _status(raw: str) -> ProjectStatus:
    for status in PROJECT_STATUSES:
        if raw == status:
            return status
    raise _invalid("status", f"must be one of {', '.join(PROJECT_STATUSES)}")


def _city(raw: str) -> str:
    if raw not in CITIES:
        raise _invalid("city", f"must be a city room: {', '.join(CITIES)}")
    return raw


def happened_on(raw: str, today: datetime.date) -> str:
    """An ISO date (YYYY-MM-DD) from 1990 to tomorrow (a member ahead in time zones)."""
    try:
        day = datetime.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= today + datetime.timedelta(days=1):
        raise _invalid("happened_on", "must be a date (YYYY-MM-DD) from 1990-01-01 to today")
    return day.isoformat()


def may_edit(user: User, project: Project) -> bool:
    return user.role in MODERATORS or any(user_id == user.user_id for user_id, _ in project.members)


class ProjectService:
    def __init__(self, store: Store, rooms: RoomService, conversations: ConversationService,
                 notifications: NotificationService, clock: Clock, renderer: Renderer,
                 files: Files | None = None) -> None:
        self._store = store
        self._rooms = rooms
        self._conversations = conversations
        self._notifications = notifications
        self._clock = clock
        self._renderer = renderer
        self._files = files
        self._documents: DocumentLookup | None = None

    def use_files(self, files: Files) -> None:
        self._files = files

    def use_library(self, lookup: DocumentLookup) -> None:
        """The library's check of a document a project links (docs/protocol.md, "Projects")."""
        self._documents = lookup

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def _reader(user: User) -> None:
        if user.guest_of is not None:
            raise Forbidden("projects are for the platform's members")

    async def get(self, user: User, project_id: str) -> Project:
        self._reader(user)
        project = await self._store.get_project(project_id, user.user_id)
        if project is None:
            raise NotFound("no such project")
        return project

    async def listing(self, user: User, *, city: str | None, sector: str | None, status: str | None,
                      after: tuple[int, str] | None, limit: int) -> tuple[list[Project], tuple[int, str] | None]:
        """A page of projects newest first, and the key of the next page (None on the last)."""
        self._reader(user)
        if city is not None:
            _city(city)
        if sector is not None and sector not in SECTORS:
            raise _invalid("sector", f"must be a sector room: {', '.join(SECTORS)}")
        if status is not None:
            _status(status)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        rows = await self._store.list_projects(user.user_id, city=city, sector=sector, status=status,
                                               after=after, limit=limit + 1)
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        return page, None if last is None else (last.created_at_ms, last.project_id)

    # -- the page --------------------------------------------------------------------------

    async def _members(self, user_ids: list[int]) -> tuple[tuple[int, str], ...]:
        unique = list(dict.fromkeys(user_ids))
        if len(unique) > MAX_MEMBERS:
            raise _invalid("members", f"at most {MAX_MEMBERS}")
        found = await self._store.users_by_id(unique)
        if len(found) != len(unique):
            raise _invalid("members", "names someone who is not a member")
        return tuple((user_id, found[user_id]) for user_id in unique)

    async def create(self, user: User, draft: ProjectDraft) -> Project:
        """A new project (moderators and admins) and its discussion thread: a topic in its
        city room, also listed in its sector rooms."""
        self._reader(user)
        if user.role not in MODERATORS:
            raise Forbidden("only moderators and admins create projects")
        await self._rooms.staff.check(user)
        name_en = _text(draft.name_en or "", "name.en", MAX_NAME_CHARS)
        name_zh = _text(draft.name_zh or "", "name.zh", MAX_NAME_CHARS)
        if not name_en and not name_zh:
            raise _invalid("name", "give a name in English or Chinese (or both)")
        if draft.city is None:
            raise _invalid("city", f"must be a city room: {', '.join(CITIES)}")
        city = _city(draft.city)
        sectors = _sectors(draft.sectors or [])
        status = _status(draft.status or "planned")
        description = _text(draft.description or "", "description", MAX_DESCRIPTION_CHARS)
        figures = _figures(draft.figures or [])
        organisations = _organisations(draft.organisations or [])
        members = await self._members(draft.members or [])
        title = " / ".join(name for name in (name_en, name_zh) if name)[:MAX_TITLE_CHARS]
        topic = await self._conversations.create_topic(user, city, title, description, list(sectors), None)
        now_ms = self._clock.now_ms()
        project = Project(
            project_id=new_id("p"), name_en=name_en, name_zh=name_zh, city=city, sectors=sectors,
            status=status, description=description, figures=figures, organisations=organisations,
            topic_id=topic.topic_id, created_by=user.user_id, created_at_ms=now_ms, updated_at_ms=now_ms,
            members=members)
        await self._store.create_project(project)
        return await self.get(user, project.project_id)

    async def _editable(self, user: User, project_id: str) -> Project:
        project = await self.get(user, project_id)
        if not may_edit(user, project):
            raise Forbidden("only the project's members and moderators change it")
        return project

    async def edit(self, user: User, project_id: str, draft: ProjectDraft) -> Project:
        """Change the page (its members or a moderator); the member list only a moderator.
        The thread stays listed where it was created."""
        project = await self._editable(user, project_id)
        if draft.members is not None and user.role not in MODERATORS:
            raise Forbidden("only moderators and admins set a project's members")
        if draft.members is not None:
            await self._rooms.staff.check(user)
        name_en = None if draft.name_en is None else _text(draft.name_en, "name.en", MAX_NAME_CHARS)
        name_zh = None if draft.name_zh is None else _text(draft.name_zh, "name.zh", MAX_NAME_CHARS)
        if not (project.name_en if name_en is None else name_en) and not (project.name_zh if name_zh is None else name_zh):
            raise _invalid("name", "give a name in English or Chinese (or both)")
        changes = ProjectChanges(
            name_en=name_en, name_zh=name_zh,
            city=None if draft.city is None else _city(draft.city),
            sectors=None if draft.sectors is None else _sectors(draft.sectors),
            status=None if draft.status is None else _status(draft.status),
            description=None if draft.description is None else _text(draft.description, "description", MAX_DESCRIPTION_CHARS),
            figures=None if draft.figures is None else _figures(draft.figures),
            organisations=None if draft.organisations is None else _organisations(draft.organisations),
            members=None if draft.members is None else tuple(m for m, _ in await self._members(draft.members)))
        if not await self._store.edit_project(project_id, changes, self._clock.now_ms()):
            raise NotFound("no such project")
        return await self.get(user, project_id)

    async def follow(self, user: User, project_id: str, following: bool) -> Project:
        await self.get(user, project_id)
        await self._store.set_following(project_id, user.user_id, following, self._clock.now_ms())
        return await self.get(user, project_id)

    # -- documents -------------------------------------------------------------------------

    async def add_document(self, user: User, project_id: str, *, doc_id: str | None,
                           file_id: str | None) -> Project:
        """Link a library document (`doc_id`) or attach one of the user's uploaded files
        (`file_id`) to the page: exactly one of them."""
        await self._editable(user, project_id)
        if (doc_id is None) == (file_id is None):
            raise InvalidInput("name a library document (doc) or an uploaded file (file), one of them")
        now_ms = self._clock.now_ms()
        if doc_id is not None:
            if self._documents is None:
                raise _invalid("doc", "the library is not available on this node")
            wire = await self._documents(user, doc_id)
            document = ProjectDocument(doc_id, "doc", wire, user.user_id, now_ms)
        else:
            assert file_id is not None
            # Added again: the page holds it already (idempotent).
            [wire] = await self._attach(user, [file_id], f"project:{project_id}", "file",
                                        holder=_file_ref(project_id, file_id))
            document = ProjectDocument(file_id, "file", wire, user.user_id, now_ms)
        if await self._store.add_project_document(project_id, document) and document.kind == "file":
            assert self._files is not None
            await self._files.bind_ref([document.item_id], _file_ref(project_id, document.item_id))
        return await self.get(user, project_id)

    async def remove_document(self, user: User, project_id: str, item_id: str) -> Project:
        project = await self._editable(user, project_id)
        document = next((d for d in project.documents if d.item_id == item_id), None)
        if document is None or not await self._store.remove_project_document(
                project_id, item_id, self._clock.now_ms()):
            raise NotFound("no such document on this project")
        if document.kind == "file" and self._files is not None:
            await self._files.release(_file_ref(project_id, item_id))
        return await self.get(user, project_id)

    async def _attach(self, user: User, file_ids: list[str], scope: str, field: str,
                      holder: str | None = None) -> list[dict[str, Any]]:
        if self._files is None:
            raise _invalid(field, "files are not available on this node")
        return await self._files.attach(user, file_ids, scope, holder)

    # -- the timeline ----------------------------------------------------------------------

    async def post_update(self, user: User, project_id: str, *, day: str, body: str,
                          attachments: list[str]) -> ProjectUpdate:
        """A dated update (the project's members and moderators): stored in the timeline, told
        in the thread as a message with data.project_update, and notified to the project's
        followers and members (not its author)."""
        project = await self._editable(user, project_id)
        today = datetime.datetime.fromtimestamp(self._clock.now_ms() / 1000, datetime.UTC).date()
        day = happened_on(day, today)
        body = body.strip()
        if not body or len(body) > MAX_UPDATE_CHARS:
            raise _invalid("body", f"must be 1-{MAX_UPDATE_CHARS} characters")
        if len(attachments) > MAX_ATTACHMENTS:
            raise _invalid("attachments", f"at most {MAX_ATTACHMENTS} files")
        files = await self._attach(user, attachments, f"project:{project_id}", "attachments") if attachments else []
        html = await self._renderer.render(body)
        now_ms = self._clock.now_ms()
        update = ProjectUpdate(
            update_id=new_id("pu"), project_id=project_id, author_id=user.user_id,
            author_name=user.display_name, happened_on=day, body=body, html=html,
            attachments=tuple(files), created_at_ms=now_ms)
        await self._store.add_project_update(update)
        if files:
            assert self._files is not None
            await self._files.bind_ref([f["id"] for f in files], f"project:{project_id}:update:{update.update_id}")
        data: dict[str, Any] = {"project_update": {
            "id": update.update_id, "project": project_id, "happened_on": day}}
        if files:
            data["attachments"] = files
        message, _ = await self._rooms.submit(SendRequest(
            project.topic_id, user.user_id, user.display_name, f"~{update.update_id}", body, html=html,
            data=data, author_role=user.role))
        created = await self._store.notify_project_update(project_id, update.update_id, message.message_id,
                                                          self._clock.now_ms())
        self._notifications.send(created)
        return dataclasses.replace(update, message_id=message.message_id)

    async def updates(self, user: User, project_id: str, *, before: tuple[str, int, str] | None,
                      limit: int) -> tuple[list[ProjectUpdate], tuple[str, int, str] | None]:
        """A page of the timeline newest first, and the key of the next page (None: last)."""
        await self.get(user, project_id)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
        rows = await self._store.project_updates(project_id, before=before, limit=limit + 1)
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        return page, None if last is None else (last.happened_on, last.created_at_ms, last.update_id)

