"""Cards: finding them by what people type, their lifecycle and renewability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.card import repository
from tulpar.config import get_settings
from tulpar.errors import (
    CardAlreadyExistsError,
    CardNotFoundError,
    CardSuspendedError,
    CardTerminatedError,
)
from tulpar.identifiers import ActivationCode, Eid, Iccid, Msisdn, parse_card_reference
from tulpar.models import LANGUAGES, Card, CardState
from tulpar.wallet import service as wallet_service


def grace_period() -> timedelta:
    return timedelta(days=get_settings().grace_period_days)


def find(session: Session, reference: str | Iccid | Msisdn, *, for_update: bool = False) -> Card:
    """The card for an ICCID or phone number. Raises :class:`CardNotFoundError`."""
    parsed = parse_card_reference(reference) if isinstance(reference, str) else reference
    card = (
        repository.by_iccid(session, parsed.value)
        if isinstance(parsed, Iccid)
        else repository.by_msisdn(session, parsed.value)
    )
    if card is None:
        raise CardNotFoundError()
    if for_update:
        locked = repository.get(session, card.id, for_update=True)
        assert locked is not None
        return locked
    return card


def get(session: Session, card_id: int) -> Card:
    card = repository.get(session, card_id)
    if card is None:
        raise CardNotFoundError()
    return card


def get_for_update(session: Session, card_id: int) -> Card:
    card = repository.get(session, card_id, for_update=True)
    if card is None:
        raise CardNotFoundError()
    return card


def lock(session: Session, card_ids: list[int]) -> None:
    """Lock cards before touching their bundles: cards first, each in primary-key order, is
    the order rating, renewals and the lifecycle job all use, so they cannot deadlock."""
    repository.lock_in_id_order(session, card_ids)


class HasStanding(Protocol):
    """A card, or what a read model read of one."""

    @property
    def state(self) -> CardState: ...
    @property
    def validity_ends_at(self) -> datetime | None: ...


def effective_state(card: HasStanding, *, now: datetime | None = None) -> CardState:
    """The state a card is in right now, even if the expiry job has not run yet."""
    now = now or clock.now()
    ends_at = card.validity_ends_at
    if card.state in (CardState.active, CardState.expired) and ends_at is not None:
        if ends_at <= now - grace_period():
            return CardState.terminated
        if ends_at <= now:
            return CardState.expired
    return card.state


def ensure_renewable(card: Card, *, now: datetime) -> None:
    state = effective_state(card, now=now)
    if state is CardState.terminated:
        raise CardTerminatedError(
            "The grace period of this card has ended and its number was recycled;"
            " a new eSIM is needed"
        )
    if state is CardState.suspended:
        raise CardSuspendedError("This card is suspended; please contact support")


@dataclass(frozen=True, slots=True)
class NewCard:
    """A card as it arrives from an import, already validated."""

    iccid: Iccid
    msisdn: Msisdn | None = None
    imsi: str | None = None
    eid: Eid | None = None
    activation_code: ActivationCode | None = None
    language: str = "zh-Hans"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")


def register(
    session: Session,
    new: NewCard,
    *,
    state: CardState = CardState.inventory,
    partner_id: int | None = None,
) -> Card:
    """Add a card to inventory with an empty wallet, sold by ``partner_id`` if given (the
    only partner that may then read or renew it)."""
    if repository.by_iccid(session, new.iccid.value) is not None:
        raise CardAlreadyExistsError(f"A card with ICCID {new.iccid} already exists")
    if new.msisdn is not None:
        holder = repository.by_msisdn(session, new.msisdn.value)
        if holder is not None and holder.state is not CardState.terminated:
            raise CardAlreadyExistsError(f"The number {new.msisdn} belongs to another card")
    card = repository.add(
        session,
        Card(
            iccid=new.iccid.value,
            msisdn=None if new.msisdn is None else new.msisdn.value,
            imsi=new.imsi,
            eid=None if new.eid is None else new.eid.value,
            activation_code=None if new.activation_code is None else str(new.activation_code),
            language=new.language,
            state=state,
            partner_id=partner_id,
        ),
    )
    wallet_service.open_for_card(session, card_id=card.id)
    return card


def mark_active(card: Card, *, validity_ends_at: datetime, now: datetime) -> None:
    if card.state is not CardState.active:
        card.state = CardState.active
        card.state_changed_at = now
    card.validity_ends_at = validity_ends_at


def run_expiry(session: Session, *, now: datetime) -> tuple[int, int]:
    """Move lapsed cards to ``expired`` and, after the grace period, to ``terminated``."""
    expired = repository.expire_lapsed(session, now=now)
    terminated = repository.terminate_after_grace(session, now=now, grace=grace_period())
    return expired, terminated
