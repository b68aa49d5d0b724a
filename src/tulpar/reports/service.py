"""The reports staff read (``reports.view``: support and admin)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.reports import sms
from tulpar.reports.period import Period


def sms_report(session: Session, caller: Caller, period: Period) -> sms.SmsReport:
    roles.require(caller, "reports.view")
    return sms.sms_by_provider(session, period)
