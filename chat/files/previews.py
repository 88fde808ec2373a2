"""Previews made on the server (docs/decisions.md, "Previews as WebP"): an image, turned upright
(EXIF orientation) and re-encoded as WebP at most PREVIEW_PX on its longer side, which keeps no
metadata (EXIF, GPS, XMP) since only pixels are written; a PDF's first page rendered by PDFium
the same way. Work runs in threads, at most a few at once per node; a file that cannot be
previewed (damaged, too big, a decompression bomb) simply has none."""

from __future__ import annotations

import asyncio
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import structlog
from PIL import Image, ImageOps

from chat.logs import failure

log = structlog.get_logger("chat.files")

PREVIEW_PX = 640
WEBP_QUALITY = 80
# Largest image decoded for a preview (pixels): past it, no preview (a small file can claim a
# huge canvas: a decompression bomb). Pillow's own guard refuses twice its MAX_IMAGE_PIXELS.
MAX_PIXELS = 50_000_000
# Largest file previewed at all; bigger ones have none.
MAX_SOURCE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Preview:
    webp: bytes
    width: int
    height: int


def _encode(image: Image.Image) -> Preview:
    image.thumbnail((PREVIEW_PX, PREVIEW_PX), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    out = io.BytesIO()
    # A new image's info holds no EXIF/XMP/ICC; only pixels are written.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return Preview(out.getvalue(), clean.width, clean.height)


def image_preview(path: Path) -> Preview | None:
    with warnings.catch_warnings():
        # Pillow warns of a canvas past 89 M pixels; the size check below refuses it anyway.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _image_preview(path)


def _image_preview(path: Path) -> Preview | None:
    with Image.open(path) as image:
        width, height = image.size
        if width * height > MAX_PIXELS or width <= 0 or height <= 0:
            return None
        image.seek(0)
        upright = ImageOps.exif_transpose(image)
        return _encode(upright if upright is not None else image)


def pdf_preview(path: Path) -> Preview | None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        if len(pdf) == 0:
            return None
        page = pdf[0]
        try:
            width, height = page.get_size()
            scale = min(2.0, PREVIEW_PX / max(width, height, 1))
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
        finally:
            page.close()
        return _encode(image.convert("RGB"))
    finally:
        pdf.close()


class Previewer:
    """Makes previews in threads, `concurrency` at once on this node."""

    def __init__(self, concurrency: int = 2) -> None:
        self._slots = asyncio.Semaphore(concurrency)

    async def make(self, kind: str, path: Path, size: int) -> Preview | None:
        if kind not in ("image", "pdf") or size > MAX_SOURCE_BYTES:
            return None
        work = image_preview if kind == "image" else pdf_preview
        async with self._slots:
            try:
                return await asyncio.to_thread(work, path)
            except Exception as exc:  # a damaged file: no preview, the upload still stands
                log.info("files.no_preview", kind=kind, **failure(exc))
                return None
