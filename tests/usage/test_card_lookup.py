"""Cards looked up by number for a batch: many numbers are planned for themselves, a few run
the driver's prepared statement."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, make_iccid
from tulpar.usage import repository

MANY = 1_200  # above the numbers a prepared lookup is kept for

_PREPARED_RUNS = text(
    "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
    " WHERE statement LIKE 'SELECT iccid, id FROM cards WHERE iccid = ANY%'"
)


def _add_cards(session: Session, count: int) -> dict[str, int]:
    iccids = [make_iccid() for _ in range(count)]
    rows = session.execute(
        text(
            "INSERT INTO cards (iccid, language, state) SELECT i, 'en', 'inventory'"
            " FROM unnest(CAST(:iccids AS text[])) AS i RETURNING iccid, id"
        ),
        {"iccids": iccids},
    )
    return {str(iccid): int(card_id) for iccid, card_id in rows}


def test_many_numbers_are_found_without_the_prepared_statement(session: Session) -> None:
    few = create_card(session)
    many = _add_cards(session, MANY)
    for _ in range(6):  # past the driver's threshold: the few numbers' lookup is prepared
        assert repository.card_ids(session, "iccid", {few.iccid}) == {few.iccid: few.id}
    prepared_runs = session.execute(_PREPARED_RUNS).scalar_one()

    for _ in range(3):
        found = repository.card_ids(session, "iccid", {*many, make_iccid()})
        assert found == many

    assert prepared_runs > 0
    assert session.execute(_PREPARED_RUNS).scalar_one() == prepared_runs
