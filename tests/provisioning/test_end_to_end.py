"""A renewal through the real API, sandbox payment, worker and carrier simulator (with its
signed callback), ending with a Chinese confirmation SMS and a receipt."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import CALLBACK_SECRET, count, run_jobs_until
from tulpar.app import create_app
from tulpar.carrier_sim.server import app_in_thread, simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.kit.format import local_time
from tulpar.models import Bundle, Card, Notification, Provisioning, Receipt
from tulpar.partner import service as partner_service


def test_a_renewal_paid_in_the_sandbox_is_provisioned_confirmed_and_receipted(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session, code="E2E-15D", validity_days=15)
        card, _ = create_active_card(session, plan=plan, language="zh-Hans")
        _, key = partner_service.create_key(session, "E2E partner", scopes=["partner"])
        partner_service.assign_cards(session, "E2E partner", [card.iccid])
        session.commit()
        card_id, iccid, validity_before = card.id, card.iccid, card.validity_ends_at
    assert validity_before is not None

    with app_in_thread(create_app()) as base:
        settings = SimulatorSettings(
            callback_url=f"{base}/carrier/callbacks",
            callback_secret=CALLBACK_SECRET,
            completion_delay_ms=50,
        )
        with simulator_in_thread(settings) as simulator, httpx.Client(timeout=10) as client:
            configure(
                public_base_url=base,
                carrier_url=simulator.url,
                carrier_callback_secret=CALLBACK_SECRET,
                sandbox_webhook_delay_seconds=0,
                provisioning_poll_after_seconds=600,  # so the callback is what completes it
            )
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
            placed = client.post(
                f"{base}/v1/orders", headers=headers, json={"card": iccid, "plan": "E2E-15D"}
            )
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["id"]
            paid = client.post(
                placed.json()["payment"]["next_action"]["url"], data={"decision": "pay"}
            )
            assert paid.status_code == 303

            run_jobs_until(
                committed,
                lambda s: (
                    s.scalars(select(Provisioning.state)).one_or_none() == "completed"
                    and count(s, Notification, card_id=card_id) == 1
                ),
            )
            order = client.get(f"{base}/v1/orders/{order_id}", headers=headers).json()
            assert simulator.book.applications == {f"order-{order_id}": 1}

    assert order["state"] == "completed"
    assert [event["to_state"] for event in order["timeline"]] == [
        "awaiting_payment",
        "paid",
        "provisioning",
        "completed",
    ]
    with committed() as session:
        renewed = session.get(Card, card_id)
        assert renewed is not None
        assert renewed.validity_ends_at == validity_before + timedelta(days=15)
        assert count(session, Bundle, order_id=order_id) == 1
        provisioning = session.scalars(select(Provisioning)).one()
        assert provisioning.completed_via == "callback"
        sms = session.scalars(select(Notification).where(Notification.card_id == card_id)).one()
        assert sms.template == "renewal_confirmed"
        assert sms.language == "zh-Hans"
        assert f"有效期至{local_time(renewed.validity_ends_at)}" in sms.body
        receipt = session.scalars(select(Receipt).where(Receipt.order_id == order_id)).one()
        assert (receipt.issuer, receipt.total_minor, receipt.currency) == ("API", 3_500_00, "KZT")
