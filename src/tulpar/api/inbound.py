"""Where the outside world reports to us: payment providers' webhooks and the carrier's
status callbacks. Each is verified, stored in the inbox and answered at once; a job handles
it afterwards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from tulpar.api.schemas.carrier import CallbackAccepted
from tulpar.integrations.carrier.wire import SIGNATURE_HEADER
from tulpar.kit.session import DbSession
from tulpar.payment import webhooks
from tulpar.provisioning import callbacks

router = APIRouter()


@router.post("/webhooks/sandbox", tags=["payments"])
async def sandbox_webhook(request: Request, session: DbSession) -> dict[str, bool]:
    """Signed events from the sandbox provider (``Sandbox-Signature: t=…,v1=…``)."""
    body = await request.body()
    # Database work off the event loop: the inbox is hit hardest when a provider retries.
    stored = await run_in_threadpool(webhooks.receive, session, "sandbox", body, request.headers)
    return {"received": True, "duplicate": not stored}


@router.post("/webhooks/stripe", tags=["payments"])
async def stripe_webhook(request: Request, session: DbSession) -> dict[str, bool]:
    """Stripe events, verified with the official SDK (``Stripe-Signature``, 300 s)."""
    body = await request.body()
    stored = await run_in_threadpool(webhooks.receive, session, "stripe", body, request.headers)
    return {"received": True, "duplicate": not stored}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/carrier/callbacks", status_code=202, response_model=CallbackAccepted, tags=["carrier"]
)
def carrier_callback(
    body: Annotated[bytes, Depends(_raw_body)],
    session: DbSession,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> CallbackAccepted:
    """A carrier status event, verified against ``Tulpar-Carrier-Signature``
    (``t=…,v1=HMAC-SHA256(secret, "t.body")``, 300 s tolerance) and stored before handling."""
    stored = callbacks.receive(session, body=body, signature=signature)
    return CallbackAccepted(duplicate=not stored)
