"""USSD gateway callbacks (``*100#``). The network proves the caller's number; every answer
is a screen — refusals and failures included — never an HTTP error the handset cannot show."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Body, Form
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tulpar.kit.session import DbSession
from tulpar.ussd import gateways, service
from tulpar.ussd.gateways import GatewayRequest
from tulpar.ussd.menu import Screen
from tulpar.ussd.texts import Ending

log = structlog.get_logger()

router = APIRouter(prefix="/v1/ussd", tags=["ussd"])


@router.post("/africastalking", response_class=PlainTextResponse)
def africastalking(
    session: DbSession,
    session_id: Annotated[str, Form(alias="sessionId")] = "",
    service_code: Annotated[str, Form(alias="serviceCode")] = "",
    phone_number: Annotated[str, Form(alias="phoneNumber")] = "",
    network_code: Annotated[str, Form(alias="networkCode")] = "",
    text: Annotated[str, Form()] = "",
) -> PlainTextResponse:
    """Africa's Talking convention: ``text`` holds every input so far joined by ``*`` (empty
    when the traveller has just dialled). Answers ``CON …`` (continue) or ``END …`` (close)."""
    request = gateways.africastalking_request(
        {
            "sessionId": session_id,
            "serviceCode": service_code,
            "phoneNumber": phone_number,
            "networkCode": network_code,
            "text": text,
        }
    )
    screen = _answer(session, request, stateful=False)
    return PlainTextResponse(gateways.africastalking_reply(screen))


class JsonUssdRequest(BaseModel):
    session_id: str | None = None
    msisdn: str | None = None
    service_code: str | None = None
    input: str | None = None  # only the newest input; empty or absent on the first request


class JsonUssdReply(BaseModel):
    text: str
    end: bool


@router.post("/json", response_model=JsonUssdReply)
def json_gateway(session: DbSession, body: Annotated[JsonUssdRequest, Body()]) -> JSONResponse:
    """A JSON gateway that sends only the newest input; where the dialogue stands is kept
    here. ``end`` true means the gateway closes the session."""
    request = gateways.json_request(body.model_dump())
    screen = _answer(session, request, stateful=True)
    return JSONResponse(gateways.json_reply(screen))


def _answer(session: Session, request: GatewayRequest | None, *, stateful: bool) -> Screen:
    if request is None:
        return service.refusal(Ending.not_understood)
    try:
        if stateful:
            return service.answer_input(session, request.dial, request.text)
        return service.answer_path(session, request.dial, request.text)
    except Exception:
        # Whatever went wrong, the handset gets a screen and nothing half-done is kept.
        log.exception("ussd.failed", gateway=request.dial.gateway)
        session.rollback()
        return service.refusal(Ending.unavailable)
