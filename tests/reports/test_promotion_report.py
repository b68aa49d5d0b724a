"""Promotion cost on a hand-counted fixture: per promotion and currency, only redemptions
that stand (``redeemed``) with their orders' discounts and bonuses, the CSV equal to the
table, names in the reader's language, and who may read it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, create_plan
from tests.reports.builders import csv_rows, order, table
from tests.reports.conftest import Settle
from tests.support_console.conftest import COOKIE, signed_in, staff
from tulpar.errors import ForbiddenError
from tulpar.kit.format import GB
from tulpar.models import DiscountKind, Promotion, PromotionRedemption, RedemptionState
from tulpar.reports import service
from tulpar.reports.period import Period
from tulpar.reports.promotions import PromotionCost, PromotionRow
from tulpar.web.backoffice.reports.promotions_table import promotion_rows

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 2))
NOV_1 = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 09:00 local
NOV_2 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
NOV_3 = datetime(2026, 11, 2, 19, 0, tzinfo=UTC)  # 00:00 local on the 3rd


def _promotion(session: Session, code: str | None, en: str, ru: str, **effect: object) -> int:
    promotion = Promotion(
        code=code,
        automatic=code is None,
        names={"en": en, "ru": ru, "kk": en, "zh-Hans": en},
        **effect,
    )
    session.add(promotion)
    session.flush()
    return promotion.id


@pytest.fixture
def promotion_ids(session: Session) -> tuple[int, int]:
    card = create_card(session).id
    plan = create_plan(session).id
    autumn = _promotion(
        session, "AUTUMN", "Autumn", "Осень", effect_kind=DiscountKind.percent, effect_value=10
    )
    welcome = _promotion(
        session, None, "Welcome data", "Данные в подарок", bonus_data_bytes=GB, bonus_days=2
    )

    def redemption(
        promotion_id: int,
        state: str,
        at: datetime,
        currency: str = "KZT",
        *,
        discount_minor: int = 0,
        bonus_data_bytes: int = 0,
        bonus_days: int = 0,
    ) -> None:
        placed = order(
            session,
            card_id=card,
            at=at,
            amount_minor=315000 if currency == "KZT" else 630,
            currency=currency,
            plan_id=plan,
            discount_minor=discount_minor,
            bonus_data_bytes=bonus_data_bytes,
            bonus_days=bonus_days,
        )
        session.add(
            PromotionRedemption(
                promotion_id=promotion_id,
                order_id=placed.id,
                card_id=card,
                state=RedemptionState(state),
                discount_minor=discount_minor,
                created_at=at,
            )
        )
        session.flush()

    redemption(autumn, "redeemed", NOV_1, discount_minor=35000)
    redemption(autumn, "redeemed", NOV_2, discount_minor=35000)
    redemption(autumn, "redeemed", NOV_2, "USD", discount_minor=70)
    redemption(welcome, "redeemed", NOV_1, bonus_data_bytes=GB, bonus_days=2)
    # Not counted: still held, released, and redeemed the local day after.
    redemption(autumn, "held", NOV_2, discount_minor=35000)
    redemption(autumn, "released", NOV_1, discount_minor=35000)
    redemption(welcome, "redeemed", NOV_3, bonus_data_bytes=GB, bonus_days=2)
    return autumn, welcome


def test_exact_cost_per_promotion_and_currency(
    session: Session, promotion_ids: tuple[int, int], settle_as: Settle
) -> None:
    settle_as(session)
    autumn, welcome = promotion_ids
    report = service.promotion_report(session, staff("support"), PERIOD, language="en")
    assert report.rows == [
        PromotionRow(autumn, "AUTUMN", "Autumn", "KZT", PromotionCost(2, 70000, 0, 0)),
        PromotionRow(autumn, "AUTUMN", "Autumn", "USD", PromotionCost(1, 70, 0, 0)),
        PromotionRow(welcome, None, "Welcome data", "KZT", PromotionCost(1, 0, GB, 2)),
    ]
    assert report.totals == {"KZT": PromotionCost(3, 70000, GB, 2), "USD": PromotionCost(1, 70)}
    assert report.by_day == [(date(2026, 11, 1), 2), (date(2026, 11, 2), 2)]


def test_a_clerk_is_refused(session: Session) -> None:
    with pytest.raises(ForbiddenError):
        service.promotion_report(session, staff("clerk", store_id=1), PERIOD, language="en")
    assert service.promotion_report(session, staff("admin"), PERIOD, language="en").rows == []


def test_page_and_csv_show_the_same_rows_in_the_readers_language(
    client: TestClient, session: Session, promotion_ids: tuple[int, int], settle_as: Settle
) -> None:
    settle_as(session)
    autumn, welcome = promotion_ids
    reader = signed_in(session, "support")
    reader.user.language = "ru"
    session.flush()
    client.cookies.set(COOKIE, reader.token)
    query = "?from=2026-11-01&until=2026-11-02"
    page = client.get("/backoffice/reports/promotions" + query)
    assert page.status_code == 200, page.text
    assert "<h1>Стоимость акций</h1>" in page.text
    exported = client.get("/backoffice/reports/promotions.csv" + query)
    assert exported.status_code == 200
    header, rows = csv_rows(exported.text)
    assert header[:3] == ["promotion", "code", "name"]
    assert rows == table(page.text)
    assert rows == [
        [str(autumn), "AUTUMN", "Осень", "KZT", "2", "700.00", "0.00", "0"],
        [str(autumn), "AUTUMN", "Осень", "USD", "1", "0.70", "0.00", "0"],
        [str(welcome), "automatic", "Данные в подарок", "KZT", "1", "0.00", "1.00", "2"],
        ["total", "", "", "KZT", "3", "700.00", "1.00", "2"],
        ["total", "", "", "USD", "1", "0.70", "0.00", "0"],
    ]
    report = service.promotion_report(session, staff("admin"), PERIOD, language="ru")
    assert rows == promotion_rows(report)


def test_pages_answer_a_clerk_403(client: TestClient, session: Session) -> None:
    client.cookies.set(COOKIE, signed_in(session, "clerk").token)
    assert client.get("/backoffice/reports/promotions").status_code == 403
    assert client.get("/backoffice/reports/promotions.csv").status_code == 403
