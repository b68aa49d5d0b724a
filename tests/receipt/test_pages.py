from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, create_plan
from tulpar.app import create_app
from tulpar.models import Receipt
from tulpar.receipt import service
from tulpar.receipt.service import ReceiptLine


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory)) as test_client:
        yield test_client


def _receipt(session: Session, language: str) -> Receipt:
    card = create_card(session, language=language)
    receipt = service.issue(
        session,
        issuer="WEB",
        card_id=card.id,
        order_id=None,
        lines=[ReceiptLine(description="15天 10GB", quantity=1, unit_price_minor=3_500_00)],
        payment_method="wallet",
        currency="KZT",
    )
    session.flush()
    return receipt


def test_the_html_receipt_is_in_the_cards_language_chinese(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    receipt = _receipt(session, "zh-Hans")

    page = client.get(f"/receipts/{receipt.public_id}")

    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    for expected in (
        "收据编号",
        "WEB-000001",
        "2026-11-24 11:00 (UTC+5)",
        receipt.card_masked,
        "钱包余额",
        "3,500 KZT",
        "含增值税 16%",
        "482.76 KZT",
        "<svg",
        service.verification_url(receipt).replace("&", "&amp;"),
    ):
        assert expected in page.text
    assert "Receipt number" not in page.text


def test_the_html_receipt_in_english_and_on_request_in_russian(
    client: TestClient, session: Session
) -> None:
    receipt = _receipt(session, "en")

    english = client.get(f"/receipts/{receipt.public_id}")
    russian = client.get(f"/receipts/{receipt.public_id}?lang=ru")

    assert "Receipt number" in english.text
    assert "incl. VAT 16%" in english.text
    assert "Wallet" in english.text
    assert "Номер чека" in russian.text
    assert "3\xa0500 KZT" in russian.text


def test_a_plan_is_named_in_the_language_the_page_is_read_in(
    client: TestClient, session: Session
) -> None:
    card = create_card(session, language="zh-Hans")
    plan = create_plan(session, code="KZ-15D-10GB")
    line = ReceiptLine.for_plan(plan.code, plan.names, card.language, unit_price_minor=3_500_00)
    receipt = service.issue(
        session,
        issuer="WEB",
        card_id=card.id,
        order_id=None,
        lines=[line],
        payment_method="wallet",
        currency="KZT",
    )
    session.flush()

    chinese = client.get(f"/receipts/{receipt.public_id}")
    russian = client.get(f"/receipts/{receipt.public_id}?lang=ru")

    assert receipt.lines[0]["description"] == "KZ-15D-10GB 测试"
    assert "<td>KZ-15D-10GB 测试</td>" in chinese.text
    assert "<td>KZ-15D-10GB Тест</td>" in russian.text
    assert "测试" not in russian.text


def test_a_line_without_a_plan_code_keeps_the_text_it_was_issued_with(
    client: TestClient, session: Session
) -> None:
    receipt = _receipt(session, "zh-Hans")

    russian = client.get(f"/receipts/{receipt.public_id}?lang=ru")

    assert "<td>15天 10GB</td>" in russian.text


def test_the_remembered_language_beats_the_cards_and_an_explicit_one_beats_both(
    client: TestClient, session: Session
) -> None:
    receipt = _receipt(session, "zh-Hans")
    url = f"/receipts/{receipt.public_id}"

    client.cookies.set("tulpar_lang", "kk")
    remembered = client.get(url)
    explicit = client.get(f"{url}?lang=en")
    client.cookies.set("tulpar_lang", "fr")
    unknown_cookie = client.get(url)

    assert "Түбіртек нөмірі" in remembered.text
    assert "Receipt number" in explicit.text
    assert "收据编号" in unknown_cookie.text


def test_the_pdf_embeds_its_font_and_has_a_qr_code(client: TestClient, session: Session) -> None:
    receipt = _receipt(session, "zh-Hans")

    response = client.get(f"/receipts/{receipt.public_id}.pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/FontFile2" in response.content  # the TrueType subset is in the file
    assert b"STSong-Light" not in response.content  # no font the reader must have
    assert response.content.rstrip().endswith(b"%%EOF")


def test_the_qr_code_opens_the_verification_page(client: TestClient, session: Session) -> None:
    receipt = _receipt(session, "zh-Hans")
    url = service.verification_url(receipt)
    assert url == f"http://127.0.0.1:8000/verify/{receipt.public_id}?s={receipt.signature}"
    assert segno.make(url, error="m").designator  # encodable

    page = client.get(url.removeprefix("http://127.0.0.1:8000"))

    assert page.status_code == 200
    assert 'data-genuine="true"' in page.text
    assert "Tulpar 正式收据" in page.text
    assert receipt.card_masked in page.text
    assert "3,500 KZT" in page.text
    assert "2026-" in page.text


def test_the_verification_page_rejects_a_forged_signature_or_amount(
    client: TestClient, session: Session
) -> None:
    receipt = _receipt(session, "en")
    forged = ("A" if receipt.signature[0] != "A" else "B") + receipt.signature[1:]

    bad_signature = client.get(f"/verify/{receipt.public_id}?s={forged}")
    no_signature = client.get(f"/verify/{receipt.public_id}")
    unknown = client.get(f"/verify/doesnotexist?s={receipt.signature}")
    session.execute(
        text("UPDATE receipts SET total_minor = 1, vat_minor = 0 WHERE id = :id"),
        {"id": receipt.id},
    )
    session.flush()
    changed = client.get(f"/verify/{receipt.public_id}?s={receipt.signature}")

    for page in (bad_signature, no_signature, unknown, changed):
        assert page.status_code == 200
        assert 'data-genuine="false"' in page.text
        assert "不是 Tulpar 的正式收据" in page.text  # no receipt, no hint: the default, Chinese
        assert receipt.card_masked not in page.text
        assert re.search(r"\d KZT", page.text) is None


def test_an_unknown_receipt_is_a_friendly_404_page(client: TestClient) -> None:
    html = client.get("/receipts/nothing-here", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    pdf = client.get("/receipts/nothing-here.pdf", headers={"Accept-Language": "ru"})

    assert (html.status_code, pdf.status_code) == (404, 404)
    assert "未找到收据" in html.text
    assert "Чек не найден" in pdf.text
