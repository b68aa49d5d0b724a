"""The job that registers store receipts with the fiscal data operator, retried with
exponential backoff while it is down (``fiscal_register_attempts`` tries)."""

from __future__ import annotations

from procrastinate import RetryStrategy

from tulpar.config import get_settings
from tulpar.counter import fiscal
from tulpar.integrations.fiscal.protocol import FiscalError
from tulpar.jobs import app

# 2, 4, 8, … seconds apart (capped by procrastinate's exponential wait), so an outage of
# hours is caught up with once the operator answers again.
_BACKOFF = RetryStrategy(
    max_attempts=get_settings().fiscal_register_attempts,
    exponential_wait=2,
    retry_exceptions={FiscalError},
)


@app.task(name=fiscal.REGISTER_TASK, pass_context=False, retry=_BACKOFF)
def register(registration_id: int) -> None:
    """Register one store receipt; a second run finds it registered and returns."""
    fiscal.attempt(registration_id)
