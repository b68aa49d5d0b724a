"""Partner systems and their API keys (``Authorization: Bearer tlp_<prefix>_<secret>``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tulpar.card import service as card_service
from tulpar.errors import ForbiddenError, InvalidInputError, UnauthorizedError
from tulpar.models import ApiKey, Partner
from tulpar.partner import repository


class PartnerNotFoundError(InvalidInputError):
    code = "partner_not_found"
    title = "No such partner"


SCOPES = ("partner", "carrier")
KEY_PREFIX = "tlp"


@dataclass(frozen=True, slots=True)
class PartnerIdentity:
    partner_id: int
    name: str
    scopes: frozenset[str]
    requests_per_minute: int | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, *, scopes: list[str]) -> tuple[Partner, str]:
    """Create the partner if new and issue a key. The plaintext key is returned only here."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInputError("A partner name has 1 to 120 characters")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInputError(f"Scopes must be among {', '.join(SCOPES)}")
    partner = repository.partner_by_name(session, name)
    if partner is None:
        partner = Partner(name=name)
        repository.add(session, partner)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    repository.add(
        session,
        ApiKey(
            partner_id=partner.id,
            prefix=prefix,
            secret_sha256=_digest(secret),
            scopes=sorted(set(scopes)),
        ),
    )
    return partner, f"{KEY_PREFIX}_{prefix}_{secret}"


def authenticate(
    session: Session, presented: str | None, *, scope: str | None = None
) -> PartnerIdentity:
    """The partner behind a key; raises 401 for a bad key and 403 for a missing ``scope``
    (when one is asked for)."""
    if not presented:
        raise UnauthorizedError()
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise UnauthorizedError()
    key = repository.active_key(session, parts[1])
    if key is None:
        raise UnauthorizedError()
    if not hmac.compare_digest(key.secret_sha256, _digest(parts[2])):
        raise UnauthorizedError()
    if scope is not None and scope not in key.scopes:
        raise ForbiddenError(f"This key lacks the {scope!r} scope")
    return PartnerIdentity(
        partner_id=key.partner_id,
        name=key.partner_name,
        scopes=frozenset(key.scopes),
        requests_per_minute=key.requests_per_minute,
    )


def named(session: Session, name: str) -> Partner:
    """The partner called ``name``; :class:`PartnerNotFoundError` (422) if there is none."""
    partner = repository.partner_by_name(session, name.strip())
    if partner is None:
        raise PartnerNotFoundError(
            f"No partner is called {name.strip()!r}: create it with `tulpar partners create`"
        )
    return partner


@dataclass(frozen=True, slots=True)
class Assignment:
    assigned: list[str]  # ICCIDs now this partner's (including those that already were)
    held_elsewhere: dict[str, str]  # ICCID -> the partner that holds it (not moved)


def assign_cards(
    session: Session, name: str, references: list[str], *, move: bool = False
) -> Assignment:
    """Make the cards (ICCIDs or phone numbers) ``name``'s to read and renew. A card another
    partner holds is moved only with ``move``; otherwise it is reported and left alone.
    Raises :class:`CardNotFoundError` for an unknown card before anything changes."""
    partner = named(session, name)
    cards = [card_service.find(session, reference, for_update=True) for reference in references]
    assigned: list[str] = []
    held_elsewhere: dict[str, str] = {}
    for card in sorted(cards, key=lambda found: found.id):
        if card.partner_id is not None and card.partner_id != partner.id and not move:
            held_elsewhere[card.iccid] = repository.partner_name(session, card.partner_id)
            continue
        card.partner_id = partner.id
        assigned.append(card.iccid)
    session.flush()
    return Assignment(assigned=assigned, held_elsewhere=held_elsewhere)


def set_requests_per_minute(session: Session, name: str, limit: int | None) -> Partner:
    """Limit all of ``name``'s keys together to ``limit`` requests a minute (per web
    process), or lift the limit with ``None``."""
    if limit is not None and limit < 1:
        raise InvalidInputError("A limit is at least 1 request a minute")
    partner = named(session, name)
    partner.requests_per_minute = limit
    session.flush()
    return partner
