"""Jobs are enqueued inside the caller's transaction, and a real worker runs them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.fixtures.factories import create_active_card, create_plan
from tulpar import clock
from tulpar.jobs import app, defer_in_transaction
from tulpar.models import CardState
from tulpar.worker import run_worker


def _jobs(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        rows = session.execute(
            text("SELECT task_name, status::text FROM procrastinate_jobs ORDER BY id")
        ).all()
    return [(row[0], row[1]) for row in rows]


def test_a_rolled_back_transaction_leaves_no_job(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        defer_in_transaction(session, "card.run_lifecycle", timestamp=0)
        session.rollback()

    assert _jobs(committed) == []


def test_a_committed_transaction_leaves_exactly_its_job(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        job_id = defer_in_transaction(session, "card.run_lifecycle", timestamp=0)
        assert _jobs(committed) == []  # not visible before commit
        session.commit()

    assert isinstance(job_id, int)
    assert _jobs(committed) == [("card.run_lifecycle", "todo")]


def test_a_worker_runs_the_lifecycle_job(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        plan = create_plan(session, validity_days=1)
        with clock.frozen(clock.now() - timedelta(days=2)):
            card, _ = create_active_card(session, plan=plan)
        job_id = defer_in_transaction(session, "card.run_lifecycle", timestamp=0)
        session.commit()
        card_id = card.id

    asyncio.run(asyncio.wait_for(run_worker(concurrency=1, wait=False), timeout=30))

    with committed() as session:
        status = session.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        ).scalar_one()
        state = session.execute(
            text("SELECT state FROM cards WHERE id = :id"), {"id": card_id}
        ).scalar_one()
    assert status == "succeeded"
    assert state == CardState.expired.value


def test_the_lifecycle_task_is_periodic() -> None:
    app.perform_import_paths()
    periodic = {task.task.name for task in app.periodic_registry.periodic_tasks.values()}
    assert "card.run_lifecycle" in periodic
