"""Library documents in the search index (LibraryService with chat/search/extract.py), on SQLite
and PostgreSQL with files in a local folder: a published PDF is found by the Chinese and English
words inside it, a proposal only once published; a new version's text replaces the old one's;
an edit of the metadata is found; withdrawn, it is gone; a broken file still leaves the title
and description findable; reindex_documents rebuilds the text of every published document."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chat.blobs.local import LocalBlobs
from chat.clock import SystemClock
from chat.files.service import FileService
from chat.library.service import DocDraft, LibraryService
from chat.models import SearchQuery
from tests.contract.test_search_sources_store import found, term
from tests.support.files import cjk_pdf_bytes, word_bytes
from tests.support.store_data import NOW, users

DRAFT = DocDraft(title_en="Bus rapid transit review", title_zh="快速公交评估", description="Guangzhou corridor.",
                 doc_type="guide", language="both", year=2021, source="EC-Link")


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def library(store, tmp_path) -> tuple[LibraryService, FileService]:
    async def no_room(user, room_id):
        raise AssertionError("no rooms here")

    blobs = LocalBlobs(tmp_path / "files")
    await blobs.prepare()
    files = FileService(store, blobs, SystemClock(), visible_room=no_room, max_bytes=1 << 26,
                        part_bytes=1 << 20, quota_bytes=1 << 30, expire_ms=3_600_000, retention_ms=0, sweep_s=600)
    return LibraryService(store, files, SystemClock()), files


async def test_a_published_pdf_is_found_by_the_words_inside_it_until_withdrawn(store, tmp_path):
    lib, files = await library(store, tmp_path)
    mod = await store.create_user("mod@example.test", "mod", "h", "moderator", NOW)
    ann, bob = await users(store, "ann", "bob")
    pdf = cjk_pdf_bytes("第一页 封面", "天河区的快速公交走廊 daily ridership of 800000 passengers")
    proposal = await files.ingest(ann, "brt.pdf", chunks(pdf), None, len(pdf))
    doc = await lib.create(ann, DRAFT, proposal.file_id)
    assert doc.state == "proposed"
    assert await found(store, bob, "ridership") == []  # a proposal is not in the index
    await lib.review(mod, doc.doc_id, "publish")
    for word in ("ridership", "passengers", "走廊", "天河", "快速公交", "corridor", "review", "评估"):
        assert await found(store, bob, word) == [("document", doc.doc_id)], word
    hit, = await store.search(SearchQuery((term("ridership"),)), bob.user_id, None)
    assert (hit.room_id, hit.title, hit.author_id, hit.has_files) == (
        None, "Bus rapid transit review / 快速公交评估", ann.user_id, True)
    assert hit.body.startswith("Guangzhou corridor.") and "800000 passengers" in hit.body
    assert await found(store, bob, "ridership", guest_of="webinar-0000000000000001") == []

    # A new version: its text is found, the old one's is not.
    docx = word_bytes(["地铁换乘 metro interchange"])
    second = await files.ingest(mod, "brt.docx", chunks(docx), None, len(docx))
    await lib.add_version(mod, doc.doc_id, second.file_id)
    assert await found(store, bob, "interchange") == [("document", doc.doc_id)]
    assert await found(store, bob, "换乘") == [("document", doc.doc_id)]
    assert await found(store, bob, "ridership") == []
    # An edit of its metadata is found, its file's text still is.
    await lib.edit(mod, doc.doc_id, DocDraft(title_en="BRT and metro"))
    assert await found(store, bob, "metro") == [("document", doc.doc_id)]
    assert await found(store, bob, "review") == []

    await lib.review(mod, doc.doc_id, "withdraw")
    assert await found(store, bob, "interchange") == [] and await found(store, bob, "metro") == []


async def test_a_broken_file_leaves_the_title_and_description_and_reindex_extracts_again(store, tmp_path):
    lib, files = await library(store, tmp_path)
    mod = await store.create_user("mod@example.test", "mod", "h", "moderator", NOW)
    bob, = await users(store, "bob")
    broken = b"%PDF-1.7\nnot a real PDF after all"
    stored = await files.ingest(mod, "broken.pdf", chunks(broken), None, len(broken))
    doc = await lib.create(mod, DRAFT, stored.file_id)
    assert doc.state == "published"  # staff publish at once
    assert await found(store, bob, "corridor") == [("document", doc.doc_id)]
    text = "Sponge city 海绵城市 rain gardens".encode()
    plain = await files.ingest(mod, "notes.txt", chunks(text), None, len(text))
    other = await lib.create(mod, DocDraft(title_en="Notes", doc_type="guide", language="en", year=2020),
                             plain.file_id)
    assert await found(store, bob, "garden") == [("document", other.doc_id)]

    assert await store.clear_search_index(("document",)) == 2
    assert await found(store, bob, "garden") == []
    assert await lib.reindex_documents() == 2
    assert await found(store, bob, "garden") == [("document", other.doc_id)]
    assert await found(store, bob, "海绵") == [("document", other.doc_id)]
    assert await found(store, bob, "corridor") == [("document", doc.doc_id)]


async def test_an_edit_while_the_text_is_extracted_is_what_the_index_keeps(store, tmp_path):
    """Indexing reads the file outside any transaction: an edit (or new version) that commits
    and indexes itself meanwhile must not be overwritten by the older entry."""
    _, files = await library(store, tmp_path)
    mod = await store.create_user("mod@example.test", "mod", "h", "moderator", NOW)
    [bob] = await users(store, "bob")
    raced = False

    class EditedMeanwhile(LibraryService):
        async def _file_text(self, doc):
            nonlocal raced
            text = await super()._file_text(doc)
            if not raced:  # the edit commits, and its own indexing finishes, before this one writes
                raced = True
                await self.edit(mod, doc.doc_id, DocDraft(title_en="Tram corridor review", description="Foshan."))
            return text

    lib = EditedMeanwhile(store, files, SystemClock())
    pdf = cjk_pdf_bytes("daily ridership")
    upload = await files.ingest(mod, "brt.pdf", chunks(pdf), None, len(pdf))
    doc = await lib.create(mod, DRAFT, upload.file_id)
    assert raced and doc.state == "published"
    assert await found(store, bob, "tram") == [("document", doc.doc_id)]
    assert await found(store, bob, "guangzhou") == []  # the description edited away
    assert await found(store, bob, "ridership") == [("document", doc.doc_id)]
