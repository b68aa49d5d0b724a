from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

# The code requests' answer floor is measured by tests/otp/test_timing.py; everywhere else
# it would only add its tenth of a second to each of the suite's code requests.
os.environ.setdefault("TULPAR_OTP_ANSWER_FLOOR_SECONDS", "0")
# The embedded server (when DATABASE_URL is unset) lives in the repository, not in $HOME.
os.environ.setdefault("TULPAR_DATA_DIR", str(Path(__file__).parent.parent / ".tulpar-test-data"))

from tests.fixtures import factories
from tests.fixtures.database import fresh_database
from tulpar import clock, db
from tulpar.app import create_app
from tulpar.config import get_settings
from tulpar.migrations_runner import upgrade
from tulpar.partner import service as partner_service

APP_TABLES_TRUNCATE = """
DO $$ DECLARE names text;
BEGIN
  SELECT string_agg(quote_ident(tablename), ', ') INTO names FROM pg_tables
  WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  -- The audit log refuses TRUNCATE unless this transaction says so (migration 0013).
  PERFORM set_config('tulpar.audit_log_truncate', 'allow', true);
  EXECUTE 'TRUNCATE ' || names || ' RESTART IDENTITY CASCADE';
END $$;
"""


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated database for this test process; the app's settings point at it."""
    for url in fresh_database():
        upgrade(url)
        previous = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        db.get_engine.cache_clear()
        db.get_sessionmaker.cache_clear()
        try:
            yield url
        finally:
            db.get_engine().dispose()
            db.get_engine.cache_clear()
            db.get_sessionmaker.cache_clear()
            if previous is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = previous
            get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    return db.get_engine()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions joined to one outer transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield factory
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as current:
        yield current


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """For tests that need real commits (workers, concurrency): tables emptied afterwards."""
    factory = db.get_sessionmaker()
    try:
        yield factory
    finally:
        with engine.begin() as connection:
            connection.execute(text(APP_TABLES_TRUNCATE))


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    moment = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    with clock.frozen(moment):
        yield moment


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The web app on the test's rolled-back transaction."""
    with TestClient(create_app(session_factory)) as test_client:
        yield test_client


@pytest.fixture
def partner_key(session: Session) -> Iterator[str]:
    """A reseller's key; the cards this test creates (``create_card``) are that reseller's."""
    partner, key = partner_service.create_key(session, "Test Reseller", scopes=["partner"])
    session.commit()
    token = factories.selling_partner_id.set(partner.id)
    try:
        yield key
    finally:
        factories.selling_partner_id.reset(token)


@pytest.fixture
def carrier_key(session: Session) -> str:
    _, key = partner_service.create_key(session, "Test Carrier", scopes=["carrier"])
    session.commit()
    return key


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set Tulpar settings (``TULPAR_<NAME>``) for one test."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"TULPAR_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
