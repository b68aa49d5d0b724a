"""Renewal throughput and paid→completed latency, against a plain-SQL baseline in the same run.

    .tools/bin/uv run python -m bench.renewal                      # 200 renewals, 16 clients
    .tools/bin/uv run python -m bench.renewal --renewals 1000 --clients 32 --worker-concurrency 16

**Tulpar**: N renewals of N active cards through the real API — ``POST /v1/orders`` with a
partner key and an ``Idempotency-Key``, then "pay" on the sandbox's hosted page — served by
uvicorn on loopback, with a real procrastinate worker (sandbox webhook delivery and inbox,
``provisioning.apply`` against a zero-latency carrier simulator over HTTP, SMS, receipt).
Latency is paid → completed from the order events; throughput is renewals per second from
the first order placed to the last completed.

**Baseline**: the business rows that run wrote (orders, order events, payments, provisioning
and its attempts, bundles and the replaced bundles' updates, ledger entries, notifications,
receipts and their counter, the card's new validity), replayed by plain SQL into a copy of the
database taken before the run: one transaction per renewal, with as many concurrent clients.
Uses ``DATABASE_URL`` or, when unset, the embedded server; works in fresh, uniquely named
databases dropped afterwards.

**Cost per renewal**: jobs (``procrastinate_jobs``: Tulpar's own, the sandbox provider's
webhook deliveries, and the periodic ones apart) and commits (``pg_stat_database``
``xact_commit`` of Tulpar's database from before the web and workers start until they have
exited, read from another database so the probe adds none; the bench's own progress polls
are subtracted). The simulators' cost stays out of the figures: the carrier simulator is its
own process without a database, and the sandbox's deliveries are counted apart.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from bench.harness import admin_url, free_port, point_settings_at, tree_cpu_seconds
from tulpar import db
from tulpar.migrations_runner import upgrade

# Tables of one renewal, in foreign-key order, and how a row is tied to its order.
RENEWAL_TABLES = [
    "orders",
    "payments",
    "order_events",
    "provisionings",
    "provisioning_attempts",
    "bundles",
    "ledger_entries",
    "notifications",
    "receipts",
]


@contextmanager
def scratch_databases() -> Iterator[tuple[str, str]]:
    """(Tulpar's database, the baseline's); the second is created later as a copy."""
    admin = admin_url()
    names = [f"tulpar_bench_renewal_{uuid.uuid4().hex[:8]}", ""]
    names[1] = names[0] + "_baseline"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{names[0]}"')
    try:
        yield tuple(  # type: ignore[misc]
            make_url(admin).set(database=name).render_as_string(hide_password=False)
            for name in names
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            for name in names:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_database(source_url: str, target_url: str) -> None:
    admin = admin_url()
    source, target = make_url(source_url).database, make_url(target_url).database
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


def seed(renewals: int) -> tuple[list[str], str, str]:
    """N active cards, one renewable plan, a partner key. Returns (ICCIDs, plan code, key)."""
    from tulpar.bundle import service as bundle_service
    from tulpar.card import service as card_service
    from tulpar.catalog import service as catalog_service
    from tulpar.identifiers import Iccid, Msisdn, luhn_check_digit
    from tulpar.models import Channel, LedgerCause
    from tulpar.partner import service as partner_service

    iccids = []
    with db.transaction() as session:
        # The partner sold every seeded card: a partner reads and renews only its own cards.
        partner, key = partner_service.create_key(session, "Bench partner", scopes=["partner"])
        plan, _ = catalog_service.ensure_plan(
            session,
            catalog_service.PlanDefinition(
                code="BENCH-7D",
                names={"zh-Hans": "基准", "ru": "Бенч", "kk": "Бенч", "en": "Bench"},
                validity_days=7,
                data_bytes=5 * 1024**3,
                voice_seconds=3600,
                sms_count=50,
                prices_minor={"KZT": 3_500_00},
                channels=(Channel.api,),
            ),
        )
        for serial in range(renewals):
            payload = f"8999701{serial + 1:011d}"
            card = card_service.register(
                session,
                card_service.NewCard(
                    iccid=Iccid.parse(payload + luhn_check_digit(payload)),
                    msisdn=Msisdn.parse(f"+7701{serial + 1:07d}"),
                ),
                partner_id=partner.id,
            )
            bundle_service.apply_plan(
                session, card, plan, cause=LedgerCause.manual_credit, actor="bench", reason="seed"
            )
            iccids.append(card.iccid)
    db.get_engine().dispose()
    return iccids, plan.code, key


@contextmanager
def process(
    args: list[str], env: dict[str, str], *, ready_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m tulpar …`` until the block ends; waits until ``ready_url`` answers."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tulpar", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Importing the app takes seconds on a loaded machine; several processes more.
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tulpar {args[0]} did not start")
            time.sleep(0.1)
        yield child
    finally:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


@contextmanager
def workers(
    count: int, concurrency: int, env: dict[str, str]
) -> Iterator[list[subprocess.Popen[bytes]]]:
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tulpar", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield children
    finally:
        for child in children:
            child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)


def renew(client: httpx.Client, base: str, key: str, iccid: str, plan: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex}
    placed = client.post(
        f"{base}/v1/orders", headers=headers, json={"card": iccid, "plan": plan}, timeout=30
    )
    placed.raise_for_status()
    order = placed.json()
    pay_url = order["payment"]["next_action"]["url"]
    paid = client.post(pay_url, data={"decision": "pay"}, timeout=30)
    assert paid.status_code == 303, paid.text
    return int(order["id"])


def commits_so_far(url: str) -> int:
    """Committed transactions of ``url``'s database, as far as its backends have reported
    them (a backend reports on exit, and at most a second after a transaction when busy)."""
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
            (make_url(url).database,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def wait_for_workers(url: str, count: int, *, timeout: float) -> int:
    """Until ``count`` workers have registered with procrastinate; returns how many polls
    (each one committed transaction) it took."""
    deadline = time.monotonic() + timeout
    polls = 0
    with psycopg.connect(url, autocommit=True) as connection:
        while True:
            polls += 1
            row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
            if row is not None and row[0] >= count:
                return polls
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} workers did not start in {timeout} s")
            time.sleep(0.1)


def wait_until_completed(url: str, count: int, *, timeout: float) -> int:
    """Returns how many polls (each one committed transaction) it took."""
    deadline = time.monotonic() + timeout
    polls = 0
    with psycopg.connect(url, autocommit=True) as connection:
        while True:
            polls += 1
            row = connection.execute(
                "SELECT count(*) FILTER (WHERE state = 'completed'),"
                " count(*) FILTER (WHERE state NOT IN ('completed', 'awaiting_payment',"
                " 'paid', 'provisioning')) FROM orders"
            ).fetchone()
            assert row is not None
            if row[1]:
                raise RuntimeError(f"{row[1]} renewals ended in another state")
            if row[0] == count:
                return polls
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {row[0]} of {count} renewals completed in {timeout} s")
            time.sleep(0.05)


def cpu_snapshot(groups: dict[str, list[int]], url: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each group's processes (with their children), and of the
    PostgreSQL backends serving ``url``'s database (the server is on this machine)."""
    with psycopg.connect(admin_url(), autocommit=True) as connection:
        backends = [
            int(row[0])
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                (make_url(url).database,),
            ).fetchall()
        ]
    snapshot = {name: tree_cpu_seconds(pids) for name, pids in groups.items()}
    snapshot["PostgreSQL"] = tree_cpu_seconds(backends)
    return snapshot


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds each group used between two snapshots (a process born in between counts
    from zero; a backend that exited in between is missed)."""
    return {
        name: sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in pids.items())
        for name, pids in after.items()
    }


def tulpar_figures(url: str) -> tuple[float, list[float]]:
    """(renewals per second, paid→completed seconds per order) from the order events."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT order_id, to_state, occurred_at FROM order_events"
            " WHERE to_state IN ('awaiting_payment', 'paid', 'completed')"
        ).fetchall()
    moments: dict[int, dict[str, datetime]] = defaultdict(dict)
    for order_id, state, at in rows:
        moments[order_id][state] = at
    latencies = [
        (m["completed"] - m["paid"]).total_seconds() for m in moments.values() if "completed" in m
    ]
    first = min(m["awaiting_payment"] for m in moments.values())
    last = max(m["completed"] for m in moments.values())
    return len(latencies) / (last - first).total_seconds(), latencies


# The sandbox payment provider's own work (it stands for an outside system).
PROVIDER_TASKS = frozenset({"payment.deliver_sandbox_webhooks"})


def job_breakdown(url: str) -> list[tuple[str, int, float, float, bool]]:
    """Per task: jobs run, mean wait in the queue (ms), mean run time (ms), periodic."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            """
            SELECT j.task_name, count(DISTINCT j.id),
                   avg(extract(epoch FROM s.at - GREATEST(d.at, j.scheduled_at))) * 1000,
                   avg(extract(epoch FROM f.at - s.at)) * 1000,
                   bool_or(j.id IN (SELECT job_id FROM procrastinate_periodic_defers))
            FROM procrastinate_jobs j
            JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred'
            LEFT JOIN procrastinate_events s ON s.job_id = j.id AND s.type = 'started'
            LEFT JOIN procrastinate_events f ON f.job_id = j.id AND f.type = 'succeeded'
            GROUP BY j.task_name ORDER BY count(*) DESC
            """
        ).fetchall()
    return [(str(r[0]), int(r[1]), float(r[2] or 0), float(r[3] or 0), bool(r[4])) for r in rows]


def captured_rows(url: str) -> tuple[dict[int, list[tuple[str, dict[str, Any]]]], dict[str, Any]]:
    """The rows each renewal wrote (by order, in insert order) and the changed card/bundles."""
    per_order: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    with psycopg.connect(url) as connection:
        order_of_card: dict[int, int] = dict(
            connection.execute("SELECT card_id, id FROM orders").fetchall()
        )
        for table in RENEWAL_TABLES:
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [column.name for column in cursor.description or []]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                if table == "orders":
                    order_id = row["id"]
                elif "order_id" in row and row["order_id"] is not None:
                    order_id = row["order_id"]
                elif table == "notifications":
                    order_id = order_of_card[row["card_id"]]
                else:
                    continue  # seeded before the run (bundles, ledger entries)
                per_order[order_id].append((table, row))
        cards = connection.execute(
            "SELECT id, state, validity_ends_at FROM cards WHERE id IN (SELECT card_id FROM orders)"
        ).fetchall()
        replaced = connection.execute(
            "SELECT id, card_id, state, expires_at, data_bytes_remaining, voice_seconds_remaining,"
            " sms_count_remaining FROM bundles WHERE order_id IS NULL AND state = 'revoked'"
        ).fetchall()
        issuers = connection.execute("SELECT DISTINCT issuer FROM receipts").fetchall()
    return per_order, {"cards": cards, "replaced": replaced, "issuers": issuers}


def _value(value: Any) -> Any:
    # The renewal tables have no array columns: every dict or list is a JSONB value.
    return Jsonb(value) if isinstance(value, dict | list) else value


def replay_one(
    connection: psycopg.Connection[Any],
    rows: list[tuple[str, dict[str, Any]]],
    card: tuple[Any, ...],
    replaced: list[tuple[Any, ...]],
) -> float:
    started = time.perf_counter()
    with connection.transaction():
        for table, row in rows:
            if table == "receipts":
                connection.execute(
                    "INSERT INTO receipt_counters (issuer, last_number) VALUES (%s, 1)"
                    " ON CONFLICT (issuer) DO UPDATE SET last_number"
                    " = receipt_counters.last_number + 1",
                    (row["issuer"],),
                )
            columns = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            connection.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [_value(value) for value in row.values()],
            )
        for bundle in replaced:
            connection.execute(
                "UPDATE bundles SET state = %s, expires_at = %s, data_bytes_remaining = %s,"
                " voice_seconds_remaining = %s, sms_count_remaining = %s WHERE id = %s",
                (*bundle[2:], bundle[0]),
            )
        connection.execute(
            "UPDATE cards SET state = %s, validity_ends_at = %s WHERE id = %s",
            (card[1], card[2], card[0]),
        )
    return time.perf_counter() - started


def baseline(
    url: str, captured: tuple[dict[int, Any], dict[str, Any]], clients: int
) -> tuple[float, list[float]]:
    per_order, extra = captured
    cards = {card[0]: card for card in extra["cards"]}
    replaced: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for bundle in extra["replaced"]:
        replaced[bundle[1]].append(bundle)
    local = threading.local()
    connections: list[psycopg.Connection[Any]] = []

    def one(order_id: int) -> float:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(url, autocommit=True)
            connections.append(local.connection)
        rows = per_order[order_id]
        card_id = rows[0][1]["card_id"]
        return replay_one(local.connection, rows, cards[card_id], replaced[card_id])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        durations = list(pool.map(one, sorted(per_order)))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return len(durations) / elapsed, durations


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renewals", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16, help="concurrent API clients")
    parser.add_argument(
        "--web-processes", type=int, default=2, help="tulpar serve --workers (1: one process)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    options = parser.parse_args()

    with scratch_databases() as (url, baseline_url):
        upgrade(url)
        # The benchmark's one client reads each card far more often than a real caller: the
        # per-card limit is checked on every read (its cost is measured) but never reached.
        point_settings_at(url, rate_limit_card_per_minute="1000000000")
        started = time.perf_counter()
        iccids, plan, key = seed(options.renewals)
        copy_database(url, baseline_url)
        print(f"{options.renewals} active cards seeded in {time.perf_counter() - started:.1f} s")

        web, carrier = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TULPAR_CARRIER_URL": carrier,
            "TULPAR_PUBLIC_BASE_URL": web,
            "TULPAR_SANDBOX_WEBHOOK_DELAY_SECONDS": "0",
        }
        sim_port, web_port = carrier.rsplit(":", 1)[1], web.rsplit(":", 1)[1]
        commits_before = commits_so_far(url)
        with (
            process(
                ["carrier-sim", "--port", sim_port], env, ready_url=f"{carrier}/_sim/state"
            ) as simulator,
            process(
                ["serve", "--port", web_port]
                + (["--workers", str(options.web_processes)] if options.web_processes > 1 else []),
                env,
                ready_url=f"{web}/healthz",
            ) as server,
            workers(options.workers, options.worker_concurrency, env) as worker_processes,
        ):
            # The clock starts once every worker is taking jobs: their start-up (seconds of
            # imports on a loaded machine) is not renewal work.
            polls = wait_for_workers(url, options.workers, timeout=180)
            groups = {
                "web": [server.pid],
                "workers": [child.pid for child in worker_processes],
                "carrier simulator": [simulator.pid],
            }
            cpu_before, client_before = cpu_snapshot(groups, url), time.process_time()
            api_started = time.perf_counter()
            with ThreadPoolExecutor(options.clients) as pool, httpx.Client() as client:
                list(pool.map(lambda iccid: renew(client, web, key, iccid, plan), iccids))
            api_seconds = time.perf_counter() - api_started
            polls += wait_until_completed(url, options.renewals, timeout=options.timeout)
            all_seconds = time.perf_counter() - api_started
            cpu = cpu_used(cpu_before, cpu_snapshot(groups, url))
            cpu["bench client"] = time.process_time() - client_before
            applications = httpx.get(f"{carrier}/_sim/state").json()["applications"]
            assert len(applications) == options.renewals
            assert set(applications.values()) == {1}
        # Every backend has exited, so each reported its commits.
        commits = commits_so_far(url) - commits_before - polls

        rate, latencies = tulpar_figures(url)
        breakdown = job_breakdown(url)
        base_rate, base_durations = baseline(baseline_url, captured_rows(url), options.clients)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:7.1f} ms"

    print(
        f"Tulpar   {rate:8.1f} renewals/s   paid→completed"
        f" p50 {ms(percentile(latencies, 0.5))}   p99 {ms(percentile(latencies, 0.99))}"
        "   (API + sandbox pay + workers + carrier simulator)"
    )
    print(
        f"baseline {base_rate:8.1f} renewals/s   one transaction"
        f" p50 {ms(percentile(base_durations, 0.5))}   p99 {ms(percentile(base_durations, 0.99))}"
        "   (the same rows, plain SQL)"
    )
    print(f"ratio Tulpar/baseline throughput: {rate / base_rate:.3f}")
    print(
        f"clients placed and paid all orders in {api_seconds:.2f} s;"
        f" all completed {all_seconds:.2f} s after the first request;"
        f" mean paid→completed {ms(statistics.fmean(latencies)).strip()}"
    )
    per_renewal = options.renewals
    own = sum(jobs for task, jobs, *_, periodic in breakdown if not periodic)
    provider = sum(jobs for task, jobs, *_ in breakdown if task in PROVIDER_TASKS)
    print(
        f"per renewal: {(own - provider) / per_renewal:.2f} Tulpar jobs"
        f" + {provider / per_renewal:.2f} sandbox deliveries;"
        f" {commits / per_renewal:.1f} commits (web + workers, start to stop)"
    )
    print(
        "CPU per renewal: "
        + ", ".join(
            f"{name} {seconds * 1000 / per_renewal:.1f} ms" for name, seconds in cpu.items()
        )
        + f" ({os.cpu_count()} cores here; the sandbox's deliveries run in the workers)"
    )
    for task, jobs, waited, ran, periodic in breakdown:
        kind = "periodic" if periodic else "sandbox" if task in PROVIDER_TASKS else ""
        print(
            f"  job {task:<36} {jobs:6} runs   queued {ms(waited / 1000)}"
            f"   ran {ms(ran / 1000)}   {kind}"
        )


if __name__ == "__main__":
    main()
