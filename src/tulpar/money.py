"""Money as integer minor units plus an ISO 4217 code. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from babel.numbers import get_currency_precision

from tulpar.errors import InvalidMoneyError

SUPPORTED_CURRENCIES = ("KZT", "CNY", "USD")


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    supported: ClassVar[tuple[str, ...]] = SUPPORTED_CURRENCIES

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidMoneyError("Amounts are whole numbers of minor units")
        if self.currency not in self.supported:
            raise InvalidMoneyError(f"Unsupported currency {self.currency!r}")

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Money:
        return cls(amount_minor, currency.strip().upper())

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidMoneyError(f"Cannot mix {self.currency} and {other.currency}")

    @property
    def exponent(self) -> int:
        return get_currency_precision(self.currency)
