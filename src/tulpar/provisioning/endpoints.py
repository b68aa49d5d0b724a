"""Where the carrier reports asynchronous completion (signed, see
:mod:`tulpar.integrations.signature`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from tulpar.integrations.carrier.wire import SIGNATURE_HEADER
from tulpar.provisioning import callbacks
from tulpar.provisioning.schemas import CallbackAccepted
from tulpar.web.dependencies import DbSession

router = APIRouter(tags=["carrier"])


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/carrier/callbacks", status_code=202, response_model=CallbackAccepted)
def carrier_callback(
    body: Annotated[bytes, Depends(_raw_body)],
    session: DbSession,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> CallbackAccepted:
    """A carrier status event, verified against ``Tulpar-Carrier-Signature``
    (``t=…,v1=HMAC-SHA256(secret, "t.body")``, 300 s tolerance) and stored before handling."""
    stored = callbacks.receive(session, body=body, signature=signature)
    return CallbackAccepted(duplicate=not stored)
