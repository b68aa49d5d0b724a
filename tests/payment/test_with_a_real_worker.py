"""The sandbox path with the real procrastinate worker and real HTTP on loopback: a traveller
tops up the wallet, pays on the hosted page, the signed webhooks come back, and the order
completes with exactly one credit, one SMS and one receipt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tests.fixtures.payments import live_server, traveller_headers
from tulpar.models import CardState, LedgerEntry, Notification, Receipt, Wallet
from tulpar.worker import run_worker


def _run_worker() -> None:
    asyncio.run(asyncio.wait_for(run_worker(concurrency=4, wait=False), timeout=60))


def test_a_top_up_paid_on_the_sandbox_page_completes_once(
    committed: sessionmaker[Session], configure: Callable[..., None]
) -> None:
    with committed() as session:
        card = create_card(session, state=CardState.active)
        session.execute(update(Wallet).values(balance_minor=0))
        headers = traveller_headers(session, card)
        session.commit()
        card_id = card.id

    with live_server() as base:
        configure(sandbox_webhook_url=f"{base}/webhooks/sandbox", sandbox_webhook_duplicates=2)
        created = httpx.post(
            f"{base}/v1/orders",
            json={"card": card.iccid, "kind": "wallet_topup", "amount_minor": 2_000_00},
            headers={**headers, "Idempotency-Key": "topup-1"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        order = created.json()
        page = "/pay/sandbox/" + order["payment"]["next_action"]["url"].rsplit("/", 1)[-1]
        assert httpx.post(f"{base}{page}", data={"decision": "pay"}).status_code == 303

        _run_worker()  # delivers the webhooks, which enqueue their processing
        _run_worker()  # processes them, then sends the SMS

        shown = httpx.get(f"{base}/v1/orders/{order['id']}", headers=headers, timeout=30).json()

    assert shown["state"] == "completed"
    assert [(e["from_state"], e["to_state"]) for e in shown["timeline"]] == [
        (None, "awaiting_payment"),
        ("awaiting_payment", "paid"),
        ("paid", "completed"),
    ]
    with committed() as session:
        wallet = session.get(Wallet, card_id)
        assert wallet is not None
        assert wallet.balance_minor == 2_000_00
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.card_id == card_id)).all()
        assert [e.delta for e in entries] == [2_000_00]
        topup_sms = session.scalars(
            select(Notification).where(Notification.template == "topup_confirmed")
        ).all()
        assert len(topup_sms) == 1
        assert session.scalars(select(Receipt)).all()[0].total_minor == 2_000_00
        assert len(session.scalars(select(Receipt)).all()) == 1
        failed = session.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status::text <> 'succeeded'"
                " AND (task_name LIKE 'payment.%' OR task_name LIKE 'order.%'"
                " OR task_name = 'notification.send')"
            )
        ).scalar_one()
        assert failed == 0
        webhooks = session.execute(
            text("SELECT count(*), count(handled_at) FROM inbox_messages")
        ).one()
        assert tuple(webhooks) == (2, 2)
