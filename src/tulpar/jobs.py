"""Background jobs on procrastinate, in the same PostgreSQL.

Tasks are declared on :data:`app` in each domain's ``tasks.py`` and named ``domain.verb``.
Services never defer through the pool: :func:`defer_in_transaction` writes the job row on the
session's own connection, so a rollback drops the job and a commit makes it visible."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import procrastinate
import procrastinate.tasks
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tulpar.db import driver_connection

TASK_MODULES = [
    "tulpar.bundle.tasks",
    "tulpar.rating.tasks",
    "tulpar.barring.tasks",
    "tulpar.notification.tasks",
    "tulpar.reminder.tasks",
    "tulpar.otp.tasks",
    "tulpar.provisioning.tasks",
    "tulpar.order.tasks",
    "tulpar.promotion.tasks",
    "tulpar.payment.tasks",
    "tulpar.fulfilment.tasks",
    "tulpar.counter.tasks",
    "tulpar.partner_webhook.tasks",
    "tulpar.reports.tasks",
    "tulpar.job_recovery",
]

# Jobs with a higher priority are fetched first, whatever their queue (every worker takes every
# queue). Moving a paid order on comes first; the inbox (money arriving, carrier news) next;
# the rest (SMS, the sandbox provider's webhook deliveries, periodic sweeps) after them.
# Every job of one job lock must share one priority, or procrastinate's lock order (by
# priority, then by id) would no longer be the order they were queued in.
PROVISIONING_PRIORITY = 20
INBOX_PRIORITY = 10

# The request (or job) that enqueues a job hands it its request id in this extra argument
# (only when one is bound); every task is wrapped to take it out of the arguments and bind it
# in ``structlog.contextvars`` while the job runs, so its log lines, order events and the
# jobs it enqueues in turn carry the same id.
REQUEST_ID_ARG = "tulpar_request_id"
_REQUEST_ID_KEY = "request_id"  # as kit/request_id.py binds it


def _carrying_request_id(func: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            request_id = kwargs.pop(REQUEST_ID_ARG, None)
            if request_id is None:
                return await func(*args, **kwargs)
            with structlog.contextvars.bound_contextvars(**{_REQUEST_ID_KEY: request_id}):
                return await func(*args, **kwargs)

        return run_async

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        request_id = kwargs.pop(REQUEST_ID_ARG, None)
        if request_id is None:
            return func(*args, **kwargs)
        with structlog.contextvars.bound_contextvars(**{_REQUEST_ID_KEY: request_id}):
            return func(*args, **kwargs)

    return run


def _with_request_id(task_kwargs: dict[str, Any]) -> dict[str, Any]:
    request_id = structlog.contextvars.get_contextvars().get(_REQUEST_ID_KEY)
    if not isinstance(request_id, str) or REQUEST_ID_ARG in task_kwargs:
        return task_kwargs
    return {**task_kwargs, REQUEST_ID_ARG: request_id}


class _App(procrastinate.App):
    def _register_task(self, task: procrastinate.tasks.Task[Any, Any, Any]) -> None:
        task.func = _carrying_request_id(task.func)
        super()._register_task(task)


# The connector gets its connection string when a worker starts (see worker_app).
app = _App(connector=procrastinate.PsycopgConnector(), import_paths=TASK_MODULES)

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
    priority: int | None = None,
    **task_kwargs: Any,
) -> int:
    """Enqueue ``task_name`` inside the session's current transaction; returns the job id."""
    options: dict[str, Any] = {"connection": driver_connection(session), "queue": queue}
    if priority is not None:
        options["priority"] = priority
    if queueing_lock is not None:
        options["queueing_lock"] = queueing_lock
    if lock is not None:
        options["lock"] = lock
    if schedule_in is not None:
        options["schedule_in"] = schedule_in
    job_id: int = _deferrer.configure_task(task_name, **options).defer(
        **_with_request_id(task_kwargs)
    )
    return job_id


def cancel_waiting_in_transaction(session: Session, job_id: int, *, delete: bool = False) -> bool:
    """Cancel job ``job_id`` if it has not started (procrastinate's own function), inside the
    session's transaction; ``delete`` drops its row too. False when it had started or ended."""
    cancelled = session.execute(
        text("SELECT procrastinate_cancel_job_v1(:job_id, false, :delete)"),
        {"job_id": job_id, "delete": delete},
    ).scalar_one_or_none()
    return cancelled is not None


def batch_defer_in_transaction(
    session: Session, task_name: str, jobs_kwargs: list[dict[str, Any]], *, queue: str = "default"
) -> list[int]:
    """Enqueue many jobs of one task in one statement inside the session's transaction."""
    if not jobs_kwargs:
        return []
    deferrer = _deferrer.configure_task(
        task_name, connection=driver_connection(session), queue=queue
    )
    job_ids: list[int] = deferrer.batch_defer(*(_with_request_id(kw) for kw in jobs_kwargs))
    return job_ids


_running_job: ContextVar[int | None] = ContextVar("tulpar_running_job", default=None)


def running_job_id() -> int | None:
    """The id of the job being run, inside a task declared with
    ``task_middleware=[expose_job_id]``; None when the task is called directly (tests)."""
    return _running_job.get()


def expose_job_id(
    call_next: Callable[[], Any], context: procrastinate.JobContext, worker: object
) -> Any:
    """A (sync) task middleware: the task can read its job's id from :func:`running_job_id`."""
    token = _running_job.set(None if context.job is None else context.job.id)
    try:
        return call_next()
    finally:
        _running_job.reset(token)


def hold_lock(session: Session, job_id: int, lock: str) -> bool:
    """Let the running job ``job_id`` hold ``lock`` until it ends, as if it had been queued
    with it: from this transaction's commit no other job of that lock starts before this one
    has finished (procrastinate allows one running job per lock). False, with nothing
    changed, when another job of the lock runs or waits: that one goes first.

    Two transactions taking the same lock at once meet on procrastinate's unique index of
    running locks; the second waits for the first to commit, then gets False."""
    try:
        with session.begin_nested():
            held = session.execute(_HOLD_LOCK, {"job_id": job_id, "lock": lock}).scalar()
    except IntegrityError:
        return False
    return held is not None


_HOLD_LOCK = text(
    """
    UPDATE procrastinate_jobs SET lock = :lock
    WHERE id = :job_id AND status = 'doing' AND lock IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM procrastinate_jobs
          WHERE lock = :lock AND status IN ('todo', 'doing')
      )
    RETURNING id
    """
)


def worker_connector(plain_url: str) -> procrastinate.PsycopgConnector:
    """The async connector (LISTEN/NOTIFY) a worker runs on Tulpar's database."""
    return procrastinate.PsycopgConnector(conninfo=plain_url)
