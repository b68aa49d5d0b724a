"""With real commits: a double submit from two threads sells once; concurrent sales number a
store's receipts without gaps; the fiscal operator down → the sale completes → the job
retries → the receipt shows the sign; day close after a partial refund."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.counter.conftest import Counter, make_staff
from tests.fixtures.factories import create_active_card
from tulpar.auth import service as auth_service
from tulpar.counter import days, fiscal
from tulpar.counter import receipts as counter_receipts
from tulpar.counter import tasks as counter_tasks
from tulpar.errors import InvalidInputError
from tulpar.fulfilment import refunds as fulfilment_refunds
from tulpar.fulfilment import store_sale
from tulpar.fulfilment import tasks as fulfilment_tasks
from tulpar.integrations.fiscal.protocol import FiscalError
from tulpar.integrations.fiscal.registry import override
from tulpar.integrations.fiscal.simulator import SimulatorRegister
from tulpar.models import FiscalRegistration, FiscalState, Order, Receipt, Refund
from tulpar.receipt import repository as receipt_repository


def in_threads(count: int, work: Callable[[int], Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            work(index)
        except BaseException as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def sell(
    factory: sessionmaker[Session], scene: Counter, key: str, card: str | None = None
) -> store_sale.Sale:
    with factory() as session:
        sale = store_sale.sell(
            session,
            scene.caller,
            card or scene.card.iccid,
            plan_code=scene.plan.code,
            method="cash",
            idempotency_key=key,
        )
        session.commit()
        return sale


def test_double_submit_sells_once(
    committed: sessionmaker[Session], committed_counter: Counter
) -> None:
    errors = in_threads(2, lambda _: sell(committed, committed_counter, "same-form"))
    assert errors == []
    with committed() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_store_receipts_numbered_without_gaps_under_concurrency(
    committed: sessionmaker[Session], committed_counter: Counter
) -> None:
    with committed() as session:
        cards = [
            create_active_card(session, plan=committed_counter.plan)[0].iccid for _ in range(6)
        ]
        session.commit()
    errors = in_threads(6, lambda i: sell(committed, committed_counter, f"k{i}", cards[i]))
    assert errors == []
    with committed() as session:
        numbers = receipt_repository.numbers_of(session, committed_counter.store.receipt_issuer)
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_fiscal_down_sale_completes_then_job_registers(
    committed: sessionmaker[Session], committed_counter: Counter
) -> None:
    down = SimulatorRegister(down=True)
    with override(down):
        sale = sell(committed, committed_counter, "f1")
        with pytest.raises(FiscalError):
            fiscal.attempt(sale.registration.id)  # what the page tries right after the sale
        with pytest.raises(FiscalError):
            counter_tasks.register(sale.registration.id)  # the job's first try fails too
    with committed() as session:
        registration = session.get(FiscalRegistration, sale.registration.id)
        assert registration is not None
        assert registration.state is FiscalState.pending
        assert registration.attempts == 2
        assert registration.last_error
        assert session.get(Order, sale.order.id) is not None  # the sale stands
        shown = counter_receipts.store_receipt(
            session, committed_counter.caller, sale.receipt.public_id
        )
        assert shown.fiscal.sign is None
    counter_tasks.register(sale.registration.id)  # the operator is back: the retry succeeds
    with committed() as session:
        shown = counter_receipts.store_receipt(
            session, committed_counter.caller, sale.receipt.public_id
        )
        assert shown.fiscal.sign is not None
        assert len(shown.fiscal.sign) == 13
        pdf = counter_receipts.pdf(session, shown)
        assert pdf.startswith(b"%PDF")


def test_day_close_totals_after_a_partial_refund(
    committed: sessionmaker[Session], committed_counter: Counter
) -> None:
    scene = committed_counter
    first = sell(committed, scene, "d1")
    with committed() as session:
        second = store_sale.sell(
            session,
            scene.caller,
            scene.card.iccid,
            top_up_amount=100_000,
            method="card_terminal",
            terminal_reference="RRN-9",
            idempotency_key="d2",
        )
        session.commit()
    # A partial refund through the support refund path (the original provider: cash back).
    with committed() as session:
        order = session.get(Order, first.order.id)
        assert order is not None
        requested = fulfilment_refunds.request_by_support(
            session, order, amount_minor=50_000, reason="support: part of it"
        )
        session.commit()
    fulfilment_tasks.refund(requested.refund_id)
    day = days.business_date()
    with committed() as session:
        refund = session.get(Refund, requested.refund_id)
        assert refund is not None
        assert refund.state.value == "succeeded"
        assert refund.provider_reference
        assert refund.provider_reference.startswith("cash-back:")
        live, closed = days.view(
            session, scene.caller, store_id=scene.store.id, day=day, staff_id=scene.clerk.id
        )
        assert closed is None
        by_method: dict[str, int] = {"cash": 0, "card_terminal": 0}
        for row in live["receipts"]:
            by_method[row["method"]] += row["total_minor"]
        assert live["sales_minor"] == by_method == {"cash": 350_000, "card_terminal": 100_000}
        assert live["refunds_minor"] == {"cash": 50_000, "card_terminal": 0}
        assert live["expected_cash_minor"] == 300_000
        assert [r["number"] for r in live["receipts"]] == [
            first.receipt.number,
            second.receipt.number,
        ]
        closing = days.close(session, scene.caller, day=day)
        session.commit()
        assert closing.figures["expected_cash_minor"] == 300_000
    # Closed: frozen, no more sales on it; a store manager reopens with a reason.
    with committed() as session, pytest.raises(days.DayClosedError):
        store_sale.sell(
            session,
            scene.caller,
            scene.card.iccid,
            plan_code=scene.plan.code,
            method="cash",
            idempotency_key="d3",
        )
    with committed() as session:
        manager = auth_service.staff(make_staff(session, "store_manager", scene.store))
        with pytest.raises(InvalidInputError):
            days.reopen(
                session,
                manager,
                store_id=scene.store.id,
                day=day,
                staff_id=scene.clerk.id,
                reason=" ",
            )
        reopened = days.reopen(
            session,
            manager,
            store_id=scene.store.id,
            day=day,
            staff_id=scene.clerk.id,
            reason="Counted the till again",
        )
        session.commit()
        assert reopened.state.value == "reopened"
