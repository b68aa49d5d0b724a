"""Renewing early in the demo never costs the traveller what is left."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from tulpar.bundle import service as bundle_service
from tulpar.bundle.policy import Allowances
from tulpar.catalog import service as catalog_service
from tulpar.demo import seed
from tulpar.demo.catalog import DEMO_PLANS
from tulpar.models import LedgerCause


def test_every_demo_plan_carries_the_remainder_over() -> None:
    assert [plan.rollover for plan in DEMO_PLANS] == [True] * len(DEMO_PLANS)


def test_seeding_fixes_plans_an_earlier_run_seeded_without_rollover(session: Session) -> None:
    for definition in DEMO_PLANS:
        catalog_service.ensure_plan(session, dataclasses.replace(definition, rollover=False))

    seed.seed(session)

    plans = [catalog_service.get_plan(session, plan.code) for plan in DEMO_PLANS]
    assert [(plan.code, plan.rollover) for plan in plans] == [
        (plan.code, True) for plan in DEMO_PLANS
    ]


def test_renewing_the_active_demo_card_keeps_what_is_left(session: Session) -> None:
    card = {demo.label: card for demo, card in seed.seed(session)}["active"]
    [running] = bundle_service.valid_bundles(session, card)
    left = Allowances(
        running.data_bytes_remaining, running.voice_seconds_remaining, running.sms_count_remaining
    )
    plan = catalog_service.get_plan(session, "KZ-15D-10GB")

    quoted = bundle_service.quote(session, card, plan)
    renewed = bundle_service.apply_plan(session, card, plan, cause=LedgerCause.order)

    assert quoted.carried_over == left
    assert quoted.forfeited == Allowances(0, 0, 0)
    assert bundle_service.valid_bundles(session, card) == [renewed]
    assert renewed.data_bytes_remaining == (plan.data_bytes or 0) + (left.data_bytes or 0)
