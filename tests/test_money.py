from __future__ import annotations

import pytest

from tulpar.errors import InvalidMoneyError
from tulpar.money import Money


def test_adds_and_subtracts_in_minor_units() -> None:
    assert Money(590000, "KZT") + Money(100, "KZT") == Money(590100, "KZT")
    assert Money(590000, "KZT") - Money(100, "KZT") == Money(589900, "KZT")


def test_refuses_to_mix_currencies() -> None:
    with pytest.raises(InvalidMoneyError, match="Cannot mix KZT and CNY"):
        Money(1, "KZT") + Money(1, "CNY")


@pytest.mark.parametrize("amount", [1.5, "100", True])
def test_refuses_anything_but_an_integer(amount: object) -> None:
    with pytest.raises(InvalidMoneyError):
        Money(amount, "KZT")  # type: ignore[arg-type]


def test_refuses_unknown_currencies() -> None:
    with pytest.raises(InvalidMoneyError, match="Unsupported currency 'EUR'"):
        Money.of(100, "eur")


def test_normalises_the_code() -> None:
    assert Money.of(100, " usd ") == Money(100, "USD")
