"""The support console's page kit, on the staff layout (tulpar.web.staff): the signed-in
staff page (session, caller and CSRF token), rendering in the staff user's language with this
console's templates and catalogues first (then the staff and traveller ones), and refusals as
the staff error page (tulpar.web.staff.pages.StaffPageRoute: the request's transaction is
rolled back, so a refused action changes nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from tulpar.kit.templates import page_environment
from tulpar.web.staff import pages as staff_pages
from tulpar.web.staff.session import CSRF_FIELD, StaffPage, check_csrf, require_staff_page
from tulpar.web.traveller.pages import finish

TEMPLATES = Path(__file__).parent / "templates"

# Every console form posts through this dependency (the session's own CSRF token).
SessionCsrf = Depends(check_csrf)

# The signed-in staff member (password, and TOTP for support and admin: a session still
# waiting for its second factor is no sign-in). What they may do is the services' call.
Staff = Annotated[StaffPage, Depends(require_staff_page())]


def render(
    request: Request, template: str, *, page: StaffPage, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` in the staff user's language, on the staff layout."""
    environment = page_environment(
        TEMPLATES,
        staff_pages.staff_language(request, page),
        shared_dirs=(staff_pages.TEMPLATES, staff_pages.TRAVELLER_TEMPLATES),
    )
    html = environment.get_template(template).render(
        request=request,
        page=page,
        caller=page.caller,
        csrf=page.csrf_token,
        csrf_field=CSRF_FIELD,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=staff_pages.PAGE_HEADERS)
    finish(request, response)
    return response
