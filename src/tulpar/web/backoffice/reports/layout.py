"""What every report page shares: the staff route and role, the period fields, rendering on
the staff layout, the CSV response, and the cell formats the table and the CSV both use (so
the export is the table, cell for cell)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from tulpar.kit.format import GB
from tulpar.kit.session import DbSession
from tulpar.money import Money
from tulpar.reports import period as report_period
from tulpar.reports.period import Period
from tulpar.web.backoffice.reports.charts import Chart
from tulpar.web.staff import pages as staff_pages
from tulpar.web.staff.pages import StaffPageRoute
from tulpar.web.staff.session import StaffPage, require_staff_page

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/backoffice/reports"
Reader = Annotated[StaffPage, Depends(require_staff_page("reports.view"))]
DateField = Annotated[str | None, Query(alias="from", max_length=10)]
UntilField = Annotated[str | None, Query(alias="until", max_length=10)]


def new_router() -> APIRouter:
    return APIRouter(prefix=PREFIX, route_class=StaffPageRoute, include_in_schema=False)


# The part's templates and catalogues first, on the staff layout.
render = partial(staff_pages.render_part, TEMPLATES)


def csv_response(
    name: str, period: Period, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    filename = f"{name}-{period.first_on.isoformat()}-{period.last_on.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def amount(amount_minor: int, currency: str) -> str:
    """Major units with the currency's decimals, no grouping: ``3500.00`` (sorts and sums
    in a spreadsheet as it reads)."""
    exponent = Money(amount_minor, currency).exponent
    return str(Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


def gigabytes(data_bytes: int) -> str:
    return str((Decimal(data_bytes) / GB).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One report laid out: texts are message ids (translated by the template), ``header``
    and ``rows`` are what the page's table and the CSV both show."""

    title: str
    explanation: str
    chart_label: str
    chart: Chart
    header: Sequence[str]
    rows: list[list[str]]


# (session, the reader's page, the period, the reader's language) → the table.
Build = Callable[[Session, StaffPage, Period, str], ReportTable]


def add_report(router: APIRouter, path: str, build: Build) -> None:
    """``/<path>``: the table with its chart; ``/<path>.csv``: the same rows."""

    @router.get(f"/{path}", name=f"report_{path}")
    def report_page(
        request: Request,
        session: DbSession,
        page: Reader,
        first: DateField = None,
        last: UntilField = None,
    ) -> Response:
        period = report_period.parse(first, last)
        table = build(session, page, period, staff_pages.staff_language(request, page))
        return render(request, "report.html", page=page, path=path, period=period, **_fields(table))

    @router.get(f"/{path}.csv", name=f"report_{path}_csv")
    def report_csv(
        request: Request,
        session: DbSession,
        page: Reader,
        first: DateField = None,
        last: UntilField = None,
    ) -> Response:
        period = report_period.parse(first, last)
        table = build(session, page, period, staff_pages.staff_language(request, page))
        return csv_response(path, period, table.header, table.rows)


def _fields(table: ReportTable) -> dict[str, Any]:
    return {
        "title": table.title,
        "explanation": table.explanation,
        "chart_label": table.chart_label,
        "chart": table.chart,
        "header": table.header,
        "rows": table.rows,
    }
