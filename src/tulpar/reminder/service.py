"""Reminders before a plan ends, during the grace period and as data runs out.

Reminders are derived from each card's CURRENT validity end: a periodic pass
(:func:`run_pass`) picks the cards whose validity end puts a reminder of one kind due now,
and each reminder's dedupe key carries the card, the kind and that end, so the database
sends it once. A renewal moves the end: the old end's pending reminders are never due again
and the new end has keys of its own. Reminders are marketing-class (STOP silences them) and
wait out the quiet hours (22:00–08:00 Kazakhstan time); codes and confirmations never wait,
they do not pass through here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.card import service as card_service
from tulpar.config import get_settings
from tulpar.jobs import defer_in_transaction
from tulpar.kit import sweep
from tulpar.models import CardState
from tulpar.notification import service as notification_service
from tulpar.reminder import repository

QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)
# How far back a pass looks for due moments: longer than the quiet hours (10 h), so the
# 08:00 pass catches up on the night, with room for a worker that was down a while.
LOOKBACK = timedelta(hours=12)
BATCH_SIZE = 1_000
TERMINATION_NOTICE = timedelta(days=3)
DATA_THRESHOLD_TASK = "reminder.data_threshold"
DATA_TEMPLATES = {75: "reminder_data_75", 90: "reminder_data_90", 100: "reminder_data_100"}


@dataclass(frozen=True, slots=True)
class Kind:
    """A reminder due at ``validity_ends_at + offset()`` for a card in ``state``."""

    name: str
    template: str
    state: CardState
    offset: Callable[[], timedelta]


KINDS = (
    Kind("expiry_72h", "reminder_expiry", CardState.active, lambda: -timedelta(hours=72)),
    Kind("expiry_24h", "reminder_expiry", CardState.active, lambda: -timedelta(hours=24)),
    # At expiry: the lifecycle job has moved the card to expired (it runs every minute).
    Kind("grace_expired", "reminder_expired", CardState.expired, lambda: timedelta(0)),
    Kind(
        "grace_final",
        "reminder_termination",
        CardState.expired,
        lambda: card_service.grace_period() - TERMINATION_NOTICE,
    ),
)


def in_quiet_hours(moment: datetime) -> bool:
    local = clock.to_local(moment).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_hours_end(moment: datetime) -> datetime:
    """The first moment at or after ``moment`` outside the quiet hours (08:00 local, in UTC)."""
    if not in_quiet_hours(moment):
        return moment
    local = clock.to_local(moment)
    morning = local.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    if local.time() >= QUIET_FROM:
        morning += timedelta(days=1)
    return morning.astimezone(UTC)


def renew_link() -> str:
    """The web page where a traveller renews (card number + SMS code + payment)."""
    return get_settings().public_base_url.rstrip("/") + "/"


@dataclass(frozen=True, slots=True)
class PassResult:
    queued: dict[str, int]
    # Some kind filled its batch: more are due, the next pass goes on.
    batch_full: bool
    quiet: bool = False


def run_pass(session: Session, *, now: datetime, batch_size: int = BATCH_SIZE) -> PassResult:
    """Queue every reminder due at ``now`` (at most ``batch_size`` per kind). Nothing in the
    quiet hours; idempotent: a second pass at the same ``now`` queues nothing."""
    if in_quiet_hours(now):
        return PassResult(queued={}, batch_full=False, quiet=True)
    queued: dict[str, int] = {}
    batch_full = False
    for kind in KINDS:
        offset = kind.offset()
        due = repository.due(
            session,
            kind=kind.name,
            state=kind.state,
            ends_after=now - LOOKBACK - offset,
            ends_by=now - offset,
            limit=batch_size,
        )
        batch_full = batch_full or len(due) == batch_size
        repository.load_cards(session, [reminder.card_id for reminder in due])
        queued[kind.name] = _queue_all(session, kind, due)
    return PassResult(queued=queued, batch_full=batch_full)


def _queue_all(session: Session, kind: Kind, due: list[repository.DueReminder]) -> int:
    """Queue the batch in one savepoint; if any card fails, roll it back and queue each
    reminder in its own savepoint, so the card whose SMS cannot be queued is logged and
    counted (and due again next pass) and the others are still queued. (A savepoint per
    reminder on every pass made the benchmark's sending pass about half as slow again.)"""
    try:
        with session.begin_nested():
            return sum(_queue(session, kind, reminder) for reminder in due)
    except Exception:  # found and logged item by item just below
        pass
    sent: list[bool] = []
    sweep.for_each(
        "reminder.schedule",
        due,
        lambda reminder: sent.append(_queue(session, kind, reminder)),
        item_id=lambda reminder: reminder.card_id,
        session=session,
    )
    return sum(sent)


def _queue(session: Session, kind: Kind, reminder: repository.DueReminder) -> bool:
    context: dict[str, object] = {
        "validity_ends_at": reminder.validity_ends_at,
        "link": renew_link(),
        "days": card_service.grace_period().days,
    }
    notification = notification_service.queue_sms(
        session,
        card_id=reminder.card_id,
        template=kind.template,
        context=context,
        dedupe_key=reminder.dedupe_key,
    )
    return notification is not None


def data_threshold_key(event_id: int) -> str:
    return f"reminder:data:{event_id}"


def data_threshold_reached(
    session: Session, *, event_id: int, card_id: int, threshold_percent: int, now: datetime
) -> bool:
    """Tell the traveller their data use crossed ``threshold_percent`` (one SMS per threshold
    event). In the quiet hours the SMS is deferred to 08:00 local. True when queued now."""
    if threshold_percent not in DATA_TEMPLATES:
        raise ValueError(f"No reminder for a {threshold_percent} % threshold")
    if in_quiet_hours(now):
        wait = quiet_hours_end(now) - now
        defer_in_transaction(
            session,
            DATA_THRESHOLD_TASK,
            schedule_in={"seconds": int(wait.total_seconds()) + 1},
            event_id=event_id,
            card_id=card_id,
            threshold_percent=threshold_percent,
        )
        return False
    notification = notification_service.queue_sms(
        session,
        card_id=card_id,
        template=DATA_TEMPLATES[threshold_percent],
        context={"link": renew_link()},
        dedupe_key=data_threshold_key(event_id),
    )
    return notification is not None
