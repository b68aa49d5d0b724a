"""Who is calling the API, as FastAPI dependencies on the one credential parser
(:mod:`tulpar.kit.credentials`) and the one identity (:class:`tulpar.auth.identity.Caller`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from tulpar.auth import service as auth_service
from tulpar.auth.identity import Caller, CallerKind
from tulpar.errors import UnauthorizedError
from tulpar.kit.credentials import presented_credential
from tulpar.kit.session import DbSession


def identify(request: Request, session: DbSession) -> Caller:
    """Any caller with valid credentials (401 otherwise)."""
    return auth_service.identify(session, presented_credential(request))


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
