"""Building usage records and reading rating results back, for the rating tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from tulpar.models import Card


def record(
    card: Card,
    record_id: str,
    quantity: int,
    at: datetime,
    *,
    kind: str = "data",
    source: str = "sw1",
) -> dict[str, object]:
    return {
        "source": source,
        "record_id": record_id,
        "card": card.iccid,
        "kind": kind,
        "quantity": quantity,
        "occurred_at": at.isoformat(),
    }


def remaining(session: Session, bundle_id: int, kind: str = "data") -> int | None:
    column = {"data": "data_bytes", "voice": "voice_seconds", "sms": "sms_count"}[kind]
    value = session.execute(
        text(f"SELECT {column}_remaining FROM bundles WHERE id = :id"), {"id": bundle_id}
    ).scalar_one()
    return None if value is None else int(value)


def bundle_state(session: Session, bundle_id: int) -> str:
    return str(
        session.execute(
            text("SELECT state FROM bundles WHERE id = :id"), {"id": bundle_id}
        ).scalar_one()
    )


def usage_entries(session: Session) -> list[tuple[str, int, str, int, int, int]]:
    """(record id, bundle id, account, delta, balance before, balance after) of usage entries."""
    rows = session.execute(
        text(
            """
            SELECT u.record_id, l.bundle_id, l.account, l.delta, l.balance_before,
                   l.balance_after
            FROM ledger_entries l JOIN usage_records u ON u.id = l.usage_record_id
            WHERE l.cause = 'usage' ORDER BY l.id
            """
        )
    )
    return [(str(r[0]), int(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows]


def overages(session: Session) -> dict[str, int]:
    """Overage quantity per record id."""
    rows = session.execute(
        text(
            "SELECT u.record_id, o.quantity FROM usage_overages o"
            " JOIN usage_records u ON u.id = o.usage_record_id"
        )
    )
    return {str(record_id): int(quantity) for record_id, quantity in rows}


def thresholds(session: Session) -> list[tuple[int, int, str]]:
    """(bundle id, threshold percent, record id that crossed it)."""
    rows = session.execute(
        text(
            """
            SELECT t.bundle_id, t.threshold_percent, u.record_id
            FROM usage_threshold_events t JOIN usage_records u ON u.id = t.usage_record_id
            ORDER BY t.bundle_id, t.threshold_percent
            """
        )
    )
    return [(int(b), int(p), str(r)) for b, p, r in rows]


def jobs(session: Session, task_name: str) -> list[dict[str, object]]:
    rows = session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = :name ORDER BY id"),
        {"name": task_name},
    )
    return [dict(args) for args in rows.scalars()]


def add_bundle(
    session: Session,
    card: Card,
    *,
    starts_at: datetime,
    expires_at: datetime,
    data_bytes: int | None,
    voice_seconds: int | None = 0,
    sms_count: int | None = 0,
    state: str = "active",
    plan_id: int | None = None,
) -> int:
    """A bundle written directly (windows that renewals would not produce), with the ledger
    entries that grant it, so the ledger still reconciles."""
    from tests.fixtures.factories import create_plan
    from tulpar.ledger import service as ledger_service
    from tulpar.models import Bundle, BundleState, LedgerAccount, LedgerCause

    if plan_id is None:
        plan_id = create_plan(session, data_bytes=data_bytes).id
    bundle = Bundle(
        card_id=card.id,
        plan_id=plan_id,
        state=BundleState(state),
        starts_at=starts_at,
        expires_at=expires_at,
        data_bytes_granted=data_bytes,
        data_bytes_remaining=data_bytes,
        voice_seconds_granted=voice_seconds,
        voice_seconds_remaining=voice_seconds,
        sms_count_granted=sms_count,
        sms_count_remaining=sms_count,
    )
    session.add(bundle)
    session.flush()
    for account, amount in (
        (LedgerAccount.data, data_bytes),
        (LedgerAccount.voice, voice_seconds),
        (LedgerAccount.sms, sms_count),
    ):
        if amount:
            ledger_service.record(
                session,
                card_id=card.id,
                bundle_id=bundle.id,
                account=account,
                delta=amount,
                balance_before=0,
                cause=LedgerCause.manual_credit,
                actor="test",
            )
    session.flush()
    return bundle.id
