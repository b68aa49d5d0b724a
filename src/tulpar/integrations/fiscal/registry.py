"""Which fiscal register the settings name; tests swap one with :func:`override`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.config import get_settings
from tulpar.integrations.fiscal.protocol import FiscalError, FiscalRegister
from tulpar.integrations.fiscal.simulator import SimulatorRegister

_override: list[FiscalRegister] = []


# What a registration records as its provider while none is configured (production before
# a real operator's adapter is set up).
NOT_CONFIGURED = "none"


class FiscalNotConfiguredError(FiscalError):
    """No fiscal register is configured (production, before a real one is set): the
    registration stays pending and is tried again, like an operator outage."""


def provider_name() -> str:
    """The name of the register :func:`fiscal_register` would use, without failing."""
    if _override:
        return _override[-1].name
    return get_settings().fiscal_provider_name or NOT_CONFIGURED


def fiscal_register() -> FiscalRegister:
    """The configured register. Raises :class:`FiscalNotConfiguredError` (a
    :class:`FiscalError`, so retried) when there is none."""
    if _override:
        return _override[-1]
    settings = get_settings()
    name = settings.fiscal_provider_name
    if name is None:
        raise FiscalNotConfiguredError("No fiscal provider is configured (TULPAR_FISCAL_PROVIDER)")
    if name == "simulator" and not settings.is_production:
        return SimulatorRegister(down=settings.fiscal_simulator_down)
    # A real operator's adapter implements FiscalRegister and is chosen here by name.
    raise FiscalNotConfiguredError(f"No fiscal register {name!r}")


@contextmanager
def override(register: FiscalRegister) -> Iterator[None]:
    _override.append(register)
    try:
        yield
    finally:
        _override.remove(register)
