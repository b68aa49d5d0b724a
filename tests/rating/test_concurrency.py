"""Parallel batches through real commits: overlapping, with duplicates, for the same cards at
once. The outcome must equal a serial run of the same batches (and nothing may deadlock)."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card, create_plan
from tests.rating.records import add_bundle
from tulpar import clock
from tulpar.db import transaction
from tulpar.ledger import service as ledger_service
from tulpar.models import Card
from tulpar.usage import service as usage_service

NOW = datetime.fromisoformat("2026-11-24T06:00:00+00:00")
THREADS, BATCHES_PER_THREAD, CARDS, RECORDS = 4, 3, 6, 480


def _cards_with_bundles(session: Session) -> tuple[list[Card], list[int]]:
    plan = create_plan(session)
    cards, bundle_ids = [], []
    for index in range(CARDS):
        card = create_card(session)
        cards.append(card)
        # Every bundle covers the whole stream, some cards have two: then the soonest-expiring
        # one is always drawn on first, whatever order the records arrive in.
        for days in (2, 5)[: 1 + index % 2]:
            bundle_ids.append(
                add_bundle(
                    session,
                    card,
                    starts_at=NOW - timedelta(days=3),
                    expires_at=NOW + timedelta(days=days),
                    data_bytes=40_000,
                    voice_seconds=1_000,
                    sms_count=10,
                    plan_id=plan.id,
                )
            )
    return cards, bundle_ids


def _batches(rng: random.Random) -> tuple[list[dict[str, object]], list[list[dict[str, object]]]]:
    stream = [
        {
            "record_id": f"cdr-{n:04d}",
            "card": n % CARDS,
            "kind": rng.choice(["data", "data", "voice", "sms"]),
            "quantity": rng.randint(1, 900),
            "occurred_at": (NOW - timedelta(minutes=rng.randint(1, 2_000))).isoformat(),
        }
        for n in range(RECORDS)
    ]
    # Mostly disjoint batches, so transactions really overlap on the same cards, plus copies
    # of records from other batches and from their own.
    shuffled = rng.sample(stream, len(stream))
    count = THREADS * BATCHES_PER_THREAD
    batches = []
    for n in range(count):
        own = shuffled[n::count]
        batch = own + rng.sample(stream, 6) + rng.sample(own, 2)
        rng.shuffle(batch)
        batches.append(batch)
    return stream, batches


def _for(cards: list[Card], source: str, batch: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {**record, "source": source, "card": cards[int(str(record["card"]))].iccid}
        for record in batch
    ]


def _outcome(session: Session, source: str, bundle_ids: list[int]) -> dict[str, object]:
    remaining = [
        tuple(row)
        for row in session.execute(
            text(
                "SELECT data_bytes_remaining, voice_seconds_remaining, sms_count_remaining"
                " FROM bundles WHERE id = ANY (:ids) ORDER BY id"
            ),
            {"ids": bundle_ids},
        )
    ]
    overage = sorted(
        tuple(row)
        for row in session.execute(
            text(
                "SELECT u.card_id - min(u.card_id) OVER (), o.kind, sum(o.quantity)"
                " FROM usage_overages o JOIN usage_records u ON u.id = o.usage_record_id"
                " WHERE u.source = :source GROUP BY u.card_id, o.kind"
            ),
            {"source": source},
        )
    )
    records = session.execute(
        text("SELECT count(*), sum(quantity) FROM usage_records WHERE source = :source"),
        {"source": source},
    ).one()
    thresholds = session.execute(
        text("SELECT count(*) FROM usage_threshold_events WHERE bundle_id = ANY (:ids)"),
        {"ids": bundle_ids},
    ).scalar_one()
    return {
        "remaining": remaining,
        "overage": overage,
        "records": tuple(records),
        "thresholds": thresholds,
    }


def test_parallel_overlapping_batches_equal_a_serial_run(
    committed: sessionmaker[Session],
) -> None:
    rng = random.Random(20261124)
    stream, batches = _batches(rng)
    with clock.frozen(NOW), transaction(committed) as session:
        parallel_cards, parallel_bundles = _cards_with_bundles(session)
        serial_cards, serial_bundles = _cards_with_bundles(session)

    accepted_in_parallel: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def post(my_batches: list[list[dict[str, object]]]) -> None:
        try:
            start.wait(timeout=30)
            for batch in my_batches:
                with transaction(committed) as session:
                    report = usage_service.ingest(
                        session, _for(parallel_cards, "P", batch), now=NOW
                    )
                accepted_in_parallel.append(report.accepted)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=post, args=(batches[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    accepted_serially = []
    for batch in batches:
        with transaction(committed) as session:
            report = usage_service.ingest(session, _for(serial_cards, "S", batch), now=NOW)
        accepted_serially.append(report.accepted)

    with transaction(committed) as session:
        parallel = _outcome(session, "P", parallel_bundles)
        serial = _outcome(session, "S", serial_bundles)
        assert ledger_service.reconcile(session) == []

    total = sum(int(str(record["quantity"])) for record in stream)
    assert sum(accepted_in_parallel) == sum(accepted_serially) == RECORDS
    assert parallel["records"] == serial["records"] == (RECORDS, total)
    assert parallel == serial
    assert parallel["overage"] != []  # the stream is big enough to run some cards out
