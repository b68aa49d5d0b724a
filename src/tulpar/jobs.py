"""Background jobs on procrastinate, in the same PostgreSQL.

Tasks are declared on :data:`app` in each domain's ``tasks.py`` and named ``domain.verb``.
Services never defer through the pool: :func:`defer_in_transaction` writes the job row on the
session's own connection, so a rollback drops the job and a commit makes it visible."""

from __future__ import annotations

from typing import Any

import procrastinate
from sqlalchemy.orm import Session

TASK_MODULES = [
    "tulpar.bundle.tasks",
    "tulpar.rating.tasks",
    "tulpar.barring.tasks",
    "tulpar.notification.tasks",
    "tulpar.otp.tasks",
    "tulpar.provisioning.tasks",
    "tulpar.order.tasks",
    "tulpar.payment.tasks",
    "tulpar.fulfilment.tasks",
    "tulpar.job_recovery",
]

# The connector gets its connection string when a worker starts (see worker_app).
app = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=TASK_MODULES)

# Defers by task name on a connection we pass (the session's), so its pool is never opened.
# Kept apart from `app` because the worker opens `app` asynchronously, and an async
# connector cannot write on a synchronous psycopg connection.
_deferrer = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())


def defer_in_transaction(
    session: Session,
    task_name: str,
    *,
    queue: str = "default",
    queueing_lock: str | None = None,
    lock: str | None = None,
    schedule_in: dict[str, int] | None = None,
    **task_kwargs: Any,
) -> int:
    """Enqueue ``task_name`` inside the session's current transaction; returns the job id."""
    connection = session.connection().connection.driver_connection
    options: dict[str, Any] = {"connection": connection, "queue": queue}
    if queueing_lock is not None:
        options["queueing_lock"] = queueing_lock
    if lock is not None:
        options["lock"] = lock
    if schedule_in is not None:
        options["schedule_in"] = schedule_in
    job_id: int = _deferrer.configure_task(task_name, **options).defer(**task_kwargs)
    return job_id


def batch_defer_in_transaction(
    session: Session, task_name: str, jobs_kwargs: list[dict[str, Any]], *, queue: str = "default"
) -> list[int]:
    """Enqueue many jobs of one task in one statement inside the session's transaction."""
    if not jobs_kwargs:
        return []
    connection = session.connection().connection.driver_connection
    deferrer = _deferrer.configure_task(task_name, connection=connection, queue=queue)
    job_ids: list[int] = deferrer.batch_defer(*jobs_kwargs)
    return job_ids


def worker_connector(plain_url: str) -> procrastinate.PsycopgConnector:
    """The async connector (LISTEN/NOTIFY) a worker runs on Tulpar's database."""
    return procrastinate.PsycopgConnector(conninfo=plain_url)
