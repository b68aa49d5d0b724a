"""``TravellerCaller``: the card a request may act on, from a traveller bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tulpar.otp import service
from tulpar.web.dependencies import DbSession


@dataclass(frozen=True, slots=True)
class TravellerIdentity:
    card_id: int


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_traveller(request: Request, session: DbSession) -> TravellerIdentity:
    """Raises ``UnauthorizedError`` (401 problem) without a live traveller token."""
    return TravellerIdentity(card_id=service.traveller_card_id(session, bearer_token(request)))


TravellerCaller = Annotated[TravellerIdentity, Depends(require_traveller)]
