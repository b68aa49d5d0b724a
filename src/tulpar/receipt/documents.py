"""A receipt as people read it: the HTML pages (receipt, verification) and the PDF."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from reportlab.lib.pagesizes import A5  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tulpar.i18n import local_time, money_text, translations
from tulpar.models import Receipt
from tulpar.receipt import service, vat

LOCALES = Path(__file__).parent / "locales"
CJK_FONT = "STSong-Light"  # Adobe's CID font, built into reportlab: Chinese, Latin, Cyrillic


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


def view(receipt: Receipt, language: str) -> ReceiptView:
    def money(amount_minor: int) -> str:
        return money_text(amount_minor, receipt.currency, language)

    method = receipt.payment_method
    return ReceiptView(
        receipt=receipt,
        language=language,
        issued_at=local_time(receipt.issued_at),
        lines=[
            {
                "description": str(line["description"]),
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


@lru_cache(maxsize=8)
def _pages(language: str) -> Environment:
    # One environment per language: gettext is installed on it, so never shared across languages.
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "pages"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(_tr(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def receipt_html(receipt: Receipt, language: str) -> str:
    shown = view(receipt, language)
    qr_svg = segno.make(shown.verification_url, error="m").svg_inline(scale=3, border=2)
    return (
        _pages(language)
        .get_template("receipt.html")
        .render(view=shown, qr_svg=qr_svg, language=language)
    )


def verification_html(receipt: Receipt | None, language: str) -> str:
    shown = None if receipt is None else view(receipt, language)
    return _pages(language).get_template("verify.html").render(view=shown, language=language)


def not_found_html(language: str) -> str:
    return _pages(language).get_template("not_found.html").render(language=language)


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def receipt_pdf(receipt: Receipt, language: str) -> bytes:
    """An A5 PDF in ``language`` with a QR code that opens the verification page."""
    shown = view(receipt, language)
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
