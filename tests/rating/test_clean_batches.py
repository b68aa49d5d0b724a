"""A batch checked a field at a time (the usual, clean batch) gets exactly the answers the
record-by-record checks give; a batch with any record they would refuse or convert is left to
them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card
from tests.rating.records import record, usage_entries
from tulpar.usage import service as usage_service
from tulpar.usage import validation
from tulpar.usage.validation import (
    OccurredWindow,
    RecordRejectedError,
    parse_clean_batch,
    parse_record,
)

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
WINDOW = OccurredWindow.around(NOW, max_age=timedelta(days=90), tolerance=timedelta(seconds=600))
ICCID = "89997000000000000001"  # not a real card: only its check digit matters here

CLEAN: dict[str, list[object]] = {
    "source": ["msc1", "a" * 64, "r-1"],
    "record_id": ["1", "x" * 128, "r-1"],
    "card": ["89997000000000000001", "+77011234567", "401020000000001"],
    "kind": ["data", "voice", "sms"],
    "quantity": [1, 1024, 10**12],
    "occurred_at": [
        "2026-11-24T05:00:00+00:00",
        "2026-11-24T10:30:00+05:00",
        "2026-11-23t01:02:03.123456z",
        "2026-11-23 01:02:03Z",
    ],
}
# Values refused, trimmed or converted by the record-by-record checks.
ODD: dict[str, list[object]] = {
    "source": [" pad", "", "a b", "é", "a" * 65, 7, None],
    "record_id": ["x" * 129, "tab\t", 7, None],
    "card": ["8999 7000 0000 0000 001", "hello", "89997000000000000002", 42, None],
    "kind": [" sms", "mms", "DATA", None],
    "quantity": [10**12 + 1, 0, -1, True, 1.5, "12"],
    "occurred_at": [
        "2026-11-24T06:20:00Z",  # in the future
        "2026-01-01T00:00:00Z",  # before the horizon
        "2026-11-31T10:30:00Z",  # no such day
        "2026-11-24T05:00:00",  # no offset
        "2026-11-24T05:00:00+00:00\n",
        "2026-11-24T05:00:00Z\n2026-11-24T05:00:00Z",
        "٢٠٢٦-11-24T05:00:00Z",  # not ASCII digits
        " 2026-11-24T05:00:00Z",
        1764000000,
    ],
}
clean_records = st.fixed_dictionaries(
    {name: st.sampled_from(values) for name, values in CLEAN.items()}
)


@st.composite
def batches(draw: st.DrawFn) -> list[object]:
    """Clean records, one of which may have one odd field, or be no record at all."""
    raws: list[object] = draw(st.lists(clean_records, min_size=1, max_size=5))
    odd = draw(st.sampled_from([None, "not a record", *ODD]))
    if odd is not None:
        at = draw(st.integers(0, len(raws) - 1))
        if odd == "not a record":
            raws[at] = ["not", "a", "record"]
        else:
            raws[at] = {**raws[at], odd: draw(st.sampled_from(ODD[odd]))}  # type: ignore[dict-item]
    return raws


def _one_by_one(raws: list[object]) -> list[tuple[object, ...]]:
    """Each record's answer: its parsed fields, or the code and reason it is refused with."""
    answers: list[tuple[object, ...]] = []
    for raw in raws:
        try:
            answers.append(parse_record(raw, window=WINDOW))  # type: ignore[arg-type]
        except RecordRejectedError as error:
            answers.append((error.reason_code, error.detail))
    return answers


@settings(max_examples=400, deadline=None)
@given(batches())
def test_a_batch_checked_at_once_gets_the_answers_of_the_records_checked_one_by_one(
    raws: list[object],
) -> None:
    one_by_one = _one_by_one(raws)
    clean = parse_clean_batch(raws, window=WINDOW)

    if clean is None:
        # Left to the record-by-record checks only when one of them is not clean.
        assert any(validation._clean(raw, window=WINDOW) is None for raw in raws)
    else:
        assert [tuple(record) for record in zip(*clean, strict=True)] == one_by_one


def test_a_clean_batch_is_checked_at_once() -> None:
    raws: list[object] = [
        {
            "source": "msc1",
            "record_id": str(number),
            "card": ICCID,
            "kind": "data",
            "quantity": 10,
            "occurred_at": "2026-11-24T10:30:00+05:00",
        }
        for number in range(3)
    ]

    clean = parse_clean_batch(raws, window=WINDOW)

    assert clean is not None
    assert clean.occurred_at == [datetime(2026, 11, 24, 5, 30, tzinfo=UTC)] * 3


def _report(session: Session, batch: list[dict[str, object]]) -> object:
    report = usage_service.ingest(session, batch)
    stored = session.execute(
        text("SELECT source, record_id, card_id, kind, quantity, occurred_at FROM usage_records")
    ).all()
    return report, sorted(stored), usage_entries(session)


def test_repeats_and_records_stored_before_are_told_apart_as_one_by_one(
    session: Session, frozen_now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    card, _ = create_active_card(session, days_ago=1)
    at = frozen_now - timedelta(minutes=5)
    earlier = [record(card, f"r{number}", 100, at) for number in (1, 3)]
    batch = [record(card, f"r{number}", 100 + number, at) for number in (0, 1, 2, 1, 3, 0, 4)]

    usage_service.ingest(session, earlier)
    assert parse_clean_batch(batch, window=OccurredWindow(at, frozen_now)) is not None
    savepoint = session.begin_nested()
    at_once = _report(session, batch)
    savepoint.rollback()
    monkeypatch.setattr(usage_service, "parse_clean_batch", lambda *_, **__: None)
    one_by_one = _report(session, batch)

    assert at_once == one_by_one
    report = one_by_one[0]  # type: ignore[index]
    assert [r.status for r in report.results] == [
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
        "duplicate",
        "duplicate",
        "accepted",
    ]
