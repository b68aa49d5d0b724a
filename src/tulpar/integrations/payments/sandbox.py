"""The built-in ``sandbox`` provider: a hosted pay page served by Tulpar where the payer
clicks Pay or Decline, and signed webhooks back to ``/webhooks/sandbox``, delivered over
HTTP by a job with configurable delay, duplicates and reordering.

It stands for an outside system, so it keeps its own table (``sandbox_charges``) and opens
its own short transactions; Tulpar's side only sees it through this adapter and webhooks."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from tulpar import clock
from tulpar.db import transaction
from tulpar.integrations import signature
from tulpar.integrations.payments.protocol import (
    EventKind,
    PaymentRequest,
    ProviderError,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    ProviderStatus,
    RefundRequest,
    WebhookSignatureError,
)
from tulpar.models import SandboxCharge, SandboxDecision

SIGNATURE_HEADER = "sandbox-signature"
PAY_PAGE_PATH = "/pay/sandbox/{reference}"
WEBHOOK_PATH = "/webhooks/sandbox"

# A sandbox refund is named after its charge: ``sbx_<hash>`` → ``sbx_re_<hash>``.
_CHARGE_PREFIX, _REFUND_PREFIX = "sbx_", "sbx_re_"

_EVENT_KINDS = {
    "payment.processing": EventKind.payment_processing,
    "payment.succeeded": EventKind.payment_succeeded,
    "payment.failed": EventKind.payment_failed,
}


def reference_for(idempotency_key: str) -> str:
    """The same key always names the same sandbox payment (so creating is idempotent)."""
    return _CHARGE_PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        *,
        base_url: str,
        webhook_secret: str,
        session_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = webhook_secret
        self._session_factory = session_factory

    def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        reference = reference_for(request.idempotency_key)
        url = self._base_url + PAY_PAGE_PATH.format(reference=reference)
        return ProviderPayment(
            reference=reference,
            status=ProviderStatus.pending,
            next_action={"type": "redirect_to_url", "url": url},
        )

    def get_payment(self, reference: str) -> ProviderPayment:
        with transaction(self._session_factory) as session:
            charge = session.get(SandboxCharge, reference)
        if charge is None:
            return ProviderPayment(reference=reference, status=ProviderStatus.pending)
        if charge.decision is SandboxDecision.paid:
            return ProviderPayment(reference=reference, status=ProviderStatus.succeeded)
        return ProviderPayment(
            reference=reference,
            status=ProviderStatus.failed,
            failure_code="card_declined",
            failure_message="The payer declined on the sandbox page",
        )

    def refund(self, request: RefundRequest) -> ProviderRefund:
        with transaction(self._session_factory) as session:
            charge = session.execute(
                select(SandboxCharge)
                .where(SandboxCharge.reference == request.payment_reference)
                .with_for_update()
            ).scalar_one_or_none()
            if charge is None or charge.decision is not SandboxDecision.paid:
                return ProviderRefund(
                    reference="", succeeded=False, failure_message="nothing was paid"
                )
            if charge.refunded_at is None:
                session.execute(
                    update(SandboxCharge)
                    .where(SandboxCharge.reference == charge.reference)
                    .values(refunded_at=_now())
                )
        charge_hash = charge.reference.removeprefix(_CHARGE_PREFIX)
        return ProviderRefund(reference=_REFUND_PREFIX + charge_hash, succeeded=True)

    def get_refund(self, reference: str) -> ProviderRefund:
        """Sandbox refunds settle at once; this tells whether one was made."""
        charge_reference = _CHARGE_PREFIX + reference.removeprefix(_REFUND_PREFIX)
        with transaction(self._session_factory) as session:
            refunded_at = session.execute(
                select(SandboxCharge.refunded_at).where(SandboxCharge.reference == charge_reference)
            ).scalar_one_or_none()
        if not reference.startswith(_REFUND_PREFIX) or refunded_at is None:
            return ProviderRefund(
                reference=reference, succeeded=False, failure_message="no such refund"
            )
        return ProviderRefund(reference=reference, succeeded=True)

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        try:
            signature.verify(
                self._secret, headers.get(SIGNATURE_HEADER), body, now=_now().timestamp()
            )
        except signature.SignatureError as error:
            raise WebhookSignatureError(str(error)) from error
        payload: dict[str, Any] = json.loads(body)
        return payload

    def interpret(self, payload: Mapping[str, Any]) -> ProviderEvent:
        event_type = str(payload.get("type", ""))
        data: Mapping[str, Any] = payload.get("data") or {}
        return ProviderEvent(
            event_id=str(payload["id"]),
            kind=_EVENT_KINDS.get(event_type, EventKind.ignored),
            raw_type=event_type,
            payment_reference=data.get("reference"),
            payment_key=data.get("key"),
            failure_code=data.get("failure_code"),
            failure_message=data.get("failure_message"),
        )


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How the sandbox misbehaves, to exercise the webhook inbox."""

    delay_seconds: int = 0
    duplicates: int = 0  # extra copies of every event
    reorder: bool = False  # the final event is sent before the "processing" one


@dataclass(frozen=True, slots=True)
class Delivery:
    """Events posted one after another, in this order, by one delivery job."""

    events: list[dict[str, Any]]
    delay_seconds: int


def record_decision(
    session: Session,
    *,
    reference: str,
    key: str,
    decision: SandboxDecision,
    amount_minor: int,
    currency: str,
    options: DeliveryOptions,
) -> list[Delivery]:
    """The payer's click. The first decision wins; a second click schedules nothing. Its
    events ("processing", then the final one) go out in one delivery, as a provider posts
    them one after another."""
    now = _now()
    inserted = session.execute(
        insert(SandboxCharge)
        .values(
            reference=reference,
            decision=decision,
            amount_minor=amount_minor,
            currency=currency,
            decided_at=now,
        )
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(SandboxCharge.reference)
    ).scalar_one_or_none()
    if inserted is None:
        return []
    data: dict[str, Any] = {
        "reference": reference,
        "key": key,
        "amount_minor": amount_minor,
        "currency": currency,
    }
    if decision is SandboxDecision.declined:
        data = {**data, "failure_code": "card_declined", "failure_message": "Declined by payer"}
    final = "payment.succeeded" if decision is SandboxDecision.paid else "payment.failed"
    events = [_event("payment.processing", data, now), _event(final, data, now)]
    if options.reorder:
        events.reverse()
    # One delivery per copy, each with every event in order; copies repeat the same event
    # ids, and run side by side as a provider's retries may.
    return [Delivery(events, options.delay_seconds) for _ in range(options.duplicates + 1)]


def charge_decision(session: Session, reference: str) -> SandboxDecision | None:
    charge = session.get(SandboxCharge, reference)
    return None if charge is None else charge.decision


def _event(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": "evt_sbx_" + secrets.token_hex(12),
        "type": event_type,
        "created": int(now.timestamp()),
        "data": data,
    }


def deliver(
    event: Mapping[str, Any], *, url: str, secret: str, timeout_seconds: float = 5.0
) -> int:
    """POST one signed event; returns the HTTP status. Raises :class:`ProviderError` when
    Tulpar did not take it (so the job retries)."""
    body = json.dumps(event, separators=(",", ":")).encode()
    header = signature.sign(secret, body, timestamp=int(_now().timestamp()))
    try:
        response = _delivery_client().post(
            url,
            content=body,
            headers={"content-type": "application/json", "Sandbox-Signature": header},
            timeout=timeout_seconds,
        )
    except httpx.HTTPError as error:
        raise ProviderError(f"webhook delivery failed: {error}") from error
    if response.status_code >= 300:
        raise ProviderError(f"webhook delivery answered {response.status_code}")
    return response.status_code


# One client per process, shared by every job thread (httpx clients are thread-safe): a new
# client per delivery built a TLS context and a connection each time, most of a worker's CPU.
_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _delivery_client() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=20)
            )
        return _client


def close_delivery_client() -> None:
    """Close the shared delivery client (worker shutdown, tests); the next delivery opens one."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def _forget_client_in_child() -> None:
    # A forked child must not share the parent's sockets; it opens its own client.
    global _client, _client_lock
    _client, _client_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_client_in_child)


def _now() -> datetime:
    return clock.now()
