"""Rating: turning the carrier's usage records into exact deductions, exactly once.

A batch is stored and rated in the caller's transaction:

1. records are inserted in (source, record id) order with ``ON CONFLICT DO NOTHING``; only the
   ones this batch stored are rated, so a duplicate is never rated twice, even when two
   batches race (the second waits on the first's uncommitted key, then skips it);
2. the cards, then their bundles, are locked in primary-key order;
3. each record draws on the card's bundles valid at its ``occurred_at`` (any state but
   ``revoked``, ``starts_at <= occurred_at < expires_at``), soonest-expiring first, in
   (occurred_at, id) order — running sums in SQL; a further round only where the set of
   bundles changes to one that shares a bundle with the set before. Rounds are needed only for
   cards with two bundles valid at a common moment; a simpler statement rates all the other
   cards' records in one go;
4. every deduction is a ledger entry pointing at its record; the rest is overage; each
   bundle drawn on keeps the time of its newest record (the balance's "usage as of");
5. bundles out of data become ``exhausted``; data thresholds (75/90/100 % of the granted data)
   are recorded once per bundle with a ``rating.threshold_crossed`` job; a card left without
   data is barred at the carrier through a ``carrier.bar_service`` job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.barring import service as barring_service
from tulpar.jobs import batch_defer_in_transaction
from tulpar.models import Bundle, UsageKind, UsageThresholdEvent
from tulpar.rating import repository

MAX_RECORD_QUANTITY = repository.MAX_RECORD_QUANTITY


class UsageToRate(NamedTuple):
    """A validated usage record whose card is known."""

    source: str
    record_id: str
    card_id: int
    kind: UsageKind
    quantity: int
    occurred_at: datetime


@dataclass(slots=True)
class RatingOutcome:
    # Keys stored before (not rated again); every other record given was stored and rated.
    # The exceptions are named because they are few: a batch is mostly new records.
    already_stored: set[tuple[str, str]] = field(default_factory=set)
    overage_records: int = 0
    threshold_event_ids: list[int] = field(default_factory=list)
    service_bar_ids: list[int] = field(default_factory=list)


def rate(
    session: Session, records: Sequence[UsageToRate], *, now: datetime | None = None
) -> RatingOutcome:
    """Store and rate ``records`` (keys must be distinct within the batch). Returns which keys
    were stored before; those are not rated again, all others were stored and rated now."""
    outcome = RatingOutcome()
    if not records:
        return outcome
    session.flush()
    outcome.already_stored = repository.insert_new(session, records)
    if len(outcome.already_stored) == len(records):
        return outcome

    overlapping = repository.lock_cards_and_bundles(session)
    rated = repository.RoundResult()
    repository.rate_single_bundle(session, rated, except_cards=overlapping)
    rounds, round_number = (1, 1) if overlapping else (0, 1)
    while round_number <= rounds:
        rounds = repository.rate_round(session, round_number, rated, cards=overlapping)
        round_number += 1
    outcome.overage_records = len(rated.overages)
    outcome.threshold_event_ids = rated.threshold_event_ids
    batch_defer_in_transaction(
        session,
        "rating.threshold_crossed",
        [{"event_id": event_id} for event_id in outcome.threshold_event_ids],
    )
    out_of_data = rated.exhausted_cards | {card for card, kind in rated.overages if kind == "data"}
    outcome.service_bar_ids = barring_service.bar_cards_without_data(
        session, sorted(out_of_data), now=now or clock.now()
    )
    _forget_loaded_bundles(session)
    return outcome


def _forget_loaded_bundles(session: Session) -> None:
    # Rating changed bundle rows in SQL; objects already loaded must not show old numbers.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Bundle):
            session.expire(loaded)


def usage_as_of(session: Session, card_id: int) -> datetime | None:
    """When the newest usage record rated for the card occurred (usage data lags)."""
    return repository.newest_usage_at(session, card_id)


def threshold_event(session: Session, event_id: int) -> UsageThresholdEvent | None:
    return repository.threshold_event(session, event_id)
