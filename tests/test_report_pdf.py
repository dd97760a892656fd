"""The PDF dossier through the system Chromium: pages rasterised and checked for ink, text checked for
names (subjects present, non-subjects absent when redacted)."""

from __future__ import annotations

import numpy as np
import pytest

from moneytrail.errors import ConfigError
from moneytrail.investigate.reports import render_report
from moneytrail.investigate.reports.pdf import find_chromium
from moneytrail.workspace import Workspace
from tests.utils.report_fixtures import LEAD_ID, NON_SUBJECT_NAMES, build_report_workspace

pdfium = pytest.importorskip("pypdfium2")


def _has_chromium() -> bool:
    try:
        find_chromium()
        return True
    except ConfigError:
        return False


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not _has_chromium(), reason="Chromium is not installed (make setup installs it)"),
]


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> bytes:
    ws = build_report_workspace(Workspace(tmp_path_factory.mktemp("pdf") / "ws"))
    return render_report(ws, LEAD_ID, "pdf", redact=True).content


def _pages(data: bytes):
    doc = pdfium.PdfDocument(data)
    return doc, [doc[i] for i in range(len(doc))]


def test_pdf_renders_and_no_page_is_blank(pdf):
    assert pdf.startswith(b"%PDF-")
    doc, pages = _pages(pdf)
    assert len(pages) >= 2
    for i, page in enumerate(pages):
        pixels = page.render(scale=0.5).to_numpy()
        grey = pixels[..., :3].mean(axis=2)
        ink = float((grey < 200).mean())
        assert ink > 0.003, f"page {i + 1} is blank ({ink:.4%} ink)"
    # The network page has a picture, not just text: many coloured (non-grey) pixels.
    colour = max(
        float((np.ptp(p.render(scale=0.5).to_numpy()[..., :3].astype(int), axis=2) > 60).mean())
        for p in pages
    )
    assert colour > 0.005


def test_pdf_text_names_subjects_and_hides_counterparties(pdf):
    doc, pages = _pages(pdf)
    text = "\n".join(p.get_textpage().get_text_range() for p in pages)
    assert "Chen Xiaoming" in text and "Golden Harbour Trading Ltd" in text
    assert "陈晓明" in text  # CJK fonts are embedded and extractable
    assert "Counterparty A" in text
    assert [n for n in NON_SUBJECT_NAMES if n.lower() in text.lower()] == []
