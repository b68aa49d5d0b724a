"""``/v1/webhook-endpoints``: a partner registers the URLs that receive its webhooks, lists
and deletes them, and rotates their secrets. The secret is in the answer only when it is
made (create, rotate). The ``webhooks`` section of the OpenAPI document describes what is
sent (:func:`install` adds both)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tulpar.api.dependencies import PartnerCaller
from tulpar.idempotency import service as idempotency
from tulpar.kit.session import DbSession
from tulpar.models import WEBHOOK_EVENT_TYPES, PartnerWebhookEndpoint
from tulpar.partner_webhook import endpoints, payloads, signing

router = APIRouter(prefix="/v1", tags=["webhook endpoints"])

EventType = Literal[
    "order.completed",
    "order.refunded",
    "order.provisioning_failed",
    "card.data_threshold",
    "card.expiring",
]
assert set(EventType.__args__) == set(WEBHOOK_EVENT_TYPES)  # type: ignore[attr-defined]

EndpointId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Required; kept at least 24 h")
]

_PROBLEM: dict[str, object] = {"content": {"application/problem+json": {}}}
_AUTH: dict[int | str, dict[str, object]] = {
    401: {**_PROBLEM, "description": "Missing or invalid key (`unauthorized`)"},
    403: {**_PROBLEM, "description": "A key without the `partner` scope (`forbidden`)"},
    429: {**_PROBLEM, "description": "The partner's own limit (`rate_limited`)"},
}
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {
        **_PROBLEM,
        "description": "No such endpoint, deleted, or another partner's"
        " (`webhook_endpoint_not_found`)",
    },
}
_IDEMPOTENCY: dict[int | str, dict[str, object]] = {
    400: {**_PROBLEM, "description": "No `Idempotency-Key` header (`idempotency_key_required`)"},
    409: {
        **_PROBLEM,
        "description": "`idempotency_key_reused` (same key, another request), or"
        " `webhook_endpoint_limit_reached` (16 live endpoints)",
    },
}


class WebhookEndpointCreate(BaseModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="https in production; outside it, http to loopback too",
        examples=["https://partner.example/tulpar/webhooks"],
    )
    event_types: list[EventType] | None = Field(
        default=None, max_length=5, description="What to send (omit: every type)"
    )
    description: str | None = Field(default=None, max_length=200)


class SecretRotation(BaseModel):
    grace_hours: int = Field(
        default=24,
        ge=0,
        le=72,
        description="How long the replaced secret still signs too (0: not at all)",
    )


class WebhookEndpointOut(BaseModel):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    secret_hint: str = Field(description="The current secret's start and end, to tell it apart")
    previous_secret_valid_until: datetime | None = Field(
        description="While set, webhooks are signed with the replaced secret too"
    )
    created_at: datetime
    secret_rotated_at: datetime | None


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="Shown this once: keep it to verify `Tulpar-Signature`")


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointOut]


def _out(endpoint: PartnerWebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "secret_hint": endpoints.secret_hint(endpoint),
        "previous_secret_valid_until": endpoint.previous_secret_expires_at,
        "created_at": endpoint.created_at,
        "secret_rotated_at": endpoint.secret_rotated_at,
    }


def _with_secret(made: endpoints.WithSecret) -> dict[str, Any]:
    shown = WebhookEndpointWithSecret(**_out(made.endpoint), secret=made.secret)
    return shown.model_dump(mode="json")


def _replayed(stored: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(
        stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
    )


@router.get("/webhook-endpoints", response_model=WebhookEndpointList, responses=_AUTH)
def list_endpoints(session: DbSession, caller: PartnerCaller) -> WebhookEndpointList:
    """This partner's live endpoints (at most 16), oldest first."""
    found = endpoints.list_for(session, caller)
    return WebhookEndpointList(data=[WebhookEndpointOut(**_out(e)) for e in found])


@router.post(
    "/webhook-endpoints",
    status_code=201,
    response_model=WebhookEndpointWithSecret,
    responses={
        **_AUTH,
        **_IDEMPOTENCY,
        422: {
            **_PROBLEM,
            "description": "`webhook_url_invalid` (not https, credentials in it, http to a"
            " non-loopback host) or `invalid_input`",
        },
    },
)
def create_endpoint(
    body: WebhookEndpointCreate,
    session: DbSession,
    caller: PartnerCaller,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Register a URL for this partner's events. The answer carries the signing secret,
    the only time it is shown. Same ``Idempotency-Key`` and body: the first answer again."""
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint(
            "POST", "/v1/webhook-endpoints", body.model_dump(mode="json")
        ),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    made = endpoints.create(
        session,
        caller,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
    )
    answer = _with_secret(made)
    idempotency.store_response(session, claim, status=201, body=answer)
    return JSONResponse(
        answer, status_code=201, headers={"Location": f"/v1/webhook-endpoints/{made.endpoint.id}"}
    )


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=WebhookEndpointOut,
    responses={**_AUTH, **_NOT_FOUND},
)
def get_endpoint(
    endpoint_id: EndpointId, session: DbSession, caller: PartnerCaller
) -> WebhookEndpointOut:
    return WebhookEndpointOut(**_out(endpoints.get(session, caller, endpoint_id)))


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    response_class=Response,
    responses={**_AUTH, **_NOT_FOUND},
)
def delete_endpoint(endpoint_id: EndpointId, session: DbSession, caller: PartnerCaller) -> Response:
    """Stop sending to this endpoint; deliveries still pending for it are cancelled."""
    endpoints.delete(session, caller, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=WebhookEndpointWithSecret,
    responses={**_AUTH, **_NOT_FOUND, **_IDEMPOTENCY},
)
def rotate_secret(
    endpoint_id: EndpointId,
    body: SecretRotation,
    session: DbSession,
    caller: PartnerCaller,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A new secret, shown once. For ``grace_hours`` (default 24) every webhook is signed
    with the new and the replaced secret (two ``v1=`` values), so a receiver can switch
    without missing a delivery; after that only the new one signs."""
    claim = idempotency.claim(
        session,
        caller=caller.key,
        key=idempotency_key,
        fingerprint=idempotency.request_fingerprint(
            "POST", f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", body.model_dump()
        ),
    )
    if claim.replay is not None:
        return _replayed(claim.replay)
    made = endpoints.rotate_secret(
        session, caller, endpoint_id, grace=timedelta(hours=body.grace_hours)
    )
    answer = _with_secret(made)
    idempotency.store_response(session, claim, status=200, body=answer)
    return JSONResponse(answer, status_code=200)


_WEBHOOK_DOC = (
    "Sent as ``POST`` to each of the partner's endpoints that takes the type, with the"
    f" ``{signing.HEADER}`` header ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret,"
    ' "t.body")>`` (one ``v1`` per live secret during a rotation; reject when ``t`` is more'
    " than 300 s away). Answer any 2xx within 10 s; anything else is retried with"
    " exponential backoff (30 s doubling, at most 6 h apart) for 3 days. Events of one card"
    " arrive in order. Dedupe on ``id``: delivery is at least once, and a replay keeps it."
)


def _document_webhook(app: FastAPI, name: str, body_model: type[BaseModel]) -> None:
    def receiver(
        body: body_model,  # type: ignore[valid-type]
        signature: Annotated[str, Header(alias=signing.HEADER)],
    ) -> None:
        """Documentation only: what a partner's endpoint receives."""

    # The module's annotations are strings (postponed); FastAPI must see the model itself.
    receiver.__annotations__["body"] = body_model
    app.webhooks.post(
        name,
        summary=name,
        description=_WEBHOOK_DOC,
        status_code=200,
        responses={200: {"description": "Received (any 2xx)"}},
    )(receiver)


def install(app: FastAPI) -> None:
    """Mount the endpoints and describe the webhooks in the OpenAPI document."""
    app.include_router(router)
    for name, body_model in payloads.BODIES.items():
        _document_webhook(app, name, body_model)
