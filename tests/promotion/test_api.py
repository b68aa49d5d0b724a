"""``POST /v1/orders`` takes a ``promo_code`` and ``GET /v1/cards/{card}/quote`` shows the
chosen promotion and the discounted price; a code that cannot be used is problem JSON that
says why, and nothing is written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.payments import partner_headers
from tests.promotion.conftest import create_promotion
from tulpar.kit.format import GB
from tulpar.models import Card, DiscountKind, IdempotencyKey, Order, PromotionRedemption


def _scene(session: Session) -> tuple[Card, dict[str, str]]:
    plan = create_plan(session, code="P", validity_days=7, data_bytes=5 * GB)
    card, _ = create_active_card(session, plan=plan, days_ago=5)
    return card, partner_headers(session)


def _rows(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Order, PromotionRedemption, IdempotencyKey)
    )


PROMOTION_OUT: dict[str, Any] = {
    "code": "SPRING",
    "names": {
        "zh-Hans": "早鸟续费",
        "ru": "Ранняя пташка",
        "kk": "Ерте жаңарту",
        "en": "Early bird",
    },
    "list_price": {"amount_minor": 3_500_00, "currency": "KZT"},
    "discount": {"amount_minor": 500_00, "currency": "KZT"},
    "bonus_data_bytes": GB,
    "bonus_days": 0,
}


def test_an_order_with_a_code_is_discounted_and_shows_its_promotion(
    client: TestClient, session: Session
) -> None:
    card, headers = _scene(session)
    create_promotion(
        session,
        code="SPRING",
        effect_kind=DiscountKind.fixed,
        effect_value=500_00,
        bonus_data_bytes=GB,
    )

    response = client.post(
        "/v1/orders",
        json={"card": card.iccid, "plan": "P", "promo_code": "spring"},
        headers={**headers, "Idempotency-Key": "promo-1"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["amount"] == {"amount_minor": 3_000_00, "currency": "KZT"}
    assert body["payment"]["amount"] == {"amount_minor": 3_000_00, "currency": "KZT"}
    assert body["promo_code"] == "spring"
    assert body["promotion"] == PROMOTION_OUT
    assert body["timeline"][0]["details"]["discount_minor"] == 500_00


def test_the_quote_shows_the_promotion_and_the_price_after_it(
    client: TestClient, session: Session, frozen_now: datetime
) -> None:
    card, headers = _scene(session)
    create_promotion(
        session,
        code="SPRING",
        effect_kind=DiscountKind.fixed,
        effect_value=500_00,
        bonus_data_bytes=GB,
    )
    create_promotion(session, effect_kind=DiscountKind.none, bonus_days=3)
    assert card.validity_ends_at is not None

    plain = client.get(f"/v1/cards/{card.iccid}/quote?plan=P", headers=headers).json()
    coded = client.get(
        f"/v1/cards/{card.iccid}/quote?plan=P&promo_code=spring", headers=headers
    ).json()

    # Three more days of a 7-day plan are worth 1,500 KZT; the code's 500 KZT and 1 GB
    # (a fifth of the plan's data: 700 KZT) 1,200 KZT: the automatic promotion stays best.
    assert plain["price"] == {"amount_minor": 3_500_00, "currency": "KZT"}
    assert plain["promotion"] == {
        **PROMOTION_OUT,
        "code": None,
        "discount": {"amount_minor": 0, "currency": "KZT"},
        "bonus_data_bytes": 0,
        "bonus_days": 3,
    }
    assert datetime.fromisoformat(plain["validity_ends_at"]) == card.validity_ends_at + timedelta(
        days=7 + 3
    )
    assert coded == plain


def test_a_code_that_cannot_be_used_is_problem_json_saying_why(
    client: TestClient, session: Session
) -> None:
    card, headers = _scene(session)
    create_promotion(session, code="USED", total_limit=1, redeemed_count=1)
    before = _rows(session)

    for code, expected in (("NOPE", "promo_code_unknown"), ("used", "promo_code_used_up")):
        response = client.post(
            "/v1/orders",
            json={"card": card.iccid, "plan": "P", "promo_code": code},
            headers={**headers, "Idempotency-Key": f"bad-{code}"},
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == expected
        quoted = client.get(
            f"/v1/cards/{card.iccid}/quote?plan=P&promo_code={code}", headers=headers
        )
        assert (quoted.status_code, quoted.json()["code"]) == (422, expected)

    assert _rows(session) == before
