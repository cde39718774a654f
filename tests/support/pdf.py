"""A page printed to PDF by headless Chromium (as a person prints it from the browser), and
the size of each page of the PDF, read from its page objects."""

import re
from pathlib import Path

from tests.support.report_pages import chromium

# A4 in PDF points (1/72 inch), rounded: 210 x 297 mm.
A4_POINTS = (595, 842)
_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")


def print_to_pdf(page: Path, pdf: Path) -> Path:
    """`page` printed with Chromium's own print settings (no header or footer added)."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri())
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF"), pdf
    return pdf


def pdf_pages(pdf: Path) -> list[tuple[int, int]]:
    """The (width, height) in points of each page, in the order the file holds them.
    Chromium writes each page object with its own MediaBox, uncompressed."""
    data = pdf.read_bytes()
    sizes = []
    for found in _PAGE.finditer(data):
        end = data.find(b"endobj", found.end())
        box = _MEDIA_BOX.search(data, found.start(), end)
        assert box is not None, f"{pdf}: a page without a MediaBox"
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        sizes.append((round(x1 - x0), round(y1 - y0)))
    return sizes
