from __future__ import annotations

from datetime import date

import pytest

from tulpar.receipt import vat


@pytest.mark.parametrize(
    ("day", "rate"),
    [(date(2025, 12, 31), 12_00), (date(2026, 1, 1), 16_00), (date(2030, 6, 1), 16_00)],
)
def test_the_rate_in_force_on_a_day(day: date, rate: int) -> None:
    assert vat.rate_on(day) == rate


@pytest.mark.parametrize(
    ("gross", "rate", "included"),
    [
        (3_500_00, 12_00, 37_500),  # exact: 350000 × 12 / 112
        (3_500_00, 16_00, 48_276),  # 48275.86… rounds up
        (1_00, 16_00, 14),  # 13.79…
        (29, 16_00, 4),  # 4.0 exactly
        (1, 16_00, 0),
        (0, 16_00, 0),
    ],
)
def test_vat_included_in_a_gross_amount(gross: int, rate: int, included: int) -> None:
    assert vat.included(gross, rate) == included


def test_half_a_minor_unit_rounds_up() -> None:
    assert vat.included(1, 100_00) == 1  # 1 × 100 % / 200 % = 0.5 → 1
    assert vat.included(3, 100_00) == 2  # 1.5 → 2
    assert vat.included(5, 25_00) == 1  # 1.0 exactly
    assert vat.included(725, 16_00) == 100  # 100.0 exactly


def test_percent_labels() -> None:
    assert (vat.percent(16_00), vat.percent(12_50)) == ("16%", "12.5%")
