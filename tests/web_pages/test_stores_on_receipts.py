"""Receipts point to the public list of authorised stores (HTML page and PDF), outside what
is signed: a receipt verifies as it did before the link was printed."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.counter.conftest import build_counter, sign_in_token
from tests.fixtures.factories import create_card
from tulpar.fulfilment import store_sale
from tulpar.kit.languages import LANGUAGES
from tulpar.models import Receipt
from tulpar.receipt import service, signing
from tulpar.receipt.service import ReceiptLine
from tulpar.web.staff.session import COOKIE

STORES_URL = "http://127.0.0.1:8000/stores"  # public_base_url + /stores
LABEL = {
    "zh-Hans": "授权门店",
    "ru": "Официальные магазины",
    "kk": "Ресми дүкендер",
    "en": "Authorised stores",
}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def _receipt(session: Session, language: str = "zh-Hans") -> Receipt:
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


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_receipt_page_links_to_the_stores_in_its_language(
    client: TestClient, session: Session, language: str
) -> None:
    receipt = _receipt(session)

    html = client.get(f"/receipts/{receipt.public_id}?lang={language}").text

    assert f'{LABEL[language]}: <a href="{STORES_URL}">{STORES_URL}</a>' in html


@pytest.mark.parametrize("language", ["zh-Hans", "ru"])
def test_the_pdf_prints_the_stores_address(
    client: TestClient, session: Session, tmp_path: Path, language: str
) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is missing: install Debian's poppler-utils (.ci/run does)")
    receipt = _receipt(session)
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(client.get(f"/receipts/{receipt.public_id}.pdf?lang={language}").content)

    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert f"{LABEL[language]}: {STORES_URL}" in text


def test_the_link_is_not_signed_and_the_receipt_still_verifies(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    receipt = _receipt(session, "en")
    signed = signing.canonical(service.signed_payload(receipt)).decode()
    signature_before = receipt.signature

    client.get(f"/receipts/{receipt.public_id}")  # render both documents
    client.get(f"/receipts/{receipt.public_id}.pdf")
    page = client.get(f"/verify/{receipt.public_id}?s={receipt.signature}")

    assert "/stores" not in signed
    assert service.verify(session, receipt.public_id, signature_before).genuine
    assert 'data-genuine="true"' in page.text
    session.refresh(receipt)
    assert receipt.signature == signature_before


def test_the_stores_thermal_receipt_prints_the_address_in_both_languages(
    client: TestClient, session: Session
) -> None:
    counter = build_counter(session)  # a Russian-speaking clerk; the card reads Chinese
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="stores-link",
    )
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))

    html = client.get(f"/store/receipts/{sale.receipt.public_id}").text

    printed = re.search(r'<p class="center small" data-test="stores-url">(.*?)</p>', html, re.S)
    assert printed is not None
    assert _text(printed.group(1)) == (
        f"{LABEL[counter.card.language]} / {LABEL['ru']}: {STORES_URL}"
    )
