"""The same Idempotency-Key sent 20 times at once, over real HTTP with real commits: one
order, one payment attempt, one charge, twenty identical answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.payments import live_server, run_jobs
from tests.payment.flow import count, order_state, provisioning_jobs, seed
from tulpar.config import get_settings

CONCURRENT = 20


def test_twenty_concurrent_posts_with_one_key_make_one_order_and_one_charge(
    committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    iccid, headers = seed(committed)
    start = Barrier(CONCURRENT)

    with live_server() as base:
        monkeypatch.setenv("TULPAR_SANDBOX_WEBHOOK_URL", f"{base}/webhooks/sandbox")
        get_settings.cache_clear()

        def post(_: int) -> tuple[int, Any, bool]:
            with httpx.Client(timeout=60) as http:
                start.wait()
                response = http.post(
                    f"{base}/v1/orders",
                    json={"card": iccid, "plan": "P"},
                    headers={**headers, "Idempotency-Key": "double-click"},
                )
                replayed = response.headers.get("Idempotent-Replayed") == "true"
                return response.status_code, response.json(), replayed

        with ThreadPoolExecutor(CONCURRENT) as pool:
            answers = list(pool.map(post, range(CONCURRENT)))

        statuses = [status for status, _, _ in answers]
        bodies = [body for _, body, _ in answers]
        assert statuses == [201] * CONCURRENT
        assert sorted(replayed for _, _, replayed in answers) == [False] + [True] * 19
        assert all(body == bodies[0] for body in bodies)
        assert count(committed, "SELECT count(*) FROM orders") == 1
        assert count(committed, "SELECT count(*) FROM payments") == 1
        assert count(committed, "SELECT count(*) FROM idempotency_keys") == 1

        # Paying the one pay page twice at once still charges once.
        page = bodies[0]["payment"]["next_action"]["url"].split("8000", 1)[1]
        with ThreadPoolExecutor(5) as pool:
            clicks = list(
                pool.map(
                    lambda _: httpx.post(f"{base}{page}", data={"decision": "pay"}, timeout=30),
                    range(5),
                )
            )
        assert [c.status_code for c in clicks] == [303] * 5
        assert count(committed, "SELECT count(*) FROM sandbox_charges") == 1
        assert (
            count(
                committed,
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = 'payment.deliver_sandbox_webhooks'",
            )
            == 1  # one delivery of its two events
        )
        run_jobs(committed)

    get_settings.cache_clear()
    assert order_state(committed, bodies[0]["id"]) == "paid"
    assert provisioning_jobs(committed, bodies[0]["id"]) == 1


def test_two_renewals_of_one_card_at_once_are_both_paid_from_the_wallet(
    committed: sessionmaker[Session],
) -> None:
    iccid, headers = seed(committed)
    with committed() as session:
        session.execute(text("UPDATE wallets SET balance_minor = 700000"))
        session.commit()
    start = Barrier(2)

    with live_server() as base:

        def post(key: str) -> tuple[int, Any]:
            with httpx.Client(timeout=60) as http:
                start.wait()
                response = http.post(
                    f"{base}/v1/orders",
                    json={"card": iccid, "plan": "P", "payment_provider": "wallet"},
                    headers={**headers, "Idempotency-Key": key},
                )
                return response.status_code, response.json()

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(post, ["renew-a", "renew-b"]))

    assert [(status, body["state"]) for status, body in answers] == [(201, "paid"), (201, "paid")]
    assert count(committed, "SELECT balance_minor FROM wallets") == 0
    assert count(committed, "SELECT count(*) FROM ledger_entries WHERE delta = -350000") == 2
    for _, body in answers:
        assert provisioning_jobs(committed, body["id"]) == 1


def test_when_the_wallet_covers_one_renewal_only_the_other_is_refused_cleanly(
    committed: sessionmaker[Session],
) -> None:
    iccid, headers = seed(committed)
    with committed() as session:
        session.execute(text("UPDATE wallets SET balance_minor = 500000"))
        session.commit()
    start = Barrier(2)

    with live_server() as base:

        def post(key: str) -> int:
            with httpx.Client(timeout=60) as http:
                start.wait()
                return http.post(
                    f"{base}/v1/orders",
                    json={"card": iccid, "plan": "P", "payment_provider": "wallet"},
                    headers={**headers, "Idempotency-Key": key},
                ).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(post, ["renew-a", "renew-b"]))

    assert statuses == [201, 409]
    assert count(committed, "SELECT balance_minor FROM wallets") == 1_500_00
    assert count(committed, "SELECT count(*) FROM orders") == 1
    assert count(committed, "SELECT count(*) FROM payments") == 1
    assert count(committed, "SELECT count(*) FROM idempotency_keys") == 1


def test_twenty_concurrent_wallet_payments_with_one_key_debit_once(
    committed: sessionmaker[Session],
) -> None:
    iccid, headers = seed(committed)
    with committed() as session:
        session.execute(text("UPDATE wallets SET balance_minor = 1000000"))
        session.commit()
    start = Barrier(CONCURRENT)

    with live_server() as base:

        def post(_: int) -> tuple[int, Any]:
            with httpx.Client(timeout=60) as http:
                start.wait()
                response = http.post(
                    f"{base}/v1/orders",
                    json={"card": iccid, "plan": "P", "payment_provider": "wallet"},
                    headers={**headers, "Idempotency-Key": "ussd-double-submit"},
                )
                return response.status_code, response.json()

        with ThreadPoolExecutor(CONCURRENT) as pool:
            answers = list(pool.map(post, range(CONCURRENT)))

    assert [status for status, _ in answers] == [201] * CONCURRENT
    assert all(body == answers[0][1] for _, body in answers)
    assert answers[0][1]["state"] == "paid"
    assert count(committed, "SELECT balance_minor FROM wallets") == 10_000_00 - 3_500_00
    assert count(committed, "SELECT count(*) FROM ledger_entries") == 1
    assert count(committed, "SELECT count(*) FROM orders") == 1
    assert provisioning_jobs(committed, answers[0][1]["id"]) == 1
