"""The reminder scheduler's pass against the bare indexed query, measured in the same run.

    python -m bench.reminders                 # 1,000,000 cards
    python -m bench.reminders --cards 200000 --runs 7

Seeds ``--cards`` cards with generate_series in a fresh, uniquely named scratch database
(dropped afterwards; ``DATABASE_URL`` or the embedded server): validity ends spread over
the 30 days around a fixed daytime moment, 90 % active, 10 % expired, 5 % opted out. Then:

- **sending pass**: ``reminder.service.run_pass`` on the day's backlog (up to one batch per
  kind queued, rendered and deferred), rolled back after each run so every run sends;
- **steady pass**: the same pass once everything due was queued (the every-minute case);
- **bare query**: the index range scans alone, raw SQL, same ranges and limits.

Medians of ``--runs``; EXPLAIN shows the index the pass uses.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import scratch_database
from tulpar import clock
from tulpar.db import build_engine
from tulpar.migrations_runner import upgrade
from tulpar.reminder import repository, service

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 11:00 in Kazakhstan

_SEED = text(
    """
    INSERT INTO cards (iccid, msisdn, language, state, validity_ends_at, marketing_opt_out_at)
    SELECT '89997' || lpad(i::text, 14, '0'),
           '+7700' || lpad(i::text, 7, '0'),
           (ARRAY['zh-Hans', 'ru', 'kk', 'en'])[1 + i % 4],
           CASE WHEN i % 10 = 0 THEN 'expired' ELSE 'active' END,
           CASE WHEN i % 10 = 0
                THEN CAST(:now AS timestamptz) - (i % 2592000) * interval '1 second'
                ELSE CAST(:now AS timestamptz) + (i::bigint * 7919 % 2592000) * interval '1 second'
           END,
           CASE WHEN i % 20 = 1 THEN CAST(:now AS timestamptz) END
    FROM generate_series(1, :cards) AS i
    """
)

_BARE = text(
    """
    SELECT c.id, c.validity_ends_at FROM cards AS c
    WHERE c.state = :state AND c.msisdn IS NOT NULL AND c.marketing_opt_out_at IS NULL
      AND c.validity_ends_at > :ends_after AND c.validity_ends_at <= :ends_by
    ORDER BY c.validity_ends_at, c.id
    LIMIT :limit
    """
)


def _ranges() -> list[dict[str, object]]:
    return [
        {
            "kind": kind.name,
            "state": kind.state.value,
            "ends_after": NOW - service.LOOKBACK - kind.offset(),
            "ends_by": NOW - kind.offset(),
            "limit": service.BATCH_SIZE,
        }
        for kind in service.KINDS
    ]


def _median(runs: int, once: Callable[[], None]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    with scratch_database() as url:
        upgrade(url)
        engine = build_engine(url, pool_size=2)
        factory = sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(_SEED, {"now": NOW, "cards": options.cards})
            connection.execute(text("ANALYZE cards"))
        print(f"{options.cards:,} cards seeded in {time.perf_counter() - started:.1f} s")

        def bare() -> None:
            with engine.connect() as connection:
                for values in _ranges():
                    connection.execute(_BARE, values).all()

        def sending_pass() -> None:
            with factory() as session, clock.frozen(NOW):
                service.run_pass(session, now=NOW)
                session.rollback()

        def steady_pass() -> None:
            with factory() as session, clock.frozen(NOW):
                service.run_pass(session, now=NOW)
                session.commit()

        with factory() as session:
            plan = session.execute(text("EXPLAIN " + str(repository.DUE)), _ranges()[1]).scalars()
            print("EXPLAIN (expiry_24h):")
            print("\n".join("  " + line for line in plan))
        _explain_check(factory)

        bare_sending = _median(options.runs, bare)
        sending = _median(options.runs, sending_pass)
        queued = _catch_up(factory)
        bare_steady = _median(options.runs, bare)
        steady = _median(options.runs, steady_pass)
        print(f"backlog queued once: {queued:,} reminders")
        print(f"{'':18}{'pass ms':>10}{'bare query ms':>15}{'ratio':>8}")
        for name, passed, query in (
            ("sending pass", sending, bare_sending),
            ("steady pass", steady, bare_steady),
        ):
            print(f"{name:18}{passed * 1000:>10.1f}{query * 1000:>15.1f}{passed / query:>8.1f}")
        engine.dispose()


def _explain_check(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        plan = "\n".join(
            session.execute(text("EXPLAIN " + str(repository.DUE)), _ranges()[0]).scalars()
        )
    if "ix_cards_reminder_due" not in plan:
        print("WARNING: the pass does not use ix_cards_reminder_due")


def _catch_up(factory: sessionmaker[Session]) -> int:
    """Queue the whole backlog, pass after pass, as the every-minute job would."""
    total = 0
    while True:
        with factory() as session, clock.frozen(NOW):
            result = service.run_pass(session, now=NOW)
            session.commit()
        total += sum(result.queued.values())
        if not result.batch_full:
            return total


if __name__ == "__main__":
    main()
