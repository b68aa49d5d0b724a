"""The whole renewal as a Chinese traveller lives it, through HTTP, a real worker and the
carrier simulator: SMS code → token → order → sandbox pay → provisioned → Chinese SMS →
receipt PDF → verification page."""

from __future__ import annotations

import re
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
from tulpar.models import Bundle, Card, Channel, Notification, Receipt


def _sms(factory: sessionmaker[Session], card_id: int, template: str) -> list[str]:
    with factory() as session:
        query = select(Notification.body).where(
            Notification.card_id == card_id, Notification.template == template
        )
        return list(session.scalars(query))


def test_otp_order_pay_provision_confirm_and_verify_the_receipt(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        plan = create_plan(session, code="JOURNEY-15D", validity_days=15, channels=(Channel.web,))
        card, _ = create_active_card(session, plan=plan, language="zh-Hans", msisdn="+77017770001")
        session.commit()
        card_id, validity_before = card.id, card.validity_ends_at
    assert validity_before is not None

    with app_in_thread(create_app()) as base:
        simulator_settings = SimulatorSettings(
            callback_url=f"{base}/carrier/callbacks",
            callback_secret=CALLBACK_SECRET,
            completion_delay_ms=50,
        )
        with (
            simulator_in_thread(simulator_settings) as simulator,
            httpx.Client(base_url=base, timeout=10) as client,
        ):
            configure(
                public_base_url=base,
                carrier_url=simulator.url,
                carrier_callback_secret=CALLBACK_SECRET,
                sandbox_webhook_delay_seconds=0,
            )
            assert client.post("/v1/otp", json={"card": "8 701 777 0001"}).status_code == 202
            run_jobs_until(committed, lambda s: count(s, Notification, state="delivered") == 1)
            (otp_sms,) = _sms(committed, card_id, "otp")
            match = re.search(r"验证码：(\d{6})", otp_sms)
            assert match is not None, otp_sms
            verified = client.post(
                "/v1/otp/verify", json={"card": "+77017770001", "code": match.group(1)}
            )
            assert verified.status_code == 200, verified.text
            traveller = {"Authorization": f"Bearer {verified.json()['token']}"}

            placed = client.post(
                "/v1/orders",
                headers={**traveller, "Idempotency-Key": uuid.uuid4().hex},
                json={"card": "+77017770001", "plan": "JOURNEY-15D"},
            )
            assert placed.status_code == 201, placed.text
            assert placed.json()["channel"] == "web"
            order_id = placed.json()["id"]
            pay_page = placed.json()["payment"]["next_action"]["url"]
            assert "3,500 KZT" in httpx.get(pay_page).text
            assert httpx.post(pay_page, data={"decision": "pay"}).status_code == 303

            run_jobs_until(
                committed, lambda s: count(s, Receipt, order_id=order_id) == 1, timeout=30
            )
            order = client.get(f"/v1/orders/{order_id}", headers=traveller).json()
            pdf = httpx.get(order["receipt"]["pdf_url"])
            verification = httpx.get(order["receipt"]["verify_url"])
            assert simulator.book.applications == {f"order-{order_id}": 1}

    assert order["state"] == "completed"
    assert order["receipt"]["number"] == "WEB-000001"
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert b"/FontFile2" in pdf.content  # its font travels with it
    assert 'data-genuine="true"' in verification.text
    with committed() as session:
        renewed = session.get(Card, card_id)
        assert renewed is not None
        assert renewed.validity_ends_at == validity_before + timedelta(days=15)
        assert count(session, Bundle, order_id=order_id) == 1
    (confirmation,) = _sms(committed, card_id, "renewal_confirmed")
    assert f"有效期至{local_time(renewed.validity_ends_at)}" in confirmation
