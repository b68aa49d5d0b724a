"""What every staff page shares: rendering in the staff user's language with the traveller
pages' layout, CSS and catalogues (staff messages first), and the route class that turns
refusals into pages (a missing session into the sign-in page)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment

from tulpar.errors import TulparError
from tulpar.kit.languages import LANGUAGES, accepted_tags, matching_language
from tulpar.kit.templates import page_environment
from tulpar.web.staff.session import (
    CSRF_FIELD,
    SIGN_IN,
    StaffPage,
    StaffSignInRequiredError,
)
from tulpar.web.traveller import pages as traveller_pages

TEMPLATES = Path(__file__).parent / "templates"
STAFF_DEFAULT_LANGUAGE = "en"
TRAVELLER_TEMPLATES = traveller_pages.TEMPLATES
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PAGE_HEADERS = _HEADERS  # for the consoles on the staff layout (/store, /support)


def staff_language(request: Request, page: StaffPage | None) -> str:
    """The staff user's language (also on a refusal's page, from the session read for the
    request); before sign-in, the browser's ``Accept-Language``, else English (staff are not
    the travellers, whose default is Chinese)."""
    if page is not None and page.language in LANGUAGES:
        return page.language
    # A refusal's page has no StaffPage, but the session (if any) was read: its language.
    if (signed_in := getattr(request.state, "staff_language", None)) in LANGUAGES:
        return str(signed_in)
    for tag in accepted_tags(request.headers.get("accept-language")):
        if (language := matching_language(tag)) is not None:
            return language
    return STAFF_DEFAULT_LANGUAGE


def render(
    request: Request,
    template: str,
    *,
    page: StaffPage | None,
    csrf: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` in the staff user's language. ``csrf``: the token for forms (the
    session's; before sign-in, the traveller pages' double-submit token)."""
    environment = page_environment(
        TEMPLATES, staff_language(request, page), shared_dirs=(TRAVELLER_TEMPLATES,)
    )
    token = csrf if csrf is not None else (page.csrf_token if page else "")
    return _page(environment, request, template, page, token, status_code, context)


def render_part(
    templates: Path,
    request: Request,
    template: str,
    *,
    page: StaffPage,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` of a console or back-office part on the staff layout: the part's own
    templates and catalogues (``templates``, its ``../locales``) first, then the staff and
    traveller ones, in the signed-in staff member's language."""
    environment = page_environment(
        templates,
        staff_language(request, page),
        shared_dirs=(TEMPLATES, TRAVELLER_TEMPLATES),
    )
    return _page(environment, request, template, page, page.csrf_token, status_code, context)


def _page(
    environment: Environment,
    request: Request,
    template: str,
    page: StaffPage | None,
    csrf: str,
    status_code: int,
    context: dict[str, Any],
) -> HTMLResponse:
    html = environment.get_template(template).render(
        request=request,
        page=page,
        caller=page.caller if page else None,
        csrf=csrf,
        csrf_field=CSRF_FIELD,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=_HEADERS)
    traveller_pages.finish(request, response)
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    traveller_pages.finish(request, response)
    return response


class StaffPageNotFoundError(TulparError):
    status = 404
    code = "page_not_found"
    title = "There is no such page"


def error_page(request: Request, error: TulparError) -> Response:
    if isinstance(error, StaffSignInRequiredError):
        return redirect(request, SIGN_IN)
    status = error.status if 400 <= error.status < 600 else 500
    return render(request, "error.html", page=None, status_code=status, error=error)


class StaffPageRoute(APIRoute):
    """A staff page: a refusal becomes a page with the refusal's status (the transaction is
    rolled back first, so nothing changed); no session → the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except TulparError as error:
                return error_page(request, error)
            except RequestValidationError:
                return error_page(request, StaffPageNotFoundError())

        return page_handler
