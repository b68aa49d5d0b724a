"""Rating throughput against a raw-SQL baseline measured in the same run, on the same database.

    make bench-rating                                  # 5,000 cards × 250,000 records
    make bench-rating BENCH_ARGS="--cards 20000 --records 1000000"
    make bench-rating BENCH_ARGS="--batch-size 100 10000"  # a table row per batch size

The **engine** is the production path: ``usage.service.ingest`` on batches of raw records as
the API and the CSV importer pass them (validation, card lookup by ICCID, dedupe, insert,
locks, set-based rating, ledger, overage, thresholds + jobs, barring), one transaction per
batch. The **baseline** is the least a database must do with the same batches: insert the
records with their uniqueness check and subtract from one allowance row per card, locked in
sorted order — with card ids and times already parsed. Batches of both run interleaved so
both see the same machine state. Uses ``DATABASE_URL`` or, when unset, the embedded server
(``TULPAR_DATA_DIR``); works in a fresh, uniquely named database dropped afterwards, one per
batch size (each with the same cards and stream).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.harness import scratch_database
from bench.rating_data import NOW, seed, stream
from tulpar.config import get_settings
from tulpar.db import build_engine, transaction
from tulpar.migrations_runner import upgrade
from tulpar.usage import service as usage_service

_BASELINE_INSERT = text(
    """
    WITH stored AS (
        INSERT INTO bench_baseline_records (source, record_id, card_id, kind, quantity,
                                            occurred_at)
        SELECT s, r, c, k, q, t FROM json_to_recordset(CAST(:payload AS json))
            AS i(s text, r text, c bigint, k text, q bigint, t timestamptz)
        ORDER BY s COLLATE "C", r COLLATE "C"
        ON CONFLICT (source, record_id) DO NOTHING
        RETURNING card_id, kind, quantity
    )
    SELECT card_id,
           coalesce(sum(quantity) FILTER (WHERE kind = 'data'), 0),
           coalesce(sum(quantity) FILTER (WHERE kind = 'voice'), 0),
           coalesce(sum(quantity) FILTER (WHERE kind = 'sms'), 0)
    FROM stored GROUP BY card_id ORDER BY card_id
    """
)
_BASELINE_LOCK = text(
    "SELECT card_id FROM bench_baseline_allowances WHERE card_id = ANY (:ids)"
    " ORDER BY card_id FOR NO KEY UPDATE"
)
_BASELINE_UPDATE = text(
    """
    UPDATE bench_baseline_allowances a
    SET data = greatest(a.data - u.data, 0), voice = greatest(a.voice - u.voice, 0),
        sms = greatest(a.sms - u.sms, 0)
    FROM unnest(CAST(:ids AS bigint[]), CAST(:data AS bigint[]), CAST(:voice AS bigint[]),
                CAST(:sms AS bigint[])) AS u(card_id, data, voice, sms)
    WHERE a.card_id = u.card_id
    """
)


def baseline_batch(session: Session, parsed: dict[str, object]) -> None:
    sums = session.execute(_BASELINE_INSERT, parsed).all()
    ids = [row[0] for row in sums]
    session.execute(_BASELINE_LOCK, {"ids": ids}).all()
    session.execute(
        _BASELINE_UPDATE,
        {
            "ids": ids,
            "data": [row[1] for row in sums],
            "voice": [row[2] for row in sums],
            "sms": [row[3] for row in sums],
        },
    )


def parse_for_baseline(
    batch: list[dict[str, object]], card_ids: dict[str, int]
) -> dict[str, object]:
    """The batch as the baseline receives it: card ids known, sent as one JSON text."""
    return {
        "payload": json.dumps(
            [
                {
                    "s": r["source"],
                    "r": r["record_id"],
                    "c": card_ids[str(r["card"])],
                    "k": r["kind"],
                    "q": r["quantity"],
                    "t": r["occurred_at"],
                }
                for r in batch
            ]
        )
    }


@dataclass(frozen=True)
class Run:
    batch_size: int
    records: int
    engine_seconds: float
    baseline_seconds: float
    median_turn_ratio: float

    @property
    def engine_rate(self) -> float:
        return self.records / self.engine_seconds

    @property
    def baseline_rate(self) -> float:
        return self.records / self.baseline_seconds

    @property
    def ratio(self) -> float:
        return self.engine_rate / self.baseline_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=5_000)
    parser.add_argument("--records", type=int, default=250_000)
    parser.add_argument(
        "--batch-size",
        "--batch",
        type=int,
        nargs="+",
        default=[10_000],
        help="records per batch (≤10,000); several sizes run one after another",
    )
    parser.add_argument("--duplicates", type=float, default=0.01)
    parser.add_argument("--late", type=float, default=0.02)
    parser.add_argument("--small-share", type=float, default=0.1, help="cards with 100 MB")
    parser.add_argument(
        "--overlap-share",
        type=float,
        default=0.02,
        help="cards with a bonus bundle valid alongside the current one (rated by rounds)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="batches in flight at once, on both sides"
    )
    options = parser.parse_args()
    runs = [run(options, batch_size) for batch_size in options.batch_size]
    print()
    print(f"{'batch size':>10}  {'engine rec/s':>12}  {'baseline rec/s':>14}  {'ratio':>5}  median")
    for done in runs:
        print(
            f"{done.batch_size:>10,}  {done.engine_rate:>12,.0f}  {done.baseline_rate:>14,.0f}"
            f"  {done.ratio:>5.2f}  {done.median_turn_ratio:>6.2f}"
        )
    print(
        "(ratio engine/baseline, target ≥ 0.50 at small batches, ≥ 0.60 at 10,000;"
        " median: of the per-turn ratios)"
    )


def target_ratio(batch_size: int) -> float:
    """What the engine should reach against the baseline: the fixed cost of a batch weighs
    more on small ones."""
    return 0.6 if batch_size >= 10_000 else 0.5


def run(options: argparse.Namespace, batch_size: int) -> Run:
    """One batch size, in its own scratch database, with the same cards and stream as the
    others (the generator restarts from the seed)."""
    rng = random.Random(options.seed)

    with scratch_database() as url:
        upgrade(url)
        engine = build_engine(url, pool_size=max(2, options.concurrency))
        factory = sessionmaker(engine, expire_on_commit=False)
        where = "server" if get_settings().database_url else "embedded"
        version = psycopg.connect(url).execute("SHOW server_version").fetchone()
        print(f"PostgreSQL {version[0] if version else '?'} ({where})")
        print(
            f"{options.cards:,} cards, {options.records:,} records, batches of"
            f" {batch_size:,}, {options.concurrency} at a time"
        )
        started = time.perf_counter()
        seed(
            engine,
            options.cards,
            small_share=options.small_share,
            overlap_share=options.overlap_share,
            rng=rng,
        )
        records = stream(
            options.cards,
            options.records,
            duplicates=options.duplicates,
            late=options.late,
            rng=rng,
        )
        with engine.connect() as connection:
            card_ids = {
                str(i): int(c) for i, c in connection.execute(text("SELECT iccid, id FROM cards"))
            }
        print(f"seeded and generated in {time.perf_counter() - started:.1f} s")
        # The generated stream (hundreds of thousands of dicts) lives for the whole run; left
        # in the collector's care it makes every full collection walk it, a cost of this
        # harness that a server handling one batch at a time does not have. Both sides gain.
        gc.freeze()

        def run_baseline(batch: list[dict[str, object]]) -> None:
            parsed = parse_for_baseline(batch, card_ids)  # the baseline gets parsed input
            with transaction(factory) as session:
                baseline_batch(session, parsed)

        def run_engine(batch: list[dict[str, object]]) -> tuple[int, int]:
            with transaction(factory) as session:
                report = usage_service.ingest(session, batch, now=NOW)
            return report.accepted, report.duplicates

        batches = [
            records[start : start + batch_size] for start in range(0, len(records), batch_size)
        ]
        # Both sides take turns, a group of batches at a time, so they see the same machine.
        group = max(1, options.concurrency)
        engine_seconds = baseline_seconds = 0.0
        accepted = duplicates = 0
        turn_ratios: list[float] = []
        with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
            for start in range(0, len(batches), group):
                turn = batches[start : start + group]
                tick = time.perf_counter()
                list(pool.map(run_baseline, turn))
                baseline_turn = time.perf_counter() - tick
                tick = time.perf_counter()
                for rated, repeated in pool.map(run_engine, turn):
                    accepted += rated
                    duplicates += repeated
                engine_turn = time.perf_counter() - tick
                baseline_seconds += baseline_turn
                engine_seconds += engine_turn
                turn_ratios.append(baseline_turn / engine_turn)

        with engine.connect() as connection:
            counts = connection.execute(
                text(
                    """
                    SELECT (SELECT count(*) FROM ledger_entries WHERE cause = 'usage'),
                           (SELECT count(*) FROM usage_overages),
                           (SELECT count(*) FROM usage_threshold_events),
                           (SELECT count(*) FROM service_bars),
                           (SELECT count(*) FROM bench_baseline_records)
                    """
                )
            ).one()
        engine.dispose()
    if (accepted, duplicates) != (counts[4], len(records) - counts[4]):
        raise SystemExit(
            f"the engine rated {accepted:,} records and found {duplicates:,} duplicates;"
            f" the baseline stored {counts[4]:,} of {len(records):,}"
        )

    done = Run(
        batch_size, len(records), engine_seconds, baseline_seconds, statistics.median(turn_ratios)
    )
    print(
        f"engine:   {done.engine_rate:10,.0f} records/s ({engine_seconds:.1f} s;"
        f" {accepted:,} rated, {duplicates:,} duplicates; {counts[0]:,} ledger entries,"
        f" {counts[1]:,} overages, {counts[2]:,} threshold events, {counts[3]:,} bars)"
    )
    print(
        f"baseline: {done.baseline_rate:10,.0f} records/s ({baseline_seconds:.1f} s;"
        f" {counts[4]:,} stored)"
    )
    print(
        f"ratio engine/baseline: {done.ratio:.2f} (target ≥ {target_ratio(batch_size):.2f})"
        f" at batches of {batch_size:,}"
    )
    # Robust to other load on the machine: each turn compares both sides run back to back.
    print(f"median ratio over {len(turn_ratios)} turns: {done.median_turn_ratio:.2f}")
    return done


if __name__ == "__main__":
    main()
