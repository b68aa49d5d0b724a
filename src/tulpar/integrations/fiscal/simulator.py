"""The built-in fiscal data operator: a deterministic sign per receipt number, no network.
``down`` makes every registration fail, as an operator outage would."""

from __future__ import annotations

import hashlib

from tulpar import clock
from tulpar.integrations.fiscal.protocol import FiscalError, FiscalReceipt, FiscalRegistered

REGISTRATION_NUMBER = "SIM-000000000001"


class SimulatorRegister:
    name = "simulator"

    def __init__(self, *, down: bool = False) -> None:
        self.down = down

    def register(self, receipt: FiscalReceipt) -> FiscalRegistered:
        if self.down:
            raise FiscalError("The fiscal data operator simulator is down")
        digest = hashlib.sha256(f"{receipt.seller_bin}:{receipt.number}".encode()).digest()
        sign = str(int.from_bytes(digest[:5], "big")).zfill(13)[:13]
        return FiscalRegistered(
            fiscal_sign=sign, registration_number=REGISTRATION_NUMBER, registered_at=clock.now()
        )
