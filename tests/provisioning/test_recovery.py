"""Backoff stays within its bounds; overdue provisionings are found again (stalled jobs of
dead workers in general: tests/test_job_recovery.py)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import create_paid_order
from tulpar import clock
from tulpar.fulfilment import provisioning as fulfilment_provisioning
from tulpar.models import Provisioning
from tulpar.provisioning import settlement
from tulpar.provisioning.settlement import backoff_seconds


class TestBackoff:
    @pytest.mark.parametrize(
        ("attempt", "low", "high"), [(1, 1, 2), (2, 2, 4), (3, 4, 8), (20, 150, 300)]
    )
    def test_exponential_with_jitter_and_a_cap(
        self, configure: Callable[..., None], attempt: int, low: float, high: float
    ) -> None:
        configure(provisioning_backoff_base_seconds=2, provisioning_backoff_max_seconds=300)
        rng = random.Random(1)

        delays = [backoff_seconds(attempt, rng=rng) for _ in range(200)]

        assert all(low <= delay <= high for delay in delays)
        assert len(set(delays)) == 200  # jittered: no two retries in lockstep


class TestScheduling:
    def test_one_waiting_job_per_order_and_the_transaction_survives_a_second_schedule(
        self, session: Session
    ) -> None:
        plan = create_plan(session)
        card, _ = create_active_card(session, plan=plan)
        order = create_paid_order(session, card=card, plan=plan)
        assert fulfilment_provisioning.begin(session, order.id, now=clock.now()) is not None
        provisioning = session.scalars(select(Provisioning)).one()

        settlement.schedule(session, provisioning, due_at=clock.now(), now=clock.now())
        first_job = provisioning.next_job_id
        settlement.schedule(session, provisioning, due_at=clock.now(), now=clock.now())

        assert first_job is not None
        assert provisioning.next_job_id == first_job
        rows = session.execute(
            text("SELECT id, lock, queueing_lock FROM procrastinate_jobs WHERE status = 'todo'")
        ).all()
        assert [tuple(row) for row in rows] == [
            (first_job, f"card:{card.id}", f"provisioning:{order.id}")
        ]
