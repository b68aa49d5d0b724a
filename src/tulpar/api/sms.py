"""The HTTP SMS provider's callbacks (Twilio convention): message statuses and travellers'
texts, each verified by ``X-Twilio-Signature``, stored in the inbox and answered at once; a
job handles them afterwards."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tulpar.integrations.sms.twilio_signature import SIGNATURE_HEADER
from tulpar.kit.session import DbSession
from tulpar.notification import callbacks

router = APIRouter(prefix="/v1/sms", tags=["sms"])

# An empty TwiML answer: we reply, if at all, with our own message (deduplicated, counted).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class CallbackReceived(BaseModel):
    received: bool = True
    duplicate: bool


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]
Signature = Annotated[str | None, Header(alias=SIGNATURE_HEADER)]


@router.post("/twilio/status", response_model=CallbackReceived)
async def twilio_status(
    body: RawBody, session: DbSession, signature: Signature = None
) -> CallbackReceived:
    """A message status (``MessageSid``, ``MessageStatus``, ``ErrorCode``), signed over our
    public URL of this endpoint."""
    stored = await run_in_threadpool(
        callbacks.receive_status, session, body=body, signature=signature
    )
    return CallbackReceived(duplicate=not stored)


@router.post("/inbound", response_class=Response)
async def inbound_text(body: RawBody, session: DbSession, signature: Signature = None) -> Response:
    """A traveller's text (``MessageSid``, ``From``, ``To``, ``Body``), signed over our public
    URL of this endpoint. Keywords are answered by SMS from a job."""
    await run_in_threadpool(callbacks.receive_text, session, body=body, signature=signature)
    return Response(content=EMPTY_TWIML, media_type="text/xml")
