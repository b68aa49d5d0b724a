"""Partner webhook tests: a real receiver on loopback, partners with endpoints made through
the service, orders moved through fulfilment, and a stand-in for the worker that runs the
dispatch and the due deliveries at the (frozen) clock's time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tulpar import clock
from tulpar.auth.identity import Caller, CallerKind
from tulpar.db import transaction
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.models import (
    Card,
    Channel,
    Order,
    OrderKind,
    OrderState,
    PartnerWebhookEvent,
    Plan,
)
from tulpar.partner import service as partner_service
from tulpar.partner_webhook import delivery, endpoints, repository, service
from tulpar.provisioning.settlement import Settled, Settlement


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's webhook receiver: answers the statuses in ``script`` in turn (then 200)
    and keeps every request."""

    url: str
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            return self.script.pop(0) if self.script else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received = Received(
                {key.lower(): value for key, value in self.headers.items()},
                self.rfile.read(length),
            )
            status = box[0].answer(received)
            reply = b'{"ok":true}' if status < 300 else b"temporarily down, try later"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(url=f"http://127.0.0.1:{server.server_port}/hooks"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=delivery.TIMEOUT, follow_redirects=False) as client:
        yield client


def partner_caller(session: Session, name: str) -> Caller:
    partner, _ = partner_service.create_key(session, name, scopes=["partner"])
    return Caller(
        kind=CallerKind.partner,
        actor=f"partner:{name}",
        channel=Channel.api,
        scopes=frozenset({"partner"}),
        partner_id=partner.id,
    )


def subscribe(
    session: Session, caller: Caller, url: str, event_types: list[str] | None = None
) -> endpoints.WithSecret:
    return endpoints.create(session, caller, url=url, event_types=event_types)


def order_in_provisioning(
    session: Session, *, card: Card, plan: Plan, partner_id: int | None
) -> Order:
    """A partner's paid renewal on its way to the carrier (its timeline written as moves)."""
    now = clock.now()
    order = Order(
        card_id=card.id,
        kind=OrderKind.plan_renewal,
        plan_id=plan.id,
        channel=Channel.api,
        state=OrderState.provisioning,
        amount_minor=3_500_00,
        currency="KZT",
        payment_provider="sandbox",
        partner_id=partner_id,
        placed_by=f"partner:{partner_id}",
        payable_until=now + timedelta(minutes=30),
        state_changed_at=now,
    )
    session.add(order)
    session.flush()
    return order


def settle(session: Session, order: Order, outcome: Settled) -> Settled:
    """What the carrier's answer does to the order (fulfilment, as the job runs it)."""
    return fulfilment_provisioning.on_settlement(
        session,
        Settlement(
            outcome=outcome,
            order_id=order.id,
            card_id=order.card_id,
            reference=f"test-{order.id}",
            attempts=1,
            via="response",
            reason=None if outcome is Settled.completed else "carrier refused",
        ),
    )


def run_due(factory: sessionmaker[Session], client: httpx.Client) -> int:
    """The worker, at the clock's time: dispatch the events, then send every due delivery
    (each (endpoint, card) drained in order). Returns how many POSTs were made."""
    with transaction(factory) as session:
        service.dispatch(session, now=clock.now())
    made = 0
    while True:
        with transaction(factory) as session:
            keys = repository.due_keys(session, now=clock.now(), limit=100)
        sent = sum(
            delivery.drain(endpoint_id, card_id, client=client, factory=factory)
            for endpoint_id, card_id in keys
        )
        made += sent
        if sent == 0:
            return made


def events_of(session: Session, partner_id: int) -> list[PartnerWebhookEvent]:
    return list(
        session.scalars(
            select(PartnerWebhookEvent)
            .where(PartnerWebhookEvent.partner_id == partner_id)
            .order_by(PartnerWebhookEvent.id)
        )
    )


def event_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PartnerWebhookEvent)) or 0)
