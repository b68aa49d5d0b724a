"""Which fiscal register the settings name; tests swap one with :func:`override`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import get_settings
from tulpar.integrations.fiscal.protocol import FiscalError, FiscalRegister
from tulpar.integrations.fiscal.simulator import SimulatorRegister

_override: list[FiscalRegister] = []


def fiscal_register() -> FiscalRegister:
    if _override:
        return _override[-1]
    settings = get_settings()
    if settings.fiscal_provider == "simulator":
        return SimulatorRegister(down=settings.fiscal_simulator_down)
    # A real operator's adapter implements FiscalRegister and is chosen here by name.
    raise FiscalError(f"No fiscal register {settings.fiscal_provider!r}")


@contextmanager
def override(register: FiscalRegister) -> Iterator[None]:
    _override.append(register)
    try:
        yield
    finally:
        _override.remove(register)
