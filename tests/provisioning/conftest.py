from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tulpar import clock
from tulpar.inbox.service import HANDLE_TASK
from tulpar.integrations.carrier.http import close_adapters
from tulpar.jobs import defer_in_transaction, expose_job_id
from tulpar.models import (
    Bundle,
    Card,
    Channel,
    InboxMessage,
    Notification,
    Order,
    OrderKind,
    OrderState,
    Payment,
    PaymentProviderName,
    PaymentState,
    Plan,
    Receipt,
    SandboxCharge,
    SandboxDecision,
    Ticket,
)
from tulpar.worker import run_worker

CALLBACK_SECRET = "whsec_test_provisioning"


@pytest.fixture
def configure(configure: Callable[..., None]) -> Iterator[Callable[..., None]]:
    """The shared ``configure``; carrier HTTP clients built from it are closed afterwards."""
    yield configure
    close_adapters()


def create_paid_order(
    session: Session, *, card: Card, plan: Plan, amount_minor: int = 3_500_00
) -> Order:
    """A renewal order whose sandbox payment succeeded: what provisioning starts from."""
    now = clock.now()
    order = Order(
        card_id=card.id,
        kind=OrderKind.plan_renewal,
        plan_id=plan.id,
        channel=Channel.web,
        state=OrderState.paid,
        amount_minor=amount_minor,
        currency="KZT",
        payment_provider=PaymentProviderName.sandbox.value,
        placed_by="test",
        payable_until=now + timedelta(minutes=30),
        state_changed_at=now,
    )
    session.add(order)
    session.flush()
    payment = Payment(
        order_id=order.id,
        card_id=card.id,
        attempt=1,
        provider=PaymentProviderName.sandbox,
        state=PaymentState.succeeded,
        idempotency_key=f"test-payment-{order.id}",
        provider_reference=f"sbx-test-{order.id}",
        amount_minor=amount_minor,
        currency="KZT",
        succeeded_at=now,
        checked_at=now,
    )
    session.add(payment)
    # The sandbox's own side of the same payment, so a refund of it really succeeds.
    session.add(
        SandboxCharge(
            reference=payment.provider_reference,
            decision=SandboxDecision.paid,
            amount_minor=amount_minor,
            currency="KZT",
            decided_at=now,
        )
    )
    session.flush()
    order.paid_payment_id = payment.id
    session.flush()
    return order


def handled_by_running_job(session: Session, *, external_id: str) -> tuple[int, int]:
    """A payment webhook already handled (its first run committed "order paid" with it) and
    its ``inbox.handle`` job still running: (message id, job id), committed."""
    now = clock.now()
    message = InboxMessage(
        source="sandbox",
        external_id=external_id,
        kind="payment.succeeded",
        payload={},
        received_at=now,
        handled_at=now,
        outcome="order paid",
    )
    session.add(message)
    session.flush()
    job_id = defer_in_transaction(session, HANDLE_TASK, message_id=message.id)
    session.execute(
        text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :id"), {"id": job_id}
    )
    session.commit()
    return message.id, job_id


def count(session: Session, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.execute(query).scalar_one())


def order_state(factory: sessionmaker[Session], order_id: int) -> str:
    with factory() as session:
        return str(
            session.execute(
                text("SELECT state FROM orders WHERE id = :id"), {"id": order_id}
            ).scalar_one()
        )


def outcome_counts(session: Session, order_id: int, card_id: int) -> dict[str, int]:
    return {
        "bundles": count(session, Bundle, order_id=order_id),
        "receipts": count(session, Receipt, order_id=order_id),
        "sms": count(session, Notification, card_id=card_id),
        "tickets": count(session, Ticket, order_id=order_id),
    }


def run_jobs_until(
    factory: sessionmaker[Session], done: Callable[[Session], bool], *, timeout: float = 20.0
) -> None:
    """Run a real procrastinate worker in rounds (each works through what is due) until
    ``done`` holds; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        asyncio.run(asyncio.wait_for(run_worker(concurrency=2, wait=False), timeout=timeout))
        with factory() as session:
            if done(session):
                return
        if time.monotonic() > deadline:
            raise AssertionError("the jobs did not finish in time")
        time.sleep(0.05)


def run_as_job(job_id: int, call: Callable[[], None]) -> None:
    """``call`` as the body of job ``job_id`` (what the worker's middleware sets up)."""
    expose_job_id(call, SimpleNamespace(job=SimpleNamespace(id=job_id)), None)  # type: ignore[arg-type]
