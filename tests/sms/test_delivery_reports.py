"""Delivery reports that overtake our record of the send, or name nothing of ours."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tulpar.notification import delivery


def _payload(message_id: str) -> dict[str, object]:
    return {"message_id": message_id, "status": "DELIVRD", "error_code": "000", "raw": {}}


def test_a_report_for_an_id_not_recorded_yet_is_handled_again_later(
    session: Session, frozen_now: datetime
) -> None:
    with pytest.raises(delivery.DeliveryReportTooEarlyError):
        delivery.apply(session, "smpp", _payload("00abc"), received_at=frozen_now, now=frozen_now)


def test_a_report_still_unknown_after_ten_minutes_is_let_go(
    session: Session, frozen_now: datetime
) -> None:
    outcome = delivery.apply(
        session,
        "smpp",
        _payload("00abc"),
        received_at=frozen_now - timedelta(minutes=11),
        now=frozen_now,
    )
    assert outcome == "ignored: unknown message id 00abc"


@pytest.mark.parametrize(
    ("provider", "status", "outcome"),
    [
        ("smpp", "DELIVRD", "delivered"),
        ("smpp", "UNDELIV", "failed"),
        ("smpp", "EXPIRED", "failed"),
        ("smpp", "REJECTD", "failed"),
        ("smpp", "ENROUTE", "pending"),
        ("smpp", "ACCEPTD", "pending"),
        ("http", "delivered", "delivered"),
        ("http", "undelivered", "failed"),
        ("http", "failed", "failed"),
        ("http", "sent", "pending"),
        ("http", "queued", "pending"),
    ],
)
def test_provider_statuses_map_to_outcomes(provider: str, status: str, outcome: str) -> None:
    assert delivery.outcome_of(provider, status) == outcome
