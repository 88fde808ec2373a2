"""A result's snippet: a window of its text around the first match, with the matched words
marked (no I/O; docs/protocol.md, "Search").

The text is compared folded (chat/search/tokens.py: full-width, case and traditional
characters fold away), but the snippet and its marks are of the original text, so a
traditional 城市規劃 is shown as written and marked for the query 城市规划. Latin words match
by stem (planning marks Planned), CJK by substring (公交 marks 公交 inside 快速公交系统).

Marks are [start, end) offsets in Unicode code points (what Python's str and JavaScript's
Array.from count; not UTF-16 units) into the returned text, sorted and not overlapping.
"""

from __future__ import annotations

from collections.abc import Iterable

from chat.models import SearchTerm
from chat.search import tokens

ELLIPSIS = "…"
# Where the first match sits in the window: a little context before it, most after.
_LEAD_SHARE = 0.3
# How far the window's edge moves to land on a space rather than inside a word.
_SNAP_CHARS = 12

Mark = tuple[int, int]


def _needles(terms: Iterable[SearchTerm]) -> tuple[set[str], set[str]]:
    """(Latin stems, CJK runs) of the searched (not excluded) terms' typed text."""
    stems: set[str] = set()
    cjk_runs: set[str] = set()
    for term in terms:
        if term.negated:
            continue
        for cjk, run, _ in tokens.runs(tokens.fold(term.text)):
            if cjk:
                cjk_runs.add(run)
            else:
                stems.add(tokens.stem(run))
    return stems, cjk_runs


def _matches(text: str, stems: set[str], cjk_runs: set[str]) -> list[Mark]:
    """Every matched span of the original text, sorted, overlaps merged."""
    folded, offsets = tokens.fold_with_offsets(text)
    spans: list[Mark] = []
    for cjk, run, start in tokens.runs(folded):
        if cjk:
            for needle in cjk_runs:
                at = run.find(needle)
                while at >= 0:
                    spans.append((start + at, start + at + len(needle)))
                    at = run.find(needle, at + 1)
        elif tokens.stem(run) in stems:
            spans.append((start, start + len(run)))
    marks: list[Mark] = []
    for fold_start, fold_end in sorted(spans):
        start, end = offsets[fold_start], offsets[fold_end - 1] + 1
        if marks and start <= marks[-1][1]:
            marks[-1] = (marks[-1][0], max(marks[-1][1], end))
        else:
            marks.append((start, end))
    return marks


def _snap_start(text: str, start: int, limit: int) -> int:
    """Move a window's start forward to just after a space (at most _SNAP_CHARS, never past
    `limit`), so it does not begin inside a word."""
    for index in range(start, min(start + _SNAP_CHARS, limit)):
        if text[index].isspace():
            return index + 1
    return start


def _snap_end(text: str, end: int, limit: int) -> int:
    """Move a window's end back to a space (at most _SNAP_CHARS, never before `limit`)."""
    for index in range(end, max(end - _SNAP_CHARS, limit), -1):
        if index < len(text) and text[index].isspace():
            return index
    return end


def snippet(text: str, terms: Iterable[SearchTerm], width: int = 160) -> tuple[str, list[Mark]]:
    """At most `width` characters of `text` (plus an ellipsis at a cut end) around its first
    match of the terms, and the marks of every match inside it. No match (the entry matched by
    its title or hidden text): the text's start, no marks. Line breaks become spaces."""
    if width < 1:
        raise ValueError("width must be positive")
    flat = "".join(" " if char in "\r\n\t\f\v" else char for char in text)
    marks = _matches(flat, *_needles(terms))
    if len(flat) <= width:
        start, end = 0, len(flat)
    elif not marks:
        start, end = 0, _snap_end(flat, width, width // 2)
    else:
        first_start, first_end = marks[0]
        start = max(0, min(first_start - int(width * _LEAD_SHARE), len(flat) - width))
        if start > 0:
            start = _snap_start(flat, start, first_start)
        end = min(len(flat), start + width)
        if end < len(flat):
            end = _snap_end(flat, end, max(first_end, start + width // 2))
    body = flat[start:end].strip(" ")
    lead = len(flat[start:end]) - len(flat[start:end].lstrip(" "))
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(flat) else ""
    shift = len(prefix) - start - lead
    kept = [(max(s, start + lead) + shift, min(e, start + lead + len(body)) + shift)
            for s, e in marks if s < start + lead + len(body) and e > start + lead]
    return prefix + body + suffix, kept
