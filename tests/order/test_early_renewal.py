"""Renewing early never costs what the traveller already paid for: the quote says what
carries over before payment, and the renewal ends with exactly that in one bundle."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.fixtures.payments import partner_headers
from tests.provisioning.fakes import ScriptedCarrier
from tulpar import clock
from tulpar.app import create_app
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import DATA
from tulpar.fulfilment import tasks
from tulpar.integrations.carrier import use_carrier
from tulpar.kit.format import GB, MB
from tulpar.models import Bundle, BundleState, LedgerCause, LedgerEntry
from tulpar.money import Money
from tulpar.wallet import service as wallet_service

LEFT = 6 * GB + 512 * MB  # 6.5 GB


def _card_with_6_5_gb_left(session: Session, *, rollover: bool) -> tuple[str, str, int]:
    running = create_plan(session, code="RUNNING-15D", data_bytes=10 * GB, validity_days=15)
    card, bundle = create_active_card(session, plan=running, days_ago=13)
    bundle_service.adjust(
        session,
        bundle,
        DATA,
        delta=-(10 * GB - LEFT),
        cause=LedgerCause.usage,
        actor="test",
        reason="used 3.5 GB",
    )
    renewal = create_plan(
        session,
        code="KZ-15D-10GB" if rollover else "NO-CARRY",
        data_bytes=10 * GB,
        validity_days=15,
        rollover=rollover,
        prices_minor={"KZT": 3_500_00},
    )
    wallet_service.move(
        session,
        card_id=card.id,
        amount=Money(5_000_00, "KZT"),
        cause=LedgerCause.manual_credit,
        actor="test",
        reason="top-up",
    )
    session.commit()
    return card.iccid, renewal.code, card.id


def test_renewing_with_6_5_gb_left_ends_with_the_plan_plus_6_5_gb_as_quoted(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        iccid, plan_code, card_id = _card_with_6_5_gb_left(session, rollover=True)
        headers = partner_headers(session)
        session.commit()
    api = TestClient(create_app(committed))

    quote = api.get(f"/v1/cards/{iccid}/quote", params={"plan": plan_code}, headers=headers)
    assert quote.status_code == 200, quote.text
    assert quote.json()["carried_over"]["data_bytes"] == LEFT
    assert quote.json()["forfeited"] == {"data_bytes": 0, "voice_seconds": 0, "sms_count": 0}

    placed = api.post(
        "/v1/orders",
        json={"card": iccid, "plan": plan_code, "payment_provider": "wallet"},
        headers={**headers, "Idempotency-Key": "early"},
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["state"] == "paid"
    with use_carrier(ScriptedCarrier()):
        tasks.apply(order_id=placed.json()["id"])

    with committed() as session:
        valid = session.scalars(
            select(Bundle).where(
                Bundle.card_id == card_id,
                Bundle.state == BundleState.active,
                Bundle.expires_at > clock.now(),
            )
        ).all()
        assert [bundle.data_bytes_remaining for bundle in valid] == [10 * GB + LEFT]
        assert valid[0].expires_at.isoformat() == quote.json()["expires_at"].replace("Z", "+00:00")
        rollovers = session.execute(
            select(LedgerEntry.bundle_id, LedgerEntry.delta, LedgerEntry.balance_before).where(
                LedgerEntry.card_id == card_id,
                LedgerEntry.cause == LedgerCause.rollover,
                LedgerEntry.account == DATA.account,
            )
        ).all()
        old = session.scalars(
            select(Bundle.id).where(Bundle.card_id == card_id, Bundle.id != valid[0].id)
        ).one()
        assert sorted(rollovers) == sorted([(old, -LEFT, LEFT), (valid[0].id, LEFT, 10 * GB)])


def test_a_plan_that_forfeits_says_so_in_the_quote(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        iccid, plan_code, _ = _card_with_6_5_gb_left(session, rollover=False)
        headers = partner_headers(session)
        session.commit()
    api = TestClient(create_app(committed))

    quote = api.get(f"/v1/cards/{iccid}/quote", params={"plan": plan_code}, headers=headers)

    assert quote.status_code == 200, quote.text
    assert quote.json()["forfeited"]["data_bytes"] == LEFT
    assert quote.json()["carried_over"]["data_bytes"] == 0


def test_a_traveller_may_not_quote_another_card(client: TestClient, session: Session) -> None:
    from tests.fixtures.payments import traveller_headers

    plan = create_plan(session, code="Q")
    mine, _ = create_active_card(session, plan=plan)
    other, _ = create_active_card(session, plan=plan)

    answer = client.get(
        f"/v1/cards/{other.iccid}/quote",
        params={"plan": "Q"},
        headers=traveller_headers(session, mine),
    )

    assert (answer.status_code, answer.json()["code"]) == (404, "card_not_found")
