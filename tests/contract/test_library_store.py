"""The Store contract for the knowledge library (chat/store/library.py, migration 0019), on SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from chat.models import DocMeta, LibraryQuery
from tests.support.store_data import users

NOW = 1_700_000_000_000


def meta(title_en: str = "", title_zh: str = "", **changes: object) -> DocMeta:
    base = DocMeta(title_en, title_zh, "about it", "report", "en", 2020, "EC-Link", ("green-buildings",), ("zhuhai",))
    return replace(base, **changes)  # type: ignore[arg-type]


def file(file_id: str) -> dict[str, object]:
    return {"id": file_id, "name": f"{file_id}.pdf", "type": "application/pdf", "size": 10, "kind": "pdf"}


async def test_a_document_keeps_its_metadata_versions_and_state(store):
    ann, mod = await users(store, "ann", "mod")
    doc = await store.create_document("d-1", meta("Green roofs", "绿色屋顶"), "proposed", ann.user_id, NOW,
                                      ("f-1", "aa" * 32, file("f-1"), "first"))
    assert (doc.state, doc.current_version, doc.proposed_by, doc.proposer_name) == ("proposed", 1, ann.user_id, "ann")
    assert doc.meta.sectors == ("green-buildings",) and doc.meta.cities == ("zhuhai",)
    assert await store.get_document("d-1") == doc
    assert await store.get_document("d-nope") is None

    assert await store.add_document_version("d-1", "f-2", "bb" * 32, file("f-2"), "second", mod.user_id, NOW + 5) == 2
    assert await store.add_document_version("d-nope", "f-3", "", file("f-3"), "", mod.user_id, NOW) is None
    versions = await store.document_versions("d-1")
    assert [(v.version, v.file_id, v.note, v.uploader_name) for v in versions] == [
        (2, "f-2", "second", "mod"), (1, "f-1", "first", "ann")]
    assert versions[0].file == file("f-2")
    assert (await store.get_document("d-1")).current_version == 2

    # Review moves only from the given states, and only once.
    published = await store.review_document("d-1", ("proposed",), "published", mod.user_id, "", NOW + 10)
    assert published is not None and (published.state, published.reviewed_by, published.listed_at_ms) == (
        "published", mod.user_id, NOW + 10)
    assert await store.review_document("d-1", ("proposed",), "rejected", mod.user_id, "late", NOW + 11) is None
    assert (await store.get_document("d-1")).state == "published"

    edited = await store.update_document("d-1", meta("Green roofs 2", "绿色屋顶", cities=("luoyang",)), NOW + 20)
    assert edited is not None and edited.meta.title_en == "Green roofs 2" and edited.meta.cities == ("luoyang",)
    assert await store.update_document("d-nope", meta("x"), NOW) is None
    await store.count_download("d-1")
    await store.count_download("d-1")
    assert (await store.get_document("d-1")).downloads == 2


async def test_the_list_filters_sorts_and_pages(store):
    ann, bob = await users(store, "ann", "bob")
    specs = [
        ("d-a", meta("Alpha water plan", "", doc_type="policy", language="en", year=2019, sectors=("water-management",), cities=("zhuhai",))),
        ("d-b", meta("", "海绵城市指南", doc_type="guide", language="zh", year=2021, sectors=("water-management",), cities=("hefei",))),
        ("d-c", meta("beta Bus lanes", "快速公交", doc_type="case-study", language="both", year=2021, sectors=("green-transport",), cities=("zhuhai",))),
        ("d-d", meta("Gamma 100%_done", "", doc_type="data", language="en", year=2022, sectors=(), cities=())),
    ]
    for offset, (doc_id, m) in enumerate(specs):
        await store.create_document(doc_id, m, "published", ann.user_id, NOW + offset, None)
    await store.create_document("d-p", meta("Alpha proposal"), "proposed", bob.user_id, NOW + 9, None)
    for _ in range(3):
        await store.count_download("d-b")
    await store.count_download("d-d")

    async def ids(**query: object) -> list[str]:
        return [d.doc_id for d in await store.list_documents(LibraryQuery(**query))]  # type: ignore[arg-type]

    assert await ids() == ["d-d", "d-c", "d-b", "d-a"]
    assert await ids(sector="water-management") == ["d-b", "d-a"]
    assert await ids(city="zhuhai") == ["d-c", "d-a"]
    assert await ids(city="zhuhai", sector="green-transport") == ["d-c"]
    assert await ids(language="en") == ["d-d", "d-c", "d-a"]  # "both" counts as English too
    assert await ids(language="zh") == ["d-c", "d-b"]
    assert await ids(language="both") == ["d-c"]
    assert await ids(doc_type="guide") == ["d-b"]
    assert await ids(year=2021) == ["d-c", "d-b"]
    assert await ids(q="ALPHA") == ["d-a"]  # case-insensitive, published only
    assert await ids(q="海绵") == ["d-b"]  # a Chinese substring
    assert await ids(q="公交") == ["d-c"]
    assert await ids(q="100%_") == ["d-d"] and await ids(q="%") == ["d-d"] and await ids(q="_") == ["d-d"]
    assert await ids(sort="downloads") == ["d-b", "d-d", "d-c", "d-a"]
    assert await ids(sort="title", lang="en") == ["d-a", "d-c", "d-d", "d-b"]  # d-b falls back to 海绵…
    assert await ids(sort="title", lang="zh") == ["d-a", "d-d", "d-c", "d-b"]  # 快速公交 < 海绵城市指南 by code point

    # Proposals: a viewer sees their own, staff (viewer None) every one.
    assert await ids(state="proposed", viewer_id=ann.user_id) == []
    assert await ids(state="proposed", viewer_id=bob.user_id) == ["d-p"]
    assert await ids(state="proposed") == ["d-p"]

    # Keyset pages cover every document once, in each order.
    for sort, lang in (("newest", "en"), ("downloads", "en"), ("title", "en"), ("title", "zh")):
        whole = await ids(sort=sort, lang=lang)
        seen: list[str] = []
        after = None
        while True:
            page = await store.list_documents(LibraryQuery(sort=sort, lang=lang, after=after, limit=1))  # type: ignore[arg-type]
            if not page:
                break
            last = page[-1]
            seen.append(last.doc_id)
            key: int | str
            if sort == "newest":
                key = last.listed_at_ms
            elif sort == "downloads":
                key = last.downloads
            else:
                title = (last.meta.title_zh or last.meta.title_en) if lang == "zh" else (last.meta.title_en or last.meta.title_zh)
                key = title.lower()
            after = (key, last.doc_id)
        assert seen == whole, (sort, lang)


async def test_mentions_are_recorded_once_and_only_for_documents(store):
    ann, = await users(store, "ann")
    await store.create_document("d-m", meta("Mentioned"), "published", ann.user_id, NOW, None)
    assert await store.add_document_mention("d-m", "zhuhai", "m-1", NOW + 1)
    assert not await store.add_document_mention("d-m", "zhuhai", "m-1", NOW + 1)
    assert await store.add_document_mention("d-m", "hefei", "m-2", NOW + 2)
    assert not await store.add_document_mention("d-none", "hefei", "m-3", NOW + 3)
    mentions = await store.document_mentions("d-m", 10)
    assert [(m.room_id, m.message_id) for m in mentions] == [("hefei", "m-2"), ("zhuhai", "m-1")]
    assert len(await store.document_mentions("d-m", 1)) == 1


async def test_the_duplicate_check_matches_hash_and_titles(store):
    ann, mod = await users(store, "ann", "mod")
    await store.create_document("d-x", meta("Same", "同"), "published", ann.user_id, NOW,
                                ("f-1", "cc" * 32, file("f-1"), ""))
    assert await store.find_document_file("cc" * 32, "Same", "同") == "d-x"
    assert await store.find_document_file("cc" * 32, "Other", "同") is None
    assert await store.find_document_file("dd" * 32, "Same", "同") is None
    await store.review_document("d-x", ("published",), "withdrawn", mod.user_id, "gone", NOW + 1)
    assert await store.find_document_file("cc" * 32, "Same", "同") is None


async def test_first_admin_is_the_oldest_admin(store):
    assert await store.first_admin() is None
    ann, bob, cat = await users(store, "ann", "bob", "cat")
    await store.set_role(cat.user_id, "admin")
    await store.set_role(bob.user_id, "admin")
    admin = await store.first_admin()
    assert admin is not None and admin.user_id == bob.user_id and admin.role == "admin"
