"""Report pages under /backoffice/reports: a table, a chart drawn as SVG on the server (the
staff CSP allows no inline style or script, so only SVG attributes), and the same rows as CSV.
Every figure comes from tulpar.reports; this module only lays it out."""

from __future__ import annotations

from fastapi import Request, Response

from tulpar.kit.session import DbSession
from tulpar.reports import period as report_period
from tulpar.reports import service
from tulpar.reports.sms import SmsReport
from tulpar.web.backoffice.reports.charts import bar_chart
from tulpar.web.backoffice.reports.layout import (
    DateField,
    Reader,
    UntilField,
    csv_response,
    new_router,
    render,
)

router = new_router()

SMS_COLUMNS = ("messages", "segments", "sent", "delivered", "failed", "queued")


@router.get("")
def index(request: Request, page: Reader) -> Response:
    return render(request, "index.html", page=page)


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
    return render(
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
    return csv_response("sms", period, ["provider", *SMS_COLUMNS], sms_rows(report))
