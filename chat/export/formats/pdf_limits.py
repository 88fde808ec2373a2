"""How long a PDF export may get, and how long one of so many entries would be: the service
refuses a PDF past the limit before it reads anything (413 export_too_large).

A stand-in until the PDF writer's own estimate lands (it measures its real layout); the
service calls only these two names."""

from __future__ import annotations

PDF_MAX_PAGES = 3000


def pdf_pages_estimate(entries: int) -> int:
    """Pages a PDF of `entries` transcript entries takes, roughly (about 20 a page)."""
    return entries // 20 + 1
