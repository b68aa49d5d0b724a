"""Turning presented credentials into a :class:`Caller`, and the authorisation rules every
channel shares, so a page, an API call and a CLI command get the same answer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.auth import tokens
from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import CardNotFoundError, ForbiddenError, UnauthorizedError
from tulpar.models import Card, Channel
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
    )


def traveller(card_id: int, *, channel: Channel = Channel.web) -> Caller:
    """A traveller proven to hold ``card_id`` (by SMS code on the web, by the network on
    USSD)."""
    return Caller(kind=CallerKind.traveller, actor="traveller", channel=channel, card_id=card_id)


def command_line(actor: str = "cli") -> Caller:
    """Whoever runs ``tulpar`` commands holds the database credentials: an administrator."""
    return Caller(kind=CallerKind.staff, actor=actor, channel=Channel.api, role="admin")


def require_scope(caller: Caller, scope: str) -> None:
    """403 unless an API key carries ``scope``; travellers and staff never hold key scopes."""
    if not caller.has_scope(scope):
        raise ForbiddenError(f"These credentials lack the {scope!r} scope")


def require_role(caller: Caller, *roles: str) -> None:
    """403 unless the caller is staff with one of ``roles``."""
    if caller.kind is not CallerKind.staff or caller.role not in roles:
        raise ForbiddenError(f"This needs the role {' or '.join(roles)}")


def ensure_may_buy(caller: Caller) -> None:
    """Orders are placed and read by travellers (for their card) and partners."""
    if caller.kind is not CallerKind.traveller:
        require_scope(caller, "partner")


def ensure_may_read_card(caller: Caller, card: Card) -> None:
    """Partners read any card (they sell to all); a traveller only their own: any other card
    is "not found", so card numbers cannot be probed."""
    if caller.kind is CallerKind.traveller:
        if caller.card_id != card.id:
            raise CardNotFoundError()
        return
    if caller.kind is CallerKind.staff and caller.role in ("admin", "support"):
        return
    require_scope(caller, "partner")
