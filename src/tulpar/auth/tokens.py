"""Traveller tokens: what proving a card by SMS code (or another channel's proof) earns, a
short-lived bearer credential scoped to that one card. Stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.auth import repository
from tulpar.errors import UnauthorizedError
from tulpar.models import TravellerToken

TOKEN_LIFETIME = timedelta(minutes=30)
TOKEN_PREFIX = "tvt_"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # the plaintext, returned only here
    expires_at: datetime


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, *, card_id: int, challenge_id: int, now: datetime) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    issued = repository.add_token(
        session,
        TravellerToken(
            card_id=card_id,
            challenge_id=challenge_id,
            token_sha256=_sha256(token),
            expires_at=now + TOKEN_LIFETIME,
            created_at=now,
        ),
    )
    return IssuedToken(token=token, expires_at=issued.expires_at)


def revoke(session: Session, token: str | None) -> None:
    """End a traveller token now (signing out); an unknown or ended one changes nothing."""
    if is_traveller_token(token):
        repository.expire_token(session, _sha256(str(token)), now=clock.now())


def is_traveller_token(token: str | None) -> bool:
    """Whether a credential is a traveller token (partner API keys start ``tlp_``)."""
    return bool(token) and str(token).startswith(TOKEN_PREFIX)


def traveller_card_id(session: Session, token: str | None) -> int:
    """The one card a traveller token may act on. Raises :class:`UnauthorizedError`."""
    if not is_traveller_token(token):
        raise UnauthorizedError("Verify the card with an SMS code first")
    card_id = repository.card_id_for_token(session, _sha256(str(token)), now=clock.now())
    if card_id is None:
        raise UnauthorizedError("This verification has expired; request a new SMS code")
    return card_id
