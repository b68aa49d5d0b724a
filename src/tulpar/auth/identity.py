"""Who is calling: one type for every channel and credential. Built only by
:func:`tulpar.auth.service.identify`; authorisation decisions take it as an argument."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tulpar.models import Channel


class CallerKind(enum.StrEnum):
    partner = "partner"  # a reseller system with an API key
    carrier = "carrier"  # the carrier's systems (usage records), also an API key
    traveller = "traveller"  # whoever proved they hold one card (SMS code, USSD session)
    staff = "staff"  # a person of the operator or a store, with a role


@dataclass(frozen=True, slots=True)
class Caller:
    kind: CallerKind
    actor: str  # what timelines and ledger entries record as having acted
    channel: Channel  # where orders this caller places are sold
    scopes: frozenset[str] = field(default_factory=frozenset)
    partner_id: int | None = None
    requests_per_minute: int | None = None  # a partner's own limit on all its keys, if set
    card_id: int | None = None  # the one card a traveller may act on
    staff_id: int | None = None
    role: str | None = None
    store_id: int | None = None

    @property
    def key(self) -> str:
        """What scopes this caller's Idempotency-Keys: ``partner:7``, ``card:42``, …"""
        if self.kind is CallerKind.traveller:
            return f"card:{self.card_id}"
        if self.kind is CallerKind.staff:
            return f"staff:{self.staff_id}"
        return f"{self.kind.value}:{self.partner_id}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
