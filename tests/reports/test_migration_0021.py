"""Migration 0021 backfills each existing bundle with the validity end it replaced: the
latest end among the card's earlier bundles (a first bundle replaced none)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import pool, text

from tests.fixtures.database import fresh_database
from tulpar.db import build_engine
from tulpar.migrations_runner import upgrade


@pytest.fixture
def database_at_0020() -> Iterator[str]:
    for url in fresh_database():
        upgrade(url, "0020")
        yield url


def _at(day: int) -> datetime:
    return datetime(2026, 11, day, 6, 0, tzinfo=UTC)


def test_bundles_get_the_end_the_card_held_when_each_was_applied(database_at_0020: str) -> None:
    engine = build_engine(database_at_0020, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cards (id, iccid, language, state) OVERRIDING SYSTEM VALUE"
                " VALUES (1, '8999700000000000011', 'en', 'active'),"
                " (2, '8999700000000000029', 'en', 'active')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO plans (id, code, names, validity_days, channels, renewal_policy,"
                " rollover) OVERRIDING SYSTEM VALUE VALUES (1, 'M-7D',"
                """ '{"en": "x", "ru": "x", "kk": "x", "zh-Hans": "x"}', 7, '{web}',"""
                " 'extend', false)"
            )
        )
        # Card 1: applied on the 1st (to the 8th), extended on the 5th (to the 12th, the
        # first bundle revoked), queued on the 10th (12th to the 19th). Card 2: one bundle.
        for bundle_id, card_id, state, starts, expires in (
            (1, 1, "revoked", 1, 8),
            (2, 1, "active", 5, 12),
            (3, 1, "scheduled", 12, 19),
            (4, 2, "active", 3, 10),
        ):
            connection.execute(
                text(
                    "INSERT INTO bundles (id, card_id, plan_id, state, starts_at, expires_at)"
                    " OVERRIDING SYSTEM VALUE VALUES (:id, :card, 1, :state, :starts, :expires)"
                ),
                {
                    "id": bundle_id,
                    "card": card_id,
                    "state": state,
                    "starts": _at(starts),
                    "expires": _at(expires),
                },
            )

    upgrade(database_at_0020)

    with engine.connect() as connection:
        replaced = connection.execute(
            text("SELECT id, replaced_validity_ends_at FROM bundles ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in replaced] == [(1, None), (2, _at(8)), (3, _at(12)), (4, None)]
