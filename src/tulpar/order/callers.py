"""Who may place and read orders: a partner (API key, channel ``api``) or a traveller whose
token is scoped to one card (channel ``web``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tulpar.errors import UnauthorizedError
from tulpar.models import Channel
from tulpar.otp import service as otp_service
from tulpar.partner import service as partner_service
from tulpar.web.dependencies import DbSession


@dataclass(frozen=True, slots=True)
class OrderCaller:
    key: str  # scopes Idempotency-Keys: "partner:7" or "card:42"
    actor: str  # what the order timeline records
    channel: Channel
    partner_id: int | None = None
    card_id: int | None = None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def resolve(request: Request, session: DbSession) -> OrderCaller:
    token = _bearer(request)
    if token is None:
        raise UnauthorizedError()
    if otp_service.is_traveller_token(token):
        card_id = otp_service.traveller_card_id(session, token)
        return OrderCaller(
            key=f"card:{card_id}", actor="traveller", channel=Channel.web, card_id=card_id
        )
    partner = partner_service.authenticate(session, token, scope="partner")
    return OrderCaller(
        key=f"partner:{partner.partner_id}",
        actor=f"partner:{partner.name}"[:120],
        channel=Channel.api,
        partner_id=partner.partner_id,
    )


OrderCallerDep = Annotated[OrderCaller, Depends(resolve)]
