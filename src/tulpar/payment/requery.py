"""Payments stuck in an unknown state (no webhook, or the start call failed) are asked
about again: claim in one transaction, call the provider with none open, record in another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import transaction
from tulpar.integrations.payments.protocol import ProviderError, ProviderPayment
from tulpar.integrations.payments.registry import provider_for
from tulpar.payment import repository
from tulpar.payment import service as payment_service

BATCH = 100
GIVE_UP_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Stuck:
    payment_id: int
    provider: str
    reference: str | None


def run(
    *, now: datetime, quiet_for: timedelta, factory: sessionmaker[Session] | None = None
) -> dict[str, int]:
    with transaction(factory) as session:
        stuck = [
            _Stuck(p.id, p.provider.value, p.provider_reference)
            for p in repository.claim_stuck(
                session,
                now=now,
                quiet_for=quiet_for,
                created_after=now - GIVE_UP_AFTER,
                limit=BATCH,
            )
        ]
        for item in stuck:
            repository.touch(session, item.payment_id, now=now)
    counts = {"asked": 0, "started": 0, "unreachable": 0}
    for item in stuck:
        try:
            if item.reference is None:
                _start(item, factory)
                counts["started"] += 1
            else:
                answer = provider_for(item.provider).get_payment(item.reference)
                _record(item, answer, factory)
                counts["asked"] += 1
        except ProviderError:
            counts["unreachable"] += 1
    return counts


def _start(item: _Stuck, factory: sessionmaker[Session] | None) -> None:
    with transaction(factory) as session:
        pending = payment_service.provider_request(session, item.payment_id)
    if pending is None:
        return
    outcome = payment_service.call_provider(pending.request, pending.provider)
    with transaction(factory) as session:
        payment_service.record_start(session, item.payment_id, outcome)


def _record(item: _Stuck, answer: ProviderPayment, factory: sessionmaker[Session] | None) -> None:
    with transaction(factory) as session:
        payment_service.apply_status(session, item.payment_id, answer, source="requery")
