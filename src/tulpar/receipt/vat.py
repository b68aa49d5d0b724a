"""VAT included in prices, from a dated rate table. Integer arithmetic only."""

from __future__ import annotations

from datetime import date

# (effective from, rate in basis points), oldest first. Kazakhstan's Tax Code: 12 % until
# 31 December 2025, 16 % from 1 January 2026.
KZ_RATES: tuple[tuple[date, int], ...] = (
    (date(1, 1, 1), 12_00),
    (date(2026, 1, 1), 16_00),
)


def rate_on(day: date, table: tuple[tuple[date, int], ...] = KZ_RATES) -> int:
    """The rate (basis points) in force on ``day`` (the local date of the sale)."""
    rate = table[0][1]
    for starts_on, basis_points in table:
        if starts_on <= day:
            rate = basis_points
    return rate


def included(gross_minor: int, rate_basis_points: int) -> int:
    """The VAT contained in a VAT-inclusive amount, rounded half up to a minor unit:
    ``gross × rate / (1 + rate)``."""
    denominator = 10_000 + rate_basis_points
    return (2 * gross_minor * rate_basis_points + denominator) // (2 * denominator)


def percent(rate_basis_points: int) -> str:
    whole, rest = divmod(rate_basis_points, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"
