"""`tulpar demo` is the main job: it must seed idempotently and serve what it prints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tulpar.demo import seed
from tulpar.models import Bundle, Card, LedgerEntry, Partner, Plan


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Card, Plan, Bundle, LedgerEntry, Partner)
    )


def test_seeding_twice_duplicates_nothing(session: Session, tmp_path: Path) -> None:
    seed.seed(session)
    first_key = seed.demo_partner_key(session, tmp_path / "key.txt")
    after_first = _counts(session)

    seed.seed(session)
    second_key = seed.demo_partner_key(session, tmp_path / "key.txt")

    assert _counts(session) == after_first
    assert first_key == second_key
    assert after_first[0] == len(seed.DEMO_CARDS)


def test_demo_cards_are_in_the_promised_states(session: Session) -> None:
    from tulpar.balance import service as balance_service
    from tulpar.card import service as card_service

    seed.seed(session)
    states = {
        demo.label: balance_service.balance_of(session, card_service.find(session, demo.iccid))
        for demo in seed.DEMO_CARDS
    }

    assert states["active"].state == "active"
    expiring = states["expiring within 24 h"]
    assert expiring.state == "active"
    assert expiring.validity_ends_at is not None
    assert states["data exhausted"].data_bytes.remaining == 0
    assert states["data exhausted"].state == "active"
    assert states["expired, in grace period"].state == "expired"
    assert states["new (no plan yet)"].state == "inventory"
    assert states["terminated (grace over)"].state == "terminated"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_refuses_a_taken_port_before_anything_else(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        # Nothing listens on port 9: a demo that got past the port check would fail on the
        # database instead, with another message.
        env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/untouched"}
        finished = subprocess.run(
            [sys.executable, "-m", "tulpar", "demo", "--port", str(port), "--data-dir", data_dir],
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert finished.stderr.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (another `tulpar demo`?);"
        " stop that or choose another port: --port N (make demo PORT=N)"
    ]
    assert "Tulpar demo is ready" not in finished.stdout
    assert "Partner API key" not in finished.stdout
    assert not data_dir.exists()


def test_the_demo_command_serves_balances(
    committed: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "TULPAR_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tulpar", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 150  # a deadline, not a wait: a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("demo did not come up in 150 s")
        key = (tmp_path / "demo-partner-key.txt").read_text().strip()
        card = seed.DEMO_CARDS[0]
        answer = httpx.get(
            f"{base}/v1/cards/{card.iccid}/balance",
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert answer.json()["state"] == "active"
        assert answer.json()["validity_ends_at"] is not None
        assert answer.json()["data_bytes"]["remaining"] > 0
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert key in output
    assert card.iccid in output
