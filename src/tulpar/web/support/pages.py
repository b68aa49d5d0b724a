"""The support console's page kit: the signed-in staff caller and CSRF (the staff session's,
tulpar.web.staff.session), rendering in English, and refusals as pages with their status (the
request's transaction is rolled back, so a refused action changes nothing)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from tulpar.auth.identity import Caller
from tulpar.errors import TulparError, UnauthorizedError
from tulpar.kit.templates import page_environment
from tulpar.web.staff.session import (
    CSRF_FIELD,
    SIGN_IN,
    CurrentSession,
    StaffSignInRequiredError,
    check_csrf,
)
from tulpar.web.traveller.pages import finish

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGE = "en"  # support reads the console in English; travellers' texts stay as written

# Every console form posts through this dependency (the session's own CSRF token).
SessionCsrf = Depends(check_csrf)


def current_staff(current: CurrentSession) -> Caller:
    """The signed-in staff member (password, and TOTP for support and admin: a session still
    waiting for its second factor is no sign-in). What they may do is the services' call."""
    if current is None or not current.complete:
        raise StaffSignInRequiredError()
    return current.caller


Staff = Annotated[Caller, Depends(current_staff)]


def render(
    request: Request,
    template: str,
    *,
    caller: Caller | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    environment = page_environment(
        TEMPLATES, LANGUAGE, locales_dir=TEMPLATES.parent.parent / "traveller" / "locales"
    )
    html = environment.get_template(template).render(
        request=request,
        csrf=getattr(request.state, "staff_csrf", ""),
        csrf_field=CSRF_FIELD,
        caller=caller,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    finish(request, response)
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    finish(request, response)
    return response


class SupportRoute(APIRoute):
    """A console page: a refusal becomes a page with the refusal's status and its reason;
    not signed in → the staff sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (UnauthorizedError, StaffSignInRequiredError):
                return redirect(request, SIGN_IN)
            except TulparError as error:
                status = error.status if 400 <= error.status < 600 else 500
                return render(request, "error.html", caller=None, status_code=status, error=error)
            except RequestValidationError:
                return render(
                    request,
                    "error.html",
                    caller=None,
                    status_code=422,
                    error=TulparError("That form or address is not one the console sends"),
                )

        return page_handler
