"""A bilingual evaluation corpus for search (issue 14, "Quality, measured"), shared by
tests/contract/test_search_quality.py (which asserts the expected hits on both stores) and
bench/suites/search_quality.py (which reports precision@10 and recall per language and query
type, and the same for a jieba-segmented index).

- generate.py writes the texts: 3,000 messages in the seven sector and ten city rooms and 200
  documents-like longer texts, in English, simplified and traditional Chinese and mixed, with
  Chinese and Latin names, full-width letters and digits here and there; from vocab.py's
  templates and words with a fixed seed (generated at test time, nothing committed but the
  vocabulary).
- queries.py holds some 350 queries by type (English word, English phrase, Chinese
  two-character word, Chinese phrase, names, mixed, traditional and full-width variants) and
  judges their expected hits with an oracle independent of the index: a naive scan over
  NFKC + casefold + OpenCC-t2s folded text (substrings for Chinese, hand-written word-form
  lists for English inflections), with look-alikes masked and near misses named (its
  docstring has the rules).
- metrics.py scores what a search returned against that: recall, precision@10.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tests.support.search_corpus.generate import Text, texts
from tests.support.search_corpus.queries import QUERY_TYPES, Query, QueryType, folded_texts, judge, specs

__all__ = ["QUERY_TYPES", "Corpus", "Query", "QueryType", "Text", "corpus"]


@dataclass(frozen=True)
class Corpus:
    texts: tuple[Text, ...]
    queries: tuple[Query, ...]

    def by_id(self) -> dict[str, Text]:
        return {t.text_id: t for t in self.texts}


@functools.cache
def corpus(seed: int = 14, messages: int = 3000, documents: int = 200) -> Corpus:
    """The corpus (built once per process: about two seconds). Queries without any expected
    hit in these texts are left out."""
    written = tuple(texts(seed, messages, documents))
    folded = folded_texts(written)
    judged = (judge(spec, folded, f"q{index:03d}") for index, spec in enumerate(specs()))
    return Corpus(written, tuple(q for q in judged if q.expected))
