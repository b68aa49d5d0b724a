"""Report pages under /backoffice/reports: the index here, and one module per report
(``*_table.py``) that lays its figures out as a table, an SVG chart drawn on the server (the
staff CSP allows no inline style or script, so only SVG attributes) and the same rows as CSV
(:func:`tulpar.web.backoffice.reports.layout.add_report`). Every figure comes from
tulpar.reports; these modules only lay it out."""

from __future__ import annotations

from fastapi import Request, Response

from tulpar.web.backoffice.reports.layout import Reader, new_router, render

router = new_router()


@router.get("")
def index(request: Request, page: Reader) -> Response:
    return render(request, "index.html", page=page)
