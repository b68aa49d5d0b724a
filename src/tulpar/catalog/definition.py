"""A plan as it is written: what an admin, a command or the demo seed gives the catalog."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from tulpar.models import Channel, RenewalPolicy


@dataclass(frozen=True)
class PlanDefinition:
    code: str
    names: dict[str, str]
    validity_days: int
    data_bytes: int | None  # None: unlimited (also voice_seconds, sms_count)
    voice_seconds: int | None
    sms_count: int | None
    prices_minor: dict[str, int]
    channels: tuple[Channel, ...] = tuple(Channel)
    renewal_policy: RenewalPolicy = RenewalPolicy.extend
    rollover: bool = False
    sellable_from: datetime | None = None
    sellable_until: datetime | None = None


class PlanStatus(enum.StrEnum):
    """Where a plan stands, as the back office lists it."""

    active = "active"  # on sale now (on its channels)
    scheduled = "scheduled"  # its sale starts later
    ended = "ended"  # its sale window is over, not retired
    retired = "retired"  # withdrawn for good: never sold again
