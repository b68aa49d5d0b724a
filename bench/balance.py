"""Balance reads under concurrency, against a no-database endpoint in the same run.

    .venv/bin/python -m bench.balance                                  # 10, 50, 200 connections
    .venv/bin/python -m bench.balance --connections 50 --seconds 10 --rounds 3

Seeds a fresh, uniquely named database (on ``DATABASE_URL``'s server, or the embedded one;
dropped afterwards) with cards in many states: active, expired, exhausted with overage,
unlimited data, a renewal queued, usage rated, money in the wallet. Then, for each number of
connections, starts the real app (``tulpar.app:create_app``) with uvicorn on loopback in its
own process, and loads it from an asyncio httpx client for a fixed time:

- **baseline**: ``GET /healthz``, which touches no database;
- **balance**: ``GET /v1/cards/{card}/balance`` with a partner key, a random seeded card (by
  ICCID, one in five by phone number).

Prints, per phase: answers per second (200s), p50/p99/max latency, answers by status and the
requests left unanswered when the phase ended (cancelled after a grace period), 503s without
``Retry-After``, server CPU per request (from ``/proc``), and the balance/baseline ratio.
Bounded: a phase starts no request after ``--seconds`` and cancels what is still in flight
``--grace`` seconds later; the server is stopped after each connection count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy.orm import Session

from bench.harness import cpu_seconds, free_port, point_settings_at, scratch_database
from tulpar import clock, db
from tulpar.migrations_runner import upgrade


def seed(cards: int) -> tuple[list[str], str]:
    """Cards in varied states through the services. Returns (references, partner key)."""
    from tulpar.bundle import service as bundle_service
    from tulpar.card import service as card_service
    from tulpar.catalog import service as catalog_service
    from tulpar.identifiers import Iccid, Msisdn, luhn_check_digit
    from tulpar.models import Channel, LedgerCause, Plan, RenewalPolicy, UsageKind
    from tulpar.money import Money
    from tulpar.partner import service as partner_service
    from tulpar.rating import service as rating_service
    from tulpar.wallet import service as wallet_service

    def plan(session: Session, code: str, data_bytes: int | None, policy: RenewalPolicy) -> Plan:
        definition = catalog_service.PlanDefinition(
            code=code,
            names={"zh-Hans": "基准", "ru": "Бенч", "kk": "Бенч", "en": "Bench"},
            validity_days=7,
            data_bytes=data_bytes,
            voice_seconds=3600,
            sms_count=50,
            prices_minor={"KZT": 3_500_00},
            channels=(Channel.api,),
            renewal_policy=policy,
        )
        return catalog_service.ensure_plan(session, definition)[0]

    references: list[str] = []
    records: list[rating_service.UsageToRate] = []
    now = clock.now()
    with db.transaction() as session:
        # The partner sold every seeded card: a partner reads and renews only its own cards.
        partner, key = partner_service.create_key(session, "Bench partner", scopes=["partner"])
        weekly = plan(session, "BENCH-7D", 5 * 1024**3, RenewalPolicy.extend)
        queued = plan(session, "BENCH-7D-Q", 5 * 1024**3, RenewalPolicy.queue)
        unlimited = plan(session, "BENCH-7D-U", None, RenewalPolicy.extend)
        for extra in range(12):  # a catalog of a realistic size
            plan(session, f"BENCH-OLD-{extra}", (extra + 1) * 1024**3, RenewalPolicy.extend)
        for serial in range(cards):
            payload = f"8999701{serial + 1:011d}"
            card = card_service.register(
                session,
                card_service.NewCard(
                    iccid=Iccid.parse(payload + luhn_check_digit(payload)),
                    msisdn=Msisdn.parse(f"+7701{serial + 1:07d}"),
                ),
                partner_id=partner.id,
            )
            kind = serial % 10
            days_ago = 9 if kind == 0 else serial % 6  # kind 0: expired, not yet swept
            with clock.frozen(now - timedelta(days=days_ago, hours=1)):
                bundle_service.apply_plan(
                    session,
                    card,
                    unlimited if kind == 1 else weekly,
                    cause=LedgerCause.manual_credit,
                    actor="bench",
                    reason="seed",
                )
            if kind in (2, 3):
                bundle_service.apply_plan(
                    session, card, queued, cause=LedgerCause.manual_credit, actor="bench"
                )
            if kind == 5:
                wallet_service.move(
                    session,
                    card_id=card.id,
                    amount=Money(1_000_00, "KZT"),
                    cause=LedgerCause.manual_credit,
                    actor="bench",
                )
            if kind in (2, 4, 6, 8):
                quantity = 6 * 1024**3 if kind == 4 else 10 * 1024**2  # kind 4: into overage
                records.append(
                    rating_service.UsageToRate(
                        "bench", f"r{serial}", card.id, UsageKind.data, quantity, now
                    )
                )
            references.append(card.msisdn or card.iccid if serial % 5 == 3 else card.iccid)
        session.flush()
        rating_service.rate(session, records)
    db.get_engine().dispose()
    return references, key


@dataclass
class Server:
    pid: int
    log: Path

    def errors(self) -> Counter[str]:
        """Failures the server logged: tracebacks of requests, and pool timeouts among them."""
        text = self.log.read_text(errors="replace")
        return Counter(
            {
                "tracebacks": text.count("Exception in ASGI application"),
                "pool timeouts": text.count("QueuePool limit"),
            }
        )


@contextmanager
def server(url: str, port: int) -> Iterator[Server]:
    """The real app under uvicorn in its own process (no access log)."""
    log = Path(tempfile.mkstemp(prefix="bench-balance-", suffix=".log")[1])
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tulpar.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 180  # a shared machine can be very slow
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Server(child.pid, log)
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
    connections: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    answered_in_time: int = 0
    ok_in_time: int = 0
    unanswered: int = 0
    shed_without_retry_after: int = 0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0

    @property
    def ok_per_second(self) -> float:
        return self.ok_in_time / self.seconds

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def cpu_ms_per_request(self) -> float:
        answered = len(self.latencies)
        return 1000 * self.server_cpu_seconds / answered if answered else float("nan")


async def load(
    phase: Phase, base: str, path_of: Callable[[], str], headers: dict[str, str], grace: float
) -> None:
    # One client per connection: httpx's pool does work in the number of connections for
    # every request, which made one shared client of 200 connections the bottleneck.
    tls = ssl.create_default_context()  # unused on http://, but built once instead of 200 times
    clients = [
        httpx.AsyncClient(
            base_url=base, headers=headers, verify=tls, timeout=phase.seconds + grace + 5
        )
        for _ in range(phase.connections)
    ]
    in_flight = 0
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + phase.seconds

    async def one_connection(client: httpx.AsyncClient) -> None:
        nonlocal in_flight
        while loop.time() < stop_at:
            sent = loop.time()
            in_flight += 1
            try:
                response = await client.get(path_of())
                label = str(response.status_code)
                if response.status_code == 503 and "retry-after" not in response.headers:
                    phase.shed_without_retry_after += 1
            except httpx.HTTPError as error:
                label = type(error).__name__
            finally:
                in_flight -= 1
            answered = loop.time()
            phase.latencies.append(answered - sent)
            phase.statuses[label] += 1
            if answered <= stop_at:
                phase.answered_in_time += 1
                phase.ok_in_time += label == "200"

    tasks = [asyncio.create_task(one_connection(client)) for client in clients]
    _, pending = await asyncio.wait(tasks, timeout=phase.seconds + grace)
    phase.unanswered = in_flight
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.gather(*(client.aclose() for client in clients))


def run_phase(
    pid: int,
    phase: Phase,
    base: str,
    path_of: Callable[[], str],
    headers: dict[str, str],
    grace: float,
) -> Phase:
    server_before, client_before = cpu_seconds(pid), time.process_time()
    asyncio.run(load(phase, base, path_of, headers, grace))
    phase.server_cpu_seconds = cpu_seconds(pid) - server_before
    phase.client_cpu_seconds = time.process_time() - client_before
    return phase


def report(phase: Phase) -> str:
    statuses = ", ".join(f"{label}: {count}" for label, count in sorted(phase.statuses.items()))
    extra = f", unanswered: {phase.unanswered}" if phase.unanswered else ""
    if phase.shed_without_retry_after:
        extra += f", 503 without Retry-After: {phase.shed_without_retry_after}"
    p50, p99 = phase.percentile(0.5) * 1000, phase.percentile(0.99) * 1000
    client_share = 100 * phase.client_cpu_seconds / (phase.seconds or 1)
    return (
        f"  {phase.name:<9} {phase.ok_per_second:8.1f} ok/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
        f"  max {max(phase.latencies, default=0):6.2f} s"
        f"  server CPU {phase.cpu_ms_per_request:5.2f} ms/req  client CPU {client_share:4.0f} %"
        f"  [{statuses}{extra}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[10, 50, 200], help="one phase pair each"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--grace", type=float, default=5.0, help="then in-flight is cancelled")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1, help="repeat every connection count")
    options = parser.parse_args()

    with scratch_database("tulpar_bench_balance") as url:
        upgrade(url)
        # The benchmark's one client reads each card far more often than a real caller: the
        # per-card limit is checked on every read (its cost is measured) but never reached.
        point_settings_at(url, rate_limit_card_per_minute="1000000000")
        started = time.perf_counter()
        references, key = seed(options.cards)
        print(f"{options.cards} cards seeded in {time.perf_counter() - started:.1f} s")
        overrides = {
            name: value
            for name, value in sorted(os.environ.items())
            if name.startswith(("TULPAR_DB_", "TULPAR_WEB_"))
        }
        print(f"settings from the environment: {overrides or 'none (defaults)'}")
        headers = {"Authorization": f"Bearer {key}"}
        chooser = random.Random(7)

        def balance_path() -> str:
            return f"/v1/cards/{quote(chooser.choice(references), safe='')}/balance"

        ratios: dict[int, list[float]] = {count: [] for count in options.connections}
        for round_number in range(1, options.rounds + 1):
            for connections in options.connections:
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                with server(url, port) as running:
                    pid = running.pid
                    warm = Phase("warm-up", 10, options.warmup)
                    run_phase(pid, warm, base, balance_path, headers, options.grace)
                    baseline = run_phase(
                        pid,
                        Phase("/healthz", connections, options.seconds),
                        base,
                        lambda: "/healthz",
                        headers,
                        options.grace,
                    )
                    balance = run_phase(
                        pid,
                        Phase("balance", connections, options.seconds),
                        base,
                        balance_path,
                        headers,
                        options.grace,
                    )
                    logged = running.errors()
                ratio = balance.ok_per_second / baseline.ok_per_second
                ratios[connections].append(ratio)
                print(f"round {round_number}, {connections} connections, {options.seconds:g} s:")
                print(report(baseline))
                print(report(balance))
                print(
                    f"  ratio balance/healthz: {ratio:.2f}; server log: {logged['tracebacks']}"
                    f" request tracebacks, {logged['pool timeouts']} of them pool timeouts",
                    flush=True,
                )
        if options.rounds > 1:
            for connections, values in ratios.items():
                print(
                    f"{connections} connections: ratio min {min(values):.2f}"
                    f" median {statistics.median(values):.2f} max {max(values):.2f}"
                )


if __name__ == "__main__":
    main()
