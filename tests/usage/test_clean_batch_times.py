"""A clean batch's times come out in UTC, whatever offsets they were given with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tulpar.usage.validation import OccurredWindow, parse_clean_batch

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
WINDOW = OccurredWindow.around(NOW, max_age=timedelta(days=90), tolerance=timedelta(seconds=600))


def _batch(*times: str) -> list[object]:
    return [
        {
            "source": "msc1",
            "record_id": str(number),
            "card": "89997000000000000001",
            "kind": "data",
            "quantity": 1,
            "occurred_at": at,
        }
        for number, at in enumerate(times)
    ]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (
            ("2026-11-24T05:00:00+00:00", "2026-11-23 01:02:03.5z", "2026-11-24T04:00:00-00:00"),
            [
                datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
                datetime(2026, 11, 23, 1, 2, 3, 500_000, tzinfo=UTC),
                datetime(2026, 11, 24, 4, 0, tzinfo=UTC),
            ],
        ),
        (
            ("2026-11-24T05:00:00Z", "2026-11-24T10:30:00+05:00"),
            [datetime(2026, 11, 24, 5, 0, tzinfo=UTC), datetime(2026, 11, 24, 5, 30, tzinfo=UTC)],
        ),
    ],
    ids=["all in utc", "some with an offset"],
)
def test_the_times_of_a_clean_batch_are_in_utc(
    times: tuple[str, ...], expected: list[datetime]
) -> None:
    clean = parse_clean_batch(_batch(*times), window=WINDOW)

    assert clean is not None
    assert clean.occurred_at == expected
    # equal instants are not enough: each time is expressed in UTC itself
    assert [moment.tzinfo for moment in clean.occurred_at] == [UTC] * len(times)
    assert [moment.utcoffset() for moment in clean.occurred_at] == [timedelta(0)] * len(times)
