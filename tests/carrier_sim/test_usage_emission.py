"""The simulator's usage records reach Tulpar's ``/v1/usage-records`` and are rated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card
from tulpar.app import create_app
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.integrations.carrier.wire import BundleRequest
from tulpar.models import UsageRecord
from tulpar.partner import service as partner_service


def test_usage_records_for_active_cards_are_posted_and_rated(
    committed: sessionmaker[Session],
) -> None:
    with committed() as session:
        card, _ = create_active_card(session)
        _, key = partner_service.create_key(session, "Simulator", scopes=["carrier"])
        session.commit()
        card_id, iccid = card.id, card.iccid

    with app_in_thread(create_app()) as tulpar_url:
        settings = SimulatorSettings(
            usage_url=f"{tulpar_url}/v1/usage-records", usage_key=key, usage_interval_seconds=0.05
        )
        with simulator_in_thread(settings) as simulator:
            now = datetime.now(UTC)
            simulator.book.apply(
                BundleRequest(
                    reference="order-1",
                    iccid=iccid,
                    plan_code="KZ-7D-5GB",
                    starts_at=now,
                    expires_at=now + timedelta(days=7),
                )
            )
            # Tulpar answers after its transaction committed, so two accepted batches are two
            # batches stored and rated.
            assert simulator.book.wait_for_usage_batches(2, timeout=10)

    with committed() as session:
        rated = session.execute(
            select(func.count()).where(UsageRecord.card_id == card_id)
        ).scalar_one()
    assert rated >= 2
    with committed() as session:
        records = session.scalars(select(UsageRecord).where(UsageRecord.card_id == card_id)).all()
        assert {(r.source, r.kind) for r in records} == {("carrier-sim", "data")}
        assert len({r.record_id for r in records}) == len(records)
