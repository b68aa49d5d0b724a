"""Page 1, start: the card number, then the SMS code. A verified code earns the session
cookie (the traveller token, HttpOnly) that every other page reads."""

from __future__ import annotations

import base64
import json
import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from tulpar import clock
from tulpar.auth import tokens
from tulpar.errors import TulparError
from tulpar.identifiers import parse_card_reference
from tulpar.kit.answer_floor import answer_no_sooner_than
from tulpar.kit.credentials import SESSION_COOKIE
from tulpar.kit.session import DbSession
from tulpar.otp import service as otp_service
from tulpar.otp.errors import OtpLockedError, OtpRejectedError
from tulpar.web.traveller import messages
from tulpar.web.traveller.pages import (
    PageRoute,
    check_csrf,
    clear_session,
    language_of,
    redirect,
    render,
    set_cookie,
    set_session,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# Asking for a code answers in the same time whether or not the card exists.
CODE_ANSWER_FLOOR = answer_no_sooner_than(otp_service.answer_floor_seconds)

PENDING_COOKIE = "tulpar_otp"  # the card a code was asked for, and when
PENDING_SECONDS = 15 * 60
RESEND_COOLDOWN_SECONDS = int(otp_service.RESEND_COOLDOWN.total_seconds())
CODE_LENGTH = 6

Field = Annotated[str, Form(max_length=64)]
CsrfField = Annotated[str, Form(alias="csrf", max_length=64)]


def _client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _pending(request: Request) -> tuple[str, float] | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=="))
        return str(value["card"]), float(value["sent"])
    except (ValueError, KeyError, TypeError):
        return None


def _remember_pending(
    response: Response, request: Request, card: str, *, sent_ago: int = 0
) -> None:
    value = json.dumps({"card": card, "sent": clock.now().timestamp() - sent_ago}).encode()
    encoded = base64.urlsafe_b64encode(value).decode().rstrip("=")
    set_cookie(response, request, PENDING_COOKIE, encoded, PENDING_SECONDS)


def _cooldown_left(sent_at: float) -> int:
    return max(0, math.ceil(sent_at + RESEND_COOLDOWN_SECONDS - clock.now().timestamp()))


@router.get("/")
def start_page(request: Request) -> Response:
    ended = request.query_params.get("ended") == "1"
    return render(request, "start.html", card="", error=None, ended=ended)


@router.post("/code", dependencies=[CODE_ANSWER_FLOOR])
def ask_for_code(
    request: Request, session: DbSession, card: Field = "", csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    try:
        reference = parse_card_reference(card).value
        otp_service.request_code(session, reference, client_address=_client_address(request))
    except TulparError as error:
        if error.code == "otp_resend_too_soon":
            # A code is on its way already (asked from another tab or browser): enter it.
            response = redirect(request, "/code")
            wait = int(error.extra.get("retry_after_seconds") or 0)
            _remember_pending(response, request, reference, sent_ago=RESEND_COOLDOWN_SECONDS - wait)
            return response
        status = error.status if error.status in (404, 422, 429) else 400
        language = language_of(request)
        return render(
            request,
            "start.html",
            status_code=status,
            card=card,
            error=messages.for_error(error, language),
        )
    response = redirect(request, "/code")
    _remember_pending(response, request, reference)
    return response


def _code_page(
    request: Request, *, card: str, sent_at: float, error: str | None, status_code: int = 200
) -> Response:
    return render(
        request,
        "code.html",
        status_code=status_code,
        card_shown=parse_card_reference(card).masked(),
        cooldown=_cooldown_left(sent_at),
        error=error,
        code_length=CODE_LENGTH,
    )


@router.get("/code")
def code_page(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return redirect(request, "/")
    card, sent_at = pending
    return _code_page(request, card=card, sent_at=sent_at, error=None)


@router.post("/code/verify")
def verify_code(
    request: Request, session: DbSession, code: Field = "", csrf: CsrfField = ""
) -> Response:
    check_csrf(request, csrf)
    pending = _pending(request)
    if pending is None:
        return redirect(request, "/")
    card, sent_at = pending
    typed = "".join(code.split())
    try:
        if len(typed) != CODE_LENGTH or not typed.isdigit():
            raise OtpRejectedError("The code has 6 digits")
        verified = otp_service.verify(session, card, typed)
    except (OtpRejectedError, OtpLockedError) as error:
        # Answered, not raised: the attempt the service counted is committed with the page.
        text = messages.for_error(error, language_of(request))
        return _code_page(request, card=card, sent_at=sent_at, error=text, status_code=error.status)
    response = redirect(request, "/card")
    lifetime = max(60, int((verified.expires_at - clock.now()).total_seconds()))
    set_session(response, request, verified.token, max_age=lifetime)
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@router.post("/code/resend", dependencies=[CODE_ANSWER_FLOOR])
def resend_code(request: Request, session: DbSession, csrf: CsrfField = "") -> Response:
    check_csrf(request, csrf)
    pending = _pending(request)
    if pending is None:
        return redirect(request, "/")
    card, sent_at = pending
    try:
        otp_service.request_code(session, card, client_address=_client_address(request))
    except TulparError as error:
        text = messages.for_error(error, language_of(request))
        status = error.status if error.status == 429 else 400
        return _code_page(request, card=card, sent_at=sent_at, error=text, status_code=status)
    response = redirect(request, "/code")
    _remember_pending(response, request, card)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, csrf: CsrfField = "") -> Response:
    check_csrf(request, csrf)
    # The token ends on the server too: a copied cookie is worth nothing after signing out.
    tokens.revoke(session, request.cookies.get(SESSION_COOKIE))
    response = redirect(request, "/")
    clear_session(response, request)
    return response
