from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tulpar.partner import service as partner_service
from tulpar.web.app import create_app


@pytest.fixture
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory)) as test_client:
        yield test_client


@pytest.fixture
def carrier_key(session: Session) -> str:
    _, key = partner_service.create_key(session, "Test Carrier", scopes=["carrier"])
    session.commit()
    return key


@pytest.fixture
def partner_key(session: Session) -> str:
    _, key = partner_service.create_key(session, "Test Reseller", scopes=["partner"])
    session.commit()
    return key
