"""Sending one (endpoint, card)'s deliveries, oldest first: the intent is read in one
transaction, the POST is made with none open (a pooled client, explicit timeouts), and its
answer recorded in a second one. A 2xx delivers; anything else (or no answer) is retried
after an exponential backoff (30 s doubling, at most 6 h apart) until 3 days after the
delivery was created, then the delivery has failed and the next one of the card goes.

Until the oldest pending delivery of a pair is delivered or given up, the later ones wait:
a partner never sees a card's events out of order (per endpoint)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tulpar import clock
from tulpar.db import transaction
from tulpar.models import PartnerWebhookAttempt, PartnerWebhookEvent, WebhookDeliveryState
from tulpar.partner_webhook import endpoints, queue, repository, signing

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
RETRY_WINDOW = timedelta(days=3)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
EXCERPT_CHARS = 1000
_READ_AT_MOST = 4096  # bytes of a response body read, whatever its size
USER_AGENT = "Tulpar-Webhooks/1"


@lru_cache(maxsize=1)
def pooled_client() -> httpx.Client:
    """One client per process, its connections kept alive across deliveries. Redirects are
    not followed: the registered URL is the only one that gets the payload."""
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        headers={"User-Agent": USER_AGENT},
    )


def backoff(failures: int) -> timedelta:
    """The wait after the ``failures``-th failed attempt."""
    wait: timedelta = FIRST_RETRY * (2 ** max(failures - 1, 0))
    return min(wait, LONGEST_WAIT)


def body_of(event: PartnerWebhookEvent) -> bytes:
    """The JSON a partner receives for ``event`` — the same bytes on every attempt and
    replay (only the signature's timestamp changes)."""
    envelope = {
        "id": event.public_id,
        "type": event.type,
        "created_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": event.data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Outgoing:
    delivery_id: int
    endpoint_id: int
    card_id: int
    number: int  # of this attempt, from 1
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    excerpt: str | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def prepare(
    session: Session, endpoint_id: int, card_id: int, *, now: datetime
) -> Outgoing | datetime | None:
    """The next POST of the pair: the oldest pending delivery if due now; when it is not
    due yet, the moment it is; None when nothing is pending."""
    delivery = repository.oldest_pending(session, endpoint_id=endpoint_id, card_id=card_id)
    if delivery is None:
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return delivery.next_attempt_at
    endpoint = repository.endpoint(session, endpoint_id)
    event = repository.event(session, delivery.event_id)
    assert endpoint is not None  # foreign keys
    assert event is not None
    body = body_of(event)
    number = repository.next_attempt_number(session, delivery.id)
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(
            endpoints.signing_secrets(endpoint, now=now), body, timestamp=int(now.timestamp())
        ),
        "Tulpar-Event-Id": event.public_id,
        "Tulpar-Event-Type": event.type,
        "Tulpar-Delivery-Attempt": str(number),
    }
    return Outgoing(delivery.id, endpoint_id, card_id, number, endpoint.url, body, headers)


def post(client: httpx.Client, outgoing: Outgoing, *, started_at: datetime) -> Answer:
    """POST with no transaction open; never raises for what the receiver does."""
    began = time.monotonic()
    try:
        with client.stream(
            "POST", outgoing.url, content=outgoing.body, headers=outgoing.headers
        ) as response:
            read = b""
            for chunk in response.iter_bytes():
                read += chunk
                if len(read) >= _READ_AT_MOST:
                    break
        excerpt = read.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        return Answer(started_at, _ms(began), response.status_code, excerpt, None)
    except httpx.HTTPError as error:
        reason = f"{type(error).__name__}: {error}"[:300]
        return Answer(started_at, _ms(began), None, None, reason)


def _ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)


def record(session: Session, outgoing: Outgoing, answer: Answer, *, now: datetime) -> bool:
    """Record the attempt and its consequence; True when the pair may go on to its next
    delivery (this one delivered or given up), False when it waits for a retry."""
    delivery = repository.oldest_pending(
        session, endpoint_id=outgoing.endpoint_id, card_id=outgoing.card_id
    )
    if delivery is None or delivery.id != outgoing.delivery_id:
        return True  # cancelled meanwhile (endpoint deleted): nothing to record against
    delivery.attempts += 1
    next_at: datetime | None = None
    if answer.delivered:
        delivery.state = WebhookDeliveryState.delivered
        delivery.delivered_at = now
    else:
        next_at = now + backoff(delivery.attempts)
        if next_at > delivery.created_at + RETRY_WINDOW:
            delivery.state, next_at = WebhookDeliveryState.failed, None
    delivery.next_attempt_at = next_at
    repository.add(
        session,
        PartnerWebhookAttempt(
            delivery_id=delivery.id,
            number=outgoing.number,
            started_at=answer.started_at,
            duration_ms=answer.duration_ms,
            status_code=answer.status_code,
            response_excerpt=answer.excerpt,
            error=answer.error,
            next_attempt_at=next_at,
        ),
    )
    if next_at is None:
        return True
    queue.deliver_after(session, outgoing.endpoint_id, outgoing.card_id, next_at - now)
    return False


def drain(
    endpoint_id: int,
    card_id: int,
    *,
    client: httpx.Client,
    factory: sessionmaker[Session] | None = None,
    limit: int = 100,
) -> int:
    """Send the pair's due deliveries in order until one must wait (its retry is queued) or
    none is left; returns how many attempts were made. Run under the pair's job lock."""
    made = 0
    for _ in range(limit):
        with transaction(factory) as session:
            step = prepare(session, endpoint_id, card_id, now=clock.now())
            if isinstance(step, datetime):
                queue.deliver_after(session, endpoint_id, card_id, step - clock.now())
        if not isinstance(step, Outgoing):
            return made
        answer = post(client, step, started_at=clock.now())
        made += 1
        with transaction(factory) as session:
            go_on = record(session, step, answer, now=clock.now())
        if not go_on:
            return made
    # More than ``limit`` in a row: the rest in a job of their own.
    with transaction(factory) as session:
        queue.deliver_after(session, endpoint_id, card_id, timedelta(0))
    return made
