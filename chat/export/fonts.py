"""Which CJK font PDF exports embed (docs/operations.md, "PDF exports"; docs/decisions.md,
"PDF exports: reportlab and WenQuanYi Micro Hei").

Lookup order: the file named by `ECOLINK_PDF_FONT` (a TrueType .ttf or collection .ttc; a
named file that is missing or not a TrueType font is a configuration error, raised at lookup:
an operator who names a font wants that font, not a silent substitute), then the known system
paths below (Debian's fonts-wqy-microhei first). If none is found, PDFs use reportlab's
built-in `STSong-Light` CID font: Chinese still renders, but the glyphs are not embedded (the
reader's viewer supplies them), and one warning is logged at the first such export.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger("chat.export")

ENV_VAR = "ECOLINK_PDF_FONT"
# Fonts with Chinese glyphs in TrueType outlines (reportlab embeds TrueType only: the OTF/CFF
# flavoured Noto CJK collections are skipped by the check below).
SYSTEM_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
# reportlab's non-embedded Adobe CID font for Simplified Chinese.
FALLBACK_CID_FONT = "STSong-Light"

_warned = False


class FontError(ValueError):
    """ECOLINK_PDF_FONT names a file that is missing or not a TrueType font or collection."""


@dataclass(frozen=True, slots=True)
class PdfFont:
    """The font a PDF export draws with: a TrueType file (embedded as subsets), or None for
    the non-embedded CID fallback."""

    path: Path | None
    subfont_index: int = 0  # the face inside a .ttc collection

    @property
    def embedded(self) -> bool:
        return self.path is not None


def _truetype(path: Path) -> bool:
    """Whether the file starts like a TrueType font ('\\0\\1\\0\\0', 'true') or a collection
    ('ttcf') whose first face has TrueType outlines (not CFF, 'OTTO')."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
            if head[:4] == b"ttcf" and len(head) >= 16:
                first = int.from_bytes(head[12:16], "big")
                file.seek(first)
                head = file.read(4)
    except OSError:
        return False
    return head[:4] in (b"\x00\x01\x00\x00", b"true")


def find_font(configured: str | Path | None = None, *,
              search: tuple[str, ...] | None = None) -> PdfFont:
    """The font to embed: `configured` (else $ECOLINK_PDF_FONT) if set, else the first of
    `search` (default SYSTEM_FONTS) that exists and is TrueType, else the CID fallback.

    Raises FontError when a configured path is missing or not TrueType."""
    if configured is None:
        configured = os.environ.get(ENV_VAR) or None
    if configured is not None:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"{ENV_VAR}: no such font file: {path}")
        if not _truetype(path):
            raise FontError(f"{ENV_VAR}: not a TrueType font or collection (.ttf/.ttc): {path}")
        return PdfFont(path)
    for candidate in SYSTEM_FONTS if search is None else search:
        path = Path(candidate)
        if path.is_file() and _truetype(path):
            return PdfFont(path)
    return PdfFont(None)


def warn_fallback() -> None:
    """Log once per process that PDFs do not embed their Chinese font."""
    global _warned
    if not _warned:
        _warned = True
        log.warning("export.pdf_font_fallback", font=FALLBACK_CID_FONT,
                    hint="install fonts-wqy-microhei or set ECOLINK_PDF_FONT to a .ttf/.ttc")
