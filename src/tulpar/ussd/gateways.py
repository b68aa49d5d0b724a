"""Gateway adapters: each turns one gateway's request into a :class:`~tulpar.ussd.service.Dial`
plus its inputs, and a :class:`~tulpar.ussd.menu.Screen` into that gateway's reply. They
translate and nothing else.

- **Africa's Talking** (form POST ``sessionId``, ``serviceCode``, ``phoneNumber``,
  ``networkCode``, ``text`` = every input so far joined by ``*``; reply ``text/plain``
  ``CON …`` or ``END …``).
- **JSON** (``{"session_id", "msisdn", "service_code", "input"}`` with only the newest input;
  reply ``{"text", "end"}``): the dialogue's state is ours to keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tulpar.ussd.menu import Screen
from tulpar.ussd.service import AFRICASTALKING, JSON, Dial

MAX_SESSION_ID = 100
MAX_MSISDN = 20
MAX_SERVICE_CODE = 32
MAX_TEXT = 500  # longer than any dialogue the service accepts; it refuses politely below


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    dial: Dial
    text: str  # AT: every input so far; JSON: the newest input


def africastalking_request(form: Mapping[str, str]) -> GatewayRequest | None:
    """``None`` when the form is not a usable USSD request (missing or oversized fields)."""
    return _request(
        AFRICASTALKING,
        session_id=form.get("sessionId", ""),
        msisdn=form.get("phoneNumber", ""),
        service_code=form.get("serviceCode", ""),
        text=form.get("text", ""),
    )


def africastalking_reply(screen: Screen) -> str:
    return screen.reply


def json_request(body: Mapping[str, object]) -> GatewayRequest | None:
    values = {name: body.get(name) for name in ("session_id", "msisdn", "service_code", "input")}
    if not all(value is None or isinstance(value, str) for value in values.values()):
        return None
    return _request(
        JSON,
        session_id=str(values["session_id"] or ""),
        msisdn=str(values["msisdn"] or ""),
        service_code=str(values["service_code"] or ""),
        text=str(values["input"] or ""),
    )


def json_reply(screen: Screen) -> dict[str, object]:
    return {"text": screen.text, "end": screen.ends}


def _request(
    gateway: str, *, session_id: str, msisdn: str, service_code: str, text: str
) -> GatewayRequest | None:
    session_id, msisdn, text = session_id.strip(), msisdn.strip(), text.strip()
    if not session_id or len(session_id) > MAX_SESSION_ID or not session_id.isprintable():
        return None
    if not msisdn or len(msisdn) > MAX_MSISDN or len(service_code) > MAX_SERVICE_CODE:
        return None
    if len(text) > MAX_TEXT:
        return None
    return GatewayRequest(Dial(gateway, session_id, msisdn, service_code.strip()), text)
