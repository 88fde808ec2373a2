"""Scoring what a search returned against the oracle's judgement (queries.py).

- recall of a query: expected hits among everything it returned (every page), over its expected
  hits; a type's recall is the mean over its queries (each query counts once).
- precision@10 of a query: relevant hits among the first ten by relevance, over the number
  returned there (at most ten; a query with fewer expected hits is not punished for them); no
  result at all counts 0. A type's precision@10 is the mean over its queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tests.support.search_corpus.queries import QUERY_TYPES, Query


@dataclass(frozen=True)
class Outcome:
    query: Query
    found: frozenset[str]  # text_ids of every hit, all pages
    top: tuple[str, ...]  # the first ten by relevance

    @property
    def missed(self) -> frozenset[str]:
        return self.query.expected - self.found

    @property
    def forbidden(self) -> frozenset[str]:
        """Near misses it returned (never allowed)."""
        return self.found & self.query.non_hits

    @property
    def recall(self) -> float:
        return len(self.found & self.query.expected) / len(self.query.expected)

    @property
    def precision_at_10(self) -> float:
        if not self.top:
            return 0.0
        return sum(1 for text_id in self.top if text_id in self.query.expected) / len(self.top)


@dataclass(frozen=True)
class Summary:
    language: str
    type: str
    queries: int
    recall: float
    precision_at_10: float


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def summarize(outcomes: Iterable[Outcome]) -> list[Summary]:
    """One row per (language, type) present, in QUERY_TYPES order, then one per type over
    all languages ("all"), then everything."""
    outcomes = list(outcomes)
    rows: list[Summary] = []

    def row(language: str, type_: str, chosen: list[Outcome]) -> None:
        if chosen:
            rows.append(Summary(language, type_, len(chosen), _mean([o.recall for o in chosen]),
                                _mean([o.precision_at_10 for o in chosen])))

    for language in ("en", "zh", "mixed"):
        for type_ in QUERY_TYPES:
            row(language, type_, [o for o in outcomes if o.query.language == language and o.query.type == type_])
    for type_ in QUERY_TYPES:
        row("all", type_, [o for o in outcomes if o.query.type == type_])
    row("all", "all", outcomes)
    return rows


def by_type(outcomes: Iterable[Outcome]) -> dict[str, Summary]:
    return {s.type: s for s in summarize(outcomes) if s.language == "all"}
