"""Periodic sweeps isolate each item's failure: one payment, order or card that fails is
logged (with its traceback) and counted, the others go on, and the sweep itself succeeds, so
one bad item cannot stop a safety net for everyone. Each item runs in its own transaction
(the work opens it) or, given ``session``, in its own savepoint of that session."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import structlog
from sqlalchemy.orm import Session

from tulpar.kit import metrics

log = structlog.get_logger()

T = TypeVar("T")

ITEM_FAILURES = metrics.SWEEP_ITEM_FAILURES


def for_each(
    sweep: str,
    items: Iterable[T],
    work: Callable[[T], None],
    *,
    item_id: Callable[[T], object] = repr,
    session: Session | None = None,
) -> int:
    """Run ``work`` on every item; return how many failed. A failure is logged as
    ``sweep.item_failed`` (``sweep``, ``item``, the error) and counted in
    ``tulpar_sweep_item_failures_total``. With ``session``, each item's writes are in a
    savepoint, rolled back alone when it fails."""
    failed = 0
    for item in items:
        try:
            if session is None:
                work(item)
            else:
                with session.begin_nested():
                    work(item)
        except Exception as error:
            failed += 1
            ITEM_FAILURES.labels(sweep=sweep).inc()
            log.exception(
                "sweep.item_failed",
                sweep=sweep,
                item=str(item_id(item)),
                error=type(error).__name__,
            )
    return failed
