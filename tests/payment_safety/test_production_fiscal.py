"""Defect 2, for the fiscal register: the simulator was the default fiscal provider, so in
production, unset, it silently "registered" store receipts with no fiscal operator. Unset, it
is now the simulator outside production and none in production: a store sale still completes,
its registration stays pending (retried by the job) and no receipt claims a fiscal sign until
a real register is configured."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.counter.conftest import build_counter, sign_in_token
from tulpar import clock
from tulpar.app import create_app
from tulpar.config import get_settings
from tulpar.counter import fiscal
from tulpar.counter import receipts as counter_receipts
from tulpar.counter import tasks as counter_tasks
from tulpar.fulfilment import store_sale
from tulpar.integrations.fiscal import registry
from tulpar.integrations.fiscal.protocol import FiscalError, FiscalReceipt, FiscalRegistered
from tulpar.models import FiscalRegistration, FiscalState, Order
from tulpar.web.staff.session import COOKIE


@dataclass
class RealRegister:
    """Stands for a real operator's adapter, configured after the sales were made."""

    name: str = "ofd-test"

    def register(self, receipt: FiscalReceipt) -> FiscalRegistered:
        return FiscalRegistered("1234567890123", "KZ-REG-1", clock.now())


def _registration(session: Session, registration_id: int) -> FiscalRegistration:
    registration = session.get(FiscalRegistration, registration_id)
    assert registration is not None
    return registration


def test_the_fiscal_default_is_the_simulator_only_outside_production(
    production: Callable[..., None], configure: Callable[..., None]
) -> None:
    configure(environment="development")
    assert get_settings().fiscal_provider_name == "simulator"
    production()
    assert get_settings().fiscal_provider_name is None
    with pytest.raises(registry.FiscalNotConfiguredError):
        registry.fiscal_register()
    production(fiscal_provider="ofd-test")  # a name with no adapter is no simulator either
    with pytest.raises(registry.FiscalNotConfiguredError):
        registry.fiscal_register()


def test_in_production_without_a_fiscal_provider_a_sale_completes_and_stays_pending(
    production: Callable[..., None],
    committed: sessionmaker[Session],
) -> None:
    production()
    with committed() as session:
        committed_counter = build_counter(session)
        session.commit()
    with committed() as session:
        sale = store_sale.sell(
            session,
            committed_counter.caller,
            committed_counter.card.iccid,
            plan_code=committed_counter.plan.code,
            method="cash",
            idempotency_key="no-fiscal",
        )
        session.commit()
    with pytest.raises(registry.FiscalNotConfiguredError):
        fiscal.attempt(sale.registration.id)  # what the page tries right after the sale
    with pytest.raises(FiscalError):  # the job's retry strategy retries a FiscalError
        counter_tasks.register(sale.registration.id)
    assert issubclass(registry.FiscalNotConfiguredError, FiscalError)

    with committed() as session:
        registration = _registration(session, sale.registration.id)
        assert registration.state is FiscalState.pending
        assert (registration.provider, registration.fiscal_sign) == (registry.NOT_CONFIGURED, None)
        assert registration.attempts == 2
        assert registration.last_error is not None
        assert "No fiscal provider" in registration.last_error
        assert session.get(Order, sale.order.id) is not None  # the sale stands
        shown = counter_receipts.store_receipt(
            session, committed_counter.caller, sale.receipt.public_id
        )
        assert shown.fiscal.sign is None

    with registry.override(RealRegister()):  # a real register is configured: the retry works
        counter_tasks.register(sale.registration.id)
    with committed() as session:
        registration = _registration(session, sale.registration.id)
        assert registration.state is FiscalState.registered
        assert (registration.provider, registration.fiscal_sign) == ("ofd-test", "1234567890123")


def test_in_production_the_store_page_sells_without_a_fiscal_sign(
    production: Callable[..., None],
    session_factory: sessionmaker[Session],
    session: Session,
) -> None:
    production()
    counter = build_counter(session)
    with TestClient(create_app(session_factory), base_url="https://testserver") as client:
        client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
        card_page = client.get(f"/store/cards/{counter.card.id}")
        assert card_page.status_code == 200, card_page.text
        form = {
            "csrf": _field(card_page.text, "csrf"),
            "idempotency_key": _field(card_page.text, "idempotency_key"),
            "plan": counter.plan.code,
            "method": "cash",
        }
        sold = client.post(
            f"/store/cards/{counter.card.id}/sell", data=form, follow_redirects=False
        )
        assert sold.status_code == 303, sold.text
        receipt = client.get(sold.headers["location"])
        assert receipt.status_code == 200
    (registration,) = session.query(FiscalRegistration).all()
    assert registration.state is FiscalState.pending
    assert registration.fiscal_sign is None
    assert registration.provider == registry.NOT_CONFIGURED
    assert 'data-test="fiscal-pending"' in receipt.text
    assert 'data-test="fiscal-sign"' not in receipt.text


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)
