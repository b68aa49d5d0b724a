"""A store receipt's public pages (/receipts/{id}, its PDF, /verify) show the store's legal
details frozen when it was issued, and the fiscal sign once registered; the signature
vouches for the frozen seller, and receipts of the default seller verify as before."""

from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.counter.conftest import Counter
from tulpar.config import get_settings
from tulpar.counter import fiscal
from tulpar.fulfilment import store_sale
from tulpar.models import FiscalRegistration
from tulpar.receipt import service as receipt_service


def pdf_text(body: bytes) -> str:
    assert body.startswith(b"%PDF")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True, timeout=30
    )
    return done.stdout.decode()


def test_public_pages_show_the_store_and_its_fiscal_sign(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    counter: Counter,
) -> None:
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="public-1",
    )
    session.commit()
    public_id = sale.receipt.public_id
    default = get_settings().seller_legal_name
    assert default != counter.store.legal_name

    page = client.get(f"/receipts/{public_id}", params={"lang": "en"})
    assert page.status_code == 200
    assert counter.store.legal_name in page.text
    assert counter.store.bin in page.text
    assert "Abay Ave 1, Almaty" in page.text
    assert default not in page.text
    assert "Fiscal registration pending" in page.text
    assert counter.store.legal_name in pdf_text(client.get(f"/receipts/{public_id}.pdf").content)

    assert fiscal.attempt(sale.registration.id, session_factory)
    registration = session.get(FiscalRegistration, sale.registration.id)
    assert registration is not None
    session.refresh(registration)
    sign = registration.fiscal_sign
    assert sign

    # A later edit of the store changes no receipt already issued.
    counter.store.legal_name = "Renamed Retail LLP"
    session.commit()

    page = client.get(f"/receipts/{public_id}", params={"lang": "en"})
    assert "Tulpar Retail LLP" in page.text
    assert "Renamed Retail LLP" not in page.text
    assert sign in page.text
    text = pdf_text(client.get(f"/receipts/{public_id}.pdf", params={"lang": "en"}).content)
    assert "Tulpar Retail LLP" in text
    assert counter.store.bin in text
    assert sign in text
    verified = client.get(f"/verify/{public_id}", params={"s": sale.receipt.signature})
    assert 'data-genuine="true"' in verified.text
    assert "Tulpar Retail LLP" in verified.text
    assert sign in verified.text


def test_the_signature_covers_the_frozen_seller(session: Session, counter: Counter) -> None:
    sale = store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="cash",
        idempotency_key="signed-1",
    )
    receipt = sale.receipt
    assert receipt_service.signed_payload(receipt)["seller"]["bin"] == counter.store.bin
    assert receipt_service.verify(session, receipt.public_id, receipt.signature).genuine
    receipt.seller_legal_name = "Someone Else LLP"  # a forged seller (in memory only)
    assert not receipt_service.verify(session, receipt.public_id, receipt.signature).genuine
    session.rollback()


def test_a_default_seller_receipt_signs_as_before(session: Session, counter: Counter) -> None:
    receipt = receipt_service.issue(
        session,
        issuer="WEB",
        card_id=counter.card.id,
        order_id=None,
        lines=[receipt_service.ReceiptLine("Wallet top-up", 1, 1000)],
        payment_method="wallet",
        currency="KZT",
    )
    assert receipt.seller_legal_name is None
    assert "seller" not in receipt_service.signed_payload(receipt)
    assert receipt_service.seller_of(receipt) == receipt_service.seller()
    assert receipt_service.verify(session, receipt.public_id, receipt.signature).genuine
