"""Traveller pages under 20 concurrent clients, against the JSON balance endpoint in the
same run.

    .venv/bin/python -m bench.pages                      # 20 clients, 8 s per page
    .venv/bin/python -m bench.pages --clients 20 --seconds 15 --cards 300

Seeds a fresh, uniquely named database (on ``DATABASE_URL``'s server, or the embedded one;
dropped afterwards): web plans, cards with a bundle part used, an open order, a receipt and a
support request each, and a traveller session per card (a real SMS code verified). Starts the
real app with uvicorn on loopback in its own process, then loads one path at a time for a
fixed time, each request as a random card's traveller (its session cookie):

- **baseline**: ``GET /v1/cards/{iccid}/balance`` with the same traveller's token (JSON);
- each page: start, my card, plans (with a quote per plan), order summary, order status,
  its live fragment, receipts, help.

Prints per path: answers per second, p50/p99 latency, server CPU per request (``/proc``) and
the page's p50 and CPU as a ratio to the balance endpoint's. Bounded: a phase sends no request
after ``--seconds`` and cancels what is in flight ``--grace`` seconds later."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.harness import cpu_seconds, free_port, scratch_database
from tulpar import clock, db
from tulpar.config import get_settings
from tulpar.migrations_runner import upgrade

PLAN_CODES = ("BENCH-7D", "BENCH-15D", "BENCH-30D", "BENCH-30D-UNL")


@dataclass(frozen=True, slots=True)
class Traveller:
    iccid: str
    token: str
    order_id: int


def seed(cards: int) -> list[Traveller]:
    """Cards with history, through the services, and a verified session for each."""
    from tulpar.auth import service as auth_service
    from tulpar.bundle import service as bundle_service
    from tulpar.bundle.allowances import DATA
    from tulpar.card import service as card_service
    from tulpar.catalog import service as catalog_service
    from tulpar.fulfilment import checkout
    from tulpar.identifiers import Iccid, Msisdn, luhn_check_digit
    from tulpar.models import Channel, LedgerCause, Notification, OrderKind, PaymentProviderName
    from tulpar.order.checkout import OrderRequest
    from tulpar.otp import service as otp_service
    from tulpar.receipt import service as receipt_service
    from tulpar.support import service as support_service

    travellers: list[Traveller] = []
    with db.transaction() as session:
        plans = [
            catalog_service.ensure_plan(
                session,
                catalog_service.PlanDefinition(
                    code=code,
                    names={"zh-Hans": "基准套餐", "ru": "Бенч", "kk": "Бенч", "en": "Bench"},
                    validity_days=days,
                    data_bytes=None if code.endswith("UNL") else days * 1024**3,
                    voice_seconds=3600,
                    sms_count=50,
                    prices_minor={"KZT": days * 500_00, "CNY": days * 7_00, "USD": days * 1_00},
                    channels=(Channel.web,),
                    rollover=True,
                ),
            )[0]
            for code, days in zip(PLAN_CODES, (7, 15, 30, 30), strict=True)
        ]
        for serial in range(cards):
            payload = f"8999701{serial + 1:011d}"
            card = card_service.register(
                session,
                card_service.NewCard(
                    iccid=Iccid.parse(payload + luhn_check_digit(payload)),
                    msisdn=Msisdn.parse(f"+7701{serial + 1:07d}"),
                ),
            )
            with clock.frozen(clock.now() - timedelta(days=serial % 6, hours=1)):
                bundle = bundle_service.apply_plan(
                    session, card, plans[0], cause=LedgerCause.manual_credit, actor="bench"
                )
            bundle_service.adjust(
                session, bundle, DATA, delta=-(serial % 5) * 2**30, cause=LedgerCause.usage,
                actor="bench", reason="seed",
            )  # fmt: skip
            caller = auth_service.traveller(card.id)
            placed = checkout.place(
                session,
                caller,
                OrderRequest(
                    card=card.iccid,
                    kind=OrderKind.plan_renewal,
                    plan=plans[1].code,
                    amount_minor=None,
                    currency="KZT",
                    payment_provider=PaymentProviderName.sandbox,
                    promo_code=None,
                ),
            )
            receipt_service.issue(
                session,
                issuer="WEB",
                card_id=card.id,
                order_id=placed.order.id,
                lines=[
                    receipt_service.ReceiptLine.for_plan(
                        plans[1].code, plans[1].names, "zh-Hans", unit_price_minor=7_500_00
                    )
                ],
                payment_method="sandbox",
                currency="KZT",
            )
            support_service.ask(session, caller, message="基准问题", order_id=placed.order.id)
            otp_service.request_code(
                session, card.iccid, client_address=f"10.{serial // 250}.{serial % 250}.1"
            )
            body = session.scalars(
                select(Notification.body).where(Notification.card_id == card.id)
            ).one()
            code = re.search(r"\b(\d{6})\b", body)
            assert code is not None
            verified = otp_service.verify(session, card.iccid, code.group(1))
            travellers.append(Traveller(card.iccid, verified.token, placed.order.id))
    db.get_engine().dispose()
    return travellers


@contextmanager
def server(url: str, port: int) -> Iterator[int]:
    """The real app under uvicorn in its own process; yields its pid."""
    log = Path(tempfile.mkstemp(prefix="bench-pages-", suffix=".log")[1])
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tulpar.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log"],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield child.pid
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
        log.unlink(missing_ok=True)


@dataclass
class Phase:
    name: str
    path: str  # {iccid} and {order} are filled in per request
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    ok_in_time: int = 0
    seconds: float = 0.0
    server_cpu_seconds: float = 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.server_cpu_seconds / max(1, len(self.latencies))


async def load(
    phase: Phase, base: str, travellers: list[Traveller], clients: int, grace: float
) -> None:
    chooser = random.Random(phase.name)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + phase.seconds
    connections = [
        httpx.AsyncClient(base_url=base, timeout=phase.seconds + grace + 5) for _ in range(clients)
    ]

    async def one(client: httpx.AsyncClient) -> None:
        while loop.time() < stop_at:
            who = chooser.choice(travellers)
            path = phase.path.format(iccid=who.iccid, order=who.order_id)
            headers = {"Accept-Language": "zh-CN"}
            if path.startswith("/v1/"):
                headers["Authorization"] = f"Bearer {who.token}"
            else:
                headers["Cookie"] = f"tulpar_session={who.token}"
            sent = loop.time()
            try:
                response = await client.get(path, headers=headers)
                label = str(response.status_code)
            except httpx.HTTPError as error:
                label = type(error).__name__
            answered = loop.time()
            phase.latencies.append(answered - sent)
            phase.statuses[label] += 1
            phase.ok_in_time += label == "200" and answered <= stop_at

    tasks = [asyncio.create_task(one(client)) for client in connections]
    _, pending = await asyncio.wait(tasks, timeout=phase.seconds + grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.gather(*(client.aclose() for client in connections))


def run(pid: int, phase: Phase, base: str, travellers: list[Traveller], clients: int) -> Phase:
    before = cpu_seconds(pid)
    asyncio.run(load(phase, base, travellers, clients, grace=5.0))
    phase.server_cpu_seconds = cpu_seconds(pid) - before
    return phase


PHASES = (
    ("balance JSON", "/v1/cards/{iccid}/balance"),
    ("start", "/"),
    ("my card", "/card"),
    ("plans", "/plans"),
    ("summary", "/plans/BENCH-7D"),
    ("order", "/orders/{order}"),
    ("progress", "/orders/{order}/progress"),
    ("receipts", "/receipts"),
    ("help", "/help"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0, help="per path")
    options = parser.parse_args()

    with scratch_database("tulpar_bench_pages") as url:
        upgrade(url)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        db.get_engine.cache_clear()
        db.get_sessionmaker.cache_clear()
        started = time.perf_counter()
        travellers = seed(options.cards)
        elapsed = time.perf_counter() - started
        print(f"{options.cards} cards with sessions seeded in {elapsed:.1f} s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with server(url, port) as pid:
            run(pid, Phase("warm-up", "/card", seconds=2.0), base, travellers, 5)
            results = [
                run(pid, Phase(name, path, seconds=options.seconds), base, travellers,
                    options.clients)
                for name, path in PHASES
            ]  # fmt: skip
    baseline = results[0]
    print(f"\n{options.clients} concurrent clients, {options.seconds:.0f} s per path")
    print(
        f"  {'path':<13} {'ok/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"
        f" {'p50 ×balance':>13} {'CPU ×balance':>13}  statuses"
    )
    for phase in results:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(phase.statuses.items()))
        p50, p99 = phase.percentile(0.5) * 1000, phase.percentile(0.99) * 1000
        print(
            f"  {phase.name:<13} {phase.ok_in_time / phase.seconds:7.1f} {p50:8.1f} {p99:8.1f}"
            f" {phase.cpu_ms:11.2f} {p50 / (baseline.percentile(0.5) * 1000):13.2f}"
            f" {phase.cpu_ms / baseline.cpu_ms:13.2f}  [{statuses}]"
        )


if __name__ == "__main__":
    main()
