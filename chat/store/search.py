"""The search index of both stores (skeleton: issue 14 fills it in)."""

from __future__ import annotations

from chat.models import SearchEntry, SearchHit, SearchKind, SearchQuery
from chat.store.database import Database


class SearchMixin:
    """Mixed into each store, whose base supplies `_db` (tests/contract/test_search_store.py)."""

    _db: Database
    search_indexing: bool = True

    async def index_entries(self, entries: list[SearchEntry]) -> None:
        raise NotImplementedError

    async def unindex_entries(self, kind: SearchKind, ref_ids: list[str]) -> int:
        raise NotImplementedError

    async def search(self, query: SearchQuery, user_id: int, guest_of: str | None) -> list[SearchHit]:
        raise NotImplementedError

    async def search_sources(self, kind: SearchKind, after: str, limit: int) -> list[SearchEntry]:
        raise NotImplementedError

    async def clear_search_index(self, kinds: tuple[SearchKind, ...]) -> int:
        raise NotImplementedError

    async def search_index_size(self) -> dict[str, int]:
        raise NotImplementedError
