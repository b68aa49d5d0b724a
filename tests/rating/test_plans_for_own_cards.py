"""Batches above a thousand records have their statements planned for their own cards (the
array of cards is then a constant to the planner, joined to the bundles). Small batches are
planned that way here too, so that the model check covers those plans."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.rating.test_properties import (
    SETTINGS,
    BundleSpec,
    Usage,
    bundle_specs,
    model,
    run_engine,
    scratch,
    split,
    usages,
)
from tulpar.rating import repository as rating_repository


@SETTINGS
@given(
    specs=st.lists(bundle_specs, min_size=1, max_size=4),
    stream=st.lists(usages, min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_rating_planned_for_the_batchs_own_cards_matches_the_model(
    session: Session,
    frozen_now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    specs: list[BundleSpec],
    stream: list[Usage],
    cuts: list[int],
) -> None:
    monkeypatch.setattr(rating_repository, "_GENERIC_PLANS_UP_TO", 0)
    batches = split(stream, cuts)
    with scratch(session):
        remaining, overage, deducted = run_engine(session, specs, batches)
        plan_mode = session.execute(text("SHOW plan_cache_mode")).scalar_one()

    assert plan_mode == "force_custom_plan"
    assert (remaining, overage) == model(specs, batches)
    unique_total = sum({u.record_id: u.quantity for u in reversed(stream)}.values())
    assert deducted + sum(overage.values()) == unique_total
