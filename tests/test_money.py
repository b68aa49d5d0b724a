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


def test_formats_exactly_as_the_kit_formatter_does() -> None:
    assert Money(590000, "KZT").format("en") == "5,900 KZT"
    assert Money(590050, "KZT").format("ru") == "5\xa0900,50 KZT"
    assert Money(5200, "CNY").format("zh-Hans") == "52 CNY"
