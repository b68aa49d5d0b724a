"""The staff session as FastAPI dependencies, shared by the staff pages and the consoles.

``require_staff_page(action)`` reads the ``tulpar_staff_session`` cookie, refuses a missing,
expired, revoked or half-finished (TOTP still due) session — pages answer that with a
redirect to the sign-in — checks the role may do ``action`` (:mod:`tulpar.auth.roles`), and
returns a :class:`StaffPage` (the :class:`Caller`, the CSRF token for forms, the user's
language). ``check_csrf`` is the dependency every staff POST adds. Both also put the caller
on ``request.state.staff``."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Receive, Scope, Send

from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.errors import TulparError
from tulpar.kit.session import DbSession
from tulpar.models import StaffUser
from tulpar.staff import service as staff_service
from tulpar.staff.service import SignedIn
from tulpar.web.traveller.pages import secure_cookies

COOKIE = "tulpar_staff_session"
CSRF_FIELD = "csrf"
SIGN_IN = "/staff/sign-in"


class StaffSignInRequiredError(TulparError):
    """No complete staff session: pages redirect to :data:`SIGN_IN`."""

    status = 401
    code = "staff_sign_in_required"
    title = "Sign in as staff first"


class StaffCsrfRejectedError(TulparError):
    status = 403
    code = "csrf_rejected"
    title = "This form has expired"


@dataclass(frozen=True, slots=True)
class StaffPage:
    caller: Caller
    csrf_token: str
    user: StaffUser

    @property
    def language(self) -> str:
        return self.user.language


def current_session(request: Request, session: DbSession) -> SignedIn | None:
    """The live staff session of this browser (complete or not), once per request."""
    current = staff_service.signed_in(session, request.cookies.get(COOKIE))
    if current is not None and current.complete:
        request.state.staff = current.caller
        request.state.staff_csrf = current.csrf_token
        request.state.staff_language = current.user.language  # for the error pages
    return current


CurrentSession = Annotated[SignedIn | None, Depends(current_session)]


def require_staff_page(action: str | None = None) -> Callable[..., StaffPage]:
    """A dependency: the signed-in staff member allowed ``action`` (403 otherwise), or
    :class:`StaffSignInRequiredError`. ``None``: any signed-in staff member."""

    def dependency(current: CurrentSession) -> StaffPage:
        if current is None or not current.complete:
            raise StaffSignInRequiredError()
        if action is not None:
            roles.require(current.caller, action)
        return StaffPage(caller=current.caller, csrf_token=current.csrf_token, user=current.user)

    return dependency


def check_csrf(
    request: Request, current: CurrentSession, csrf: Annotated[str, Form()] = ""
) -> None:
    """Refuse a staff form (403, nothing done) unless its hidden ``csrf`` field is this
    session's token and the browser does not say it came from another site."""
    expected = current.csrf_token if current is not None else ""
    if not expected or not csrf or not hmac.compare_digest(expected.encode(), csrf.encode()):
        raise StaffCsrfRejectedError()
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise StaffCsrfRejectedError()
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise StaffCsrfRejectedError()


def require_staff_form(action: str | None = None) -> Callable[..., StaffPage]:
    """:func:`require_staff_page` for a POST: the form's CSRF token is checked first."""
    page_dependency = require_staff_page(action)

    # Defaults, not Annotated: the annotation would name a local, which FastAPI cannot see.
    def dependency(
        page: StaffPage = Depends(page_dependency),  # noqa: B008
        _csrf: None = Depends(check_csrf),
    ) -> StaffPage:
        return page

    return dependency


def set_cookie(response: Response, request: Request, token: str, *, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(request)
    )


class StaffSessionMiddleware:
    """For the consoles that read the signed-in caller from ``request.state.staff`` (and
    ``request.state.staff_csrf``) rather than through :func:`require_staff_page`: resolves a
    complete staff session for requests under ``prefixes`` before they reach the route.
    Nothing is set when there is no cookie or the session is not live."""

    def __init__(
        self, app: ASGIApp, prefixes: tuple[str, ...] = ("/support", "/store", "/backoffice")
    ) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            token = StarletteRequest(scope).cookies.get(COOKIE)
            if token:
                found = await run_in_threadpool(_resolve, scope["app"], token)
                if found is not None:
                    state = scope.setdefault("state", {})
                    state["staff"], state["staff_csrf"] = found
        await self.app(scope, receive, send)


def _resolve(app: Any, token: str) -> tuple[Caller, str] | None:
    with app.state.sessionmaker() as session:
        current = staff_service.signed_in(session, token)
        if current is None or not current.complete:
            return None
        found = (current.caller, current.csrf_token)
        session.commit()  # last_seen_at
        return found
