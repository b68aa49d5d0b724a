"""Migrations build the schema from empty to head, agree with the models, and unwind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, pool

from tests.fixtures.database import fresh_database
from tulpar.db import build_engine
from tulpar.migrations.env_filters import include_object
from tulpar.migrations_runner import downgrade, head_revision, upgrade
from tulpar.models import Base

pytestmark = pytest.mark.embedded_smoke


@pytest.fixture
def empty_database() -> Iterator[str]:
    yield from fresh_database()


def _differences(url: str) -> list[object]:
    engine = build_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_empty_to_head_matches_the_models(empty_database: str) -> None:
    upgrade(empty_database)

    assert _differences(empty_database) == []
    engine = build_engine(empty_database, poolclass=pool.NullPool)
    tables = set(inspect(engine).get_table_names())
    assert {
        "cards",
        "plans",
        "bundles",
        "wallets",
        "ledger_entries",
        "procrastinate_jobs",
    } <= tables
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    engine = build_engine(empty_database, poolclass=pool.NullPool)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}

    upgrade(empty_database)
    assert _differences(empty_database) == []
