"""The carrier adapter in use. Business code calls :func:`get_carrier`; tests and the demo
choose the adapter with :func:`use_carrier` or settings (``TULPAR_CARRIER_URL``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tulpar.integrations.carrier.protocol import CarrierAdapter

_override: CarrierAdapter | None = None


def get_carrier() -> CarrierAdapter:
    if _override is not None:
        return _override
    from tulpar.integrations.carrier.http import HttpCarrier  # written with the simulator

    return HttpCarrier.from_settings()


@contextmanager
def use_carrier(adapter: CarrierAdapter) -> Iterator[CarrierAdapter]:
    global _override
    previous, _override = _override, adapter
    try:
        yield adapter
    finally:
        _override = previous
