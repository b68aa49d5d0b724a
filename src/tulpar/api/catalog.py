from __future__ import annotations

from fastapi import APIRouter

from tulpar.api.schemas.balance import MoneyAmount
from tulpar.api.schemas.catalog import PlanAllowances, PlanList, PlanOut
from tulpar.catalog import service
from tulpar.kit.session import DbSession
from tulpar.models import Channel, Plan

router = APIRouter(prefix="/v1", tags=["catalog"])


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        code=plan.code,
        names=plan.names,
        validity_days=plan.validity_days,
        allowances=PlanAllowances(
            data_bytes=plan.data_bytes,
            voice_seconds=plan.voice_seconds,
            sms_count=plan.sms_count,
            data_unlimited=plan.data_bytes is None,
            voice_unlimited=plan.voice_seconds is None,
            sms_unlimited=plan.sms_count is None,
        ),
        prices=[MoneyAmount(amount_minor=p.amount_minor, currency=p.currency) for p in plan.prices],
        channels=plan.channels,
        renewal_policy=plan.renewal_policy.value,
        rollover=plan.rollover,
    )


@router.get("/plans", response_model=PlanList)
def list_plans(session: DbSession, channel: Channel | None = None) -> PlanList:
    """Plans on sale now, optionally only those sold on one channel. Public."""
    return PlanList(
        data=[plan_out(plan) for plan in service.sellable_plans(session, channel=channel)]
    )
