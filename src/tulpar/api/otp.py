from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from tulpar.api.schemas.otp import OtpRequest, OtpRequested, OtpVerification, TravellerTokenOut
from tulpar.kit.answer_floor import answer_no_sooner_than
from tulpar.kit.problems import problem
from tulpar.kit.session import DbSession
from tulpar.otp import service
from tulpar.otp.errors import OtpRejectedError

router = APIRouter(prefix="/v1", tags=["verification"])

_PROBLEM: dict[str, object] = {"content": {"application/problem+json": {}}}
_REQUEST_REFUSALS: dict[int | str, dict[str, object]] = {
    422: {**_PROBLEM, "description": "Not an ICCID or phone number (`invalid_card`)"},
    429: {
        **_PROBLEM,
        "description": "`otp_resend_too_soon` (60 s) or `otp_rate_limited` (hourly cap per card"
        " or client address), with `retry_after_seconds`",
    },
}
_VERIFY_REFUSALS: dict[int | str, dict[str, object]] = {
    400: {**_PROBLEM, "description": "Wrong or expired code (`otp_invalid`, `attempts_left`)"},
    422: {**_PROBLEM, "description": "Malformed card number or code"},
    429: {**_PROBLEM, "description": "Five wrong codes (`otp_locked`): request a new code"},
}


# Answers to a code request all take the same time, whether or not the card exists.
OTP_ANSWER_FLOOR = answer_no_sooner_than(service.answer_floor_seconds)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@router.post(
    "/otp",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OtpRequested,
    responses=_REQUEST_REFUSALS,
    dependencies=[OTP_ANSWER_FLOOR],
)
def request_code(body: OtpRequest, request: Request, session: DbSession) -> OtpRequested:
    """Send a 6-digit code by SMS to the card's phone number. The answer is the same whether
    or not the card exists; too frequent requests get 429 with ``retry_after_seconds``."""
    service.request_code(session, body.card, client_address=client_address(request))
    return OtpRequested()


@router.post("/otp/verify", response_model=TravellerTokenOut, responses=_VERIFY_REFUSALS)
def verify_code(
    body: OtpVerification, request: Request, session: DbSession
) -> TravellerTokenOut | JSONResponse:
    """Exchange the code for a 30-minute traveller token scoped to that one card."""
    try:
        verified = service.verify(session, body.card, body.code)
    except OtpRejectedError as error:
        # Answered, not raised: the used attempt must be committed with this request.
        return problem(
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            instance=request.url.path,
            **error.extra,
        )
    return TravellerTokenOut(
        token=verified.token, expires_at=verified.expires_at, card=verified.card_masked
    )
