"""A card-terminal slip pays one sale: its reference used again is a clear 409 refusal (a
page in the clerk's language), never a database error, and nothing is written."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.counter.conftest import Counter, sign_in_token
from tulpar.fulfilment import store_sale
from tulpar.models import AuditEntry, CounterSale, FiscalRegistration, Order, Payment, Receipt
from tulpar.web.staff.session import COOKIE

MODELS = (Order, Payment, CounterSale, Receipt, FiscalRegistration, AuditEntry)


def counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in MODELS
    }


def sell(session: Session, counter: Counter, key: str, reference: str) -> store_sale.Sale:
    return store_sale.sell(
        session,
        counter.caller,
        counter.card.iccid,
        plan_code=counter.plan.code,
        method="card_terminal",
        terminal_reference=reference,
        idempotency_key=key,
    )


def test_a_slip_reference_used_twice_is_refused(session: Session, counter: Counter) -> None:
    sell(session, counter, "first", "RRN-0001")
    before = counts(session)
    with pytest.raises(store_sale.TerminalReferenceUsedError) as refused:
        sell(session, counter, "second", " RRN-0001 ")
    assert refused.value.status == 409
    assert counts(session) == before
    # The same form submitted again is still the first sale, not a refusal.
    assert sell(session, counter, "first", "RRN-0001").replayed
    assert counts(session) == before


def test_the_page_refuses_it_in_the_clerks_language(
    client: TestClient, session: Session, counter: Counter
) -> None:
    client.cookies.set(COOKIE, sign_in_token(session, counter.clerk))
    url = f"/store/cards/{counter.card.id}/sell"

    def form() -> dict[str, str]:
        html = client.get(f"/store/cards/{counter.card.id}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        key = re.search(r'name="idempotency_key" value="([^"]+-r)"', html)
        assert csrf is not None
        assert key is not None
        return {
            "csrf": csrf.group(1),
            "idempotency_key": key.group(1),
            "plan": counter.plan.code,
            "method": "card_terminal",
            "terminal_reference": "RRN-7",
        }

    sold = client.post(url, data=form(), follow_redirects=False)
    assert sold.status_code == 303, sold.text
    again = form()  # opening the card page is audited: count after it
    before = counts(session)
    refused = client.post(
        url, data=again, headers={"Accept-Language": "ru"}, follow_redirects=False
    )
    assert refused.status_code == 409
    assert "Этот чек терминала уже учтён" in refused.text
    assert counts(session) == before
