"""Staff sign-in: username and password, then (admin, support) the TOTP code — with the QR
code to scan the first time — and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from tulpar.config import get_settings
from tulpar.kit.session import DbSession
from tulpar.staff import service as staff_service
from tulpar.staff.service import SignInStep
from tulpar.web.staff.pages import StaffPageRoute, redirect, render
from tulpar.web.staff.session import (
    COOKIE,
    SIGN_IN,
    CurrentSession,
    StaffPage,
    StaffSignInRequiredError,
    check_csrf,
    clear_cookie,
    set_cookie,
)
from tulpar.web.traveller import pages as traveller_pages

router = APIRouter(route_class=StaffPageRoute, include_in_schema=False)  # pages, not API
SECOND_FACTOR = "/staff/second-factor"
HOME = "/staff/"


def _pending_page(current: CurrentSession) -> StaffPage:
    if current is None or current.complete:
        raise StaffSignInRequiredError()
    return StaffPage(caller=current.caller, csrf_token=current.csrf_token, user=current.user)


@router.get(SIGN_IN, response_class=HTMLResponse)
def sign_in_form(request: Request, current: CurrentSession) -> Response:
    if current is not None and current.complete:
        return redirect(request, HOME)
    return render(request, "sign_in.html", page=None, csrf=traveller_pages.csrf_token(request))


@router.post(SIGN_IN, response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A wrong password, an unknown user and a locked account get the same page and status
    (the refusal is committed: the failure counts toward the lockout)."""
    traveller_pages.check_csrf(request, csrf)
    result = staff_service.sign_in(session, username, password)
    if result.token is None:
        return render(
            request,
            "sign_in.html",
            page=None,
            csrf=traveller_pages.csrf_token(request),
            status_code=401,
            refused=True,
            username=username,
        )
    response = redirect(request, HOME if result.step is SignInStep.done else SECOND_FACTOR)
    max_age = get_settings().staff_session_absolute_hours * 3600
    set_cookie(response, request, result.token, max_age=max_age)
    return response


@router.get(SECOND_FACTOR, response_class=HTMLResponse)
def second_factor_form(
    request: Request, session: DbSession, current: CurrentSession
) -> HTMLResponse:
    page = _pending_page(current)
    assert current is not None
    enrolment = staff_service.enrolment(session, current)
    return render(request, "second_factor.html", page=page, enrolment=enrolment)


@router.post(SECOND_FACTOR, response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def second_factor(
    request: Request,
    session: DbSession,
    current: CurrentSession,
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    page = _pending_page(current)
    assert current is not None
    if staff_service.second_factor(session, current, code):
        return redirect(request, HOME)
    if staff_service.signed_in(session, request.cookies.get(COOKIE)) is None:
        # Locked: the waiting session was ended. Answered, not raised, so the lock commits.
        response = redirect(request, SIGN_IN)
        clear_cookie(response, request)
        return response
    enrolment = staff_service.enrolment(session, current)
    return render(
        request,
        "second_factor.html",
        page=page,
        enrolment=enrolment,
        refused=True,
        status_code=401,
    )


@router.post("/staff/sign-out", dependencies=[Depends(check_csrf)])
def sign_out(request: Request, session: DbSession) -> RedirectResponse:
    staff_service.sign_out(session, request.cookies.get(COOKIE))
    response = redirect(request, SIGN_IN)
    clear_cookie(response, request)
    return response
