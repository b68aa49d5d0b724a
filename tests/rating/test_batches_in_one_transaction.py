"""Batches rated one after another in one transaction (or on one connection across commits)
each rate their own records only: what an earlier batch left in the temporary tables, rounds
included, is never rated again."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_card
from tests.rating.records import add_bundle, record
from tulpar.models import Card
from tulpar.usage import service as usage_service


def _card_with_overlapping_bundles(session: Session, now: datetime) -> Card:
    """Bundles valid over [-20 h, -10 h) and [-15 h, now + 1 h): a record at -18 h has one to
    draw on, at -12 h both, at -5 h the second only, so a batch of the three needs 3 rounds."""
    card = create_card(session)
    for start, end in ((-20, -10), (-15, 1)):
        add_bundle(
            session,
            card,
            starts_at=now + timedelta(hours=start),
            expires_at=now + timedelta(hours=end),
            data_bytes=10**9,
        )
    session.flush()
    return card


def _batch(card: Card, name: str, now: datetime) -> list[dict[str, object]]:
    return [
        record(card, f"{name}-{hours}", 1_000 + hours, now - timedelta(hours=hours))
        for hours in (18, 12, 5)
    ]


def _deducted(session: Session) -> dict[str, int]:
    """What the ledger deducted for each record, by record id."""
    rows = session.execute(
        text(
            "SELECT u.record_id, -sum(l.delta) FROM ledger_entries l"
            " JOIN usage_records u ON u.id = l.usage_record_id GROUP BY u.record_id"
        )
    ).all()
    return {str(record_id): int(total) for record_id, total in rows}


def _expected(*batches: list[dict[str, object]]) -> dict[str, int]:
    return {str(r["record_id"]): int(r["quantity"]) for batch in batches for r in batch}  # type: ignore[call-overload]


def test_each_batch_of_a_transaction_rates_its_own_records_once(
    session: Session, frozen_now: datetime
) -> None:
    card = _card_with_overlapping_bundles(session, frozen_now)
    first, second = _batch(card, "first", frozen_now), _batch(card, "second", frozen_now)

    reports = [usage_service.ingest(session, batch) for batch in (first, second)]

    assert [report.accepted for report in reports] == [3, 3]
    assert _deducted(session) == _expected(first, second)


def test_batches_after_a_committed_one_on_the_same_connection_rate_their_own_records_once(
    committed: sessionmaker[Session], one_connection: Engine
) -> None:
    now = datetime.now().astimezone()
    with committed() as session:
        card = _card_with_overlapping_bundles(session, now)
        session.commit()
    factory = sessionmaker(one_connection, expire_on_commit=False)
    batches = [_batch(card, name, now) for name in ("first", "second", "third")]

    with factory() as session:  # makes the tables, which the commit keeps
        usage_service.ingest(session, batches[0])
        session.commit()
    with factory() as session:  # two batches in one transaction on the kept tables
        usage_service.ingest(session, batches[1])
        usage_service.ingest(session, batches[2])
        session.commit()

    with committed() as session:
        assert _deducted(session) == _expected(*batches)
