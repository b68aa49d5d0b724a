"""A partner's webhook endpoints, managed by the partner itself through the API: create (the
secret is shown once), list, read, delete, rotate the secret.

Rotation keeps the old secret valid for a grace period (default 24 h, 0 to drop it at once):
meanwhile every webhook is signed with both (two ``v1=`` in ``Tulpar-Signature``), so the
partner can deploy the new secret without losing a delivery. A second rotation during the
grace period ends the first one's: only the secret being replaced stays valid."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth.identity import Caller
from tulpar.config import get_settings
from tulpar.errors import ForbiddenError, InvalidInputError, TulparError
from tulpar.models import WEBHOOK_EVENT_TYPES, PartnerWebhookEndpoint
from tulpar.partner_webhook import repository, urls

MAX_ENDPOINTS = 16
SECRET_PREFIX = "whsec_"
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(hours=72)


class WebhookEndpointNotFoundError(TulparError):
    # Same answer for "no such endpoint" and "another partner's".
    status = 404
    code = "webhook_endpoint_not_found"
    title = "Webhook endpoint not found"


class WebhookEndpointLimitError(TulparError):
    status = 409
    code = "webhook_endpoint_limit_reached"
    title = f"A partner has at most {MAX_ENDPOINTS} webhook endpoints"


class WebhookEventTypeUnknownError(InvalidInputError):
    code = "webhook_event_type_unknown"
    title = "Unknown webhook event type"


class WebhookGraceInvalidError(InvalidInputError):
    code = "webhook_grace_invalid"
    title = f"The grace period is 0 to {int(MAX_GRACE.total_seconds() // 3600)} hours"


@dataclass(frozen=True, slots=True)
class WithSecret:
    """An endpoint and its new secret: the one time the secret is shown."""

    endpoint: PartnerWebhookEndpoint
    secret: str


def _partner_of(caller: Caller) -> int:
    if caller.partner_id is None or not caller.has_scope("partner"):
        raise ForbiddenError("Webhook endpoints are a partner's (an API key with scope partner)")
    return caller.partner_id


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _event_types(event_types: Sequence[str] | None) -> list[str]:
    if not event_types:
        return list(WEBHOOK_EVENT_TYPES)
    unknown = sorted(set(event_types) - set(WEBHOOK_EVENT_TYPES))
    if unknown:
        raise WebhookEventTypeUnknownError(
            f"Unknown event types: {', '.join(unknown)}; known: {', '.join(WEBHOOK_EVENT_TYPES)}"
        )
    return [name for name in WEBHOOK_EVENT_TYPES if name in set(event_types)]


def create(
    session: Session,
    caller: Caller,
    *,
    url: str,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
) -> WithSecret:
    """Register ``url`` for the caller's events (all types when none are named)."""
    partner_id = _partner_of(caller)
    checked_url = urls.validate(url, production=get_settings().is_production)
    types = _event_types(event_types)
    if len(repository.live_endpoints(session, partner_id)) >= MAX_ENDPOINTS:
        raise WebhookEndpointLimitError()
    secret = _new_secret()
    endpoint = PartnerWebhookEndpoint(
        partner_id=partner_id,
        url=checked_url,
        description=(description or "").strip() or None,
        event_types=types,
        secret=secret,
        created_at=clock.now(),
    )
    repository.add(session, endpoint)
    return WithSecret(endpoint, secret)


def list_for(session: Session, caller: Caller) -> list[PartnerWebhookEndpoint]:
    return repository.live_endpoints(session, _partner_of(caller))


def get(session: Session, caller: Caller, endpoint_id: int) -> PartnerWebhookEndpoint:
    partner_id = _partner_of(caller)
    endpoint = repository.endpoint(session, endpoint_id)
    if endpoint is None or endpoint.partner_id != partner_id or endpoint.deleted_at is not None:
        raise WebhookEndpointNotFoundError()
    return endpoint


def delete(session: Session, caller: Caller, endpoint_id: int) -> None:
    """Stop sending to the endpoint; what was still pending for it is cancelled."""
    endpoint = get(session, caller, endpoint_id)
    endpoint.deleted_at = clock.now()
    session.flush()
    repository.cancel_pending(session, endpoint.id)


def rotate_secret(
    session: Session, caller: Caller, endpoint_id: int, *, grace: timedelta = DEFAULT_GRACE
) -> WithSecret:
    """A new secret signs from now on; the replaced one also signs for ``grace``."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise WebhookGraceInvalidError()
    endpoint = get(session, caller, endpoint_id)
    now = clock.now()
    secret = _new_secret()
    endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else None
    endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    endpoint.secret = secret
    endpoint.secret_rotated_at = now
    session.flush()
    return WithSecret(endpoint, secret)


def signing_secrets(endpoint: PartnerWebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign a webhook sent now: the current one, then the replaced one
    while its grace period lasts."""
    live = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        live.append(endpoint.previous_secret)
    return live


def secret_hint(endpoint: PartnerWebhookEndpoint) -> str:
    """Enough of the secret to tell which one is deployed, never enough to sign."""
    return endpoint.secret[: len(SECRET_PREFIX)] + "…" + endpoint.secret[-4:]
