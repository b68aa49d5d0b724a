from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.sms.fake_smsc import FakeSmsc
from tulpar.db import transaction
from tulpar.fulfilment import inbox
from tulpar.integrations.sms import use_provider
from tulpar.integrations.sms.smpp import SmppConfig, SmppProvider
from tulpar.models import InboxMessage
from tulpar.notification.tasks import store_arrival


@pytest.fixture
def smsc() -> Iterator[FakeSmsc]:
    with FakeSmsc().running() as running:
        yield running


@pytest.fixture
def smpp(smsc: FakeSmsc) -> Iterator[SmppProvider]:
    """The SMPP provider bound to the fake SMSC, storing what it is sent in the inbox."""
    provider = SmppProvider(
        SmppConfig(
            host=smsc.host,
            port=smsc.port,
            system_id="tulpar",
            password="secret",
            sender="Tulpar",
            submit_timeout_seconds=5,
            throttle_backoff_seconds=0.02,
        ),
        on_inbound=store_arrival,
    )
    try:
        with use_provider(provider):
            yield provider
    finally:
        provider.close()


def wait_for_inbox(
    factory: sessionmaker[Session], *, count: int, source: str, timeout: float = 10
) -> list[InboxMessage]:
    """The inbox messages from ``source`` once there are ``count`` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            messages = list(
                session.scalars(
                    select(InboxMessage)
                    .where(InboxMessage.source == source)
                    .order_by(InboxMessage.id)
                )
            )
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.02)


def handle_inbox(factory: sessionmaker[Session], messages: list[InboxMessage]) -> list[str | None]:
    """Run the inbox job's work for each message, one transaction each."""
    outcomes = []
    for message in messages:
        with transaction(factory) as session:
            outcomes.append(inbox.handle(session, message.id))
    return outcomes
