"""Over random remaining allowances, validity and policies, the quote is what applying the
plan does, and both match a plain model of the renewal rules written out below."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.bundle import lifecycle
from tulpar.bundle import service as bundle_service
from tulpar.bundle.allowances import ALLOWANCE_KINDS, AllowanceKind
from tulpar.ledger import service as ledger
from tulpar.models import BundleState, LedgerCause, LedgerEntry, RenewalPolicy

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
allowance = st.one_of(st.none(), st.integers(0, 5_000))  # None: unlimited


@dataclass(frozen=True)
class Case:
    old: tuple[int | None, int | None, int | None]
    used: tuple[int, int, int]  # clipped to what the old bundle has
    new: tuple[int | None, int | None, int | None]
    old_days: int
    days_ago: int
    policy: RenewalPolicy
    rollover: bool


cases = st.builds(
    Case,
    old=st.tuples(allowance, allowance, allowance),
    used=st.tuples(st.integers(0, 6_000), st.integers(0, 6_000), st.integers(0, 6_000)),
    new=st.tuples(allowance, allowance, allowance),
    old_days=st.sampled_from([7, 15, 30]),
    days_ago=st.integers(0, 36),  # past the old bundle's end too, inside the 30-day grace
    policy=st.sampled_from(list(RenewalPolicy)),
    rollover=st.booleans(),
)


@pytest.fixture(autouse=True)
def _pinned_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


def _expected(
    case: Case, left: list[int | None], *, running: bool
) -> tuple[list[int | None], list[int | None]]:
    """(carried, forfeited) per allowance by the rules of DESIGN.md §2, None = unlimited."""
    carried: list[int | None] = [0, 0, 0]
    forfeited: list[int | None] = [0, 0, 0]
    for index, (remaining, planned) in enumerate(zip(left, case.new, strict=True)):
        if not running or remaining == 0 or planned is None:
            continue
        if case.policy is RenewalPolicy.queue:
            carried[index] = remaining if case.rollover and remaining is not None else 0
        elif case.rollover and remaining is not None:
            carried[index] = remaining
        else:
            forfeited[index] = remaining
    return carried, forfeited


@SETTINGS
@given(case=cases)
def test_the_quote_is_what_applying_the_plan_does(session: Session, case: Case) -> None:
    old_plan = create_plan(
        session,
        validity_days=case.old_days,
        data_bytes=case.old[0],
        voice_seconds=case.old[1],
        sms_count=case.old[2],
    )
    card, old = create_active_card(session, plan=old_plan, days_ago=case.days_ago)
    for kind, used in zip(ALLOWANCE_KINDS, case.used, strict=True):
        before = kind.remaining(old)
        if before is not None and min(used, before):
            bundle_service.adjust(
                session, old, kind, delta=-min(used, before), cause=LedgerCause.usage,
                actor="t", reason="t",
            )  # fmt: skip
    left = [kind.remaining(old) for kind in ALLOWANCE_KINDS]
    plan = create_plan(
        session,
        validity_days=15,
        data_bytes=case.new[0],
        voice_seconds=case.new[1],
        sms_count=case.new[2],
        renewal_policy=case.policy,
        rollover=case.rollover,
    )
    running = case.days_ago < case.old_days
    carried, forfeited = _expected(case, left, running=running)

    quoted = bundle_service.quote(session, card, plan)
    renewed = bundle_service.apply_plan(session, card, plan, cause=LedgerCause.order)

    quoted_carried = [quoted.carried_over.of(kind) for kind in ALLOWANCE_KINDS]
    quoted_forfeited = [quoted.forfeited.of(kind) for kind in ALLOWANCE_KINDS]
    assert (quoted_carried, quoted_forfeited) == (carried, forfeited)
    assert (renewed.starts_at, renewed.expires_at) == (quoted.starts_at, quoted.expires_at)
    assert card.validity_ends_at == quoted.validity_ends_at
    if quoted.starts_at > NOW:
        assert renewed.state is BundleState.scheduled
        lifecycle.run(session, now=quoted.starts_at)
        assert renewed.state is BundleState.active
    # Nothing was used since the quote, so the carry-over is exact for both policies.
    for kind, planned, carry in zip(ALLOWANCE_KINDS, case.new, quoted_carried, strict=True):
        assert kind.remaining(renewed) == (None if planned is None else planned + (carry or 0))
    assert bundle_service.valid_bundles(session, card, at=renewed.starts_at) == [renewed]
    if quoted.policy is RenewalPolicy.extend and running:
        assert (quoted.replaces, old.state) == ((old.id,), BundleState.revoked)
        for kind, remaining, carry in zip(ALLOWANCE_KINDS, left, quoted_carried, strict=True):
            # What is not carried (forfeited, or covered by an unlimited allowance) is closed.
            assert _moved(session, old.id, kind, LedgerCause.rollover) == -(carry or 0)
            assert _moved(session, old.id, kind, LedgerCause.replacement) == -(
                (remaining or 0) - (carry or 0)
            )
    else:
        assert quoted.replaces == ()
    assert ledger.reconcile(session, card_id=card.id) == []


def _moved(session: Session, bundle_id: int, kind: AllowanceKind, cause: LedgerCause) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
            LedgerEntry.bundle_id == bundle_id,
            LedgerEntry.account == kind.account,
            LedgerEntry.cause == cause,
        )
    )
    return int(total or 0)
