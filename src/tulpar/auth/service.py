"""Turning presented credentials into a :class:`Caller`, and the authorisation rules every
channel shares, so a page, an API call and a CLI command get the same answer."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tulpar.auth import roles, tokens
from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import CardNotFoundError, ForbiddenError, UnauthorizedError
from tulpar.models import Card, Channel, StaffUser
from tulpar.models.staff import STORE_ROLES
from tulpar.partner import service as partner_service


def identify(session: Session, credential: str | None) -> Caller:
    """The caller behind a bearer token or session cookie value: a partner (or carrier) API
    key, or a traveller token from an SMS code. Raises 401 for anything else."""
    if not credential:
        raise UnauthorizedError()
    if tokens.is_traveller_token(credential):
        return traveller(tokens.traveller_card_id(session, credential))
    partner = partner_service.authenticate(session, credential)
    kind = CallerKind.partner if "partner" in partner.scopes else CallerKind.carrier
    return Caller(
        kind=kind,
        actor=f"{kind.value}:{partner.name}"[:120],
        channel=Channel.api,
        scopes=partner.scopes,
        partner_id=partner.partner_id,
        requests_per_minute=partner.requests_per_minute,
    )


def traveller(card_id: int, *, channel: Channel = Channel.web) -> Caller:
    """A traveller proven to hold ``card_id`` (by SMS code on the web, by the network on
    USSD)."""
    return Caller(kind=CallerKind.traveller, actor="traveller", channel=channel, card_id=card_id)


def command_line(actor: str = "cli") -> Caller:
    """Whoever runs ``tulpar`` commands holds the database credentials: an administrator."""
    return Caller(kind=CallerKind.staff, actor=actor, channel=Channel.api, role="admin")


def staff(user: StaffUser) -> Caller:
    """A signed-in staff user (password, and TOTP for admin and support, already checked by
    :mod:`tulpar.staff`). Clerks and store managers sell on their store's counter
    (``Channel.store``); support and admin act for the operator (``Channel.api``)."""
    at_a_store = user.role in STORE_ROLES
    return Caller(
        kind=CallerKind.staff,
        actor=f"staff:{user.username}"[:120],
        channel=Channel.store if at_a_store else Channel.api,
        staff_id=user.id,
        role=user.role.value,
        store_id=user.store_id if at_a_store else None,
    )


def ensure_same_store(caller: Caller, store_id: int | None) -> None:
    """404 when a clerk or store manager reaches for another store's things (receipt, user,
    day); support and admin span all stores. See :func:`tulpar.auth.roles.ensure_same_store`."""
    roles.ensure_same_store(caller, store_id)


def require_scope(caller: Caller, scope: str) -> None:
    """403 unless an API key carries ``scope``; travellers and staff never hold key scopes."""
    if not caller.has_scope(scope):
        raise ForbiddenError(f"These credentials lack the {scope!r} scope")


def require_role(caller: Caller, *roles: str) -> None:
    """403 unless the caller is staff with one of ``roles``."""
    if caller.kind is not CallerKind.staff or caller.role not in roles:
        raise ForbiddenError(f"This needs the role {' or '.join(roles)}")


def ensure_may_buy(caller: Caller, card: Card | None = None) -> None:
    """Orders are placed and read by travellers (for their card) and partners (for the cards
    they sold). With ``card``: also for that card, which is "not found" to anyone else. A
    clerk or store manager sells at their store's counter (``store.sell``), any card."""
    if caller.channel is Channel.store and roles.may(caller, "store.sell"):
        return
    if caller.kind is not CallerKind.traveller:
        require_scope(caller, "partner")
    if card is not None:
        _ensure_holds(caller, card)


class HeldCard(Protocol):
    """A card, or what a read model read of one: who holds it."""

    @property
    def id(self) -> int: ...
    @property
    def partner_id(self) -> int | None: ...


def ensure_may_read_card(caller: Caller, card: HeldCard) -> None:
    """A partner reads only the cards it sold (``cards.partner_id``: assigned at import or by
    ``tulpar partners assign``), a traveller only their own; the operator's staff read all.
    Any other card is "not found", exactly as an unknown one, so card numbers cannot be
    probed."""
    if caller.kind is CallerKind.staff and caller.role in ("admin", "support"):
        return
    if caller.kind is not CallerKind.traveller:
        require_scope(caller, "partner")
    _ensure_holds(caller, card)


def _ensure_holds(caller: Caller, card: HeldCard) -> None:
    if caller.kind is CallerKind.traveller:
        if caller.card_id != card.id:
            raise CardNotFoundError()
        return
    if caller.kind is CallerKind.partner and (
        caller.partner_id is None or card.partner_id != caller.partner_id
    ):
        raise CardNotFoundError()
