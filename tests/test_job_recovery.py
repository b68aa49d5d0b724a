"""Jobs a dead worker left in ``doing`` go back to the queue, whatever their task."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tulpar.db import libpq_url
from tulpar.job_recovery import release_stalled
from tulpar.jobs import app, defer_in_transaction, worker_connector


def _job(session: Session, job_id: int) -> tuple[str, str | None]:
    row = session.execute(
        text("SELECT status::text, lock FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
    ).one()
    return str(row[0]), row[1]


async def _release() -> int:
    with app.replace_connector(worker_connector(libpq_url())):
        async with app.open_async():
            return await release_stalled(app.job_manager, seconds_since_heartbeat=60)


def test_jobs_of_a_dead_worker_go_back_to_the_queue(committed: sessionmaker[Session]) -> None:
    with committed() as session:
        stalled_provisioning = defer_in_transaction(
            session, "provisioning.apply", lock="card:7", order_id=1
        )
        stalled_sms = defer_in_transaction(session, "notification.send", notification_id=1)
        alive = defer_in_transaction(session, "provisioning.apply", lock="card:8", order_id=2)
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
        for job_id, worker_id in (
            (stalled_provisioning, dead_worker),
            (stalled_sms, dead_worker),
            (alive, live_worker),
        ):
            session.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"
                ),
                {"w": worker_id, "j": job_id},
            )
        session.commit()

    assert asyncio.run(asyncio.wait_for(_release(), timeout=30)) == 2

    with committed() as session:
        # Back to "todo" with its card lock, so the card's later jobs wait behind it.
        assert _job(session, stalled_provisioning) == ("todo", "card:7")
        assert _job(session, stalled_sms) == ("todo", None)
        assert _job(session, alive) == ("doing", "card:8")


def test_the_release_runs_every_minute() -> None:
    app.perform_import_paths()
    periodic = {task.task.name for task in app.periodic_registry.periodic_tasks.values()}
    assert {"jobs.release_stalled", "provisioning.sweep"} <= periodic
