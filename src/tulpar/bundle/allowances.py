"""The three allowances a bundle carries, named once: ledger account ↔ plan/bundle columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tulpar.models import Bundle, LedgerAccount, Plan


class HoldsAllowances(Protocol):
    """A bundle, or what a read model read of one (the columns by their names)."""

    @property
    def data_bytes_granted(self) -> int | None: ...
    @property
    def data_bytes_remaining(self) -> int | None: ...
    @property
    def voice_seconds_granted(self) -> int | None: ...
    @property
    def voice_seconds_remaining(self) -> int | None: ...
    @property
    def sms_count_granted(self) -> int | None: ...
    @property
    def sms_count_remaining(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class AllowanceKind:
    account: LedgerAccount
    unit_column: str  # plan column; the bundle has <unit_column>_granted / _remaining

    def planned(self, plan: Plan) -> int | None:
        value: int | None = getattr(plan, self.unit_column)
        return value

    def granted(self, bundle: HoldsAllowances) -> int | None:
        value: int | None = getattr(bundle, f"{self.unit_column}_granted")
        return value

    def remaining(self, bundle: HoldsAllowances) -> int | None:
        value: int | None = getattr(bundle, f"{self.unit_column}_remaining")
        return value

    def set_remaining(self, bundle: Bundle, value: int) -> None:
        setattr(bundle, f"{self.unit_column}_remaining", value)


DATA = AllowanceKind(LedgerAccount.data, "data_bytes")
VOICE = AllowanceKind(LedgerAccount.voice, "voice_seconds")
SMS = AllowanceKind(LedgerAccount.sms, "sms_count")
ALLOWANCE_KINDS = (DATA, VOICE, SMS)
