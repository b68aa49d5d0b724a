from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_card, make_iccid
from tulpar.errors import InvalidInputError
from tulpar.models import CardState
from tulpar.usage import service as usage_service


def _record(reference: str, key: str = "1", **changes: object) -> dict[str, object]:
    return {
        "source": "msc-almaty",
        "record_id": key,
        "card": reference,
        "kind": "data",
        "quantity": 1024,
        "occurred_at": "2026-11-24T10:30:00+05:00",
        **changes,
    }


def _stored(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM usage_records")).scalar_one())


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"source": ""}, "invalid_source"),
        ({"source": "has space"}, "invalid_source"),
        ({"record_id": None}, "invalid_record_id"),
        ({"record_id": "x" * 129}, "invalid_record_id"),
        ({"kind": "mms"}, "invalid_kind"),
        ({"quantity": 0}, "invalid_quantity"),
        ({"quantity": -5}, "invalid_quantity"),
        ({"quantity": 1.5}, "invalid_quantity"),
        ({"quantity": True}, "invalid_quantity"),
        ({"quantity": 10**12 + 1}, "invalid_quantity"),
        ({"occurred_at": "2026-11-24T10:30:00"}, "invalid_occurred_at"),  # no offset
        ({"occurred_at": "yesterday"}, "invalid_occurred_at"),
        ({"occurred_at": 1764000000}, "invalid_occurred_at"),
        ({"occurred_at": "2026-11-31T10:30:00Z"}, "invalid_occurred_at"),
        ({"occurred_at": "2026-11-24T06:11:00Z"}, "occurred_in_future"),
        ({"card": "hello"}, "invalid_card"),
        ({"card": "8999700000000000001"}, "invalid_card"),  # bad check digit
    ],
)
def test_a_bad_record_is_rejected_with_a_reason_and_the_good_ones_go_in(
    session: Session, frozen_now: datetime, changes: dict[str, object], code: str
) -> None:
    card, _ = create_active_card(session, days_ago=1)

    report = usage_service.ingest(
        session, [_record(card.iccid, "good"), _record(card.iccid, "bad", **changes)]
    )

    assert [(r.status, r.code) for r in report.results] == [
        ("accepted", None),
        ("rejected", code),
    ]
    assert report.results[1].reason
    assert _stored(session) == 1


def test_a_record_for_an_unknown_card_is_rejected(session: Session, frozen_now: datetime) -> None:
    report = usage_service.ingest(session, [_record(make_iccid(99_999))])

    assert [(r.status, r.code, r.reason) for r in report.results] == [
        ("rejected", "card_not_found", "no card with this number")
    ]
    assert _stored(session) == 0


def test_a_card_is_found_by_iccid_msisdn_or_imsi(session: Session, frozen_now: datetime) -> None:
    card = create_card(session)
    card.imsi = "401011234567890"
    session.flush()
    assert card.msisdn is not None
    national = "8" + card.msisdn[2:]  # +7701… typed as 8 701…

    report = usage_service.ingest(
        session,
        [
            _record(card.iccid, "1"),
            _record(card.iccid + "F", "2"),
            _record(card.msisdn, "3"),
            _record(national, "4"),
            _record(card.imsi, "5"),
        ],
    )

    assert [r.status for r in report.results] == ["accepted"] * 5
    card_ids = session.execute(text("SELECT DISTINCT card_id FROM usage_records")).scalars()
    assert list(card_ids) == [card.id]


def test_a_recycled_number_reaches_the_live_card(session: Session, frozen_now: datetime) -> None:
    old = create_card(session, msisdn="+77019998877", state=CardState.terminated)
    new = create_card(session, msisdn="+77019998877")

    usage_service.ingest(session, [_record("+77019998877")])

    assert (
        session.execute(text("SELECT card_id FROM usage_records")).scalar_one() == new.id != old.id
    )


def test_times_are_stored_in_utc_whatever_the_offset(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)

    usage_service.ingest(
        session,
        [
            _record(card.iccid, "a", occurred_at="2026-11-24T10:30:00+05:00"),
            _record(card.iccid, "b", occurred_at="2026-11-24T05:30:00Z"),
        ],
    )

    times = session.execute(text("SELECT occurred_at FROM usage_records ORDER BY id")).scalars()
    assert list(times) == [frozen_now - timedelta(minutes=30)] * 2


def test_a_batch_over_ten_thousand_records_is_refused_whole(
    session: Session, frozen_now: datetime
) -> None:
    card = create_card(session)
    with pytest.raises(InvalidInputError):
        usage_service.ingest(session, [_record(card.iccid, str(n)) for n in range(10_001)])
    assert _stored(session) == 0
