"""Fixtures shared by the rating tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tulpar.config import get_settings
from tulpar.db import build_engine


@pytest.fixture
def one_connection(committed: sessionmaker[Session]) -> Iterator[Engine]:
    """An engine of a single pooled connection, so every session below reuses it."""
    engine = build_engine(get_settings().database_url or "", pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()
