"""Real ``tulpar serve`` / ``tulpar worker`` processes on a test's own embedded server, a
burst of paid renewals through the API, and what "every order completed exactly once" means
in the database. Loopback only; every wait polls against a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from tests.fixtures.factories import create_active_card, create_plan
from tests.resilience.embedded import EmbeddedServer
from tulpar.db import sqlalchemy_url
from tulpar.ledger import service as ledger_service
from tulpar.partner import service as partner_service

PLAN = "RES-7D"
# Bounds, generous for a loaded machine (starting a process imports for seconds there).
STARTUP_SECONDS = 90
DEADLINE_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sessions(server: EmbeddedServer) -> sessionmaker[Session]:
    """The test's own connections to ``server`` (none pooled, so none outlives a restart)."""
    return sessionmaker(create_engine(sqlalchemy_url(server.url), poolclass=NullPool))


def seed(factory: sessionmaker[Session], cards: int) -> tuple[list[str], str]:
    """``cards`` active cards and a partner key; returns their ICCIDs and the key."""
    with factory() as session:
        plan = create_plan(session, code=PLAN)
        iccids = [create_active_card(session, plan=plan)[0].iccid for _ in range(cards)]
        _, key = partner_service.create_key(session, "Resilience partner", scopes=["partner"])
        partner_service.assign_cards(session, "Resilience partner", iccids)
        session.commit()
    return iccids, key


def environment(
    server: EmbeddedServer, *, carrier_url: str, web: str, data_dir: Path
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": server.url,
        "TULPAR_DATA_DIR": str(data_dir),
        "TULPAR_CARRIER_URL": carrier_url,
        "TULPAR_PUBLIC_BASE_URL": web,
        "TULPAR_SANDBOX_WEBHOOK_DELAY_SECONDS": "0",
        # Quick to notice and to recover, so that the test stays short.
        "TULPAR_WORKER_RECONNECT_INITIAL_SECONDS": "0.2",
        "TULPAR_WORKER_RECONNECT_MAX_SECONDS": "2",
        "TULPAR_WORKER_HEARTBEAT_SECONDS": "0.5",
        "TULPAR_WORKER_STALLED_SECONDS": "2",
        "TULPAR_READY_WORKER_HEARTBEAT_SECONDS": "2",
    }


class Tulpar:
    """``python -m tulpar …`` in its own process group."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log = log
        self.child: subprocess.Popen[bytes] | None = None

    def start(self) -> Tulpar:
        with self.log.open("ab") as output:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "tulpar", *self.args],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def kill(self) -> None:
        """``kill -9`` of the process group (it holds only what this process started)."""
        if self.child is not None and self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGKILL)
            self.child.wait(timeout=10)

    def stop(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGINT)
        try:
            self.child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def processes() -> Iterator[list[Tulpar]]:
    """Every process appended to the list is stopped when the block ends."""
    started: list[Tulpar] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            process.stop()


def logs(directory: Path) -> str:
    return "\n".join(path.read_text()[-3000:] for path in sorted(directory.glob("*.log")))


def wait_for(
    check: Callable[[], bool],
    what: str,
    *,
    seconds: float,
    alive: list[Tulpar],
    log_dir: Path,
    explain: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        exited = [process.args for process in alive if not process.running]
        if exited or time.monotonic() > deadline:
            raise AssertionError(f"{what}: {exited or 'timeout'}\n{explain()}\n{logs(log_dir)}")
        time.sleep(0.1)


def answers(url: str, status: int = 200) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == status
        except httpx.HTTPError:
            return False

    return check


def renew(client: httpx.Client, base: str, key: str, iccid: str, *, seconds: float = 30) -> int:
    """Place and pay one renewal; returns the order id. A 503 (the database restarting) is
    retried with the same Idempotency-Key, as a client is told to by Retry-After."""
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
    placed = _until_not_503(
        lambda: client.post(
            f"{base}/v1/orders", headers=headers, json={"card": iccid, "plan": PLAN}
        ),
        seconds,
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    pay_url = order["payment"]["next_action"]["url"]
    paid = _until_not_503(lambda: client.post(pay_url, data={"decision": "pay"}), seconds)
    assert paid.status_code == 303, paid.text
    return int(order["id"])


def _until_not_503(send: Callable[[], httpx.Response], seconds: float) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = send()
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code != 503:
            return response
        assert time.monotonic() < deadline, "the API did not come back"
        time.sleep(0.2)


def rows(factory: sessionmaker[Session], query: str, **params: object) -> list[tuple[Any, ...]]:
    with factory() as session:
        return [tuple(row) for row in session.execute(text(query), params).all()]


def settled(factory: sessionmaker[Session]) -> bool:
    """Every order completed and every SMS sent."""
    try:
        return rows(
            factory,
            "SELECT (SELECT count(*) FROM orders WHERE state <> 'completed')"
            " + (SELECT count(*) FROM notifications WHERE state = 'queued')",
        ) == [(0,)]
    except Exception:  # the database is still coming back
        return False


def unsettled(factory: sessionmaker[Session]) -> str:
    """What is still moving, for a failure message: unfinished orders with their payment and
    provisioning, queued SMS, and every job that has not succeeded."""
    queries = {
        "orders": """
            SELECT o.id, o.state::text, p.state::text, v.state::text, v.next_check_at, v.next_job_id
            FROM orders o LEFT JOIN payments p ON p.order_id = o.id
            LEFT JOIN provisionings v ON v.order_id = o.id
            WHERE o.state <> 'completed' ORDER BY o.id""",
        "queued sms": "SELECT id, dedupe_key, error FROM notifications WHERE state = 'queued'",
        "jobs": """
            SELECT id, task_name, status::text, attempts, scheduled_at, lock, queueing_lock,
                   worker_id, args
            FROM procrastinate_jobs WHERE status <> 'succeeded' ORDER BY id""",
        "workers": "SELECT id, last_heartbeat FROM procrastinate_workers",
        "now": "SELECT now()",
    }
    try:
        return "\n".join(f"{name}: {rows(factory, query)}" for name, query in queries.items())
    except Exception as error:  # the database is not there to ask
        return f"(no diagnosis: {error})"


def assert_each_completed_once(
    factory: sessionmaker[Session], order_ids: list[int], applications: dict[str, int]
) -> None:
    """One payment (succeeded), one bundle, one confirmation SMS, one receipt per order; the
    carrier applied each once; no refund, no ticket; the ledger reconciles."""
    assert applications == {f"order-{order_id}": 1 for order_id in order_ids}
    per_order = rows(
        factory,
        """
        SELECT o.id, o.state::text,
               (SELECT count(*) FROM payments p WHERE p.order_id = o.id),
               (SELECT count(*) FROM payments p WHERE p.order_id = o.id AND p.state = 'succeeded'),
               (SELECT count(*) FROM bundles b WHERE b.order_id = o.id),
               (SELECT count(*) FROM notifications n
                 WHERE n.dedupe_key = 'order:' || o.id || :confirmed),
               (SELECT count(*) FROM receipts r WHERE r.order_id = o.id)
        FROM orders o ORDER BY o.id
        """,
        confirmed=":confirmed",
    )
    assert per_order == [(order_id, "completed", 1, 1, 1, 1, 1) for order_id in sorted(order_ids)]
    assert rows(factory, "SELECT count(*) FROM refunds") == [(0,)]
    assert rows(factory, "SELECT count(*) FROM tickets") == [(0,)]
    with factory() as session:
        assert ledger_service.reconcile(session) == []
