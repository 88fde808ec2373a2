"""The search service: one search by one member, over everything they may read
(docs/protocol.md, "Search").

It checks the parameters (InvalidSearch, a 400, with `details` naming each wrong one), parses
the query (chat/search/query.py), resolves its from: and in: names to members and rooms the
searcher can see, asks the store (which applies the access rule in SQL at query time), and
shapes each hit as its wire dict with a snippet (chat/search/snippets.py). Both transports
call it: `GET /api/v1/search` and the WebSocket's `search` frame.

Nothing here logs: a query is message text.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from chat.accounts.search_keys import search_key
from chat.errors import InvalidSearch
from chat.models import (
    SEARCH_KINDS, MemberQuery, Room, SearchHit, SearchKind, SearchOrder, SearchParams, SearchQuery, SearchTerm,
    User,
)
from chat.protocol.frames import is_room_id
from chat.search import tokens
from chat.search.query import parse
from chat.search.snippets import snippet
from chat.store.port import Store
from chat.text import INT64_MAX, text_problem

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_OFFSET = 1000  # relevance pages reach this deep; past it, narrow the search
MAX_FILTER_VALUES = 20  # rooms, authors (kinds: at most all of them)
SNIPPET_CHARS = 160
# How many members one from: name may stand for; how many the directory gives a page, and how
# many of its matches (a substring of a name, organisation or pinyin key, in name order) are
# looked through for the ones named exactly or by a prefix.
MAX_NAMED = 20
NAMES_PAGE = 200
MAX_NAMES_READ = 2000
ORDERS: tuple[SearchOrder, ...] = ("newest", "relevance")
LANGUAGES = ("en", "zh")
_NEWEST_CURSOR = re.compile(r"n\.([0-9]{1,16})\.([0-9]{1,19})")
# r.<offset>.<anchor> (r.<offset>: a cursor given before anchors, read against the newest entries).
_RELEVANCE_CURSOR = re.compile(r"r\.([0-9]{1,4})(?:\.([0-9]{1,19}))?")  # [0-9]: \d matches other digits too


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[dict[str, Any]]
    next_cursor: str | None = None


@dataclass
class _Problems:
    """Every wrong parameter, reported together."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, why: str) -> None:
        self.found.setdefault(name, why)

    def raise_any(self) -> None:
        if self.found:
            names = ", ".join(sorted(self.found))
            raise InvalidSearch(f"some search parameters are wrong: {names}", details=dict(self.found))


def read_cursor(cursor: str, order: SearchOrder) -> tuple[tuple[int, int] | None, int, int | None]:
    """(after, offset, anchor) of a cursor for this order; InvalidSearch when it is not one
    of them."""
    if order == "newest" and (match := _NEWEST_CURSOR.fullmatch(cursor)):
        at_ms, entry_id = int(match[1]), int(match[2])
        if at_ms <= INT64_MAX and entry_id <= INT64_MAX:
            return (at_ms, entry_id), 0, None
    if order == "relevance" and (match := _RELEVANCE_CURSOR.fullmatch(cursor)) and int(match[1]) <= MAX_OFFSET:
        anchor = None if match[2] is None else int(match[2])
        if anchor is None or anchor <= INT64_MAX:
            return None, int(match[1]), anchor
    raise InvalidSearch("the cursor is not one this search gave",
                        details={"cursor": f"give the 'next' of the previous page of the same search (order={order})"})


def _check(params: SearchParams) -> tuple[SearchOrder, int]:
    problems = _Problems()
    if problem := text_problem(params.q, multiline=True):
        problems.add("q", f"the query {problem}")
    limit = DEFAULT_LIMIT if params.limit is None else params.limit
    if not 1 <= limit <= MAX_LIMIT:
        problems.add("limit", f"a whole number from 1 to {MAX_LIMIT}")
    order = params.order or "newest"
    if order not in ORDERS:
        problems.add("order", "newest or relevance")
    if params.lang is not None and params.lang not in LANGUAGES:
        problems.add("lang", "en or zh")
    if any(kind not in SEARCH_KINDS for kind in params.kinds):
        problems.add("kinds", "each one of " + ", ".join(SEARCH_KINDS))
    elif len(set(params.kinds)) != len(params.kinds):
        problems.add("kinds", "each kind once")
    if len(params.rooms) > MAX_FILTER_VALUES or not all(is_room_id(room) for room in params.rooms):
        problems.add("rooms", f"at most {MAX_FILTER_VALUES} room ids (1-64 of a-z, 0-9 and '-')")
    if len(params.authors) > MAX_FILTER_VALUES or not all(0 < a <= INT64_MAX for a in params.authors):
        problems.add("authors", f"at most {MAX_FILTER_VALUES} user ids (whole numbers from 1)")
    for name, value in (("since_ms", params.since_ms), ("until_ms", params.until_ms)):
        if value is not None and not 0 <= value <= INT64_MAX:
            problems.add(name, "milliseconds since 1970, a whole number from 0")
    if (params.since_ms is not None and params.until_ms is not None
            and "since_ms" not in problems.found and params.since_ms >= params.until_ms):
        problems.add("until_ms", "later than since_ms")
    problems.raise_any()
    return cast(SearchOrder, order), limit


class SearchService:
    def __init__(self, store: Store, list_rooms: Callable[[User], Awaitable[list[Room]]]) -> None:
        """`list_rooms(user) -> list[Room]`: the rooms the member sees in their room list
        (RoomService.list_rooms), where in: names are looked up besides webinars."""
        self._store = store
        self._list_rooms = list_rooms

    async def search(self, user: User, params: SearchParams) -> SearchPage:
        """One page of what the member may read that matches; InvalidSearch (nothing else
        happens) for a wrong parameter or query, or from:/in: names that match nobody."""
        order, limit = _check(params)
        parsed = parse(params.q)
        after, offset, anchor = read_cursor(params.cursor, order) if params.cursor is not None else (None, 0, None)
        authors = set(params.authors)
        for name in parsed.authors:
            named = await self._members_named(name, quiet=user.guest_of is not None)
            if not named:
                return SearchPage([])  # a guest's from: names nobody: nothing, and no hint why
            authors.update(named)
        rooms = set(params.rooms)
        for name in parsed.rooms:
            rooms.update(await self._rooms_named(user, name))
        if order == "relevance" and anchor is None:
            # Every page of one relevance search ranks the same entries, those up to the anchor.
            anchor = await self._store.search_anchor()
        query = SearchQuery(
            terms=parsed.terms, kinds=cast(tuple[SearchKind, ...], params.kinds),
            room_ids=tuple(sorted(rooms)), author_ids=tuple(sorted(authors)),
            since_ms=params.since_ms, until_ms=params.until_ms,
            language=cast(Literal["en", "zh"] | None, params.lang), has_files=params.has_files,
            order=order, after=after, offset=offset, anchor=anchor, limit=limit)
        hits = await self._store.search(query, user.user_id, user.guest_of)
        page, more = hits[:limit], len(hits) > limit
        marked = [term for term in parsed.terms if not term.negated]
        next_cursor = None
        if more and page:
            if order == "newest":
                next_cursor = f"n.{page[-1].created_at_ms}.{page[-1].entry_id}"
            elif offset + limit <= MAX_OFFSET:
                next_cursor = f"r.{offset + limit}.{anchor}"
        return SearchPage([result_json(hit, marked) for hit in page], next_cursor)

    async def _members_named(self, name: str, *, quiet: bool) -> list[int]:
        """Members whose display name or alt name (or its pinyin) is `name`, folded; failing
        that, whose names start with it. None: InvalidSearch, or [] when `quiet` (a webinar's
        guest, who may not browse the member directory, learns nothing from an error)."""
        wanted = tokens.fold(name)
        joined = wanted.replace(" ", "")
        exact: list[int] = []
        starting: list[int] = []
        after: tuple[str, int] | None = None
        # Every page of the directory's matches (up to MAX_NAMES_READ): the one named exactly
        # may sort behind a page of others whose names merely hold the text (from:li, Ali …).
        for _ in range(MAX_NAMES_READ // NAMES_PAGE):
            found = await self._store.list_members(MemberQuery(text=name, after=after, limit=NAMES_PAGE))
            for member in found.members:
                names = [tokens.fold(member.display_name), tokens.fold(member.alt_name)]
                key = search_key(member.display_name, member.alt_name).split()
                if wanted in names or joined in key:
                    exact.append(member.user_id)
                elif any(n.startswith(wanted) for n in names if n) or any(k.startswith(joined) for k in key):
                    starting.append(member.user_id)
            if found.next_after is None:
                break
            after = found.next_after
        chosen = (exact or starting)[:MAX_NAMED]
        if not chosen and not quiet:
            raise InvalidSearch("no member has the name given after from:",
                                details={"q": "no member has the name given after from:"})
        return chosen

    async def _rooms_named(self, user: User, name: str) -> list[str]:
        """Rooms the member can see whose id, English or Chinese title is `name` (folded);
        failing that, whose titles start with it. None: InvalidSearch."""
        wanted = tokens.fold(name)
        webinars = await self._store.list_rooms(("webinar",))
        if user.guest_of is not None:  # their webinar's room, the only one they may search
            candidates = [room for room in webinars if room.room_id == user.guest_of]
        else:
            candidates = [*await self._list_rooms(user), *webinars]
        exact: list[str] = []
        starting: list[str] = []
        for room in candidates:
            titles = [tokens.fold(title) for title in (room.title_en, room.title_zh) if title]
            if room.room_id == name or wanted in titles:
                exact.append(room.room_id)
            elif any(title.startswith(wanted) for title in titles):
                starting.append(room.room_id)
        chosen = exact or starting
        if not chosen:
            raise InvalidSearch("no room you can see has the name given after in:",
                                details={"q": "no room you can see has the name given after in:"})
        return chosen


def result_json(hit: SearchHit, terms: list[SearchTerm]) -> dict[str, Any]:
    """One result on the wire (docs/protocol.md, "Search"): the snippet is cut from the body,
    or from the title when there is no body."""
    text, marks = snippet(hit.body or hit.title, terms, SNIPPET_CHARS)
    return {
        "kind": hit.kind,
        "id": hit.ref_id,
        "room_id": hit.room_id,
        "room": None if hit.room_id is None or hit.room_kind is None else {
            "kind": hit.room_kind, "title_en": hit.room_title_en, "title_zh": hit.room_title_zh},
        "seq": hit.seq,
        "author": None if hit.author_id is None else {"user_id": hit.author_id, "name": hit.author_name},
        "at_ms": hit.created_at_ms,
        "title": hit.title,
        "snippet": {"text": text, "marks": [[start, end] for start, end in marks]},
        "has_files": hit.has_files,
        "lang": hit.language,
    }
