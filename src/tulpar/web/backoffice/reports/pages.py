"""Report pages under /backoffice/reports: a table, a chart drawn as SVG on the server (the
staff CSP allows no inline style or script, so only SVG attributes), and the same rows as CSV.
Every figure comes from tulpar.reports; this module only lays it out."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from tulpar.kit.session import DbSession
from tulpar.kit.templates import page_environment
from tulpar.reports import period as report_period
from tulpar.reports import service
from tulpar.reports.sms import SmsReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.staff import pages as staff_pages
from tulpar.web.staff.pages import StaffPageRoute
from tulpar.web.staff.session import CSRF_FIELD, StaffPage, require_staff_page
from tulpar.web.traveller.pages import finish

TEMPLATES = Path(__file__).parent / "templates"
router = APIRouter(
    prefix="/backoffice/reports", route_class=StaffPageRoute, include_in_schema=False
)
Reader = Annotated[StaffPage, Depends(require_staff_page("reports.view"))]
DateField = Annotated[str | None, Query(alias="from", max_length=10)]
UntilField = Annotated[str | None, Query(alias="until", max_length=10)]

SMS_COLUMNS = ("messages", "segments", "sent", "delivered", "failed", "queued")


def _render(request: Request, template: str, *, page: StaffPage, **context: Any) -> HTMLResponse:
    language = staff_pages.staff_language(request, page)
    environment = page_environment(
        TEMPLATES, language, shared_dirs=(staff_pages.TEMPLATES, staff_pages.TRAVELLER_TEMPLATES)
    )
    html = environment.get_template(template).render(
        request=request,
        page=page,
        caller=page.caller,
        csrf=page.csrf_token,
        csrf_field=CSRF_FIELD,
        **context,
    )
    response = HTMLResponse(html, headers=staff_pages.PAGE_HEADERS)
    finish(request, response)
    return response


@router.get("")
def index(request: Request, page: Reader) -> Response:
    return _render(request, "index.html", page=page)


def sms_rows(report: SmsReport) -> list[list[str]]:
    """The table's rows (and the CSV's): one per provider, then the total."""
    rows = [
        [provider or "", *(str(getattr(figures, column)) for column in SMS_COLUMNS)]
        for provider, figures in report.by_provider
    ]
    rows.append(["total", *(str(getattr(report.total, column)) for column in SMS_COLUMNS)])
    return rows


@router.get("/sms")
def sms_page(
    request: Request,
    session: DbSession,
    page: Reader,
    first: DateField = None,
    last: UntilField = None,
) -> Response:
    period = report_period.parse(first, last)
    report = service.sms_report(session, page.caller, period)
    chart = bar_chart([(day.isoformat(), figures.messages) for day, figures in report.by_day])
    return _render(
        request,
        "sms.html",
        page=page,
        report=report,
        rows=sms_rows(report),
        columns=SMS_COLUMNS,
        chart=chart,
    )


@router.get("/sms.csv")
def sms_csv(
    session: DbSession, page: Reader, first: DateField = None, last: UntilField = None
) -> Response:
    period = report_period.parse(first, last)
    report = service.sms_report(session, page.caller, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["provider", *SMS_COLUMNS])
    writer.writerows(sms_rows(report))
    name = f"sms-{period.first_on.isoformat()}-{period.last_on.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
