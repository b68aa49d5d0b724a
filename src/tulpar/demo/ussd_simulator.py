"""``/dev/ussd`` (demo mode only): a phone-like page to dial ``*100#`` as one of the demo cards
and walk the menu. Each step goes through the real Africa's Talking endpoint, called
in-process with the form a gateway would send, so what the page shows is what a handset
would. Plain HTML forms: it works without JavaScript."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tulpar.demo.seed import DEMO_CARDS
from tulpar.ussd.screens import size
from tulpar.ussd.settings import get_ussd_settings

router = APIRouter(tags=["development"], include_in_schema=False)

GATEWAY_PATH = "/v1/ussd/africastalking"
DEMO_NETWORK_CODE = "40101"  # a Kazakh mobile network code (Beeline KZ)

_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "pages"),
    autoescape=select_autoescape(default=True),
)


@router.get("/dev/ussd", response_class=HTMLResponse)
def simulator(phone: str = "") -> HTMLResponse:
    return _render(phone=phone or DEMO_CARDS[0].msisdn)


@router.post("/dev/ussd", response_class=HTMLResponse)
async def simulator_step(
    request: Request,
    phone: Annotated[str, Form(max_length=20)],
    action: Annotated[str, Form()] = "dial",
    session_id: Annotated[str, Form(max_length=100)] = "",
    path: Annotated[str, Form(max_length=500)] = "",
    entry: Annotated[str, Form(max_length=50)] = "",
) -> HTMLResponse:
    """``dial`` opens a new session (``text`` empty); ``send`` adds ``entry`` to the inputs so
    far, as a gateway does; ``hangup`` forgets the session on this page."""
    if action == "hangup":
        return _render(phone=phone)
    if action == "dial" or not session_id:
        session_id, text = f"sim-{uuid.uuid4().hex}", ""
    else:
        text = f"{path}*{entry.strip()}" if path else entry.strip()
    form = {
        "sessionId": session_id,
        "serviceCode": get_ussd_settings().primary_code,
        "phoneNumber": phone.strip(),
        "networkCode": DEMO_NETWORK_CODE,
        "text": text,
    }
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tulpar.internal") as gateway:
        answer = await gateway.post(GATEWAY_PATH, data=form)
    reply = answer.text
    return _render(phone=phone, session_id=session_id, path=text, reply=reply)


def _render(
    *, phone: str, session_id: str = "", path: str = "", reply: str | None = None
) -> HTMLResponse:
    ended = reply is None or not reply.startswith("CON ")
    encoding, units, limit = size(reply) if reply is not None else ("", 0, 0)
    page = _pages.get_template("ussd_simulator.html").render(
        cards=DEMO_CARDS,
        phone=phone,
        service_code=get_ussd_settings().primary_code,
        session_id="" if ended else session_id,
        path=path,
        reply=reply,
        screen=None if reply is None else reply[4:],
        ended=ended,
        encoding=encoding,
        units=units,
        limit=limit,
    )
    return HTMLResponse(page)
