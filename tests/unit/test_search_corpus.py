"""The search evaluation corpus (tests/support/search_corpus): the same texts and judgements on
every run, an oracle that never asks the index, and the judgements the quality test relies on
(look-alikes set apart, near misses named, every type represented)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.search_corpus import QUERY_TYPES, corpus
from tests.support.search_corpus.generate import full_width, texts
from tests.support.search_corpus.queries import QuerySpec, folded_texts, judge, oracle_fold

CORPUS = Path(__file__).resolve().parents[1] / "support" / "search_corpus"


def test_the_corpus_is_the_same_every_time_and_a_seed_changes_it():
    assert texts(14, 50, 5) == texts(14, 50, 5)
    assert texts(15, 50, 5) != texts(14, 50, 5)


def test_the_oracle_never_imports_the_search_code():
    for path in CORPUS.glob("*.py"):
        if path.name == "run.py":  # loads the corpus through the real store and service
            continue
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not any(name and name.startswith("chat") for name in imported), path.name


def test_folding_joins_traditional_full_width_and_case():
    assert oracle_fold("城市規劃 ＢＲＴ２０３０") == "城市规划 brt2030"
    assert full_width("BRT 2030") == "ＢＲＴ ２０３０"


def test_the_corpus_has_every_language_style_and_query_type():
    data = corpus()
    assert len(data.texts) == 3200 and len({t.text_id for t in data.texts}) == 3200
    assert {t.written_in for t in data.texts} == {"en", "zh", "trad", "mixed"}
    assert any("ＢＲＴ" in t.body or "２０" in t.body for t in data.texts)
    assert {q.type for q in data.queries} == set(QUERY_TYPES) and len(data.queries) >= 300
    assert all(q.expected for q in data.queries)
    assert len({q.q for q in data.queries}) == len(data.queries)


def test_judgements_by_hand():
    folded = folded_texts(texts(14, 0, 0)) + [
        ("t1", oracle_fold("快速公交系统开通")), ("t2", oracle_fold("公共交通分担率")),
        ("t3", oracle_fold("城市長期發展")), ("t4", oracle_fold("市长到了")),
        ("t5", oracle_fold("We are planning it")), ("t6", oracle_fold("the planet")),
        ("t7", oracle_fold("ＢＲＴ快速公交")), ("t8", oracle_fold("BRT 与快速公交")),
        ("t9", oracle_fold("Speakers: Schmidt, Anna")), ("t10", oracle_fold("Anna Schmidt spoke")),
    ]
    bus = judge(QuerySpec("zh-2char", "zh", "公交", near_misses=("公共交通",)), folded, "x")
    assert bus.expected == {"t1", "t7", "t8"} and bus.non_hits == {"t2"}
    mayor = judge(QuerySpec("zh-2char", "zh", "市长", lookalikes=("城市长期",)), folded, "x")
    assert mayor.expected == {"t4"} and mayor.lookalikes == {"t3"}
    plan = judge(QuerySpec("en-word", "en", "plans", near_misses=("planet",)), folded, "x")
    assert plan.expected == {"t5"} and plan.non_hits == {"t6"}
    mixed = judge(QuerySpec("mixed", "mixed", "BRT快速公交"), folded, "x")
    assert mixed.expected == {"t7"}
    quoted = judge(QuerySpec("name", "en", '"Anna Schmidt"', near_misses=("Schmidt, Anna",)), folded, "x")
    assert quoted.expected == {"t10"} and quoted.non_hits == {"t9"}
    unquoted = judge(QuerySpec("name", "en", "Anna Schmidt"), folded, "x")
    assert unquoted.expected == {"t9", "t10"}


def test_the_bench_memory_index_matches_phrases_in_order_and_prefixes():
    """bench/suites/search_quality.py's in-memory index (the jieba comparison) matches as the stores do."""
    from bench.suites.search_quality import MemoryIndex

    index = MemoryIndex([("a", ["快速", "速公", "公交", "交"]), ("b", ["公交", "交", "快速", "速"]),
                         ("c", ["王建", "建国", "国"])])
    assert index.match(("快速", "速公", "公交"), prefix=False, phrase=True) == {"a"}
    assert index.match(("公交", "快速"), prefix=False, phrase=False) == {"a", "b"}
    assert index.match(("公交", "快速"), prefix=False, phrase=True) == set()
    assert index.match(("交", "快速"), prefix=False, phrase=True) == {"b"}
    assert index.match(("王",), prefix=True, phrase=False) == {"c"}
    assert index.match(("王",), prefix=False, phrase=False) == set()
    assert index.score("a", ["公交"]) > 0 and index.score("c", ["公交"]) == 0
