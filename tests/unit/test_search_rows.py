"""The index rows the append writer makes from terms computed before its transaction
(chat/store/search.py, _index_prepare) equal the ones computed inside it: the same terms,
language and cut, whatever the text and the attachments' names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chat.models import SearchEntry
from chat.store import search
from chat.store.search_sql import message_entry

TEXTS = st.text(st.sampled_from("ab 城市更新 BRT快速公交 Ａ股 é ß 2030 \n-_'\""), max_size=40)


@given(body=TEXTS, names=st.lists(TEXTS, max_size=3))
def test_prepared_rows_equal_rows_made_in_the_transaction(body: str, names: list[str]) -> None:
    entry = message_entry("m1", "zhuhai", 1, 7, 1000, body, {"attachments": [{"name": n} for n in names]})
    prepared = {body: search.prepare(body)}
    assert search._row(entry, prepared) == search._row(entry)
    assert search._text_of("", body, " ".join(names), prepared) == search._text_of("", body, " ".join(names))


def test_the_cut_applies_to_prepared_terms_too(monkeypatch) -> None:
    monkeypatch.setattr(search, "MAX_TERMS_BYTES", 20)
    body = "城市更新 " * 10
    entry = SearchEntry(kind="message", ref_id="m1", room_id="zhuhai", seq=1, author_id=7, created_at_ms=1,
                        title="", body=body, extra="tariffs")
    assert search._row(entry, {body: search.prepare(body)}) == search._row(entry)
    assert len(search._row(entry)[-1].encode()) <= 20
