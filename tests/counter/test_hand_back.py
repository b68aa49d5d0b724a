"""A store sale refunded automatically (provisioning failed) is money the counter provider
records as handed back: the card page tells the clerk to hand the cash back."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.counter.conftest import Counter, sign_in_token
from tulpar.app import create_app
from tulpar.counter import lookup
from tulpar.fulfilment import store_sale
from tulpar.fulfilment import tasks as fulfilment_tasks
from tulpar.kit.i18n import translations
from tulpar.models import Refund, RefundState
from tulpar.payment import service as payment_service
from tulpar.web.staff.session import COOKIE
from tulpar.web.store import pages as store_pages

STORE_LOCALES = store_pages.TEMPLATES.parent / "locales"


def test_card_page_shows_cash_to_hand_back(
    committed: sessionmaker[Session], committed_counter: Counter
) -> None:
    scene = committed_counter
    with committed() as session:
        sale = store_sale.sell(
            session,
            scene.caller,
            scene.card.iccid,
            plan_code=scene.plan.code,
            method="cash",
            idempotency_key="hb-1",
        )
        session.commit()
        assert lookup.view_card(session, scene.caller, scene.card.id).hand_back == ()
        # What the order engine does when provisioning fails for good.
        assert payment_service.refund(session, order_id=sale.order.id, reason="provisioning failed")
        session.commit()
        refund_id = session.scalars(select(Refund.id).where(Refund.order_id == sale.order.id)).one()
    fulfilment_tasks.refund(refund_id)
    with committed() as session:
        refund = session.get(Refund, refund_id)
        assert refund is not None
        assert refund.state is RefundState.succeeded
        assert refund.provider_reference is not None
        assert refund.provider_reference.startswith("cash-back:")
        found = lookup.view_card(session, scene.caller, scene.card.id)
        assert [(b.order_id, b.method.value, b.amount_minor) for b in found.hand_back] == [
            (sale.order.id, "cash", 350_000)
        ]
        token = sign_in_token(session, scene.clerk)
        session.commit()
    with TestClient(create_app(committed)) as client:
        client.cookies.set(COOKIE, token)
        page = client.get(f"/store/cards/{scene.card.id}")
    assert page.status_code == 200
    assert 'data-test="hand-back"' in page.text
    clerk = translations(STORE_LOCALES, "ru").gettext("Cash to hand back")
    assert clerk in page.text  # the clerk's language (ru)
    assert "3 500" in page.text.replace("\u00a0", " ").replace("\u202f", " ")
