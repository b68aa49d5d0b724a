"""``*100#`` under load, against the bare balance query in the same run.

    .venv/bin/python -m bench.ussd                         # 50 sessions, 10 s per phase
    .venv/bin/python -m bench.ussd --sessions 50 --seconds 20 --cards 2000

Seeds a fresh, uniquely named database (on ``DATABASE_URL``'s server, or the embedded one;
dropped afterwards) with active cards (a bundle, money in the wallet), starts the real app
with ``tulpar serve`` (uvicorn, one process) on loopback, then for ``--seconds`` each:

- **ussd**: ``--sessions`` concurrent gateway sessions, each dialling ``*100#`` again and
  again (``POST /v1/ussd/africastalking``, ``text`` empty, a new ``sessionId`` each time) as a
  random seeded number: card lookup, balance, the dialogue recorded, the screen rendered;
- **baseline**: the same number of concurrent connections running the bare balance query as
  raw SQL on the same database (card by number, its valid bundles' remaining allowances, its
  wallet), one statement per request, no HTTP.

Prints requests per second, p50/p99 latency and the ussd/baseline ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg

from bench.harness import free_port, scratch_database
from tulpar import db
from tulpar.config import Settings, get_settings
from tulpar.migrations_runner import upgrade

BALANCE_SQL = """
SELECT c.id, c.validity_ends_at,
       sum(b.data_bytes_remaining), sum(b.voice_seconds_remaining), sum(b.sms_count_remaining),
       (SELECT w.balance_minor FROM wallets w WHERE w.card_id = c.id)
FROM cards c
LEFT JOIN bundles b ON b.card_id = c.id AND b.state = 'active'
     AND b.starts_at <= now() AND b.expires_at > now()
WHERE c.msisdn = %s
GROUP BY c.id
"""


def seed(url: str, cards: int) -> list[str]:
    """Active cards on one plan with money in the wallet; returns their numbers."""
    from tulpar.bundle import service as bundle_service
    from tulpar.card import service as card_service
    from tulpar.catalog import service as catalog_service
    from tulpar.identifiers import Iccid, Msisdn, luhn_check_digit
    from tulpar.models import Channel, LedgerCause
    from tulpar.money import Money
    from tulpar.wallet import service as wallet_service

    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()
    upgrade(url)
    numbers = []
    with db.transaction() as session:
        plan, _ = catalog_service.ensure_plan(
            session,
            catalog_service.PlanDefinition(
                code="BENCH-15D",
                names={"zh-Hans": "基准 15天", "ru": "Бенч 15 дней", "kk": "Бенч", "en": "Bench"},
                validity_days=15,
                data_bytes=10 * 1024**3,
                voice_seconds=3600,
                sms_count=50,
                prices_minor={"KZT": 5_900_00},
                channels=(Channel.ussd,),
            ),
        )
        for serial in range(1, cards + 1):
            payload = f"8999701{serial:011d}"
            card = card_service.register(
                session,
                card_service.NewCard(
                    iccid=Iccid.parse(payload + luhn_check_digit(payload)),
                    msisdn=Msisdn.parse(f"+7701{serial:07d}"),
                    language=("zh-Hans", "ru", "kk", "en")[serial % 4],
                ),
            )
            bundle_service.apply_plan(
                session, card, plan, cause=LedgerCause.manual_credit, actor="bench", reason="seed"
            )
            wallet_service.move(
                session,
                card_id=card.id,
                amount=Money(serial * 100, "KZT"),
                cause=LedgerCause.manual_credit,
                actor="bench",
                reason="seed",
            )
            numbers.append(f"+7701{serial:07d}")
    db.get_engine().dispose()
    return numbers


@contextmanager
def server(url: str, port: int) -> Iterator[str]:
    env = {**os.environ, "DATABASE_URL": url, "TULPAR_ENVIRONMENT": "test"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tulpar", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tulpar serve did not start")
            time.sleep(0.1)
        yield base
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


async def load(
    workers: int, seconds: float, request: Callable[[int], Awaitable[bool]]
) -> tuple[list[float], int]:
    """Run ``request(worker)`` in ``workers`` concurrent loops for ``seconds``; returns the
    latencies of the answers that were right, and how many were not."""
    latencies: list[float] = []
    failures = 0
    stop_at = time.perf_counter() + seconds

    async def loop(worker: int) -> None:
        nonlocal failures
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            if await request(worker):
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    await asyncio.gather(*(loop(worker) for worker in range(workers)))
    return latencies, failures


async def ussd_phase(base: str, numbers: list[str], sessions: int, seconds: float) -> Phase:
    limits = httpx.Limits(max_connections=sessions, max_keepalive_connections=sessions)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=15) as client:

        async def dial(worker: int) -> bool:
            answer = await client.post(
                "/v1/ussd/africastalking",
                data={
                    "sessionId": f"bench-{worker}-{uuid.uuid4().hex}",
                    "serviceCode": "*100#",
                    "phoneNumber": random.choice(numbers),
                    "networkCode": "40101",
                    "text": "",
                },
            )
            return answer.status_code == 200 and answer.text.startswith("CON ")

        await load(sessions, 1.0, dial)  # warm-up: connections, caches
        latencies, failures = await load(sessions, seconds, dial)
    return Phase("ussd *100#", latencies, failures, seconds)


async def baseline_phase(url: str, numbers: list[str], sessions: int, seconds: float) -> Phase:
    connections = [
        await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(sessions)
    ]
    try:

        async def query(worker: int) -> bool:
            cursor = await connections[worker].execute(BALANCE_SQL, (random.choice(numbers),))
            return await cursor.fetchone() is not None

        await load(sessions, 1.0, query)
        latencies, failures = await load(sessions, seconds, query)
    finally:
        for connection in connections:
            await connection.close()
    return Phase("baseline SQL", latencies, failures, seconds)


class Phase:
    def __init__(self, name: str, latencies: list[float], failures: int, seconds: float):
        self.name, self.latencies, self.failures, self.seconds = name, latencies, failures, seconds

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<14} {self.rate:9.1f} req/s   p50 {self.percentile(0.50):7.2f} ms"
            f"   p99 {self.percentile(0.99):7.2f} ms   mean"
            f" {statistics.fmean(self.latencies) * 1000:7.2f} ms   failed {self.failures}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cards", type=int, default=1000)
    options = parser.parse_args()
    with scratch_database("tulpar_bench_ussd") as url:
        numbers = seed(url, options.cards)
        plain = db.libpq_url(Settings(database_url=url))
        with server(url, free_port()) as base:
            ussd = asyncio.run(ussd_phase(base, numbers, options.sessions, options.seconds))
        baseline = asyncio.run(baseline_phase(plain, numbers, options.sessions, options.seconds))
    print(
        f"{options.sessions} concurrent sessions, {options.seconds:g} s each, {options.cards} cards"
    )
    print(ussd.line())
    print(baseline.line())
    print(
        f"ussd / baseline: {ussd.rate / baseline.rate:.3f} of the rate,"
        f" p50 x{ussd.percentile(0.5) / baseline.percentile(0.5):.1f}"
    )


if __name__ == "__main__":
    main()
