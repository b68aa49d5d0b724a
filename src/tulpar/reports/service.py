"""The reports staff read (``reports.view``: support and admin)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.reports import failures, promotions, renewals, revenue, sms
from tulpar.reports.period import Period


def sms_report(session: Session, caller: Caller, period: Period) -> sms.SmsReport:
    roles.require(caller, "reports.view")
    return sms.sms_by_provider(session, period)


def revenue_report(session: Session, caller: Caller, period: Period) -> revenue.RevenueReport:
    roles.require(caller, "reports.view")
    return revenue.revenue(session, period)


def renewal_report(session: Session, caller: Caller, period: Period) -> renewals.RenewalReport:
    roles.require(caller, "reports.view")
    return renewals.renewal_rate(session, period)


def failure_report(session: Session, caller: Caller, period: Period) -> failures.FailureReport:
    roles.require(caller, "reports.view")
    return failures.failed_and_refunded(session, period)


def promotion_report(
    session: Session, caller: Caller, period: Period, *, language: str
) -> promotions.PromotionReport:
    roles.require(caller, "reports.view")
    return promotions.promotion_cost(session, period, language=language)
