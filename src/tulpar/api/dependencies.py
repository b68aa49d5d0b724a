"""Who is calling the API, as FastAPI dependencies on the one credential parser
(:mod:`tulpar.kit.credentials`) and the one identity (:class:`tulpar.auth.identity.Caller`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.config import get_settings
from tulpar.errors import InvalidInputError, UnauthorizedError
from tulpar.identifiers import parse_card_reference
from tulpar.kit.credentials import presented_credential
from tulpar.kit.rate_limit import RateLimits
from tulpar.kit.rate_limit import rate_limits as build_rate_limits
from tulpar.kit.session import DbSession


def client_address(request: Request) -> str:
    """The address limits are counted by (the peer: forwarded headers only count where the
    server was told to trust them)."""
    return request.client.host if request.client is not None else "unknown"


def rate_limits(request: Request) -> RateLimits:
    """The app's limits (set by ``create_app``; an app built otherwise gets the settings')."""
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        limits = request.app.state.rate_limits = build_rate_limits(get_settings())
    return limits


def identified(request: Request, session: Session, credential: str | None) -> Caller:
    """The caller behind ``credential``, within the limits: an address that used up its
    refused credentials gets 429 before they are looked at; each refusal (401) counts; a
    partner with a limit of its own gets 429 past it. Safe to call from any thread."""
    limits = rate_limits(request)
    address = client_address(request)
    limits.check_bad_credentials(address)
    try:
        caller = auth_service.identify(session, credential)
    except UnauthorizedError:
        limits.count_bad_credentials(address)
        raise
    if caller.partner_id is not None:
        limits.check_partner(caller.partner_id, caller.requests_per_minute)
    return caller


def limit_card_reads(request: Request, caller: Caller, card: str) -> None:
    """429 once ``caller`` has asked about ``card`` too often (as Airalo limits its usage
    API per ICCID). Keyed by the number as parsed, so spacing cannot dodge it."""
    try:
        reference = parse_card_reference(card).value
    except InvalidInputError:
        return  # answered 422 by the handler anyway
    rate_limits(request).check_card(caller.key, reference)


def identify(request: Request, session: DbSession) -> Caller:
    """Any caller with valid credentials (401 otherwise), within the limits."""
    return identified(request, session, presented_credential(request))


def limit_anonymous(request: Request) -> None:
    """Calls without credentials are limited per address (those with credentials by
    :func:`identified`)."""
    if presented_credential(request) is None:
        rate_limits(request).check_anonymous(client_address(request))


AnonymousLimit = Depends(limit_anonymous)


AnyCaller = Annotated[Caller, Depends(identify)]


def require_scope(scope: str) -> Callable[[Caller], Caller]:
    def dependency(caller: AnyCaller) -> Caller:
        auth_service.require_scope(caller, scope)
        return caller

    return dependency


def require_role(*roles: str) -> Callable[[Caller], Caller]:
    def dependency(caller: AnyCaller) -> Caller:
        auth_service.require_role(caller, *roles)
        return caller

    return dependency


def _traveller(caller: AnyCaller) -> Caller:
    if caller.kind is not CallerKind.traveller:
        raise UnauthorizedError("A traveller token (from an SMS code) is needed")
    return caller


PartnerCaller = Annotated[Caller, Depends(require_scope("partner"))]
CarrierCaller = Annotated[Caller, Depends(require_scope("carrier"))]
TravellerCaller = Annotated[Caller, Depends(_traveller)]
