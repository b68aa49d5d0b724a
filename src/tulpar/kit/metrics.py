"""Every Prometheus metric Tulpar exports, in one place, and how ``/metrics`` renders them.

Counters are incremented where things happen (the domain and fulfilment modules call the
small functions below); the queue is read from ``procrastinate_jobs`` when scraped; the
connection pool is followed through SQLAlchemy's pool events.

Several web processes (``tulpar serve --workers N``) share one port, so a scrape reaches any
one of them: they run in prometheus_client's multiprocess mode, each writing its values to
files in ``PROMETHEUS_MULTIPROC_DIR`` (``tulpar serve`` makes one when N > 1) and a scrape
sums them. A standalone ``tulpar worker`` exports its own metrics on
``TULPAR_WORKER_METRICS_PORT`` (loopback); the demo runs web and worker in one process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "tulpar_http_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "tulpar_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS = Counter("tulpar_jobs_total", "Background jobs run, by task and outcome", ["task", "outcome"])
JOB_DURATION = Histogram(
    "tulpar_job_duration_seconds",
    "Time a background job ran, by task",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
)
PROVISIONING = Counter(
    "tulpar_provisioning_total",
    "Provisioning settlements acted on, by outcome (completed, failed, ...)",
    ["outcome"],
)
REFUNDS = Counter("tulpar_refunds_total", "Refund reports acted on, by outcome", ["outcome"])
SMS = Counter(
    "tulpar_sms_total",
    "SMS by event: sent (accepted by the provider), delivered, failed",
    ["event"],
)
OTP_SENT = Counter("tulpar_otp_sent_total", "Verification codes sent (queued as SMS)")
OTP_REFUSED = Counter(
    "tulpar_otp_refused_total",
    "Verification code requests or checks refused, by reason (rate_limited, locked)",
    ["reason"],
)
SWEEP_ITEM_FAILURES = Counter(
    "tulpar_sweep_item_failures_total",
    "Items a periodic sweep could not handle (the rest went on), by sweep",
    ["sweep"],
)
DB_POOL_CHECKED_OUT = Gauge(
    "tulpar_db_pool_checked_out",
    "Database connections in use (summed over live processes)",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "tulpar_db_pool_size",
    "Database connections a pool may hold (pool size + overflow, summed over processes)",
    multiprocess_mode="livesum",
)


def provisioning_outcome(outcome: str) -> None:
    PROVISIONING.labels(outcome=outcome).inc()


def refund_outcome(outcome: str) -> None:
    REFUNDS.labels(outcome=outcome).inc()


def sms_event(name: str) -> None:
    SMS.labels(event=name).inc()


def otp_sent() -> None:
    OTP_SENT.inc()


def otp_refused(reason: str) -> None:
    OTP_REFUSED.labels(reason=reason).inc()


_watched: set[int] = set()


def watch_pool(engine: Engine) -> None:
    """Follow ``engine``'s pool: connections checked out, and its capacity."""
    if id(engine) in _watched:
        return
    _watched.add(id(engine))
    pool: Any = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if callable(size):
        DB_POOL_SIZE.inc(size() + max(0, overflow))

    @event.listens_for(engine, "checkout")
    def _checked_out(*_: object) -> None:
        DB_POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checked_in(*_: object) -> None:
        DB_POOL_CHECKED_OUT.dec()


class HttpMetricsMiddleware:
    """Counts each answer by the route template that served it (``/v1/orders/{order_id}``,
    never the raw path) and times it; unmatched paths are ``unmatched``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None)
            label = str(template) if template else "unmatched"
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(route=label, method=method, status=str(status)).inc()
            HTTP_LATENCY.labels(route=label, method=method).observe(time.perf_counter() - started)


async def count_job(call_next: Callable[[], Any], context: Any, worker: object) -> Any:
    """A procrastinate worker middleware: every job by task and outcome, with its time."""
    task = context.job.task_name if context.job is not None else "unknown"
    started = time.perf_counter()
    try:
        result = await call_next()
    except BaseException:
        JOBS.labels(task=task, outcome="failed").inc()
        raise
    finally:
        JOB_DURATION.labels(task=task).observe(time.perf_counter() - started)
    JOBS.labels(task=task, outcome="succeeded").inc()
    return result


# Due jobs by queue: how many wait, and how long the oldest has waited (since it was scheduled
# for, or else deferred), on the database's clock; and how many run.
_QUEUE = text(
    """
    SELECT job.queue_name, job.status::text AS status, count(*) AS jobs,
           EXTRACT(EPOCH FROM now() - min(COALESCE(job.scheduled_at, deferred.at))) AS oldest
      FROM procrastinate_jobs job
      LEFT JOIN LATERAL (
        SELECT min(e.at) AS at FROM procrastinate_events e
         WHERE e.job_id = job.id AND e.type = 'deferred'
      ) deferred ON job.status = 'todo'
     WHERE job.status = 'doing'
        OR (job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now()))
     GROUP BY job.queue_name, job.status
    """
)


class QueueCollector(Collector):
    """Reads the job queue at scrape time (one short query)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "tulpar_jobs_queued",
            "Jobs due and waiting, or running, by queue",
            labels=["queue", "status"],
        )
        age = GaugeMetricFamily(
            "tulpar_jobs_oldest_due_seconds",
            "How long the oldest due job of each queue has waited",
            labels=["queue"],
        )
        up = GaugeMetricFamily("tulpar_jobs_queue_readable", "1 when the queue could be read")
        try:
            with self.factory() as session:
                rows = session.execute(_QUEUE).all()
        except Exception:  # the database is down: say so, and render the rest
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for row in rows:
            depth.add_metric([row.queue_name, row.status], float(row.jobs))
            if row.status == "todo" and row.oldest is not None:
                age.add_metric([row.queue_name], max(0.0, float(row.oldest)))
        yield depth
        yield age
        yield up


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render(factory: sessionmaker[Session] | None) -> bytes:
    """The exposition text of every metric (summed over processes in multiprocess mode),
    plus the queue when ``factory`` is given."""
    registry = CollectorRegistry()
    if multiprocess_dir() is not None:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in list(prometheus_client.REGISTRY._collector_to_names):
            registry.register(collector)
    if factory is not None:
        registry.register(QueueCollector(factory))
    return generate_latest(registry)


def mark_process_dead(pid: int) -> None:
    """Forget a web process's live gauges (called by the supervisor when it exits)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
