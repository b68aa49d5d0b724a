"""Scaled out on one database: ``tulpar serve --workers 2`` and two ``tulpar worker``
processes. A burst of renewals through the API — every request sent twice with its
Idempotency-Key, every pay button pressed twice, every sandbox webhook delivered twice, some
cards renewed twice at once — against a carrier simulator on loopback; each order completes
exactly once, and two renewals of one card are applied one after the other."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tulpar.carrier_sim.server import simulator_in_thread
from tulpar.carrier_sim.settings import SimulatorSettings
from tulpar.partner import service as partner_service

CARDS = 10
TWICE_RENEWED = 4  # the first cards get two renewals, placed at the same moment
VALIDITY_DAYS = 7
# Bounds, generous for a loaded machine (starting a process imports for seconds there).
STARTUP_SECONDS = 120
DEADLINE_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _tulpar(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m tulpar …`` in its own process group, stopped (SIGINT, then SIGKILL of the
    group, which holds only what it started) when the block ends."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, "-m", "tulpar", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield child
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=10)


def _wait_until_ready(url: str, children: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        exited = [child.args for child in children if child.poll() is not None]
        if exited or time.monotonic() > deadline:
            shown = "\n".join(path.read_text()[-2000:] for path in sorted(logs.glob("*.log")))
            raise AssertionError(f"not ready ({exited or 'timeout'}):\n{shown}")
        time.sleep(0.1)


def _renew(client: httpx.Client, base: str, key: str, iccid: str, plan: str) -> int:
    """Place (twice, with one Idempotency-Key) and pay (twice); returns the order id."""
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
    body = {"card": iccid, "plan": plan}
    placed = [client.post(f"{base}/v1/orders", headers=headers, json=body) for _ in range(2)]
    assert [response.status_code for response in placed] == [201, 201], placed[1].text
    first, replay = (response.json() for response in placed)
    assert replay["id"] == first["id"]
    pay_url = first["payment"]["next_action"]["url"]
    for _ in range(2):
        paid = client.post(pay_url, data={"decision": "pay"})
        assert paid.status_code == 303, paid.text
    return int(first["id"])


def _rows(factory: sessionmaker[Session], query: str, **params: object) -> list[tuple[Any, ...]]:
    with factory() as session:
        return [tuple(row) for row in session.execute(text(query), params).all()]


def test_every_renewal_completes_exactly_once(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    with committed() as session:
        plan = create_plan(session, code="SCALE-7D", validity_days=VALIDITY_DAYS)
        cards = [create_active_card(session, plan=plan)[0] for _ in range(CARDS)]
        _, key = partner_service.create_key(session, "Scale partner", scopes=["partner"])
        partner_service.assign_cards(session, "Scale partner", [card.iccid for card in cards])
        session.commit()
        validity_before = {card.id: card.validity_ends_at for card in cards}
        renewals = [card.iccid for card in cards] + [card.iccid for card in cards[:TWICE_RENEWED]]

    with ExitStack() as stack:
        simulator = stack.enter_context(simulator_in_thread(SimulatorSettings()))
        web = f"http://127.0.0.1:{_free_port()}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TULPAR_CARRIER_URL": simulator.url,
            "TULPAR_PUBLIC_BASE_URL": web,
            "TULPAR_SANDBOX_WEBHOOK_DELAY_SECONDS": "0",
            "TULPAR_SANDBOX_WEBHOOK_DUPLICATES": "1",
        }
        port = web.rsplit(":", 1)[1]
        children = [
            stack.enter_context(
                _tulpar(["serve", "--port", port, "--workers", "2"], env, tmp_path / "web.log")
            ),
            *(
                stack.enter_context(
                    _tulpar(
                        ["worker", "--concurrency", "4"], env, tmp_path / f"worker-{number}.log"
                    )
                )
                for number in (1, 2)
            ),
        ]
        _wait_until_ready(f"{web}/healthz", children, tmp_path)

        with ThreadPoolExecutor(8) as pool, httpx.Client(timeout=30) as client:
            order_ids = list(
                pool.map(lambda iccid: _renew(client, web, key, iccid, "SCALE-7D"), renewals)
            )
        assert len(set(order_ids)) == len(renewals)

        deadline = time.monotonic() + DEADLINE_SECONDS
        while _rows(committed, "SELECT count(*) FROM orders WHERE state <> 'completed'") != [(0,)]:
            unfinished = _rows(committed, "SELECT id, state FROM orders WHERE state <> 'completed'")
            assert time.monotonic() < deadline, f"not completed in time: {unfinished}"
            time.sleep(0.2)
        # The last SMS jobs may still be running: stop the workers once they are sent.
        while _rows(committed, "SELECT count(*) FROM notifications WHERE state = 'queued'") != [
            (0,)
        ]:
            assert time.monotonic() < deadline, "SMS not sent in time"
            time.sleep(0.2)
        applications = dict(simulator.book.applications)

    assert applications == {f"order-{order_id}": 1 for order_id in order_ids}
    per_order = _rows(
        committed,
        """
        SELECT o.id,
               (SELECT count(*) FROM payments p WHERE p.order_id = o.id),
               (SELECT count(*) FROM payments p WHERE p.order_id = o.id AND p.state = 'succeeded'),
               (SELECT count(*) FROM bundles b WHERE b.order_id = o.id),
               (SELECT count(*) FROM notifications n
                 WHERE n.dedupe_key = 'order:' || o.id || :confirmed),
               (SELECT count(*) FROM receipts r WHERE r.order_id = o.id),
               (SELECT count(*) FROM inbox_messages m WHERE m.handled_at IS NOT NULL
                 AND m.payload -> 'data' ->> 'reference' = p1.provider_reference)
        FROM orders o JOIN payments p1 ON p1.order_id = o.id
        ORDER BY o.id
        """,
        confirmed=":confirmed",
    )
    # One payment, succeeded; one bundle, one confirmation SMS, one receipt; the sandbox's
    # two events (each sent twice) stored and handled once each.
    assert per_order == [(order_id, 1, 1, 1, 1, 1, 2) for order_id in sorted(order_ids)]
    assert _rows(committed, "SELECT count(*) FROM notifications WHERE state <> 'delivered'") == [
        (0,)
    ]
    assert _rows(committed, "SELECT count(*) FROM refunds") == [(0,)]
    assert _rows(committed, "SELECT count(*) FROM tickets") == [(0,)]
    # Two renewals of one card were applied one after the other: each extended the validity
    # the other had left, in order-id order.
    validity_after = dict(_rows(committed, "SELECT id, validity_ends_at FROM cards"))
    renewed_times = {card.id: 1 + (number < TWICE_RENEWED) for number, card in enumerate(cards)}
    assert validity_after == {
        card_id: before + timedelta(days=VALIDITY_DAYS * renewed_times[card_id])
        for card_id, before in validity_before.items()
        if before is not None
    }
