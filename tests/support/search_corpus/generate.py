"""The corpus's texts: messages in the seven sector and ten city rooms and documents-like
longer texts, written from the templates and words of vocab.py with one fixed seed, so every
run (and both backends) sees the same 3,200 texts.

Languages as members write: English, simplified Chinese, some traditional Chinese (pasted
sources, members from Hong Kong and Taiwan), Chinese with Latin acronyms inside (BRT快速公交,
LEED认证), and now and then full-width Latin letters and digits (ＢＲＴ, ２０３０) from Chinese
input methods. Some texts get a look-alike sentence (vocab.LOOKALIKE_SENTENCES) whose words
contain a query's characters without meaning it.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Literal

import opencc

from tests.support.search_corpus import vocab

TextKind = Literal["message", "document"]

START_MS = 1_760_000_000_000  # the oldest text; each later one a minute after it


@dataclass(frozen=True)
class Text:
    text_id: str  # m0000 … / d000 …
    kind: TextKind
    room_id: str | None  # messages: a sector or city room; documents: None (every member)
    author: str  # display name of the member who wrote it (one of vocab's people)
    title: str  # documents only
    body: str
    created_at_ms: int
    written_in: str  # en, zh, trad, mixed (how the generator wrote it; not the oracle)
    concepts: tuple[str, ...]  # vocab.Concept keys it is about
    people: tuple[str, ...]  # names it mentions

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.body}" if self.title else self.body


_FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (ＢＲＴ, ２０３０)."""
    return text.translate(_FULL_WIDTH)


@functools.cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _trad(concept: vocab.Concept) -> str:
    return concept.trad or concept.zh


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sectors = {s.room_id: s for s in vocab.SECTORS}
        self.cities = {c.room_id: c for c in vocab.CITIES}

    def slots(self, city: vocab.City, concept: vocab.Concept, style: str) -> dict[str, str]:
        rng = self.rng
        sector = next(s for s in vocab.SECTORS if concept in s.concepts)
        chinese, trad = rng.choice(vocab.CHINESE_PEOPLE)
        latin = rng.choice(vocab.LATIN_PEOPLE)
        year, n = str(rng.choice(vocab.YEARS)), str(rng.randint(3, 480))
        # An acronym inside the Chinese (BRT快速公交), or the English name after it in brackets.
        mixed = concept.mixed or f"{concept.zh}（{concept.en}）"
        if style in ("mixed", "en") and rng.random() < 0.12:
            # A Chinese input method left in full-width mode.
            year, n, mixed = full_width(year), full_width(n), full_width(mixed)
        return {
            "city": city.en,
            "city_zh": (city.trad or city.zh) if style == "trad" else city.zh,
            "sector": sector.en,
            "sector_zh": (sector.trad or sector.zh) if style == "trad" else sector.zh,
            "concept": concept.en,
            "concept_zh": _trad(concept) if style == "trad" else concept.zh,
            "mixed": mixed,
            "person": latin if style == "en" or rng.random() < 0.5 else chinese,
            "person_zh": trad if style == "trad" else chinese,
            "year": year,
            "n": n,
            "pct": str(rng.randint(5, 60)),
        }

    def sentence(self, city: vocab.City, concept: vocab.Concept, style: str) -> tuple[str, str]:
        """One sentence in this style, and the person it names (or "")."""
        templates = {"en": vocab.EN_TEMPLATES, "zh": vocab.ZH_TEMPLATES,
                     "trad": vocab.TRAD_TEMPLATES, "mixed": vocab.MIXED_TEMPLATES}[style]
        template = self.rng.choice(templates)
        slots = self.slots(city, concept, style)
        person = ""
        if "{person}" in template:
            person = slots["person"]
        elif "{person_zh}" in template:
            person = slots["person_zh"]
        return template.format(**slots), person

    def lookalike(self, city: vocab.City, style: str) -> str:
        language = "en" if style == "en" else "zh"
        choices = [t for t, lang in vocab.LOOKALIKE_SENTENCES if lang == language]
        return self.rng.choice(choices).format(city_zh=city.zh, city=city.en,
                                               pct=self.rng.randint(5, 60))

    def style(self) -> str:
        roll = self.rng.random()
        return "en" if roll < 0.40 else "zh" if roll < 0.78 else "trad" if roll < 0.85 else "mixed"

    def message(self, index: int) -> Text:
        rng = self.rng
        room_id = rng.choice([*self.sectors, *self.cities])
        if room_id in self.sectors:
            sector, city = self.sectors[room_id], rng.choice(vocab.CITIES)
        else:
            sector, city = rng.choice(vocab.SECTORS), self.cities[room_id]
        concept = rng.choice(sector.concepts)
        style = self.style()
        body, person = self.sentence(city, concept, style)
        people = [person] if person else []
        concepts = [concept.key]
        if rng.random() < 0.25:  # a second sentence, about another topic of the sector
            other = rng.choice(sector.concepts)
            second, person2 = self.sentence(city, other, style)
            body += ("" if style != "en" else " ") + second
            concepts.append(other.key)
            people += [person2] if person2 else []
        if rng.random() < 0.10:
            body += ("" if style != "en" else " ") + self.lookalike(city, style)
        author = rng.choice([*vocab.LATIN_PEOPLE, *(c for c, _ in vocab.CHINESE_PEOPLE)])
        return Text(f"m{index:04d}", "message", room_id, author, "", body,
                    START_MS + index * 60_000, style, tuple(concepts), tuple(people))

    def document(self, index: int, after_ms: int) -> Text:
        rng = self.rng
        sector, city = rng.choice(vocab.SECTORS), rng.choice(vocab.CITIES)
        concepts = rng.sample(sector.concepts, 3)
        style = "en" if index % 2 == 0 else ("trad" if index % 10 == 1 else "zh")
        slots = self.slots(city, concepts[0], style)
        if style == "en":
            title = rng.choice(vocab.DOC_TITLES_EN).format(**slots)
            paragraphs = vocab.DOC_PARAGRAPHS_EN
        else:
            title = rng.choice(vocab.DOC_TITLES_ZH).format(**slots)
            paragraphs = vocab.DOC_PARAGRAPHS_ZH
        parts: list[str] = []
        people: list[str] = []
        for _ in range(rng.randint(8, 14)):
            if rng.random() < 0.4:
                parts.append(rng.choice(paragraphs).format(**self.slots(city, rng.choice(concepts), style)))
            else:
                text, person = self.sentence(city, rng.choice(concepts), style)
                parts.append(text)
                people += [person] if person else []
        if rng.random() < 0.2:
            parts.append(self.lookalike(city, style))
        body = ("\n\n" if style == "en" else "\n").join(parts)
        if style == "trad":  # a document from Hong Kong or Taiwan: traditional throughout
            title, body = _s2t().convert(title), _s2t().convert(body)
        author = rng.choice(vocab.LATIN_PEOPLE if style == "en" else [c for c, _ in vocab.CHINESE_PEOPLE])
        return Text(f"d{index:03d}", "document", None, author, title, body,
                    after_ms + index * 3_600_000, style, tuple(c.key for c in concepts), tuple(people))


def texts(seed: int = 14, messages: int = 3000, documents: int = 200) -> list[Text]:
    """The corpus's texts, the same for the same arguments."""
    writer = _Writer(seed)
    out = [writer.message(i) for i in range(messages)]
    after_ms = START_MS + messages * 60_000
    out += [writer.document(i, after_ms) for i in range(documents)]
    return out
