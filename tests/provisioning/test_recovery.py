"""Work a dead worker left behind is found and done; backoff stays within its bounds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tests.provisioning.conftest import create_paid_order
from tulpar import clock
from tulpar.db import libpq_url
from tulpar.jobs import app, defer_in_transaction, worker_connector
from tulpar.models import Provisioning
from tulpar.provisioning import service, settlement, tasks
from tulpar.provisioning.settlement import APPLY_TASK, backoff_seconds


def _job(session: Session, job_id: int) -> tuple[str, str | None]:
    row = session.execute(
        text("SELECT status::text, lock FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
    ).one()
    return str(row[0]), row[1]


async def _release() -> int:
    with app.replace_connector(worker_connector(libpq_url())):
        async with app.open_async():
            return await tasks.release_stalled(app.job_manager, seconds_since_heartbeat=60)


class TestStalledJobs:
    def test_a_dead_workers_provisioning_job_goes_back_to_the_queue(
        self, committed: sessionmaker[Session]
    ) -> None:
        with committed() as session:
            stalled = defer_in_transaction(session, APPLY_TASK, lock="card:7", order_id=1)
            alive = defer_in_transaction(session, APPLY_TASK, lock="card:8", order_id=2)
            dead_worker, live_worker = (
                session.execute(
                    text(
                        "INSERT INTO procrastinate_workers (last_heartbeat)"
                        " VALUES (now() - make_interval(secs => :age)) RETURNING id"
                    ),
                    {"age": age},
                ).scalar_one()
                for age in (300, 1)
            )
            for job_id, worker_id in ((stalled, dead_worker), (alive, live_worker)):
                session.execute(
                    text(
                        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w"
                        " WHERE id = :j"
                    ),
                    {"w": worker_id, "j": job_id},
                )
            session.commit()

        assert asyncio.run(asyncio.wait_for(_release(), timeout=30)) == 1

        with committed() as session:
            # Back to "todo" with its card lock, so the card's later jobs wait behind it.
            assert _job(session, stalled) == ("todo", "card:7")
            assert _job(session, alive) == ("doing", "card:8")

    def test_the_sweep_is_periodic(self) -> None:
        app.perform_import_paths()
        periodic = {task.task.name for task in app.periodic_registry.periodic_tasks.values()}
        assert "provisioning.sweep" in periodic


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
        assert service.begin_call(session, order.id, now=clock.now()) is not None
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
