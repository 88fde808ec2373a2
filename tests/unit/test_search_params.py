"""A search's parameters, sans I/O: the `search` frame (chat/protocol/frames.py), the query
string (chat/transport/search.py), the service's value rules and cursors, and a result's
wire dict (chat/search/service.py)."""

from __future__ import annotations

import pytest

from chat.errors import FrameError, InvalidInput, InvalidSearch
from chat.models import SearchHit, SearchParams
from chat.protocol.frames import Search, error_frame, parse, search_results_frame
from chat.search.query import parse as parse_query
from chat.search.service import MAX_OFFSET, _check, read_cursor, result_json
from chat.transport.search import read_params


def frame(**fields: object) -> dict[str, object]:
    return {"type": "search", "rid": "r1", "q": "solar", **fields}


def refused_frame(doc: dict[str, object]) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse(doc, max_body_chars=100)
    return caught.value


def test_a_search_frame_parses_with_every_parameter():
    doc = frame(rooms=["wuhan"], kinds=["message", "topic"], authors=[7], since_ms=1, until_ms=2,
                lang="zh", has_files=True, order="relevance", cursor="r.20", limit=5)
    assert parse(doc, max_body_chars=100) == Search("r1", SearchParams(
        "solar", ("wuhan",), ("message", "topic"), (7,), 1, 2, "zh", True, "relevance", "r.20", 5))
    assert parse(frame(), max_body_chars=100) == Search("r1", SearchParams("solar"))
    nulls = frame(rooms=None, since_ms=None, lang=None, has_files=None, cursor=None, limit=None)
    assert parse(nulls, max_body_chars=100) == Search("r1", SearchParams("solar"))


@pytest.mark.parametrize(("field", "value"), [
    ("q", 5), ("q", None), ("q", "x\x00"), ("q", "\ud800"), ("q", "x" * 1001),
    ("rooms", "wuhan"), ("rooms", [1]), ("rooms", ["a"] * 21),
    ("kinds", "message"), ("kinds", [None]),
    ("authors", [0]), ("authors", ["7"]), ("authors", [True]), ("authors", 7), ("authors", [1] * 21),
    ("since_ms", -1), ("since_ms", 1.5), ("until_ms", "5"), ("until_ms", 2**63),
    ("lang", 1), ("has_files", "true"), ("order", ["newest"]), ("cursor", 3), ("limit", -1), ("limit", True),
])
def test_a_wrongly_typed_field_is_refused_naming_it_with_the_rid(field, value):
    error = refused_frame(frame(**{field: value}))
    assert error.code == "invalid" and error.rid == "r1"
    assert error.details == {field: error.details[field]}
    sent = error_frame(error, error.cid, error.rid)
    assert sent["rid"] == "r1" and field in sent["details"]
    assert "\x00" not in str(sent) and "\ud800" not in str(sent)


def test_a_missing_q_and_a_missing_or_unusable_rid():
    assert refused_frame({"type": "search", "rid": "r1"}).details == {"q": "the words to look for"}
    for rid in (None, "", 5, "x" * 65, "a\x00"):
        error = refused_frame({"type": "search", "rid": rid, "q": "solar"})
        assert error.rid is None and "rid" in error.message


def test_results_frame_and_errors_without_a_rid_stay_as_they_were():
    assert search_results_frame("r1", [], None) == {"type": "search_results", "rid": "r1", "results": [],
                                                    "next": None}
    assert "details" not in error_frame(InvalidInput("m", details={"x": "y"}))


def test_the_query_string_reads_lists_numbers_and_flags():
    params = read_params([("q", "solar"), ("room", "wuhan"), ("room", "hefei"), ("kind", "message"),
                          ("author", "7"), ("since_ms", "1"), ("until_ms", "2"), ("lang", "zh"),
                          ("has_files", "false"), ("order", "relevance"), ("cursor", "r.20"), ("limit", "5")])
    assert params == SearchParams("solar", ("wuhan", "hefei"), ("message",), (7,), 1, 2, "zh", False,
                                  "relevance", "r.20", 5)
    # Empty values count as absent (q aside: it is the service's to refuse).
    assert read_params([("q", ""), ("limit", ""), ("room", "")]) == SearchParams("")


def test_every_wrong_query_string_value_is_named_at_once():
    with pytest.raises(InvalidSearch) as caught:
        read_params([("author", "x"), ("since_ms", "-1"), ("until_ms", "١٢"), ("limit", "9" * 30),
                     ("has_files", "yes"), ("lang", "x" * 1001)])
    assert set(caught.value.details) == {"q", "author", "since_ms", "until_ms", "limit", "has_files", "lang"}
    assert caught.value.status == 400 and caught.value.code == "bad_request"


@pytest.mark.parametrize(("params", "field"), [
    (SearchParams("x", limit=0), "limit"), (SearchParams("x", limit=51), "limit"),
    (SearchParams("x", order="oldest"), "order"), (SearchParams("x", lang="fr"), "lang"),
    (SearchParams("x", kinds=("message", "note")), "kinds"), (SearchParams("x", kinds=("news", "news")), "kinds"),
    (SearchParams("x", rooms=("Wuhan",)), "rooms"), (SearchParams("x", rooms=("a",) * 21), "rooms"),
    (SearchParams("x", authors=(0,)), "authors"), (SearchParams("x", since_ms=-1), "since_ms"),
    (SearchParams("x", since_ms=5, until_ms=5), "until_ms"), (SearchParams("x\x00"), "q"),
])
def test_the_service_refuses_each_wrong_value_naming_it(params, field):
    with pytest.raises(InvalidSearch) as caught:
        _check(params)
    assert field in caught.value.details


def test_defaults():
    assert _check(SearchParams("x")) == ("newest", 20)
    assert _check(SearchParams("x", order="relevance", limit=50)) == ("relevance", 50)


def test_cursors_belong_to_their_order():
    assert read_cursor("n.1700000000000.42", "newest") == ((1700000000000, 42), 0, None)
    assert read_cursor(f"r.{MAX_OFFSET}.77", "relevance") == (None, MAX_OFFSET, 77)
    assert read_cursor("r.20", "relevance") == (None, 20, None)  # given before anchors
    for cursor, order in (("r.20", "newest"), ("n.1.2", "relevance"), (f"r.{MAX_OFFSET + 1}", "relevance"),
                          ("n.1", "newest"), ("r.20.", "relevance"), ("r.20.99999999999999999999", "relevance"),
                          ("r.20.1.2", "relevance"), ("r.20.-1", "relevance"), ("n.-1.2", "newest"), ("n.1.2.3", "newest"), ("", "newest"),
                          ("n.٣.2", "newest"), ("n.1.99999999999999999999", "newest")):
        with pytest.raises(InvalidSearch) as caught:
            read_cursor(cursor, order)  # type: ignore[arg-type]
        assert set(caught.value.details) == {"cursor"}


def hit(**fields: object) -> SearchHit:
    base: dict[str, object] = dict(
        entry_id=1, kind="message", ref_id="m1", room_id="wuhan", room_kind="city", room_title_en="Wuhan",
        room_title_zh="武汉", seq=3, author_id=7, author_name="Li Hua", created_at_ms=1000, title="",
        body="the rooftop solar panels", has_files=False, language="en", rank=0.0)
    return SearchHit(**{**base, **fields})  # type: ignore[arg-type]


def test_a_result_on_the_wire():
    terms = list(parse_query("solar").terms)
    assert result_json(hit(), terms) == {
        "kind": "message", "id": "m1", "room_id": "wuhan",
        "room": {"kind": "city", "title_en": "Wuhan", "title_zh": "武汉"}, "seq": 3,
        "author": {"user_id": 7, "name": "Li Hua"}, "at_ms": 1000, "title": "",
        "snippet": {"text": "the rooftop solar panels", "marks": [[12, 17]]}, "has_files": False, "lang": "en"}
    anonymous = result_json(hit(kind="document", room_id=None, room_kind=None, seq=None, author_id=None,
                                author_name="", title="Solar guide", body=""), terms)
    assert anonymous["room"] is None and anonymous["author"] is None and anonymous["seq"] is None
    assert anonymous["snippet"] == {"text": "Solar guide", "marks": [[0, 5]]}  # the title, without a body
