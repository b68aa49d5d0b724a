"""The store console: the card page shows each plan's promotion, the clerk may type a code,
the sale and its store receipt carry the promotion; a bad code changes nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import Counter, sign_in_token
from tests.counter.conftest import counter as counter  # the fixture
from tests.promotion.conftest import create_promotion
from tulpar.models import AuditEntry, DiscountKind, Order, Receipt
from tulpar.web.staff.session import COOKIE


def _form(html: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    key = re.search(r'name="idempotency_key" value="([^"]+-r)"', html)
    assert csrf is not None
    assert key is not None
    return {"csrf": csrf.group(1), "idempotency_key": key.group(1), "method": "cash"}


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_clerk_sells_with_a_code_and_the_receipt_tells_the_promotion(
    client: TestClient, session: Session, counter: Counter
) -> None:
    create_promotion(session, channels=["store"], effect_value=5)
    coded = create_promotion(
        session, code="SHOP500", effect_kind=DiscountKind.fixed, effect_value=500_00
    )
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
    page = client.get(f"/store/cards/{counter.card.id}")
    assert 'data-test="promotion">Акция: Ранняя пташка −175 KZT' in page.text

    sold = client.post(
        f"/store/cards/{counter.card.id}/sell",
        data={**_form(page.text), "plan": counter.plan.code, "promo_code": "shop500"},
        follow_redirects=False,
    )

    assert sold.status_code == 303, sold.text
    order = session.scalars(select(Order)).one()
    assert (order.promotion_id, order.amount_minor, order.discount_minor) == (
        coded.id,
        3_000_00,
        500_00,
    )
    receipt = session.scalars(select(Receipt)).one()
    assert receipt.total_minor == 3_000_00
    assert receipt.lines[0]["promotion"]["discount_minor"] == 500_00
    printed = client.get(sold.headers["location"]).text
    assert "优惠活动：早鸟续费" in printed  # the traveller's language
    assert "Акция: Ранняя пташка" in printed  # and the clerk's


def test_a_bad_code_at_the_counter_is_refused_in_the_clerks_language_and_changes_nothing(
    client: TestClient, session: Session, counter: Counter
) -> None:
    create_promotion(session, code="OLDCODE", active=False)
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
    page = client.get(f"/store/cards/{counter.card.id}")
    audited = _count(session, AuditEntry)

    refused = client.post(
        f"/store/cards/{counter.card.id}/sell",
        data={**_form(page.text), "plan": counter.plan.code, "promo_code": "oldcode"},
        follow_redirects=False,
    )

    assert refused.status_code == 422
    assert "Срок действия промокода истёк" in refused.text
    assert (_count(session, Order), _count(session, Receipt)) == (0, 0)
    assert _count(session, AuditEntry) == audited
