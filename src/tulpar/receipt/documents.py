"""A receipt as people read it: the HTML pages (receipt, verification) and the PDF."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import segno
from reportlab.lib.pagesizes import A5  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tulpar.config import get_settings
from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations
from tulpar.kit.templates import page_environment
from tulpar.models import FiscalRegistration, FiscalState, Receipt
from tulpar.receipt import fonts, service, vat

PAGES = Path(__file__).parent / "pages"
LOCALES = Path(__file__).parent / "locales"

PlanNames = Mapping[str, Mapping[str, str]]  # plan code → language → name


@dataclass(frozen=True, slots=True)
class Fiscal:
    """What the online cash register gave a store receipt (``sign`` None: still pending)."""

    sign: str | None
    registration_number: str | None

    @classmethod
    def of(cls, registration: FiscalRegistration | None) -> Fiscal | None:
        """What a receipt shows of its registration (``None``: not a store receipt)."""
        if registration is None:
            return None
        if registration.state is not FiscalState.registered:
            return cls(sign=None, registration_number=None)
        return cls(
            sign=registration.fiscal_sign, registration_number=registration.registration_number
        )


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """Display values of one receipt in one language."""

    receipt: Receipt
    language: str
    seller: service.Seller
    issued_at: str
    lines: list[dict[str, str]]
    total: str
    vat: str
    vat_rate: str
    payment_method: str
    payment_detail: str | None  # reference, attempt and time of the payment
    valid_until: str | None  # the validity end the plan gave the card
    verification_url: str
    # A store receipt's fiscal registration (tulpar.counter.fiscal): sign and register number.
    fiscal: Fiscal | None = None


def _tr(language: str) -> gettext.NullTranslations:
    return translations(LOCALES, language)


def _description(line: Mapping[str, Any], language: str, plan_names: PlanNames) -> str:
    names = plan_names.get(str(line.get("plan_code")))
    if names is None:
        return str(line["description"])
    return service.plan_description(str(line["plan_code"]), names, language)


def _promotion_text(
    line: Mapping[str, Any], language: str, money: Callable[[int], str]
) -> str | None:
    """What a line's promotion gave, in ``language`` (None: the line had none)."""
    promotion = line.get("promotion")
    if not isinstance(promotion, Mapping):
        return None
    text = _tr(language).gettext
    names = promotion.get("names") or {}
    parts = [text("Promotion: %(name)s") % {"name": names.get(language) or names.get("en", "")}]
    if int(promotion.get("discount_minor", 0)):
        parts.append(
            text("price %(list_price)s, discount %(discount)s")
            % {
                "list_price": money(int(promotion["list_price_minor"])),
                "discount": money(int(promotion["discount_minor"])),
            }
        )
    if int(promotion.get("bonus_data_bytes", 0)):
        parts.append(
            text("bonus data %(data)s")
            % {"data": formatter_for(language).data(int(promotion["bonus_data_bytes"]))}
        )
    if int(promotion.get("bonus_days", 0)):
        parts.append(text("bonus days %(days)s") % {"days": int(promotion["bonus_days"])})
    return "; ".join(parts)


def view(
    receipt: Receipt,
    language: str,
    *,
    plan_names: PlanNames | None = None,
    payment: service.PaymentDetail | None = None,
    seller: service.Seller | None = None,
    fiscal: Fiscal | None = None,
) -> ReceiptView:
    """``plan_names`` (from :func:`service.plan_names`) name the plans in ``language``; lines
    without a known plan show the description they were issued with. ``payment`` (from
    :func:`service.payment_detail`) details how the order was paid."""
    formatter = formatter_for(language)
    text = _tr(language).gettext

    def money(amount_minor: int) -> str:
        return formatter.money(amount_minor, receipt.currency)

    method = receipt.payment_method
    valid_until = service.new_validity_end(receipt)
    return ReceiptView(
        receipt=receipt,
        language=language,
        seller=seller or service.seller_of(receipt),
        issued_at=formatter.local_time(receipt.issued_at),
        lines=[
            {
                "description": _description(line, language, plan_names or {}),
                "quantity": str(line["quantity"]),
                "unit_price": money(int(line["unit_price_minor"])),
                "amount": money(int(line["amount_minor"])),
                **_promotion_of(line, language, money),
            }
            for line in receipt.lines
        ],
        total=money(receipt.total_minor),
        vat=money(receipt.vat_minor),
        vat_rate=vat.percent(receipt.vat_rate_basis_points),
        payment_method=text(f"payment:{method}").removeprefix("payment:"),
        payment_detail=None
        if payment is None
        else text("reference %(reference)s, attempt %(attempt)s, paid %(time)s")
        % {
            "reference": payment.reference or "—",
            "attempt": payment.attempt,
            "time": "—" if payment.paid_at is None else formatter.local_time(payment.paid_at),
        },
        valid_until=None if valid_until is None else formatter.local_time(valid_until),
        verification_url=service.verification_url(receipt),
        fiscal=fiscal,
    )


def _promotion_of(
    line: Mapping[str, Any], language: str, money: Callable[[int], str]
) -> dict[str, str]:
    shown = _promotion_text(line, language, money)
    return {} if shown is None else {"promotion": shown}


def stores_url() -> str:
    """The public list of authorised stores, printed on every receipt. Not signed: a
    receipt's signature covers what it records (see :mod:`.signing`), not its layout."""
    return get_settings().public_base_url.rstrip("/") + "/stores"


def receipt_html(
    receipt: Receipt,
    language: str,
    *,
    plan_names: PlanNames | None = None,
    payment: service.PaymentDetail | None = None,
    fiscal: Fiscal | None = None,
) -> str:
    shown = view(receipt, language, plan_names=plan_names, payment=payment, fiscal=fiscal)
    qr_svg = segno.make(shown.verification_url, error="m").svg_inline(scale=3, border=2)
    page = page_environment(PAGES, language).get_template("receipt.html")
    return page.render(view=shown, qr_svg=qr_svg, stores_url=stores_url())


def verification_html(
    receipt: Receipt | None, language: str, *, fiscal: Fiscal | None = None
) -> str:
    shown = None if receipt is None else view(receipt, language, fiscal=fiscal)
    return page_environment(PAGES, language).get_template("verify.html").render(view=shown)


def not_found_html(language: str) -> str:
    return page_environment(PAGES, language).get_template("not_found.html").render()


@dataclass
class _Page:
    """A pen moving down an A5 page, writing in one embedded font."""

    pdf: Canvas
    font: str
    left: float
    right: float
    y: float

    def text(self, value: str, *, size: float = 9.5, gap: float = 1.6) -> None:
        """``value`` wrapped to the page width, one line under the other."""
        for line in _wrap(value, self.font, size, self.right - self.left):
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(self.left, self.y, line)
            self.y -= size * gap  # points

    def pair(self, label: str, value: str, *, size: float = 9.5) -> None:
        self.text(f"{label}: {value}", size=size)

    def split(self, left_text: str, right_text: str, *, size: float = 9.5) -> None:
        """``left_text`` (wrapped) with ``right_text`` right-aligned on its first line."""
        width = pdfmetrics.stringWidth(right_text, self.font, size)
        room = self.right - self.left - width - 4 * mm
        self.pdf.setFont(self.font, size)
        self.pdf.drawRightString(self.right, self.y, right_text)
        for line in _wrap(left_text, self.font, size, max(room, 20 * mm)):
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(self.left, self.y, line)
            self.y -= size * 1.6

    def rule(self) -> None:
        self.pdf.line(self.left, self.y + 2.5 * mm, self.right, self.y + 2.5 * mm)
        self.y -= 2 * mm


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking: at spaces where there are any, else anywhere (Chinese, URLs)."""
    lines: list[str] = []
    current = ""
    for character in text:
        candidate = current + character
        if pdfmetrics.stringWidth(candidate, font, size) <= width or not current:
            current = candidate
            continue
        cut = current.rfind(" ")
        if cut > 0 and character != " ":
            lines.append(current[:cut])
            current = current[cut + 1 :] + character
        else:
            lines.append(current)
            current = character.lstrip()
    if current:
        lines.append(current)
    return lines


def _document_text(shown: ReceiptView, labels: list[str]) -> str:
    parts = [*labels, shown.seller.legal_name, shown.seller.bin, shown.seller.address]
    parts += [shown.receipt.number, shown.issued_at, shown.receipt.card_masked]
    parts += [shown.payment_method, shown.payment_detail or "", shown.valid_until or ""]
    parts += [shown.total, shown.vat, shown.verification_url, str(shown.receipt.order_id)]
    for line in shown.lines:
        parts += line.values()
    return " ".join(parts)


def receipt_pdf(
    receipt: Receipt,
    language: str,
    *,
    plan_names: PlanNames | None = None,
    payment: service.PaymentDetail | None = None,
    seller: service.Seller | None = None,
    fiscal: Fiscal | None = None,
) -> bytes:
    """An A5 PDF in ``language`` with a QR code that opens the verification page. Its one
    font is embedded (a subset built for this text: see :mod:`.fonts`)."""
    shown = view(
        receipt, language, plan_names=plan_names, payment=payment, seller=seller, fiscal=fiscal
    )
    text = _tr(language).gettext
    labels = {
        key: text(key)
        for key in (
            "Receipt",
            "Seller",
            "BIN",
            "Address",
            "Receipt number",
            "Date",
            "Order number",
            "Card",
            "Payment method",
            "Payment details",
            "Total",
            "New validity end",
            "Scan to verify this receipt",
            "Fiscal sign",
            "Cash register registration number",
            "Fiscal registration pending",
            "Authorised stores",
        )
    }
    vat_label = text("incl. VAT %(rate)s") % {"rate": shown.vat_rate}
    title = f"Tulpar · {labels['Receipt']}"
    fiscal_text = [] if fiscal is None else [fiscal.sign or "", fiscal.registration_number or ""]
    stores_line = f"{labels['Authorised stores']}: {stores_url()}"
    font = fonts.font_for(
        _document_text(
            shown, [*labels.values(), vat_label, title, "×=—", *fiscal_text, stores_line]
        )
    )
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=A5, pageCompression=1, initialFontName=font)
    pdf.setTitle(f"Tulpar {receipt.number}")
    pdf.setAuthor("Tulpar")
    width, height = A5
    page = _Page(pdf, font, left=12 * mm, right=width - 12 * mm, y=height - 16 * mm)
    page.text(title, size=16, gap=1.4)
    page.text(shown.seller.legal_name, size=9.5)
    page.pair(labels["BIN"], shown.seller.bin, size=8.5)
    page.pair(labels["Address"], shown.seller.address, size=8.5)
    page.y -= 2 * mm
    page.pair(labels["Receipt number"], receipt.number)
    page.pair(labels["Date"], shown.issued_at)
    if receipt.order_id is not None:
        page.pair(labels["Order number"], str(receipt.order_id))
    page.pair(labels["Card"], receipt.card_masked)
    page.pair(labels["Payment method"], shown.payment_method)
    if shown.payment_detail:
        page.pair(labels["Payment details"], shown.payment_detail, size=8)
    page.y -= 2 * mm
    page.rule()
    for line in shown.lines:
        page.split(
            line["description"], f"{line['quantity']} × {line['unit_price']} = {line['amount']}"
        )
        if line.get("promotion"):
            page.text(line["promotion"], size=8.5)
    page.rule()
    page.split(labels["Total"], shown.total, size=12)
    page.split(vat_label, shown.vat, size=9)
    if shown.valid_until:
        page.pair(labels["New validity end"], shown.valid_until)
    if shown.fiscal is not None:
        if shown.fiscal.sign is None:
            page.text(labels["Fiscal registration pending"], size=8.5)
        else:
            page.pair(labels["Fiscal sign"], shown.fiscal.sign)
            page.pair(
                labels["Cash register registration number"],
                shown.fiscal.registration_number or "—",
                size=8.5,
            )
    qr_size = 34 * mm
    top = page.y - 2 * mm
    _draw_qr(pdf, shown.verification_url, x=page.left, top=top, size=qr_size)
    pdf.setFont(font, 8.5)
    scan = labels["Scan to verify this receipt"]
    pdf.drawString(page.left + qr_size + 4 * mm, top - 12 * mm, scan)
    page.y = top - qr_size - 4 * mm
    page.text(shown.verification_url, size=6.5, gap=1.3)
    page.text(stores_line, size=7.5, gap=1.3)
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
