"""The plan form reads back every plan exactly: an edit that changes nothing on the page
changes nothing in the plan (no rounding of its data, prices or sale window)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_plan
from tulpar.catalog import editing
from tulpar.catalog.rules import PlanRefusedError
from tulpar.web.backoffice.catalog.form import PlanForm


def test_a_plan_reads_back_from_its_form_exactly(session: Session) -> None:
    plan = create_plan(
        session,
        code="ODD",
        data_bytes=123_456_789,  # not a whole number of MB
        voice_seconds=None,
        sms_count=0,
        prices_minor={"KZT": 1_234_56, "USD": 7_05},
    )
    plan.sellable_from = datetime(2027, 3, 1, 4, 30, tzinfo=UTC)
    session.flush()

    form = PlanForm.of(plan)
    read = form.definition()

    assert (form.data_mb, form.voice_unlimited, form.price_kzt, form.price_usd) == (
        "117.73756885528564453125",
        "on",
        "1234.56",
        "7.05",
    )
    assert read == editing.definition_of(plan)


def test_every_unreadable_field_is_named_at_once() -> None:
    form = PlanForm(
        validity_days="a week",
        data_mb="lots",
        voice_minutes="-3",
        sms_count="",
        price_kzt="3,5.0.0",
        price_cny="1.001",
        channels=["web", "fax"],
        renewal_policy="sometimes",
        sellable_from="tomorrow",
    )

    with pytest.raises(PlanRefusedError) as refused:
        form.definition()

    assert [problem.field for problem in refused.value.problems] == [
        "validity_days",
        "data",
        "voice",
        "sms",
        "prices.KZT",
        "prices.CNY",
        "channels",
        "renewal_policy",
        "sellable_from",
    ]
