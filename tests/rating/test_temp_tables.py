"""A connection remembers that it made rating's temporary tables only once the transaction
that made them committed: a rollback, or a savepoint rolled back, takes the tables away, and
the next batch on that connection must make them again instead of failing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card
from tests.rating.records import record
from tulpar.models import Card, UsageRecord
from tulpar.usage import service as usage_service


def _card(committed: sessionmaker[Session]) -> Card:
    with committed() as session:
        card, _ = create_active_card(session)
        session.commit()
        return card


def _batch(card: Card, name: str) -> list[dict[str, object]]:
    at = datetime.now().astimezone() - timedelta(minutes=5)
    return [record(card, f"{name}-{number}", 1_000, at) for number in range(3)]


def _stored(committed: sessionmaker[Session]) -> int:
    with committed() as session:
        return session.scalar(select(func.count()).select_from(UsageRecord)) or 0


def test_a_batch_after_a_rolled_back_one_makes_the_tables_again(
    committed: sessionmaker[Session], one_connection: Engine
) -> None:
    card = _card(committed)
    factory = sessionmaker(one_connection, expire_on_commit=False)
    with factory() as session:
        usage_service.ingest(session, _batch(card, "lost"))
        session.rollback()
    with factory() as session:
        report = usage_service.ingest(session, _batch(card, "kept"))
        session.commit()
    assert report.accepted == 3
    assert _stored(committed) == 3


def test_tables_made_in_a_savepoint_rolled_back_are_not_taken_for_kept(
    committed: sessionmaker[Session], one_connection: Engine
) -> None:
    card = _card(committed)
    factory = sessionmaker(one_connection, expire_on_commit=False)
    with factory() as session:
        savepoint = session.begin_nested()
        usage_service.ingest(session, _batch(card, "undone"))
        savepoint.rollback()
        session.commit()  # the outer transaction commits, without the tables
    with factory() as session:
        first = usage_service.ingest(session, _batch(card, "first"))
        session.commit()
    with factory() as session:  # now they are kept: emptied, not made
        second = usage_service.ingest(session, _batch(card, "second"))
        session.commit()
    assert (first.accepted, second.accepted) == (3, 3)
    assert _stored(committed) == 6
