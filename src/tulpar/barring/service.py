"""Barring a card's service at the carrier when it runs out of data, restoring it on renewal.

The database records the intent (a :class:`ServiceBar` row) and enqueues a job in the same
transaction; the job calls the carrier after commit, idempotent on ``bar-<id>`` /
``restore-<id>``. Both jobs of a card share a procrastinate lock, so they run in the order they
were enqueued: a restore never overtakes the bar it lifts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.barring import repository
from tulpar.errors import TulparError
from tulpar.integrations.carrier.protocol import CarrierResponse, CarrierStatus
from tulpar.jobs import defer_in_transaction
from tulpar.models import ServiceBar

OUT_OF_DATA = "data allowance used up"


class CarrierRefusedError(TulparError):
    """The carrier refused for now; the job raises it to be retried."""

    status = 502
    code = "carrier_refused"
    title = "The carrier refused the request"


@dataclass(frozen=True, slots=True)
class CarrierCall:
    bar_id: int
    reference: str
    iccid: str
    reason: str


def _job_lock(card_id: int) -> str:
    return f"carrier-card-{card_id}"


def bar_cards_without_data(
    session: Session, card_ids: Sequence[int], *, now: datetime
) -> list[int]:
    """Bar each of ``card_ids`` that has no bundle with data left at ``now`` and no open bar;
    enqueues ``carrier.bar_service`` for each. Returns the new bars' ids."""
    if not card_ids:
        return []
    opened = repository.bar_without_data(session, card_ids, reason=OUT_OF_DATA, now=now)
    for bar_id, card_id in opened:
        defer_in_transaction(session, "carrier.bar_service", lock=_job_lock(card_id), bar_id=bar_id)
    return [bar_id for bar_id, _ in opened]


def lift_after_renewal(session: Session, card_id: int) -> list[int]:
    """A plan was applied: lift the card's open bar and enqueue ``carrier.restore_service``."""
    lifted = repository.lift_open(session, card_id, now=clock.now())
    for bar_id in lifted:
        defer_in_transaction(
            session, "carrier.restore_service", lock=_job_lock(card_id), bar_id=bar_id
        )
    return lifted


def open_bar(session: Session, card_id: int) -> ServiceBar | None:
    return repository.open_for_card(session, card_id)


def bar_call(session: Session, bar_id: int) -> CarrierCall | None:
    """What to send for a bar, or None when there is nothing to do (answered or lifted)."""
    found = repository.get_with_card(session, bar_id)
    if found is None:
        return None
    bar, card = found
    if bar.bar_confirmed_at is not None or bar.lifted_at is not None:
        return None
    return CarrierCall(bar.id, f"bar-{bar.id}", card.iccid, bar.reason)


def restore_call(session: Session, bar_id: int) -> CarrierCall | None:
    """What to send to restore service, or None when it was already confirmed."""
    found = repository.get_with_card(session, bar_id)
    if found is None:
        return None
    bar, card = found
    if bar.lifted_at is None or bar.restore_confirmed_at is not None:
        return None
    return CarrierCall(bar.id, f"restore-{bar.id}", card.iccid, "renewed")


def record_answer(
    session: Session, bar_id: int, response: CarrierResponse, *, restoring: bool
) -> None:
    """Store the carrier's answer. A temporary refusal raises so the job is retried."""
    found = repository.get_with_card(session, bar_id)
    if found is None:
        return
    bar, _ = found
    if response.status in (CarrierStatus.applied, CarrierStatus.pending):
        if restoring:
            bar.restore_confirmed_at = bar.restore_confirmed_at or clock.now()
        else:
            bar.bar_confirmed_at = bar.bar_confirmed_at or clock.now()
        bar.carrier_error = None
    elif response.status is CarrierStatus.failed_permanently:
        bar.carrier_error = response.error_code or response.message or "failed permanently"
    else:
        raise CarrierRefusedError(f"carrier answered {response.status.value} for {bar_id}")
    session.flush()
