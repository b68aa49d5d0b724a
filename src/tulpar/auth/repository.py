from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tulpar.models import TravellerToken


def add_token(session: Session, token: TravellerToken) -> TravellerToken:
    session.add(token)
    session.flush()
    return token


def expire_token(session: Session, token_sha256: str, *, now: datetime) -> None:
    session.execute(
        update(TravellerToken)
        .where(TravellerToken.token_sha256 == token_sha256, TravellerToken.expires_at > now)
        .values(expires_at=now)
    )


def card_id_for_token(session: Session, token_sha256: str, *, now: datetime) -> int | None:
    query = select(TravellerToken.card_id).where(
        TravellerToken.token_sha256 == token_sha256, TravellerToken.expires_at > now
    )
    found = session.scalar(query)
    return None if found is None else int(found)
