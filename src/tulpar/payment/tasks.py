"""The sandbox provider's side: posting its signed webhooks to Tulpar. The jobs that act on
payments and refunds (and so move orders) are fulfilment's."""

from __future__ import annotations

from typing import Any

from procrastinate import RetryStrategy

from tulpar.integrations.payments import sandbox
from tulpar.integrations.payments.registry import sandbox_secret
from tulpar.jobs import app

# Tulpar may be briefly unreachable (a restart): the sandbox tries again, as a provider would.
_DELIVERY_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)


@app.task(name="payment.deliver_sandbox_webhooks", pass_context=False, retry=_DELIVERY_RETRY)
def deliver_sandbox_webhooks(events: list[dict[str, Any]], url: str) -> None:
    """The sandbox provider posting signed events to Tulpar (loopback in the demo), one
    after another. A retry posts them all again, as a provider would: Tulpar's inbox keeps
    each event id once."""
    secret = sandbox_secret()
    for event in events:
        sandbox.deliver(event, url=url, secret=secret)
