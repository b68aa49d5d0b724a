"""A receipt as people read it: the HTML pages (receipt, verification) and the PDF."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import segno
from reportlab.lib.pagesizes import A5  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations
from tulpar.kit.templates import page_environment
from tulpar.models import Receipt
from tulpar.receipt import service, vat

PAGES = Path(__file__).parent / "pages"
LOCALES = Path(__file__).parent / "locales"
CJK_FONT = "STSong-Light"  # Adobe's CID font, built into reportlab: Chinese, Latin, Cyrillic

PlanNames = Mapping[str, Mapping[str, str]]  # plan code → language → name


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """Display values of one receipt in one language."""

    receipt: Receipt
    language: str
    issued_at: str
    lines: list[dict[str, str]]
    total: str
    vat: str
    vat_rate: str
    payment_method: str
    verification_url: str


def _tr(language: str) -> gettext.NullTranslations:
    return translations(LOCALES, language)


def _description(line: Mapping[str, Any], language: str, plan_names: PlanNames) -> str:
    names = plan_names.get(str(line.get("plan_code")))
    if names is None:
        return str(line["description"])
    return service.plan_description(str(line["plan_code"]), names, language)


def view(receipt: Receipt, language: str, *, plan_names: PlanNames | None = None) -> ReceiptView:
    """``plan_names`` (from :func:`service.plan_names`) name the plans in ``language``; lines
    without a known plan show the description they were issued with."""
    formatter = formatter_for(language)

    def money(amount_minor: int) -> str:
        return formatter.money(amount_minor, receipt.currency)

    method = receipt.payment_method
    return ReceiptView(
        receipt=receipt,
        language=language,
        issued_at=formatter.local_time(receipt.issued_at),
        lines=[
            {
                "description": _description(line, language, plan_names or {}),
                "quantity": str(line["quantity"]),
                "unit_price": money(int(line["unit_price_minor"])),
                "amount": money(int(line["amount_minor"])),
            }
            for line in receipt.lines
        ],
        total=money(receipt.total_minor),
        vat=money(receipt.vat_minor),
        vat_rate=vat.percent(receipt.vat_rate_basis_points),
        payment_method=_tr(language).gettext(f"payment:{method}").removeprefix("payment:"),
        verification_url=service.verification_url(receipt),
    )


def receipt_html(receipt: Receipt, language: str, *, plan_names: PlanNames | None = None) -> str:
    shown = view(receipt, language, plan_names=plan_names)
    qr_svg = segno.make(shown.verification_url, error="m").svg_inline(scale=3, border=2)
    page = page_environment(PAGES, language).get_template("receipt.html")
    return page.render(view=shown, qr_svg=qr_svg)


def verification_html(receipt: Receipt | None, language: str) -> str:
    shown = None if receipt is None else view(receipt, language)
    return page_environment(PAGES, language).get_template("verify.html").render(view=shown)


def not_found_html(language: str) -> str:
    return page_environment(PAGES, language).get_template("not_found.html").render()


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def receipt_pdf(receipt: Receipt, language: str, *, plan_names: PlanNames | None = None) -> bytes:
    """An A5 PDF in ``language`` with a QR code that opens the verification page."""
    shown = view(receipt, language, plan_names=plan_names)
    text = _tr(language).gettext
    font = _font()
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=A5, pageCompression=1)
    pdf.setTitle(f"Tulpar {receipt.number}")
    pdf.setAuthor("Tulpar")
    width, height = A5
    left, right = 14 * mm, width - 14 * mm
    y = height - 20 * mm
    pdf.setFont(font, 16)
    pdf.drawString(left, y, f"Tulpar · {text('Receipt')}")
    y -= 9 * mm
    pdf.setFont(font, 9.5)
    for label, value in (
        (text("Receipt number"), receipt.number),
        (text("Date"), shown.issued_at),
        (text("Card"), receipt.card_masked),
        (text("Payment method"), shown.payment_method),
    ):
        pdf.drawString(left, y, f"{label}: {value}")
        y -= 5.5 * mm
    y -= 3 * mm
    pdf.line(left, y + 3 * mm, right, y + 3 * mm)
    for line in shown.lines:
        pdf.drawString(left, y - 1 * mm, line["description"][:60])
        pdf.drawRightString(
            right, y - 1 * mm, f"{line['quantity']} × {line['unit_price']} = {line['amount']}"
        )
        y -= 6 * mm
    pdf.line(left, y + 2 * mm, right, y + 2 * mm)
    pdf.setFont(font, 12)
    pdf.drawString(left, y - 3 * mm, text("Total"))
    pdf.drawRightString(right, y - 3 * mm, shown.total)
    pdf.setFont(font, 9)
    y -= 9 * mm
    vat_label = text("incl. VAT %(rate)s") % {"rate": shown.vat_rate}
    pdf.drawString(left, y, vat_label)
    pdf.drawRightString(right, y, shown.vat)
    _draw_qr(pdf, shown.verification_url, x=left, top=y - 8 * mm, size=38 * mm)
    pdf.setFont(font, 8.5)
    pdf.drawString(left + 42 * mm, y - 14 * mm, text("Scan to verify this receipt"))
    pdf.setFont(font, 6)
    pdf.drawString(left, y - 50 * mm, shown.verification_url[:110])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_qr(pdf: Canvas, content: str, *, x: float, top: float, size: float) -> None:
    # Vector squares straight from the QR matrix: crisp at any zoom, no image library needed.
    matrix = segno.make(content, error="m").matrix
    module = size / len(matrix)
    for row_index, row in enumerate(matrix):
        for column_index, dark in enumerate(row):
            if dark:
                pdf.rect(
                    x + column_index * module,
                    top - (row_index + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )
