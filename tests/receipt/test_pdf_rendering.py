"""The receipt PDF reads the same on any device: its one font is embedded (Chinese, Cyrillic
and the Kazakh letters included), poppler renders each language's receipt to PNG with every
character present, and it carries the seller, the order, the new validity end, the payment in
detail and the whole verification URL. The PNGs are kept under ``artifacts/receipts``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card
from tests.fixtures.payments import report_payment
from tulpar.auth import service as auth_service
from tulpar.catalog import service as catalog_service
from tulpar.demo.catalog import DEMO_PLANS
from tulpar.fulfilment import checkout
from tulpar.integrations.payments.protocol import ProviderPayment, ProviderStatus
from tulpar.kit.languages import LANGUAGES
from tulpar.models import OrderKind, PaymentProviderName, Receipt
from tulpar.order.checkout import OrderRequest
from tulpar.receipt import documents, fonts, service
from tulpar.receipt.service import ReceiptLine

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "receipts"
KAZAKH_LETTERS = "әғқңөұүһі"
TITLES = {"zh-Hans": "Tulpar · 收据", "ru": "Tulpar · Чек", "kk": "Tulpar · Түбіртек"}
TITLES["en"] = "Tulpar · Receipt"


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install Debian's poppler-utils (.ci/run does)")
    return path


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def _paid_receipt(session: Session, language: str) -> tuple[Receipt, service.PaymentDetail]:
    plan, _ = catalog_service.ensure_plan(session, DEMO_PLANS[1])
    if language == "kk":
        plan.names = {**plan.names, "kk": f"Қазақстан 15 күн 10 ГБ {KAZAKH_LETTERS}"}
    card, _ = create_active_card(session, plan=plan, language=language)
    caller = auth_service.traveller(card.id)
    placed = checkout.place(
        session,
        caller,
        OrderRequest(
            card=card.iccid,
            kind=OrderKind.plan_renewal,
            plan=plan.code,
            amount_minor=None,
            currency="KZT",
            payment_provider=PaymentProviderName.sandbox,
            promo_code=None,
        ),
    )
    reference = placed.payment.provider_reference or ""
    report_payment(
        session,
        placed.payment.id,
        ProviderPayment(reference=reference, status=ProviderStatus.succeeded),
    )
    receipt = service.issue(
        session,
        issuer="WEB",
        card_id=card.id,
        order_id=placed.order.id,
        lines=[ReceiptLine.for_plan(plan.code, plan.names, language, unit_price_minor=3_500_00)],
        payment_method="sandbox",
        currency="KZT",
    )
    detail = service.payment_detail(session, receipt)
    assert detail is not None
    assert detail.reference == reference
    return receipt, detail


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_languages_receipt_renders_with_every_glyph(session: Session, language: str) -> None:
    receipt, payment = _paid_receipt(session, language)
    names = service.plan_names(session, receipt)
    shown = documents.view(receipt, language, plan_names=names, payment=payment)
    pdf = documents.receipt_pdf(receipt, language, plan_names=names, payment=payment)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / f"receipt-{language}.pdf"
    pdf_path.write_bytes(pdf)

    listed = _run(_poppler("pdffonts"), str(pdf_path)).stdout.splitlines()[2:]
    rendered = subprocess.run(
        [
            _poppler("pdftoppm"),
            "-r",
            "110",
            "-png",
            "-singlefile",
            str(pdf_path),
            str(ARTIFACTS / f"receipt-{language}"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = _run(_poppler("pdftotext"), "-enc", "UTF-8", str(pdf_path), "-").stdout

    assert len(listed) == 1, listed  # one font, and it is embedded
    assert re.search(r"\bTrueType\b.*\byes\s+yes\s+yes\b", listed[0]), listed[0]
    assert rendered.stderr == ""  # poppler substituted no font and reported no error
    assert fonts.missing_characters(text) == set()
    # Lines wrap at spaces, so compare without them.
    joined = re.sub(r"\s+", "", text)
    assert TITLES[language] in text
    assert "�" not in text
    # pdftotext joins a line that ends in "-" to the next without it (dehyphenation): the
    # signature's own hyphens may fall at a line's end, so they are left out on both sides.
    assert shown.verification_url.replace("-", "") in joined.replace("-", ""), (
        "the URL under the QR is printed whole"
    )
    for expected in (
        "ТОО «Tulpar Mobile»",
        "240140012345",
        "Алматы",
        receipt.number,
        str(receipt.order_id),
        payment.reference or "",
        shown.valid_until or "missing validity",
        shown.payment_detail or "missing detail",
        shown.lines[0]["description"],
    ):
        assert re.sub(r"\s+", "", expected) in joined, expected
    if language == "kk":
        assert KAZAKH_LETTERS in text
    with Image.open(ARTIFACTS / f"receipt-{language}.png") as image:
        grey = image.convert("L")
        width, height = grey.size
        title = grey.crop((0, 0, width, height // 10))
        assert _darkest(title) < 80, "the title has ink"
        # Nothing is drawn past the right margin (the URL used to run off the page).
        margin = grey.crop((width - int(width * 0.06), 0, width, height))
        assert _darkest(margin) > 200


def _darkest(image: Image.Image) -> int:
    darkest, _ = image.getextrema()  # a greyscale image: (min, max)
    assert isinstance(darkest, int)
    return darkest


def test_every_character_of_the_receipt_catalogues_is_in_the_fonts() -> None:
    locales = Path(documents.LOCALES)
    text = "".join(path.read_text() for path in locales.glob("*.po"))
    assert fonts.missing_characters(text) == set()


def test_fonts_built_for_different_receipts_keep_their_own_glyphs() -> None:
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]

    first = fonts.font_for("收据 测试")
    second = fonts.font_for("收据 交易号 哈萨克斯坦 Қазақстан")

    face = pdfmetrics.getFont(second).face
    assert first != second
    # reportlab shares one face between fonts whose PostScript name is the same
    assert face.name.decode() == second
    assert pdfmetrics.getFont(first).face.name.decode() == first
    assert [ch for ch in "交易号哈萨克斯坦Ққ" if ord(ch) not in face.charToGlyph] == []
