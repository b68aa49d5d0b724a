"""The back-office reports over a year of data for 100,000 cards, against each report's own
statement run bare in the same run.

    .venv/bin/python -m bench.reports                       # 100,000 cards, 3 runs
    .venv/bin/python -m bench.reports --cards 20000 --runs 5
    .venv/bin/python -m bench.reports --url postgresql://…/seeded --explain   # no re-seeding

Seeds a fresh, uniquely named database (``DATABASE_URL``'s server, or the embedded one;
dropped afterwards) set-based with generate_series: per card twelve orders a month apart
over the year to 2026-11-30 (renewals of three plans and wallet top-ups, all five channels,
KZT/CNY/USD, 2 % declined, 2 % unpaid, 1 % failed in provisioning, 2 % refunded, store
orders as counter sales at five stores, one order in nine with a promotion), their payments,
order events (placed, and the move into the final state with its reason), refunds (whole
for refunded orders, half for 1 % of completed ones), a bundle per completed renewal with the
validity end it replaced, and three SMS per order (two reminders before it, a confirmation
after; delivered, failed, sent or queued) — about 1.2 M orders and 3.6 M notifications.

Then the days are settled as the periodic job settles them (``reports.settle``, its time
printed apart: it is not page time), and late writes land on settled days (``--late`` a
month: a refund on a completed order, a delivery report, a promotion released, a reminder
recorded sent; each marks its day dirty, read live until settled again).

Then, for the whole year and for the last 30 days, each report's page and its CSV are
fetched as a signed-in admin from the real app (in process: routing, staff session, the
service's statement, the template, the SVG chart), ``--runs`` times; the page's statement
is executed bare through the same engine (no JIT, as the reports run it), and so is the
report's live statement (every day read from the tables, no rollups: what the report cost
before them). Prints min–max per report, the ratio of the page's best time to the live
statement's, and whether the slowest page stays under 1 s; then settles the dirty days
again (timed). Seeding takes 5–10 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import Engine, TextClause, text
from sqlalchemy.orm import Session

from bench.harness import point_settings_at, scratch_database
from tulpar import clock, db
from tulpar.config import get_settings
from tulpar.migrations_runner import upgrade
from tulpar.reports import failures, promotions, renewals, revenue, sms, tasks
from tulpar.reports.period import Period
from tulpar.reports.statement import execute, period_values

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 11:00 local, the day after the year
YEAR = Period(date(2025, 12, 1), date(2026, 11, 30))
MONTH = Period(date(2026, 11, 1), date(2026, 11, 30))
BUDGET_SECONDS = 1.0
ORDERS_PER_CARD = 12

_CARDS = text(
    """
    INSERT INTO cards (id, iccid, msisdn, language, state, state_changed_at)
    OVERRIDING SYSTEM VALUE
    SELECT i, '89997' || lpad(i::text, 14, '0'), '+7700' || lpad(i::text, 7, '0'),
           (ARRAY['zh-Hans', 'ru', 'kk', 'en'])[1 + i % 4], 'active', :now
    FROM generate_series(1, :cards) AS i
    """
)

# Order id = (card - 1) * 12 + cycle + 1, and its payment has the order's id, so the rows
# that refer to each other are written without looking each other up. ``h`` picks the fate.
_ORDERS = text(
    """
    INSERT INTO orders (id, card_id, kind, plan_id, channel, state, amount_minor, currency,
                        payment_provider, promotion_id, list_amount_minor, discount_minor,
                        bonus_data_bytes, bonus_days, placed_by, paid_payment_id,
                        payable_until, state_changed_at, created_at)
    OVERRIDING SYSTEM VALUE
    SELECT id, card_id, kind, plan_id, channel, state, amount_minor - discount, currency,
           CASE WHEN channel = 'store' THEN 'cash' ELSE 'sandbox' END,
           promotion_id, CASE WHEN promotion_id IS NOT NULL THEN amount_minor END, discount,
           CASE WHEN promotion_id = (CAST(:promotions AS bigint[]))[4] THEN 1073741824 ELSE 0 END,
           CASE WHEN promotion_id = (CAST(:promotions AS bigint[]))[4] THEN 2 ELSE 0 END,
           'bench',
           CASE WHEN state IN ('completed', 'refunded', 'provisioning_failed', 'paid')
                THEN id END,
           created_at + interval '30 minutes', created_at + interval '5 minutes', created_at
    FROM (
        SELECT o.*,
               CASE WHEN o.promotion_id IS NULL THEN 0
                    WHEN o.promotion_id = (CAST(:promotions AS bigint[]))[4] THEN 0
                    ELSE o.amount_minor / 10 END AS discount
        FROM (
            SELECT s.*,
                   CASE WHEN kind = 'plan_renewal' AND (card_id + cycle) % 9 = 0
                        THEN (CAST(:promotions AS bigint[]))[1 + card_id % 4] END AS promotion_id,
                   (CASE WHEN plan_id IS NULL THEN 200000
                         ELSE 150000 * (1 + (card_id + cycle) % 3) END)
                   / CASE currency WHEN 'KZT' THEN 1 ELSE 100 END AS amount_minor
            FROM (
                SELECT (c.i - 1) * 12 + k.k + 1 AS id, c.i AS card_id, k.k AS cycle,
                       CASE WHEN (c.i + k.k) % 10 = 0 THEN 'wallet_topup'
                            ELSE 'plan_renewal' END AS kind,
                       CASE WHEN (c.i + k.k) % 10 = 0 THEN NULL
                            ELSE (CAST(:plans AS bigint[]))[1 + (c.i + k.k) % 3] END AS plan_id,
                       (ARRAY['web', 'ussd', 'sms', 'store', 'api'])[1 + (c.i * 3 + k.k) % 5]
                           AS channel,
                       CASE WHEN h < 2 THEN 'payment_failed'
                            WHEN h < 4 THEN 'expired'
                            WHEN h = 4 AND (c.i + k.k) % 10 <> 0 THEN 'provisioning_failed'
                            WHEN h < 7 AND h > 4 THEN 'refunded'
                            ELSE 'completed' END AS state,
                       CASE WHEN (c.i * 7 + k.k) % 20 = 0 THEN 'CNY'
                            WHEN (c.i * 7 + k.k) % 20 = 1 THEN 'USD'
                            ELSE 'KZT' END AS currency,
                       CAST(:year_opens AS timestamptz)
                           + ((c.i::bigint * 7919) % 2592000) * interval '1 second'
                           + k.k * interval '30 days' AS created_at
                FROM generate_series(1, :cards) AS c(i)
                CROSS JOIN generate_series(0, 11) AS k(k)
                CROSS JOIN LATERAL (SELECT (c.i * 31 + k.k * 17) % 100 AS h) AS fate
            ) AS s
        ) AS o
    ) AS priced
    """
)

_PAYMENTS = text(
    """
    INSERT INTO payments (id, order_id, card_id, attempt, provider, state, idempotency_key,
                          amount_minor, currency, succeeded_at, checked_at, created_at)
    OVERRIDING SYSTEM VALUE
    SELECT o.id, o.id, o.card_id, 1, o.payment_provider, 'succeeded', 'bench-' || o.id,
           o.amount_minor, o.currency, o.created_at + interval '2 minutes',
           o.created_at + interval '2 minutes', o.created_at
    FROM orders AS o WHERE o.paid_payment_id IS NOT NULL
    """
)

_EVENTS = text(
    """
    INSERT INTO order_events (order_id, card_id, from_state, to_state, actor, reason, details,
                              occurred_at)
    SELECT o.id, o.card_id, NULL, 'awaiting_payment', 'bench', 'Order placed', CAST('{}' AS jsonb),
           o.created_at
    FROM orders AS o
    UNION ALL
    SELECT o.id, o.card_id, 'awaiting_payment', o.state, 'bench',
           CASE o.state
               WHEN 'payment_failed'
                   THEN (ARRAY['card declined', 'insufficient funds',
                               '3-D Secure failed'])[1 + o.id % 3]
               WHEN 'expired'
                   THEN (ARRAY['Not paid within the payment window',
                               'cancelled by support: duplicate order'])[1 + o.id % 2]
               WHEN 'provisioning_failed'
                   THEN (ARRAY['provisioning failed: carrier timeout',
                               'provisioning failed: profile not found'])[1 + o.id % 2]
               WHEN 'refunded'
                   THEN (ARRAY['support: customer request',
                               'support: charged twice'])[1 + o.id % 2]
               ELSE 'bundle applied on the carrier (api)'
           END,
           CAST('{}' AS jsonb), o.state_changed_at
    FROM orders AS o
    """
)

_REFUNDS = text(
    """
    INSERT INTO refunds (payment_id, order_id, number, state, amount_minor, currency, reason,
                         idempotency_key, attempts, completed_at, created_at)
    SELECT o.paid_payment_id, o.id, 1, 'succeeded',
           CASE WHEN o.state = 'refunded' THEN o.amount_minor ELSE o.amount_minor / 2 END,
           o.currency, 'bench', 'bench-refund-' || o.id, 1,
           o.created_at + interval '1 day', o.created_at + interval '1 day'
    FROM orders AS o
    WHERE o.state = 'refunded' OR (o.state = 'completed' AND o.id % 100 = 7)
    """
)

_COUNTER_SALES = text(
    """
    INSERT INTO counter_sales (order_id, store_id, staff_id, method, idempotency_key,
                               business_date, created_at)
    SELECT o.id, (CAST(:stores AS bigint[]))[1 + o.card_id % 5],
           (CAST(:clerks AS bigint[]))[1 + o.card_id % 5], 'cash',
           'bench-' || o.id, (o.created_at AT TIME ZONE :zone)::date, o.created_at
    FROM orders AS o WHERE o.channel = 'store'
    """
)

_REDEMPTIONS = text(
    """
    INSERT INTO promotion_redemptions (promotion_id, order_id, card_id, state, discount_minor,
                                       created_at, released_at)
    SELECT o.promotion_id, o.id, o.card_id,
           CASE WHEN o.state = 'completed' THEN 'redeemed' ELSE 'released' END,
           o.discount_minor, o.created_at,
           CASE WHEN o.state <> 'completed' THEN o.state_changed_at END
    FROM orders AS o WHERE o.promotion_id IS NOT NULL
    """
)

# A completed renewal's bundle runs 28–32 days from its order, so the next order (30 days
# on) sometimes comes before the end and sometimes after.
_BUNDLES = text(
    """
    INSERT INTO bundles (card_id, plan_id, order_id, state, starts_at, expires_at,
                         replaced_validity_ends_at, created_at)
    SELECT card_id, plan_id, id, CASE WHEN expires_at > :now THEN 'active' ELSE 'expired' END,
           created_at, expires_at,
           lag(expires_at) OVER (PARTITION BY card_id ORDER BY created_at),
           created_at + interval '10 minutes'
    FROM (
        SELECT o.id, o.card_id, o.plan_id, o.created_at,
               o.created_at + (28 + o.id % 5) * interval '1 day' AS expires_at
        FROM orders AS o WHERE o.kind = 'plan_renewal' AND o.state = 'completed'
    ) AS applied
    """
)

_VALIDITY = text(
    """
    UPDATE cards AS c SET validity_ends_at = last.ends_at
    FROM (SELECT card_id, max(expires_at) AS ends_at FROM bundles GROUP BY card_id) AS last
    WHERE last.card_id = c.id
    """
)

_NOTIFICATIONS = text(
    """
    INSERT INTO notifications (card_id, channel, template, language, recipient, body, encoding,
                               segment_count, dedupe_key, state, provider, sent_at, created_at)
    SELECT o.card_id, 'sms', m.template, 'en', '+7700' || lpad(o.card_id::text, 7, '0'),
           'bench', 'gsm7', 1 + (o.id + m.n) % 2, 'bench:' || o.id || ':' || m.n,
           s.state, CASE WHEN s.state <> 'queued' THEN s.provider END,
           CASE WHEN s.state <> 'queued' THEN o.created_at + m.offset_by END,
           o.created_at + m.offset_by
    FROM orders AS o
    CROSS JOIN (VALUES (1, 'reminder_expiry', interval '-72 hours'),
                       (2, 'reminder_expiry', interval '-24 hours'),
                       (3, 'order_confirmation', interval '3 minutes'))
        AS m(n, template, offset_by)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN (o.id * 3 + m.n) % 100 < 90 THEN 'delivered'
                    WHEN (o.id * 3 + m.n) % 100 < 95 THEN 'failed'
                    WHEN (o.id * 3 + m.n) % 100 < 98 THEN 'sent'
                    ELSE 'queued' END AS state,
               (ARRAY['smpp', 'twilio'])[1 + o.card_id % 2] AS provider
    ) AS s
    """
)

_TABLES = (
    "cards",
    "orders",
    "payments",
    "order_events",
    "refunds",
    "counter_sales",
    "promotion_redemptions",
    "bundles",
    "notifications",
)


def seed_reference_rows() -> dict[str, list[int]]:
    """Plans, stores with a clerk each, promotions and an admin, through the services."""
    from tulpar.auth import service as auth_service
    from tulpar.catalog import service as catalog_service
    from tulpar.models import Channel, DiscountKind, Promotion
    from tulpar.staff import service as staff_service
    from tulpar.store import service as store_service

    names = {"zh-Hans": "基准", "ru": "Бенч", "kk": "Бенч", "en": "Bench"}
    with db.transaction() as session:
        plans = [
            catalog_service.ensure_plan(
                session,
                catalog_service.PlanDefinition(
                    code=f"BENCH-{days}D",
                    names=names,
                    validity_days=days,
                    data_bytes=days * 1024**3,
                    voice_seconds=3600,
                    sms_count=50,
                    prices_minor={"KZT": 150000 * (n + 1), "CNY": 1500 * (n + 1)},
                    channels=tuple(Channel),
                ),
            )[0].id
            for n, days in enumerate((7, 15, 30))
        ]
        stores, clerks = [], []
        for n in range(1, 6):
            store = store_service.create_store(
                session,
                auth_service.command_line(),
                code=f"BEN-{n:02d}",
                name=f"Bench store {n}",
                city="Almaty",
                address="Abay Ave 1",
                opening_hours="09:00–21:00",
                legal_name="Tulpar Retail LLP",
                bin="123456789012",
            )
            clerk = staff_service.create_user(
                session,
                auth_service.command_line(),
                username=f"bench-clerk-{n}",
                password="bench-password-long-enough",
                role="clerk",
                store_id=store.id,
            )
            stores.append(store.id)
            clerks.append(clerk.id)
        promotion_rows = [
            Promotion(
                code=f"BENCH{n}", names=names, effect_kind=DiscountKind.percent, effect_value=10
            )
            for n in range(1, 4)
        ]
        promotion_rows.append(
            Promotion(
                code=None, automatic=True, names=names, bonus_data_bytes=1024**3, bonus_days=2
            )
        )
        session.add_all(promotion_rows)
        session.flush()
        staff_service.create_user(
            session,
            auth_service.command_line(),
            username="bench-admin",
            password="bench-password-long-enough",
            role="admin",
        )
        return {
            "plans": plans,
            "stores": stores,
            "clerks": clerks,
            "promotions": [promotion.id for promotion in promotion_rows],
        }


def seed(engine: Engine, cards: int) -> None:
    ids = seed_reference_rows()
    values: dict[str, Any] = {
        "cards": cards,
        "now": NOW,
        "year_opens": YEAR.starts_at,
        "zone": get_settings().local_timezone,
        **ids,
    }
    for name, statement in (
        ("cards", _CARDS),
        ("orders", _ORDERS),
        ("payments", _PAYMENTS),
        ("order events", _EVENTS),
        ("refunds", _REFUNDS),
        ("counter sales", _COUNTER_SALES),
        ("promotion redemptions", _REDEMPTIONS),
        ("bundles", _BUNDLES),
        ("card validity", _VALIDITY),
        ("notifications", _NOTIFICATIONS),
    ):
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(statement, values)
        print(f"  {name:<22} {time.perf_counter() - started:6.1f} s")
    with engine.begin() as connection:
        for table in _TABLES:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        for table in _TABLES:
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            print(f"  {table:<22} {count:>12,} rows")


def sign_in_admin() -> str:
    from tulpar.staff import service as staff_service

    with db.transaction() as session:
        result = staff_service.sign_in(session, "bench-admin", "bench-password-long-enough")
        assert result.token is not None
        current = staff_service.signed_in(session, result.token)
        assert current is not None
        if not current.complete:
            assert current.user.totp_secret is not None
            code = pyotp.TOTP(current.user.totp_secret).now()
            assert staff_service.second_factor(session, current, code)
        return result.token


# Late writes on settled days, ``:per_month`` of each a month of the year (the oldest not
# yet touched by an earlier run): what the dirty-day marks are for.
_LATE_WRITES = (
    text(
        """
        INSERT INTO refunds (payment_id, order_id, number, state, amount_minor, currency,
                             reason, idempotency_key, attempts, completed_at)
        SELECT o.paid_payment_id, o.id, 2, 'succeeded', 1, o.currency, 'bench: late',
               'bench-late-refund-' || o.id, 1, :now
        FROM (
            SELECT o.*, row_number() OVER (PARTITION BY date_trunc('month', o.created_at)
                                           ORDER BY o.id) AS n
            FROM orders AS o
            WHERE o.state = 'completed' AND o.created_at < :settled_before
              AND NOT EXISTS (SELECT 1 FROM refunds AS r WHERE r.order_id = o.id)
        ) AS o
        WHERE o.n <= :per_month
        """
    ),
    text(
        """
        UPDATE notifications SET state = 'delivered', delivery_reported_at = :now
        WHERE id IN (
            SELECT id FROM (
                SELECT n.id, row_number() OVER (PARTITION BY date_trunc('month', n.created_at)
                                                ORDER BY n.id) AS k
                FROM notifications AS n
                WHERE n.state = 'sent' AND n.created_at < :settled_before
            ) AS sent WHERE k <= :per_month
        )
        """
    ),
    text(
        """
        UPDATE promotion_redemptions SET state = 'released', released_at = :now
        WHERE id IN (
            SELECT id FROM (
                SELECT r.id, row_number() OVER (PARTITION BY date_trunc('month', r.created_at)
                                                ORDER BY r.id) AS k
                FROM promotion_redemptions AS r
                WHERE r.state = 'redeemed' AND r.created_at < :settled_before
            ) AS redeemed WHERE k <= :per_month
        )
        """
    ),
    text(
        """
        UPDATE notifications SET state = 'sent', provider = 'smpp',
                                 sent_at = created_at + interval '1 minute'
        WHERE id IN (
            SELECT id FROM (
                SELECT n.id, row_number() OVER (PARTITION BY date_trunc('month', n.created_at)
                                                ORDER BY n.id) AS k
                FROM notifications AS n
                WHERE n.state = 'queued' AND n.template = 'reminder_expiry'
                  AND n.created_at < :settled_before
            ) AS queued WHERE k <= :per_month
        )
        """
    ),
)


def settle() -> None:
    started = time.perf_counter()
    with clock.frozen(NOW):
        result = tasks.settle_now()
    print(
        f"settled through {result.settled_through} in {time.perf_counter() - started:.1f} s"
        f" (not page time; dirty days recomputed: {result.dirty_days or 'none'})"
    )


def write_late(engine: Engine, per_month: int) -> None:
    values = {"now": NOW, "settled_before": YEAR.ends_at, "per_month": per_month}
    with engine.begin() as connection:
        for statement in _LATE_WRITES:
            connection.execute(statement, values)
        dirty = connection.execute(
            text(
                "SELECT report, count(DISTINCT (moment AT TIME ZONE :zone)::date) AS days "
                "FROM report_dirty_days GROUP BY report ORDER BY report"
            ),
            {"zone": get_settings().local_timezone},
        ).all()
    print(
        "late writes on settled days; dirty days now read live: "
        + ", ".join(f"{row.report} {row.days}" for row in dirty)
    )


def _params(statement: TextClause, period: Period) -> dict[str, Any]:
    values = period_values(period)
    if statement in (promotions.PROMOTION_COST, promotions.PROMOTION_COST_LIVE):
        values["language"] = "en"
    if statement in (renewals.RENEWALS, renewals.RENEWALS_LIVE):
        values.update(renewals.WINDOW_VALUES)
    return values


# Each report: its page's statement, and the same read live over every day.
REPORTS: tuple[tuple[str, TextClause, TextClause], ...] = (
    ("revenue", revenue.REVENUE, revenue.REVENUE_LIVE),
    ("renewals", renewals.RENEWALS, renewals.RENEWALS_LIVE),
    ("failures", failures.FAILURES, failures.FAILURES_LIVE),
    ("promotions", promotions.PROMOTION_COST, promotions.PROMOTION_COST_LIVE),
    ("sms", sms.SMS_BY_PROVIDER, sms.SMS_BY_PROVIDER_LIVE),
)


def _timings(runs: int, once: Callable[[], None]) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        timings.append(time.perf_counter() - started)
    return timings


def measure(engine: Engine, client: TestClient, runs: int, *, live_runs: int) -> bool:
    """Page, CSV and page statement ``runs`` times; the live statement ``live_runs`` times
    (0: not at all)."""
    within_budget = True
    print(
        f"{'report':<11}{'period':<7}{'page ms (min–max)':>20}{'CSV ms (min–max)':>19}"
        f"{'page SQL ms':>13}{'live SQL ms':>13}{'page/live':>11}  < 1 s"
    )
    for label, period in (("year", YEAR), ("month", MONTH)):
        query = f"?from={period.first_on.isoformat()}&until={period.last_on.isoformat()}"
        for name, statement, live_statement in REPORTS:

            def page(path: str = f"/backoffice/reports/{name}{query}") -> None:
                answer = client.get(path)
                assert answer.status_code == 200, answer.text[:500]

            def export(path: str = f"/backoffice/reports/{name}.csv{query}") -> None:
                answer = client.get(path)
                assert answer.status_code == 200, answer.text[:500]

            def bare(statement: TextClause = statement, period: Period = period) -> None:
                with Session(engine) as session:
                    execute(session, statement, _params(statement, period))

            def live(statement: TextClause = live_statement, period: Period = period) -> None:
                with Session(engine) as session:
                    execute(session, statement, _params(statement, period))

            page()  # the first answer compiles the templates and warms the cache
            pages = _timings(runs, page)
            csvs = _timings(runs, export)
            sql = _timings(runs, bare)
            live_sql = _timings(live_runs, live)
            slowest = max(max(pages), max(csvs))
            within_budget &= slowest < BUDGET_SECONDS
            print(
                f"{name:<11}{label:<7}"
                f"{min(pages) * 1000:>9.0f} – {max(pages) * 1000:>6.0f}"
                f"{min(csvs) * 1000:>9.0f} – {max(csvs) * 1000:>6.0f}"
                + (
                    f"{min(sql) * 1000:>13.0f}{min(live_sql) * 1000:>13.0f}"
                    f"{min(pages) / min(live_sql):>11.3f}"
                    if live_sql
                    else f"{min(sql) * 1000:>13.0f}{'':>13}{'':>11}"
                )
                + f"  {'yes' if slowest < BUDGET_SECONDS else 'NO'}"
            )
    return within_budget


def explain(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SET jit = off"))
        for name, statement, _ in REPORTS:
            plan = connection.execute(
                text("EXPLAIN (ANALYZE, BUFFERS) " + str(statement)), _params(statement, YEAR)
            ).scalars()
            print(f"EXPLAIN ANALYZE {name} (year):")
            print("\n".join("  " + line for line in plan))


def run(url: str, options: argparse.Namespace, *, seeded: bool) -> bool:
    upgrade(url)
    point_settings_at(url)
    engine = db.get_engine()
    if not seeded:
        started = time.perf_counter()
        print(f"seeding {options.cards:,} cards × {ORDERS_PER_CARD} orders over a year:")
        seed(engine, options.cards)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    settle()
    token = sign_in_admin()
    if options.explain:
        explain(engine)

    from tulpar.app import create_app
    from tulpar.web.staff.session import COOKIE

    with TestClient(create_app()) as client:
        # One log line per request would drown the figures.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        client.cookies.set(COOKIE, token)
        print("every day settled and clean:")
        within_budget = measure(engine, client, options.runs, live_runs=options.runs)
        if options.late:
            write_late(engine, options.late)
            measure(engine, client, options.runs, live_runs=0)
    if options.late:
        settle()
    engine.dispose()
    return within_budget


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--url", help="an already seeded database to measure (neither seeded nor dropped)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print each statement's plan over the year"
    )
    parser.add_argument(
        "--late", type=int, default=1, help="late writes of each kind per month (dirty days)"
    )
    options = parser.parse_args()

    if options.url:
        within_budget = run(options.url, options, seeded=True)
    else:
        with scratch_database("tulpar_bench_reports") as url:
            within_budget = run(url, options, seeded=False)
    print("every report under 1 s: " + ("yes" if within_budget else "NO"))


if __name__ == "__main__":
    main()
