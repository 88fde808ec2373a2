"""How many pages a PDF export will have, estimated before drawing it, so the service can
refuse one too long to be sensible (413 export_too_large, ECOLINK_EXPORT_PDF_MAX_PAGES) before
reading the store.

Kept apart from pdf.py so the estimate costs no reportlab import. Calibrated on 10,000 mixed
English/Chinese messages of 5-60 words or 20-120 characters, some with reactions
(docs/benchmarks.md, "Exports"): 670 pages, about 15 messages a page. The estimate assumes 12 a
page plus one, so it over-counts such rooms by a quarter: a range it lets through seldom hits the
writer's own hard stop (chat/export/formats/pdf.py raises PdfPageLimit past the limit), though
one of long messages still may.
"""

from __future__ import annotations

# The default of ECOLINK_EXPORT_PDF_MAX_PAGES (chat/config.py).
PDF_MAX_PAGES = 3000
ENTRIES_PER_PAGE = 12


def pdf_pages_estimate(entries: int) -> int:
    """A conservative page count for a PDF of `entries` timeline entries, questions and polls."""
    if entries <= 0:
        return 1
    return 1 + -(-entries // ENTRIES_PER_PAGE)
