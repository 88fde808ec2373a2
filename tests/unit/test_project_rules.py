"""The rules of a project's fields (chat/projects/service.py) and its JSON (chat/projects/shapes.py),
without I/O."""

from __future__ import annotations

import datetime

import pytest

from chat.errors import InvalidInput
from chat.models import Project, ProjectDocument, ProjectFigure, User
from chat.projects import service
from chat.projects.shapes import project_json

TODAY = datetime.date(2026, 12, 7)


def test_dates_run_from_1990_to_tomorrow_in_iso_form():
    assert service.happened_on("2026-03-01", TODAY) == "2026-03-01"
    assert service.happened_on("2026-12-08", TODAY) == "2026-12-08"  # ahead in time zones
    for bad in ("2026-12-09", "1989-12-31", "2026-02-30", "2026-3-1", "20260301", "", "2026-03-01T00:00"):
        with pytest.raises(InvalidInput) as refused:
            service.happened_on(bad, TODAY)
        assert refused.value.details == {"happened_on": "must be a date (YYYY-MM-DD) from 1990-01-01 to today"}


def test_figures_need_a_label_and_a_finite_number():
    figures = service._figures([{"label_en": " CO2 ", "value": 12.5, "unit": "t"}, {"label_zh": "面积", "value": 3}])
    assert figures == (ProjectFigure("CO2", "", 12.5, "t"), ProjectFigure("", "面积", 3, ""))
    for bad, field in (({"value": 1}, "figures.0"), ({"label_en": "x", "value": float("nan")}, "figures.0.value"),
                       ({"label_en": "x", "value": True}, "figures.0.value"), ({"label_en": "x", "value": 1e16}, "figures.0.value"),
                       ({"label_en": "x", "value": "1"}, "figures.0.value"), ({"label_en": "x" * 101, "value": 1}, "figures.0.label_en")):
        with pytest.raises(InvalidInput) as refused:
            service._figures([bad])
        assert field in refused.value.details
    with pytest.raises(InvalidInput):
        service._figures([{"label_en": "x", "value": 1}] * 21)


def test_sectors_are_known_at_most_four_once_each_in_catalog_order():
    assert service._sectors(["green-transport", "urban-renewal", "green-transport"]) == ("urban-renewal", "green-transport")
    for bad in (["zhuhai"], ["nope"], list(service.SECTORS[:5])):
        with pytest.raises(InvalidInput):
            service._sectors(bad)
    assert len(service.CITIES) == 10 and len(service.SECTORS) == 7


def test_the_json_says_who_may_edit_and_shows_documents_by_kind():
    project = Project(
        project_id="p-0123456789abcdef", name_en="Retrofit", name_zh="", city="zhuhai", sectors=("green-buildings",),
        status="running", description="", figures=(), organisations=("GIZ",), topic_id="t-1", created_by=1,
        created_at_ms=0, updated_at_ms=0, members=((7, "Ann"),),
        documents=(ProjectDocument("d-1", "doc", {"title_en": "Guide", "title_zh": "指南"}, 1, 0),
                   ProjectDocument("f-1", "file", {"id": "f-1", "name": "a.pdf"}, 1, 0)))
    member = User(7, "ann@example.test", "Ann", "member", 0)
    other = User(8, "bob@example.test", "Bob", "member", 0)
    moderator = User(9, "mod@example.test", "Mod", "moderator", 0)
    assert [project_json(project, u)["can_edit"] for u in (member, other, moderator)] == [True, False, True]
    wire = project_json(project, other)
    assert wire["documents"][0] == {"kind": "doc", "id": "d-1", "added_at": "1970-01-01T00:00:00.000Z",
                                    "title_en": "Guide", "title_zh": "指南"}
    assert wire["documents"][1]["file"] == {"id": "f-1", "name": "a.pdf"}
    assert (wire["name"], wire["thread"], wire["page"]) == (
        {"en": "Retrofit", "zh": ""}, "t-1", "/#/projects/p-0123456789abcdef")
