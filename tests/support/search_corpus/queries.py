"""The corpus's queries and their expected hits, judged by an oracle that knows nothing of the
index (chat/search is never imported here).

The oracle is a naive scan over normalized text:

- Both the query's needles and every text are folded the plain way: NFKC, case folding, and
  OpenCC's t2s conversion of the whole string (phrase-aware; the index converts one character
  at a time from its own table).
- A Chinese needle is relevant where it is a substring of the folded text.
- An English word is relevant where any of its forms (the hand-written lists in FORMS: regular
  inflections and the derivations that mean the same thing, never the stemmer's output) stands
  as a whole word, bounded by anything but a Latin letter or digit (so BRT in BRT快速公交 counts).
- A phrase (quoted, or a mixed word such as BRT快速公交): its parts in order, Latin words
  separated by non-letters, Latin and Chinese by nothing or non-letters, Chinese parts adjacent.
  Unquoted items must all match, anywhere.

Two kinds of non-relevant texts are named per query:

- lookalikes: a look-alike word that contains the query's characters without meaning it
  (李 in 行李 "luggage", 市长 "mayor" across 城市|长期, park in parking). They are masked
  before the scan, so they are not relevant; an index that matches character pairs or stems
  returns them anyway, which costs precision and is not asserted.
- non_hits: near misses that a correct search must never return (公共交通 for 公交,
  城市总体规划 for "城市规划", planet and planner for plan, "Schmidt, Anna" for the phrase
  "Anna Schmidt"). tests/contract/test_search_quality.py asserts they are absent.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

import opencc

from tests.support.search_corpus import vocab
from tests.support.search_corpus.generate import Text, full_width

QueryType = Literal["en-word", "en-phrase", "zh-2char", "zh-phrase", "name", "mixed", "variant"]
QUERY_TYPES: tuple[QueryType, ...] = ("en-word", "en-phrase", "zh-2char", "zh-phrase", "name", "mixed",
                                      "variant")
QueryLanguage = Literal["en", "zh", "mixed"]


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def oracle_fold(text: str) -> str:
    """NFKC, case folding, traditional → simplified (whole-string conversion)."""
    return _t2s().convert(unicodedata.normalize("NFKC", text).casefold())


# Forms an English query word stands for. Regular inflections, and derivations with the same
# meaning (renovation); the irregular `built` is not a form of build, `financial` not of finance.
FORMS: tuple[tuple[str, ...], ...] = (
    ("plan", "plans", "planned", "planning"),
    ("retrofit", "retrofits", "retrofitted", "retrofitting"),
    ("install", "installs", "installed", "installing"),
    ("finance", "finances", "financed", "financing"),
    ("survey", "surveys", "surveyed", "surveying"),
    ("flood", "floods", "flooded", "flooding"),
    ("charge", "charges", "charged", "charging"),
    ("recycle", "recycles", "recycled", "recycling"),
    ("heat", "heats", "heated", "heating"),
    ("invest", "invests", "invested", "investing", "investment", "investments"),
    ("city", "cities"),
    ("building", "buildings", "build", "builds"),
    ("bond", "bonds"),
    ("park", "parks"),
    ("bus", "buses"),
    ("station", "stations"),
    ("roof", "roofs"),
    ("plant", "plants"),
    ("result", "results"),
    ("slide", "slides"),
)
_FORMS_OF = {form: group for group in FORMS for form in group}

_LATIN = "0-9a-z\u00c0-\u024f"
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_BEFORE, _AFTER = f"(?<![{_LATIN}])", f"(?![{_LATIN}])"
_BETWEEN_WORDS = f"[^{_LATIN}{_CJK}]+"
_BETWEEN_SCRIPTS = f"[^{_LATIN}{_CJK}]*"


def _segments(item: str) -> list[tuple[bool, str]]:
    """(is_cjk, folded run) for a typed item, split at script changes and non-letters."""
    out: list[tuple[bool, str]] = []
    for match in re.finditer(f"[{_CJK}]+|[{_LATIN}]+", oracle_fold(item)):
        run = match.group()
        out.append((bool(re.match(f"[{_CJK}]", run)), run))
    return out


def _pattern(item: str) -> re.Pattern[str]:
    """The oracle's regular expression for one query item (a word, a mixed word, a phrase)."""
    parts: list[str] = []
    previous: bool | None = None
    for cjk, run in _segments(item):
        if previous is not None:
            parts.append(_BETWEEN_WORDS if (not cjk and not previous) else
                         "" if (cjk and previous) else _BETWEEN_SCRIPTS)
        if cjk:
            parts.append(re.escape(run))
        else:
            forms = _FORMS_OF.get(run, (run,))
            parts.append(f"{_BEFORE}(?:{'|'.join(map(re.escape, forms))}){_AFTER}")
        previous = cjk
    return re.compile("".join(parts))


@dataclass(frozen=True)
class QuerySpec:
    type: QueryType
    language: QueryLanguage
    q: str  # as a member types it into the box
    lookalikes: tuple[str, ...] = ()
    near_misses: tuple[str, ...] = ()
    known_gap: str = ""  # why the index may miss some expected hits (see Query)

    def items(self) -> list[str]:
        """The query's items: quoted phrases and whitespace-separated words."""
        return [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', self.q)]


@dataclass(frozen=True)
class Query:
    query_id: str
    type: QueryType
    language: QueryLanguage
    q: str
    expected: frozenset[str]  # text_ids the oracle finds relevant
    lookalikes: frozenset[str]  # text_ids with only a look-alike of it: irrelevant, may be returned
    non_hits: frozenset[str]  # text_ids that must never be returned
    # Not empty: the index is known to miss some expected hits, and why (the English stemmer
    # turns buses into "buse" but bus into "bus"); the test holds these to the type's target.
    known_gap: str = ""


def folded_texts(texts: Iterable[Text]) -> list[tuple[str, str]]:
    """(text_id, oracle_fold(title and body)) for each text: what judge scans."""
    return [(text.text_id, oracle_fold(text.full_text)) for text in texts]


def judge(spec: QuerySpec, folded_texts: list[tuple[str, str]], query_id: str) -> Query:
    patterns = [_pattern(item) for item in spec.items()]
    lookalikes = [oracle_fold(word) for word in spec.lookalikes]
    near = [re.compile(f"{_BEFORE}{re.escape(oracle_fold(word))}") for word in spec.near_misses]
    expected, masked_out, non_hits = set(), set(), set()
    for text_id, plain in folded_texts:
        folded = plain
        for word in lookalikes:
            folded = folded.replace(word, " ¦ ")
        if all(p.search(folded) for p in patterns):
            expected.add(text_id)
        elif any(word in plain for word in lookalikes):
            masked_out.add(text_id)
        elif any(n.search(plain) for n in near):
            non_hits.add(text_id)
    return Query(query_id, spec.type, spec.language, spec.q, frozenset(expected), frozenset(masked_out),
                 frozenset(non_hits), spec.known_gap)


def _dedupe(specs: list[QuerySpec]) -> list[QuerySpec]:
    """One spec per query text, in first-seen order; a later spec naming look-alikes or near
    misses replaces a plain one (公交 is a part of two topics' names and a query of its own)."""
    kept: dict[str, QuerySpec] = {}
    for spec in specs:
        if spec.q not in kept or spec.lookalikes or spec.near_misses:
            kept[spec.q] = spec if spec.q not in kept else replace(spec, type=kept[spec.q].type)
    return list(kept.values())


PLAN_NEAR = ("planet", "planner")
_SURNAME_LOOKALIKES = {"李": ("行李",), "张": ("扩张",), "周": ("周末", "每周", "上周", "下周"), "黄": ("黄河",),
                       "陈": ("陈旧",), "王": (), "刘": (), "杨": (), "赵": (), "孙": ()}
BUS_GAP = "Snowball stems buses to 'buse' and bus to 'bus': neither form finds the other"


def specs() -> list[QuerySpec]:
    """Every query of the corpus, by type."""
    out: list[QuerySpec] = []
    concepts = [c for s in vocab.SECTORS for c in s.concepts]

    # English words, each form typed on its own: every form must find every other form.
    for group in FORMS:
        for form in group[:4]:
            gap = BUS_GAP if group[0] == "bus" else ""
            out.append(QuerySpec("en-word", "en", form, lookalikes=("parking",) if group[0] == "park" else (),
                                 near_misses=PLAN_NEAR if group[0] == "plan" else (), known_gap=gap))
    for city in vocab.CITIES:
        out.append(QuerySpec("en-word", "en", city.en.split()[0]))
    for word in ("pilot", "webinar", "households", "consultant", "timetable", "mayor", "wetland", "equipment"):
        out.append(QuerySpec("en-word", "en", word))

    # English phrases: each topic's name in quotes, and unquoted words with a city.
    for concept in concepts:
        if " " in concept.en:
            out.append(QuerySpec("en-phrase", "en", f'"{concept.en}"'))
    for index, concept in enumerate(concepts[::3]):
        city = vocab.CITIES[index % len(vocab.CITIES)]
        out.append(QuerySpec("en-phrase", "en", f"{city.en.split()[0]} {concept.en}"))
    for sector in vocab.SECTORS:
        out.append(QuerySpec("en-phrase", "en", f'"{sector.en}"'))
    out.append(QuerySpec("en-phrase", "en", '"planning bureau"'))
    out.append(QuerySpec("en-phrase", "en", '"energy use"'))

    # Chinese two-character words, found inside longer words and sentences.
    for concept in concepts:
        for part in concept.zh_parts:
            out.append(QuerySpec("zh-2char", "zh", part))
    for city in vocab.CITIES:
        if len(city.zh) == 2:
            out.append(QuerySpec("zh-2char", "zh", city.zh))
    out.append(QuerySpec("zh-2char", "zh", "公交", near_misses=("公共交通",)))
    out.append(QuerySpec("zh-2char", "zh", "市长", lookalikes=("城市长期",)))
    out.append(QuerySpec("zh-2char", "zh", "和平", lookalikes=("政府和平台",)))
    for word in ("投资", "试点", "社区", "审批", "数据", "能耗", "资金", "顾问", "经验"):
        out.append(QuerySpec("zh-2char", "zh", word))

    # Chinese phrases of three characters or more, alone and with a city.
    for sector in vocab.SECTORS:
        out.append(QuerySpec("zh-phrase", "zh", sector.zh))
    for concept in concepts:
        out.append(QuerySpec("zh-phrase", "zh", concept.zh))
    out.append(QuerySpec("zh-phrase", "zh", "城市规划", near_misses=("城市总体规划",)))
    out.append(QuerySpec("zh-phrase", "zh", "西咸新区"))
    out.append(QuerySpec("zh-phrase", "zh", "快速公交"))
    for index, concept in enumerate(concepts[1::3]):
        city = vocab.CITIES[index % len(vocab.CITIES)]
        out.append(QuerySpec("zh-phrase", "zh", f"{city.zh} {concept.zh}"))
    out.append(QuerySpec("zh-phrase", "zh", "实施细则"))
    out.append(QuerySpec("zh-phrase", "zh", "区政府审批"))

    # Names: a surname alone, full Chinese names, Latin surnames and full names.
    for surname, lookalikes in _SURNAME_LOOKALIKES.items():
        out.append(QuerySpec("name", "zh", surname, lookalikes=lookalikes))
    for simplified, _ in vocab.CHINESE_PEOPLE:
        out.append(QuerySpec("name", "zh", simplified, lookalikes=("张伟明",) if simplified == "张伟" else ()))
    for name in vocab.LATIN_PEOPLE:
        out.append(QuerySpec("name", "en", name.split()[-1]))
        out.append(QuerySpec("name", "en", name))
    for name in ("Anna Schmidt", "Marco Rossi", "Sophie Martin", "Pieter de Vries", "de Vries"):
        first, _, last = name.rpartition(" ")
        out.append(QuerySpec("name", "en", f'"{name}"', near_misses=(f"{last}, {first}",)))

    # Mixed: the whole mixed word, either part, mixed-language queries.
    for concept in concepts:
        if concept.mixed:
            out.append(QuerySpec("mixed", "mixed", concept.mixed))
            latin = "".join(ch for ch in concept.mixed if ch.isascii())
            out.append(QuerySpec("mixed", "mixed", latin))
    for city, concept in (("Qingdao", "海绵城市"), ("Hefei", "垃圾分类"), ("Weihai", "光伏"), ("Guilin", "债券")):
        out.append(QuerySpec("mixed", "mixed", f"{city} {concept}"))
    out.append(QuerySpec("mixed", "mixed", "2030年"))
    out.append(QuerySpec("mixed", "mixed", "PPT"))
    out.append(QuerySpec("mixed", "mixed", "deadline"))

    # Variants: traditional characters, full-width Latin letters and digits.
    for concept in concepts:
        if concept.trad and concept.trad != concept.zh:
            out.append(QuerySpec("variant", "zh", concept.trad))
    for city in vocab.CITIES:
        if city.trad:
            out.append(QuerySpec("variant", "zh", city.trad))
    for simplified, traditional in vocab.CHINESE_PEOPLE:
        if traditional != simplified and simplified in ("王建国", "张伟", "陈静", "黄海涛", "李晓燕"):
            out.append(QuerySpec("variant", "zh", traditional,
                                 lookalikes=("张伟明",) if simplified == "张伟" else ()))
    for word in ("規劃", "節能", "綠色建築", "城市規劃", "垃圾分類", "項目"):
        out.append(QuerySpec("variant", "zh", word,
                             near_misses=("城市总体规划",) if word == "城市規劃" else ()))
    for word in ("BRT快速公交", "LEED", "PPP项目", "2030", "2030年", "Qingdao", "ESG评级"):
        out.append(QuerySpec("variant", "mixed", full_width(word)))
    return _dedupe(out)
