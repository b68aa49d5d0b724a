"""The audit log only grows: the database refuses to change or remove its rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tulpar.audit import service as audit
from tulpar.auth.identity import Caller, CallerKind
from tulpar.models import AuditEntry, Channel

SUPPORT = Caller(kind=CallerKind.staff, actor="staff:aigerim", channel=Channel.api, role="support")


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_record_keeps_who_what_and_the_values(session: Session) -> None:
    audit.record(
        session,
        SUPPORT,
        "wallet.credit",
        subject="card:42",
        reason="goodwill",
        before={"wallet_minor": 0},
        after={"wallet_minor": 50000},
    )
    (entry,) = audit.entries(session, audit.AuditFilter(subject="card:42"))
    assert (entry.actor, entry.action, entry.reason) == (
        "staff:aigerim",
        "wallet.credit",
        "goodwill",
    )
    assert (entry.before, entry.after) == ({"wallet_minor": 0}, {"wallet_minor": 50000})
    assert audit.entries(session, audit.AuditFilter(action="wallet.")) == [entry]
    assert audit.entries(session, audit.AuditFilter(action="card.")) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'edited'",
        "UPDATE audit_log SET after = NULL",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
def test_rows_cannot_be_changed_or_removed(
    committed: sessionmaker[Session], statement: str
) -> None:
    with committed() as session:
        audit.record(session, SUPPORT, "card.lookup", subject="card:1", reason="kept")
        session.commit()
    with committed() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    with committed() as session:
        (entry,) = audit.entries(session)
        assert (entry.reason, entry.subject, _count(session)) == ("kept", "card:1", 1)
