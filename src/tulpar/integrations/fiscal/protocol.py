"""What Tulpar needs from an online cash register (Kazakhstan: a receipt is reported to a
fiscal data operator, OFD, which answers with the fiscal sign printed on the receipt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class FiscalError(Exception):
    """The operator could not be reached or refused for now; safe to retry later."""


@dataclass(frozen=True, slots=True)
class FiscalReceipt:
    number: str  # the receipt's own number, STORE-ALA01-000042
    seller_bin: str
    store_code: str
    issued_at: datetime
    total_minor: int
    vat_minor: int
    currency: str
    payment_method: str


@dataclass(frozen=True, slots=True)
class FiscalRegistered:
    fiscal_sign: str
    registration_number: str  # the cash register's registration number with the tax office
    registered_at: datetime


class FiscalRegister(Protocol):
    name: str

    def register(self, receipt: FiscalReceipt) -> FiscalRegistered:
        """Report one receipt; idempotent on its number. Raises :class:`FiscalError`."""
        ...
