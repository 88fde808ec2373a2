"""Search quality: precision@10 and recall per language and query type, on both stores, and what
a jieba-segmented index would give on the same corpus.

The corpus is the tests' (tests/support/search_corpus: 3,000 messages in the sector and city
rooms and 200 documents-like texts, in English, simplified and traditional Chinese and mixed,
with some 400 queries whose expected hits an oracle independent of the index judged: a naive
scan over NFKC + casefold + OpenCC-t2s folded text, word-form lists for English inflections,
look-alike words masked). For each store (--mode: SQLite in a temporary file, PostgreSQL in a
fresh database on the tests' server or --pg-admin-url) it is written the way production
writes it (messages through append_batch, which indexes them; documents through
index_entries), and every query is asked through SearchService as a member: by relevance, one
page of ten (precision@10), and newest first through every page (recall).

For comparison, the same queries run against two small in-memory indexes in this process,
ranked alike (BM25, k1 1.2, b 0.75): one with the index's own terms (chat/search/tokens.py:
CJK bigrams), one where each CJK run is segmented with jieba.cut_for_search instead, and one
with jieba's precise mode, jieba.cut (Latin words stemmed the same way; a query's CJK runs cut with jieba.cut, every token required, a
lone character, alone or last, as a prefix). That comparison backs docs/decisions.md, "Search: CJK bigrams in
Python". jieba is in the project's `bench` extra; its dictionary loads in about a second.

Nothing here is timed against a target: the figures are counts, the same on every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from bench.harness import Report, fmt, log, machine_lines, positive_int, table
from tests.support.search_corpus import Corpus, corpus
from tests.support.search_corpus.metrics import Outcome, Summary, summarize

NAME = "search-quality"
HELP = "precision@10 and recall per language and query type on the bilingual corpus (SQLite, PostgreSQL, and a jieba-segmented index for comparison)"
MODES = ("both", "sqlite", "postgres")
DEFAULT_MODE = "both"
TOP = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=14, help="the corpus's seed (default 14, the tests')")
    p.add_argument("--messages", type=positive_int, default=3000, help="messages in the corpus (default 3000)")
    p.add_argument("--documents", type=positive_int, default=200, help="documents in the corpus (default 200)")
    p.add_argument("--no-jieba", action="store_true", help="leave out the in-memory comparison")


# -- the stores ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_store(kind: str, args: argparse.Namespace) -> AsyncIterator[Any]:
    """A migrated, empty store of this kind, removed afterwards."""
    if kind == "sqlite":
        from chat.store.sqlite import SqliteStore

        with tempfile.TemporaryDirectory(prefix="ecolink-bench-") as folder:
            async with SqliteStore.open(Path(folder) / "ecolink.db") as store:
                await store.migrate()
                yield store
        return
    from chat.store.postgres import PostgresStore
    from tests.support import services

    admin = args.pg_admin_url or services.postgres_admin_dsn()
    name = f"ecolink_bench_quality_{os.getpid()}"
    dsn = await services.create_database(admin, name)
    try:
        async with PostgresStore.open(dsn, min_size=1, max_size=4) as store:
            await store.migrate()
            yield store
    finally:
        await services.drop_database(admin, name)


async def measure_store(kind: str, args: argparse.Namespace, data: Corpus) -> list[Outcome]:
    from tests.support.search_corpus.run import evaluate, load

    async with open_store(kind, args) as store:
        started = time.perf_counter()
        loaded = await load(store, data)
        log(f"{kind}: {len(data.texts):,} texts written and indexed in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        outcomes = await evaluate(store, data, loaded)
        log(f"{kind}: {len(data.queries)} queries (every page) in {time.perf_counter() - started:.1f} s")
        return outcomes


# -- the in-memory comparison -------------------------------------------------------------------


class MemoryIndex:
    """A positional inverted index over a tokenizer's terms, BM25-ranked: the same matching
    rules as the stores (phrases adjacent, a lone CJK character a prefix), any tokenizer."""

    def __init__(self, docs: Iterable[tuple[str, list[str]]]) -> None:
        self.postings: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.length: dict[str, int] = {}
        for doc_id, terms in docs:
            self.length[doc_id] = len(terms)
            for position, term in enumerate(terms):
                self.postings[term][doc_id].append(position)
        self.average = sum(self.length.values()) / max(1, len(self.length))
        self._by_first: dict[str, list[str]] = defaultdict(list)
        for term in self.postings:
            self._by_first[term[:1]].append(term)

    def _positions(self, term: str, prefix: bool) -> dict[str, set[int]]:
        out: dict[str, set[int]] = defaultdict(set)
        for matched in ([t for t in self._by_first[term[:1]] if t.startswith(term)] if prefix else [term]):
            for doc_id, positions in self.postings.get(matched, {}).items():
                out[doc_id].update(positions)
        return out

    def match(self, terms: tuple[str, ...], prefix: bool, phrase: bool) -> set[str]:
        """Documents holding these terms: adjacent and in order (phrase), or anywhere."""
        slots = [self._positions(t, prefix and i == len(terms) - 1) for i, t in enumerate(terms)]
        docs = set(slots[0])
        for slot in slots[1:]:
            docs &= set(slot)
        if not phrase or len(slots) == 1:
            return docs
        return {d for d in docs if any(all(p + i in slots[i][d] for i in range(1, len(slots))) for p in slots[0][d])}

    def score(self, doc_id: str, terms: Iterable[str]) -> float:
        total = 0.0
        n = len(self.length)
        for term in terms:
            postings = self.postings.get(term, {})
            tf = len(postings.get(doc_id, ()))
            if tf:
                idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
                norm = 1.2 * (1 - 0.75 + 0.75 * self.length[doc_id] / self.average)
                total += idf * tf * 2.2 / (tf + norm)
        return total


# An item of a query: its terms, whether the last is a prefix, whether they form a phrase.
Item = tuple[tuple[str, ...], bool, bool]


def bigram_items(q: str) -> list[Item]:
    """The index's own parse (chat/search/query.py): a parsed term is a phrase."""
    from chat.search.query import parse

    return [(t.terms, t.prefix, True) for t in parse(q).terms if not t.negated]


def jieba_terms(text: str, for_search: bool = True) -> list[str]:
    """Index terms with jieba: Latin words stemmed as the index does, CJK runs cut for search
    (each long word also as its shorter dictionary words: 快速公交系统 → 快速 公交 系统
    公交系统), or in precise mode (each word once: 快速 公交系统)."""
    import jieba

    from chat.search import tokens

    cut = jieba.cut_for_search if for_search else jieba.cut
    out: list[str] = []
    for cjk, run, _ in tokens.runs(tokens.fold(text)):
        out.extend((t for t in cut(run) if t.strip()) if cjk else [tokens.stem(run)])
    return out


def jieba_precise_terms(text: str) -> list[str]:
    return jieba_terms(text, for_search=False)


def jieba_items(q: str) -> list[Item]:
    """A query for the jieba index: each item's CJK runs cut with jieba.cut, every token
    required (a Latin phrase stays a phrase); a lone CJK character, alone or last, is a prefix."""
    import jieba

    from chat.search import tokens
    from chat.search.query import parse

    items: list[Item] = []
    for term in parse(q).terms:
        if term.negated:
            continue
        runs = list(tokens.runs(tokens.fold(term.text)))
        if len(runs) == 1 and runs[0][0] and len(runs[0][1]) == 1:
            items.append(((runs[0][1],), True, False))
            continue
        words: list[str] = []
        for cjk, run, _ in runs:
            words.extend((t for t in jieba.cut(run) if t.strip()) if cjk else [tokens.stem(run)])
        latin_only = not any(cjk for cjk, _, _ in runs)
        # The parser's rule, kept: a lone CJK character at the end is a prefix (2030年 → 年*).
        last_alone = bool(words) and len(words[-1]) == 1 and tokens.is_cjk(words[-1])
        items.append((tuple(words), last_alone, latin_only))
    return items


def measure_memory(data: Corpus, terms_of: Callable[[str], list[str]],
                   items_of: Callable[[str], list[Item]]) -> list[Outcome]:
    index = MemoryIndex((t.text_id, terms_of(t.full_text)) for t in data.texts)
    outcomes = []
    for query in data.queries:
        items = items_of(query.q)
        found: set[str] | None = None
        for terms, prefix, phrase in items:
            matched = index.match(terms, prefix, phrase) if terms else set()
            found = matched if found is None else found & matched
        found = found or set()
        flat = [t for terms, _, _ in items for t in terms]
        ranked = sorted(found, key=lambda d: (-index.score(d, flat), d))
        outcomes.append(Outcome(query, frozenset(found), tuple(ranked[:TOP])))
    return outcomes


# -- the report ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Report:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    started = time.perf_counter()
    data = corpus(args.seed, args.messages, args.documents)
    kinds = Counter(t.written_in for t in data.texts)
    log(f"corpus: {len(data.texts):,} texts, {len(data.queries)} queries in {time.perf_counter() - started:.1f} s")
    results: dict[str, list[Outcome]] = {}
    for kind in (["sqlite", "postgres"] if args.mode == "both" else [args.mode]):
        results[kind] = asyncio.run(measure_store(kind, args, data))
    if not args.no_jieba:
        from chat.search import tokens

        results["bigrams in memory"] = measure_memory(data, tokens.terms, bigram_items)
        started = time.perf_counter()
        results["jieba in memory"] = measure_memory(data, jieba_terms, jieba_items)
        results["jieba precise in memory"] = measure_memory(data, jieba_precise_terms, jieba_items)
        log(f"jieba: indexed and asked in {time.perf_counter() - started:.1f} s")

    report = Report(NAME, machine_lines() + [
        f"- corpus: seed {args.seed}, {args.messages:,} messages and {args.documents:,} documents "
        f"({', '.join(f'{n:,} {k}' for k, n in sorted(kinds.items()))}), {len(data.queries)} queries",
        "- recall: expected hits found (every page) over expected, mean over a type's queries; "
        "precision@10: relevant among the first ten by relevance over those returned (≤ 10)",
    ])
    fill(report, data, results)
    return report


def _cells(summary: Summary | None) -> list[str]:
    if summary is None:
        return ["–", "–"]
    return [fmt(summary.recall, 3), fmt(summary.precision_at_10, 3)]


def fill(report: Report, data: Corpus, results: dict[str, list[Outcome]]) -> None:
    summaries = {name: {(s.language, s.type): s for s in summarize(outcomes)} for name, outcomes in results.items()}
    keys = list(next(iter(summaries.values())))
    headers = ["language", "query type", "queries"]
    for name in results:
        headers += [f"{name} recall", f"{name} P@10"]
    rows = []
    for key in keys:
        first = next(iter(summaries.values()))[key]
        row = [key[0], key[1], fmt(first.queries)]
        for name in results:
            row += _cells(summaries[name].get(key))
        rows.append(row)
    report.add("Recall and precision@10 by language and query type", table(headers, rows, text_columns=2))
    report.results["summaries"] = {name: [vars(s) for s in summarize(o)] for name, o in results.items()}

    store_names = [n for n in results if "memory" not in n]
    notes = []
    for name in store_names:
        for o in results[name]:
            if o.missed or o.forbidden or (o.query.lookalikes & o.found):
                notes.append([name, o.query.type, o.query.q, fmt(len(o.query.expected)), fmt(o.recall, 3),
                              fmt(o.precision_at_10, 2), fmt(len(o.query.lookalikes & o.found)),
                              fmt(len(o.forbidden)), o.query.known_gap or "–"])
    report.add("Queries below 1.0 recall, or returning look-alikes or near misses (the stores)", table(
        ["store", "type", "query", "expected", "recall", "P@10", "look-alikes returned", "near misses returned",
         "known gap"], notes, text_columns=3) if notes else "none")

    if "jieba in memory" in results:
        bigram = {o.query.query_id: o for o in results["bigrams in memory"]}
        precise = {o.query.query_id: o for o in results["jieba precise in memory"]}
        worst = sorted((o for o in results["jieba in memory"] if o.recall < 1.0),
                       key=lambda o: (o.recall, o.query.query_id))
        rows = [[o.query.type, o.query.q, fmt(len(o.query.expected)), fmt(o.recall, 3),
                 fmt(precise[o.query.query_id].recall, 3), fmt(bigram[o.query.query_id].recall, 3),
                 _example_miss(data, o)] for o in worst[:25]]
        report.add(f"Where a jieba-segmented index misses ({len(worst)} of {len(data.queries)} queries below 1.0 "
                   "recall with cut_for_search; the 25 worst)",
                   table(["type", "query", "expected", "jieba recall", "jieba precise recall", "bigram recall",
                          "a text it misses"], rows, text_columns=2) if rows else "none")
        worst_precise = sorted((o for o in results["jieba precise in memory"] if o.recall < 0.95),
                               key=lambda o: (o.recall, o.query.query_id))
        rows = [[o.query.type, o.query.q, fmt(len(o.query.expected)), fmt(o.recall, 3), _example_miss(data, o)]
                for o in worst_precise if o.query.type == "zh-2char"]
        report.add("Two-character words that jieba's precise mode misses (recall below 0.95)",
                   table(["type", "query", "expected", "recall", "a text it misses"], rows, text_columns=2)
                   if rows else "none")


def _example_miss(data: Corpus, outcome: Outcome) -> str:
    text_id = min(outcome.missed)
    text = next(t for t in data.texts if t.text_id == text_id).full_text
    q = outcome.query.q.strip('"')
    at = max(0, text.find(q) - 8) if q in text else 0
    return text[at:at + 36].replace("\n", " ").replace("|", "/")

