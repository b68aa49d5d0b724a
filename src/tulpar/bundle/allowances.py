"""The three allowances a bundle carries, named once: ledger account ↔ plan/bundle columns."""

from __future__ import annotations

from dataclasses import dataclass

from tulpar.models import Bundle, LedgerAccount, Plan


@dataclass(frozen=True, slots=True)
class AllowanceKind:
    account: LedgerAccount
    unit_column: str  # plan column; the bundle has <unit_column>_granted / _remaining

    def planned(self, plan: Plan) -> int | None:
        value: int | None = getattr(plan, self.unit_column)
        return value

    def granted(self, bundle: Bundle) -> int | None:
        value: int | None = getattr(bundle, f"{self.unit_column}_granted")
        return value

    def remaining(self, bundle: Bundle) -> int | None:
        value: int | None = getattr(bundle, f"{self.unit_column}_remaining")
        return value

    def set_remaining(self, bundle: Bundle, value: int) -> None:
        setattr(bundle, f"{self.unit_column}_remaining", value)


DATA = AllowanceKind(LedgerAccount.data, "data_bytes")
VOICE = AllowanceKind(LedgerAccount.voice, "voice_seconds")
SMS = AllowanceKind(LedgerAccount.sms, "sms_count")
ALLOWANCE_KINDS = (DATA, VOICE, SMS)
