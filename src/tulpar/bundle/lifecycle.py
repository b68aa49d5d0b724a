"""One pass of time-driven changes: queued bundles start, ended ones expire, cards lapse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tulpar.bundle import service as bundle_service
from tulpar.card import service as card_service


@dataclass(frozen=True, slots=True)
class LifecycleCounts:
    bundles_started: int
    bundles_expired: int
    cards_expired: int
    cards_terminated: int


def run(session: Session, *, now: datetime) -> LifecycleCounts:
    """Idempotent: running it twice at the same ``now`` changes nothing the second time.

    Cards are locked before bundles, the order rating and renewals use."""
    cards_expired, cards_terminated = card_service.run_expiry(session, now=now)
    started, bundles_expired = bundle_service.run_schedule(session, now=now)
    return LifecycleCounts(started, bundles_expired, cards_expired, cards_terminated)
