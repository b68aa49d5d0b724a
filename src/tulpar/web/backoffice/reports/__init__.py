"""Back office: reports (admin and support pages on the staff layout)."""

from fastapi import APIRouter

from tulpar.web.backoffice.reports import (
    failures_table,
    pages,
    promotions_table,
    renewals_table,
    revenue_table,
    sms_table,
)

router = APIRouter()
for part in (pages, revenue_table, renewals_table, failures_table, promotions_table, sms_table):
    router.include_router(part.router)

__all__ = ["router"]
