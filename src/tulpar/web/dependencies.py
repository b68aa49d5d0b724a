"""Request-scoped dependencies: one transaction per request, the caller's identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tulpar.partner import service as partner_service
from tulpar.partner.service import PartnerIdentity


def get_session(request: Request) -> Iterator[Session]:
    """Commits after the handler returns and before the response is sent."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_scope(scope: str) -> Callable[[Request, Session], PartnerIdentity]:
    def dependency(request: Request, session: DbSession) -> PartnerIdentity:
        return partner_service.authenticate(session, _bearer(request), scope=scope)

    return dependency


PartnerCaller = Annotated[PartnerIdentity, Depends(require_scope("partner"))]
