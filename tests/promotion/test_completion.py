"""What a completed promoted renewal gives: the bonus inside the renewal's own bundle (one
bundle, its own ledger entry), the promotion on the signed receipt and in the SMS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.promotion.conftest import complete, create_promotion, pay, place
from tulpar import clock
from tulpar.kit.format import GB
from tulpar.models import (
    Bundle,
    BundleState,
    Card,
    DiscountKind,
    LedgerCause,
    LedgerEntry,
    Notification,
    Receipt,
)
from tulpar.order import service as order_service
from tulpar.provisioning import service as provisioning_service
from tulpar.receipt import documents
from tulpar.receipt import service as receipt_service


def _scene(session: Session) -> tuple[int, int]:
    plan = create_plan(session, code="P", validity_days=7, data_bytes=5 * GB)
    card, _ = create_active_card(session, plan=plan, days_ago=5)
    promotion = create_promotion(
        session,
        effect_kind=DiscountKind.percent,
        effect_value=10,
        bonus_data_bytes=1 * GB,
        bonus_days=2,
        early_renewal_days=3,
    )
    return card.id, promotion.id


def test_the_bonus_joins_the_renewals_own_bundle(session: Session) -> None:
    card_id, _ = _scene(session)
    card = session.get_one(Card, card_id)
    validity_before = card.validity_ends_at
    assert validity_before is not None

    order = complete(session, place(session, card, "P"))

    bundles = session.scalars(
        select(Bundle).where(Bundle.card_id == card_id, Bundle.state == BundleState.active)
    ).all()
    assert [(b.order_id, b.data_bytes_granted, b.data_bytes_remaining) for b in bundles] == [
        (order.id, 6 * GB, 6 * GB)
    ]
    assert bundles[0].expires_at == validity_before + timedelta(days=7 + 2)
    entries = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.order_id == order.id, LedgerEntry.cause == LedgerCause.promotion
        )
    ).all()
    assert [(e.bundle_id, e.delta, e.balance_before) for e in entries] == [
        (bundles[0].id, GB, 5 * GB)
    ]


def test_the_carrier_is_given_the_window_with_the_bonus_days(session: Session) -> None:
    card_id, _ = _scene(session)
    card = session.get_one(Card, card_id)
    placed = place(session, card, "P")
    pay(session, placed)
    order = order_service.get(session, placed.order.id)
    assert card.validity_ends_at is not None

    provisioning = provisioning_service.start(session, order, now=clock.now())

    assert provisioning.bundle_expires_at == card.validity_ends_at + timedelta(days=9)


def test_the_receipt_and_the_sms_tell_the_promotion(session: Session) -> None:
    card_id, _ = _scene(session)
    card = session.get_one(Card, card_id)

    order = complete(session, place(session, card, "P"))

    receipt = session.scalars(select(Receipt).where(Receipt.order_id == order.id)).one()
    (line,) = receipt.lines
    assert line["unit_price_minor"] == 3_150_00
    assert line["promotion"] == {
        "names": {
            "zh-Hans": "早鸟续费",
            "ru": "Ранняя пташка",
            "kk": "Ерте жаңарту",
            "en": "Early bird",
        },
        "list_price_minor": 3_500_00,
        "discount_minor": 350_00,
        "bonus_data_bytes": GB,
        "bonus_days": 2,
    }
    assert receipt.total_minor == 3_150_00
    assert receipt_service.verify(session, receipt.public_id, receipt.signature).genuine
    html = documents.receipt_html(receipt, "en")
    assert "Promotion: Early bird; price 3,500 KZT, discount 350 KZT; bonus data 1 GB;" in html
    assert "bonus days 2" in html
    assert "优惠活动：早鸟续费" in documents.receipt_html(receipt, "zh-Hans")
    assert documents.receipt_pdf(receipt, "ru").startswith(b"%PDF")

    sms = session.scalars(
        select(Notification).where(Notification.dedupe_key == f"order:{order.id}:confirmed")
    ).one()
    assert sms.language == "zh-Hans"
    assert sms.body.endswith("优惠活动「早鸟续费」：立减350 KZT, 赠送流量1 GB, 赠送2天。")


def test_a_changed_promotion_on_a_receipt_no_longer_verifies(session: Session) -> None:
    card_id, _ = _scene(session)
    card = session.get_one(Card, card_id)
    order = complete(session, place(session, card, "P"))
    receipt = session.scalars(select(Receipt).where(Receipt.order_id == order.id)).one()

    receipt.lines = [
        {
            **receipt.lines[0],
            "promotion": {**receipt.lines[0]["promotion"], "discount_minor": 3_000_00},
        }
    ]

    assert not receipt_service.verify(session, receipt.public_id, receipt.signature).genuine
