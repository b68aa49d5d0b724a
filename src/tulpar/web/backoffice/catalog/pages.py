"""The catalog pages' kit: the staff layout with this part's templates and catalogues
first (then the staff and traveller ones), in the signed-in admin's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tulpar.kit.templates import page_environment
from tulpar.web.staff import pages as staff_pages
from tulpar.web.staff.session import CSRF_FIELD, StaffPage
from tulpar.web.traveller.pages import finish

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def render(
    request: Request, template: str, *, page: StaffPage, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = staff_pages.staff_language(request, page)
    environment = page_environment(
        TEMPLATES,
        language,
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
